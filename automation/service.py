"""`rygrad serve`: cycles on a schedule until SIGTERM or SIGINT.

Work that became due while the worker was down is not lost: the rules are
level-triggered, so the first cycle after a restart sends everything due and not
yet sent. There is no burst catch-up of missed cycles: one cycle covers them all.
A signal only sets a flag; the current message is finished, then the loop exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from types import FrameType

import schedule

from automation.config import Settings
from automation.cycle import Cycle, Outcome
from automation.errors import RygradError

log = logging.getLogger(__name__)


def serve(
    settings: Settings,
    make_cycle: Callable[[Callable[[], bool]], Cycle],
    clock: Callable[[], datetime],
    report: Callable[[datetime, Outcome], None],
) -> int:
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        log.warning("signal %s: finishing the current message, then stopping", number)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    cycle = make_cycle(stop.is_set)

    def one_cycle() -> None:
        now = clock()
        try:
            report(now, cycle.run(now))
        except RygradError as err:
            # the sheet may be unreachable for a while; say so and try again next time
            log.error("cycle at %s could not run: %s", now.isoformat(timespec="minutes"), err)

    scheduler = schedule.Scheduler()
    scheduler.every(settings.schedule.every_minutes).minutes.do(one_cycle)
    try:
        one_cycle()
        while not stop.is_set():
            scheduler.run_pending()
            wait = scheduler.idle_seconds
            stop.wait(timeout=max(1.0, wait if wait is not None else 60.0))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
