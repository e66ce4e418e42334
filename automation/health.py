"""Is an initiative well? What `rygrad status` reports and its exit status judges.

An initiative is not well when its last cycle could not run (exit status 2, with the
reason recorded in the ledger), when a message is uncertain or failed, or when its
last cycle is older than three intervals (`schedule.every_minutes` × 3): the worker
has stopped, or cron no longer starts it. Time is an input: `now` comes from the CLI.
The age of the last cycle is measured by its "now" (what `--now` gave it, else the
clock), so that `status --now T` judges as at T, as every other command does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from automation.cycle import CANNOT_RUN
from automation.ledger import CycleRecord, DeliveryLedger

STALE_INTERVALS = 3
CYCLE_STATES = {0: "ok", 1: "problems", CANNOT_RUN: "could_not_run"}


@dataclass(frozen=True)
class Delivery:
    key: str
    recipient: str
    error: str


@dataclass
class Health:
    name: str
    ledger: str | None  # where the ledger is; None when no cycle has run yet
    last_cycle: CycleRecord | None = None
    counts: dict[str, int] = field(default_factory=dict)
    uncertain: list[Delivery] = field(default_factory=list)
    failed: list[Delivery] = field(default_factory=list)
    retrying: list[Delivery] = field(default_factory=list)
    stale: bool = False
    problems: list[str] = field(default_factory=list)  # one sentence each
    # the last cycle that read the [inbox] mailbox: its time and what it found
    # (inbox/step.py InboxOutcome); None when replies are not read
    inbox: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        cycle = self.last_cycle
        return {
            "name": self.name,
            "ok": self.ok,
            "ledger": self.ledger,
            "last_cycle": None if cycle is None else {
                "id": cycle.id,
                "at": cycle.now,
                "started": cycle.started,
                "finished": cycle.finished,
                "status": cycle_state(cycle),
                "exit_status": cycle.exit_status,
                "reason": cycle.reason,
                **{name: cycle.summary.get(name, 0) for name in ("due", "sent",
                                                                "cells_written")},
            },
            "counts": {state: self.counts.get(state, 0)
                       for state in ("sent", "failed", "retry", "sending")},
            "uncertain": [vars(d) for d in self.uncertain],
            "failed": [vars(d) for d in self.failed],
            "retrying": [vars(d) for d in self.retrying],
            "stale": self.stale,
            "inbox": self.inbox,
            "problems": self.problems,
        }


def cycle_state(cycle: CycleRecord) -> str:
    if cycle.finished is None:
        return "running_or_crashed"
    return CYCLE_STATES.get(cycle.exit_status or 0, "problems")


def judge(name: str, ledger: DeliveryLedger, now: datetime, every_minutes: float) -> Health:
    health = Health(name, ledger.where, counts=ledger.counts())
    by_state = {"sending": health.uncertain, "failed": health.failed,
                "retry": health.retrying}
    for state, key, recipient, error in ledger.problems():
        by_state[state].append(Delivery(key, recipient, error))
    cycles = ledger.last_cycles(1)
    health.last_cycle = cycles[0] if cycles else None
    if health.last_cycle is not None:
        judge_cycle(health, health.last_cycle, now, every_minutes)
    read = next((c for c in ledger.last_cycles(10) if c.summary.get("inbox")), None)
    if read is not None:
        health.inbox = {"at": read.now, **read.summary["inbox"]}
        if health.inbox.get("error"):
            health.problems.append(f"the mailbox could not be read at {read.now[:16]}: "
                                   f"{health.inbox['error']}")
    if health.uncertain:
        health.problems.append(f"{len(health.uncertain)} uncertain messages (they may or may "
                               "not have arrived)")
    if health.failed:
        health.problems.append(f"{len(health.failed)} failed messages (refused by the "
                               "mail server)")
    return health


def judge_cycle(health: Health, cycle: CycleRecord, now: datetime, every_minutes: float
                ) -> None:
    at = datetime.fromisoformat(cycle.now)
    if cycle.exit_status == CANNOT_RUN:
        health.problems.append(f"the last cycle, at {at:%Y-%m-%d %H:%M}, could not run: "
                               f"{cycle.reason or 'no reason was recorded'}")
    limit = timedelta(minutes=every_minutes * STALE_INTERVALS)
    if now - at > limit:
        health.stale = True
        health.problems.append(
            f"no cycle since {at:%Y-%m-%d %H:%M}, more than three intervals "
            f"({duration(limit)}) ago; is the worker running?")


def duration(span: timedelta) -> str:
    seconds = span.total_seconds()
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
