"""The log viewer's full check of a day: every line read as the order log's reader reads it, for the
day's summary and its unreadable lines; Qt-free.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..core.logreader import BadLine, DaySummary, parse_line
from .index import IDLE, REPORT_EVERY, SHORT_LINE, WORKED, LineIndex, Steps

MAX_BAD_LISTED = 10_000
BAD_TEXT_CHARS = 200  # of an unreadable line, in the list


class CheckState:
    """Every line read as the order log's reader reads it: events counted and summed up, unreadable
    lines counted (the first ``MAX_BAD_LISTED`` listed with their line numbers)."""

    def __init__(self) -> None:
        self.summary = DaySummary()
        self.checked = 0  # lines checked
        self.events = 0
        self.bad = 0
        self.new_bad: list[BadLine] = []

    def check(self, index: LineIndex, stop: int) -> None:
        first = self.checked
        _base, data = index.read_lines(first, stop)
        for number, raw in enumerate(data.split(b"\n")[:-1], start=first + 1):
            if len(raw) < SHORT_LINE and not raw.strip():
                continue
            event, problem = parse_line(raw)
            if event is not None:
                self.events += 1
                self.summary.add(event)
            else:
                self.bad += 1
                if self.bad <= MAX_BAD_LISTED:
                    text = raw[:BAD_TEXT_CHARS * 4].decode("utf-8", "replace")[:BAD_TEXT_CHARS]
                    self.new_bad.append(BadLine(number, text, problem or "unreadable"))
        self.checked = stop

    def take_new_bad(self) -> list[BadLine]:
        new, self.new_bad = self.new_bad, []
        return new


@dataclass
class CheckProgress:
    checked: int
    events: int
    bad: int
    new_bad: list[BadLine]
    summary: dict[str, int | float]
    caught_up: bool


def check_job(index: LineIndex, report: Callable[[CheckProgress], None]) -> Steps:
    """Check every line of the day (see ``CheckState``), following the index as it grows."""
    state = CheckState()
    last_report = time.monotonic()
    reported = -1
    while True:
        if state.checked < index.line_count:
            state.check(index, index.chunk_end(state.checked))
            now = time.monotonic()
            if now - last_report >= REPORT_EVERY * 5:
                report(CheckProgress(state.checked, state.events, state.bad, state.take_new_bad(),
                                     state.summary.result(), False))
                last_report, reported = now, -1
            yield WORKED
        elif index.caught_up and reported != state.checked:
            report(CheckProgress(state.checked, state.events, state.bad, state.take_new_bad(),
                                 state.summary.result(), True))
            last_report, reported = time.monotonic(), state.checked
            yield IDLE
        else:
            yield IDLE

