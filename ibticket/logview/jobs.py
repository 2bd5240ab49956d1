"""The log viewer's jobs, a step at a time on one thread of the worker process (``logview.worker``); Qt-free.

A job is a generator that does one short step per ``next()`` (a chunk of the file) and yields whether it
did something (``WORKED``, or ``GREW`` when the index gained lines) or had nothing to do (``IDLE``). The
worker always steps the most urgent job that has work, so a new filter never waits behind the full check
of a big day, and any job can be cancelled between two steps. When every job is idle the worker sleeps;
it looks again every ``POLL`` seconds (that is how a day file that grows is noticed) or as soon as a job
is added or cancelled.

Results go back through the callbacks the jobs were given; in the worker process they write the
reports down the pipe to the window.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .index import GREW, IDLE, Steps

log = logging.getLogger(__name__)

POLL = 0.2  # seconds between looks at idle jobs (a followed file's growth shows within this)

# Priorities: lower runs first.
INDEX, FILTER, EXPORT, CHECK, STATS = range(5)

_order = itertools.count()


@dataclass(eq=False)
class Job:
    name: str
    priority: int
    steps: Steps
    on_error: Callable[[BaseException], None] | None = None
    cancelled: bool = False
    finished: bool = False
    idle_until: float = 0.0  # an idle job looks again after POLL seconds, or when the index grows
    order: int = field(default_factory=lambda: next(_order))

    def cancel(self) -> None:
        self.cancelled = True


class Worker:
    """Runs jobs on one daemon thread, a step at a time, most urgent first."""

    def __init__(self, name: str = "ibticket-logview") -> None:
        self._jobs: list[Job] = []
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, name: str, priority: int, steps: Steps,
               on_error: Callable[[BaseException], None] | None = None) -> Job:
        job = Job(name, priority, steps, on_error)
        with self._wake:
            self._jobs.append(job)
            self._jobs.sort(key=lambda j: (j.priority, j.order))
            self._wake.notify()
        return job

    def cancel(self, *jobs: Job | None) -> None:
        with self._wake:
            for job in jobs:
                if job is not None:
                    job.cancel()
            self._wake.notify()

    @property
    def jobs(self) -> list[Job]:
        with self._wake:
            return [j for j in self._jobs if not j.cancelled]

    def stop(self, timeout: float = 2.0) -> None:
        with self._wake:
            self._stopping = True
            for job in self._jobs:
                job.cancel()
            self._wake.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _next(self) -> Job | None:
        """The job to step, or None to stop. Waits while every job is idle."""
        with self._wake:
            while True:
                if self._stopping:
                    for job in self._jobs:
                        job.steps.close()
                    self._jobs.clear()
                    return None
                for job in [j for j in self._jobs if j.cancelled]:
                    self._jobs.remove(job)
                    job.steps.close()
                now = time.monotonic()
                for job in self._jobs:
                    if job.idle_until <= now:
                        return job
                if not self._jobs:
                    self._wake.wait()  # nothing to do until a job comes
                    continue
                self._wake.wait(max(0.0, min(j.idle_until for j in self._jobs) - now))

    def _run(self) -> None:
        while (job := self._next()) is not None:
            try:
                outcome = next(job.steps)
            except StopIteration:
                self._drop(job)
                continue
            except Exception as exc:
                self._drop(job)
                if job.cancelled:
                    continue
                if job.on_error is None:
                    log.exception("log viewer job %s failed", job.name)
                else:
                    try:
                        job.on_error(exc)
                    except Exception:
                        log.exception("log viewer job %s: reporting its failure failed", job.name)
                continue
            if outcome == IDLE:
                job.idle_until = time.monotonic() + POLL
            elif outcome == GREW:
                with self._wake:
                    for other in self._jobs:  # jobs that follow the index have lines to look at
                        other.idle_until = 0.0

    def _drop(self, job: Job) -> None:
        with self._wake:
            job.finished = True
            if job in self._jobs:
                self._jobs.remove(job)
