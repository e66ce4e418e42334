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

The timing is the ``schedule`` library's: one job per initiative on a
``schedule.Scheduler`` of the loop's own, ``every(n).seconds`` with n the whole seconds
of ``schedule.every_minutes`` (0.05 is 3 s); the first cycle of each runs at once. A
backoff sets the job's ``interval`` before schedule reschedules it, and the next cycle
is due that long after this one *started* (schedule counts from its end: a long cycle
would push every later one back). Between cycles the loop sleeps on the monotonic
clock until ``scheduler.idle_seconds``, then runs the jobs that are due.

A trade-off: schedule keeps its times on the wall clock (``datetime.now()``, naive local
time), which jumps when it is set back or forth and twice a year at the change to and
from summer time; the monotonic clock does not. So schedule's times are made to follow
the monotonic clock (``SteadyWall``): before asking what is due, every job's ``next_run``
is moved by as much as the wall clock strayed from the monotonic clock since the last
look.
An hour set back (October) then delays no initiative by an hour, an hour forward
runs none early, and a test that passes ``monotonic`` and ``sleep`` drives the loop
without waiting (its cycles take no time on its clock).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType

import schedule

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
    failures: int = 0
    adapters: tuple[DeliveryLedger, Cycle] | None = None

    def backoff(self) -> float:
        return min(self.every * 2 ** max(0, self.failures - 1), max(MAX_BACKOFF, self.every))


def serve(
    jobs: list[Job],
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] | None = None,
) -> int:
    """Run each job's cycles on its schedule until SIGTERM or SIGINT; return 0.

    ``sleep(seconds)`` waits that long at most (a signal ends it early); ``monotonic``
    is the clock it is measured on. Tests pass both to drive the loop without waiting.
    """
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        log.warning("signal %s: finishing the current message, then stopping", number)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        scheduler = schedule.Scheduler()
        for job in jobs:
            _schedule(scheduler, job, stop.is_set)
        wall = SteadyWall(monotonic)
        wait = stop.wait if sleep is None else sleep
        due = scheduler.get_jobs()  # the first cycle of each at once
        while not stop.is_set():
            for entry in due:
                if stop.is_set():
                    break
                _run(entry)
            wall.follow(scheduler)
            deadline = monotonic() + max(0.0, scheduler.idle_seconds or 0.0)
            while not stop.is_set() and (left := deadline - monotonic()) > 0:
                wait(left)
            wall.follow(scheduler)
            due = sorted(entry for entry in scheduler.get_jobs() if entry.should_run)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for job in jobs:
            close(job)
    return 0


def _schedule(scheduler: schedule.Scheduler, job: Job, should_stop: Callable[[], bool]
              ) -> None:
    """One schedule job for the initiative: a cycle every ``job.every`` seconds, then
    ``interval`` set to the backoff after a failure, and back when it recovers."""
    entry = scheduler.every(whole_seconds(job.every)).seconds

    def cycle() -> None:
        entry.interval = whole_seconds(run_one(job, should_stop))

    entry.do(cycle)


def _run(entry: schedule.Job) -> None:
    """Run the entry's cycle; its next one is due ``interval`` after this one started."""
    started = datetime.now()  # schedule's clock: naive local time (see SteadyWall)
    entry.run()
    entry.next_run = started + timedelta(seconds=entry.interval)


class SteadyWall:
    """Keeps schedule's wall-clock times on the monotonic clock's course (the module's
    docstring says why): ``follow`` moves every job's ``next_run`` by as much as the wall
    clock strayed from the monotonic clock since the last look."""

    def __init__(self, monotonic: Callable[[], float]) -> None:
        self.monotonic = monotonic
        self.wall, self.steady = datetime.now(), monotonic()

    def follow(self, scheduler: schedule.Scheduler) -> None:
        wall, steady = datetime.now(), self.monotonic()
        strayed = (wall - self.wall) - timedelta(seconds=steady - self.steady)
        self.wall, self.steady = wall, steady
        for entry in scheduler.get_jobs():
            if entry.next_run is not None:
                entry.next_run += strayed


def whole_seconds(seconds: float) -> int:
    """schedule counts in whole seconds: 0.05 minutes is 3 s, and never less than 1."""
    return max(1, round(seconds))


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
