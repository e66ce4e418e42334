"""`rygrad serve`: each initiative's cycles on its own schedule until SIGTERM or SIGINT.

One worker may serve many initiatives (one `--config` each); several workers may
serve the same ones when their ledgers share a PostgreSQL database. A cycle runs
only while its worker holds the initiative's cycle lock (`DeliveryLedger.try_lock`);
a worker that finds it taken skips that cycle quietly and tries again one interval
later, so when a worker dies, another picks its initiatives up within one interval.

Work that became due while the worker was down is not lost: the rules are
level-triggered, so the first cycle after a restart sends everything due and not
yet sent. There is no burst catch-up of missed cycles: one cycle covers them all.

An initiative whose cycle fails (credentials, an unreachable sheet, a missing tab)
is logged as one ERROR line naming it, and retried with exponential backoff —
one interval, then two, four … capped at an hour — while the others go on.
A signal only sets a flag; the current message is finished, then the loop exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import FrameType

from automation.cycle import Cycle, Outcome
from automation.errors import RygradError
from automation.ledger import DeliveryLedger

log = logging.getLogger(__name__)

MAX_BACKOFF = 3600.0  # seconds: a failing initiative is still tried at least hourly


@dataclass
class Job:
    """One initiative as the loop sees it: how to run it and when it is next due."""

    name: str
    every: float  # seconds between cycles
    # builds the ledger and the cycle (given the stop flag); again after a failure, so
    # that a credential or sheet fixed meanwhile is picked up
    build: Callable[[Callable[[], bool]], tuple[DeliveryLedger, Cycle]]
    clock: Callable[[], datetime]  # the initiative's local "now"
    report: Callable[[datetime, Outcome], None]
    due_at: float = 0.0  # time.monotonic()
    failures: int = 0
    adapters: tuple[DeliveryLedger, Cycle] | None = None

    def backoff(self) -> float:
        return min(self.every * 2 ** max(0, self.failures - 1), max(MAX_BACKOFF, self.every))


def serve(jobs: list[Job], monotonic: Callable[[], float] = time.monotonic) -> int:
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        log.warning("signal %s: finishing the current message, then stopping", number)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        start = monotonic()
        for job in jobs:
            job.due_at = start  # a first cycle of each at once
        while not stop.is_set():
            job = min(jobs, key=lambda j: j.due_at)
            wait = job.due_at - monotonic()
            if wait > 0:
                stop.wait(timeout=wait)
                continue
            started = monotonic()
            delay = run_one(job, stop.is_set)
            job.due_at = started + delay
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for job in jobs:
            close(job)
    return 0


def run_one(job: Job, should_stop: Callable[[], bool]) -> float:
    """Run one cycle of `job` if no other worker is running it; seconds until the next."""
    try:
        if job.adapters is None:
            job.adapters = job.build(should_stop)
        ledger, cycle = job.adapters
        if not ledger.try_lock():
            log.info("%s: another worker is running this initiative", job.name)
            return job.every
        try:
            now = job.clock()
            job.report(now, cycle.run(now))
        finally:
            ledger.unlock()
    except Exception as err:  # one initiative's trouble must not stop the others
        job.failures += 1
        close(job)
        delay = job.backoff()
        if isinstance(err, RygradError):
            log.error("%s: cycle could not run: %s (next try in %s)", job.name, err,
                      _duration(delay))
        else:
            log.exception("%s: cycle failed unexpectedly (next try in %s)", job.name,
                          _duration(delay))
        return delay
    job.failures = 0
    return job.every


def close(job: Job) -> None:
    if job.adapters is not None:
        ledger, _ = job.adapters
        job.adapters = None
        try:
            ledger.close()
        except Exception as err:  # a connection already lost: nothing left to close
            log.debug("%s: closing the ledger: %s", job.name, err)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
