"""The reader's fast paths decide exactly as the slow ones: the shape check (``logcheck.accepts``) accepts only
what every field's own check accepts, and a day read a block at a time gives the same events, bad lines and
line numbers as one read line by line, wherever the blocks cut it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ibticket.core import logcheck, logreader
from ibticket.core.logreader import FIELD_CHECKS, BadLine, parse_line, read_day, scan_day

from .test_core_logreader import FIELDS, FILL, OTHER, SENT, SUBMISSION, json_values

DAY = date(2026, 2, 18)


def reference_problem(event: Any) -> str | None:
    """event_problem as the field checks alone decide it (no fast path)."""
    if not isinstance(event, dict):
        return f"not an event (a JSON {type(event).__name__}, not an object)"
    for name in logcheck.REQUIRED_FIELDS:
        if name not in event:
            return f"not an event (no {name!r})"
    for name, value in event.items():
        problem = FIELD_CHECKS.get(name, logcheck._scalar)(value)
        if problem is not None:
            return f"{name!r}: {problem}"
    return None


@settings(max_examples=600, deadline=None)
@given(
    base=st.sampled_from([SUBMISSION, SENT, FILL, OTHER]),
    changes=st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=3),
    drop=st.lists(st.sampled_from(FIELDS), max_size=2),
)
def test_the_shape_check_accepts_only_what_the_field_checks_accept(base, changes, drop):
    event = {**base, **changes}
    for name in drop:
        event.pop(name, None)
    # Twice: the first call learns the shape, the second uses what it learnt.
    for _ in range(2):
        if logcheck.accepts(event):
            assert reference_problem(event) is None
        assert logcheck.event_problem(event) == reference_problem(event)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e308, True, 2**53 + 1, -1, "", "Nope", 1.5,
                                   "2026-02-30T10:00:00", None])
def test_the_shape_check_refuses_what_a_field_check_refuses(value):
    for name in ("quantity", "fill_price", "status", "event_type", "timestamp", "outside_rth", "avg_fill_price"):
        event = {**FILL, name: value}
        expected = reference_problem(event)
        assert not logcheck.accepts(event) if expected is not None else True
        assert logcheck.event_problem(event) == expected


def reference_read(raw: bytes) -> tuple[list[dict[str, Any]], list[BadLine]]:
    """The day read line by line, as the reader did before it streamed."""
    events, bad = [], []
    lines = raw.split(b"\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if number == len(lines):
            event, problem = None, logreader.TORN
        else:
            event, problem = parse_line(line)
        if event is None:
            text = line[:800].decode("utf-8", "replace")[:200]
            bad.append(BadLine(number, text, problem or "unreadable"))
        else:
            events.append(event)
    return events, bad


LINES = st.lists(
    st.sampled_from([json.dumps(SUBMISSION), json.dumps(SENT), json.dumps(FILL), json.dumps(OTHER)]).map(str.encode)
    | st.binary(max_size=40)
    | st.sampled_from([b"", b"   ", b"\t", b"\xc3\xa9t\xc3\xa9", b"\xff\xfe", b" " + json.dumps(FILL).encode(),
                       json.dumps(FILL).encode() + b" ", b"{", b"[1, 2]", "\u00a0".encode()]),
    max_size=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=LINES, block=st.integers(min_value=1, max_value=400), torn=st.booleans())
def test_a_day_read_in_blocks_reads_as_one_read_line_by_line(tmp_path_factory, lines, block, torn):
    raw = b"\n".join(lines) + (b"" if torn else b"\n")
    folder: Path = tmp_path_factory.mktemp("day")
    (folder / f"orders-{DAY.isoformat()}.jsonl").write_bytes(raw)
    expected = reference_read(raw)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(logreader, "BLOCK", block)
        streamed: list[dict[str, Any]] = []
        result = scan_day(folder, DAY, streamed.append)
        whole = read_day(folder, DAY)
    assert (streamed, result.bad_lines) == expected
    assert (whole.events, whole.bad_lines) == expected


def test_a_limit_reads_no_further_than_where_the_file_ended(tmp_path: Path) -> None:
    first = (json.dumps(SUBMISSION) + "\n").encode()
    (tmp_path / f"orders-{DAY.isoformat()}.jsonl").write_bytes(first + (json.dumps(SENT) + "\n").encode())
    events: list[dict[str, Any]] = []
    result = scan_day(tmp_path, DAY, events.append, limit=len(first))
    assert events == [SUBMISSION] and result.bad_lines == []
