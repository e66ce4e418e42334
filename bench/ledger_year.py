"""What a year of daily cycles leaves in the ledger, with and without retention.

    .venv/bin/python bench/ledger_year.py                          # 1k actions, 365 days
    .venv/bin/python bench/ledger_year.py --actions 10000 --days 30 --no-baseline
    .venv/bin/python bench/ledger_year.py --actions 10000 --meetings-all-year --no-baseline

bench/generate.py's meetings fall between 90 days before and 60 days after the first day,
so by default every meeting (its invitation, agenda with charts and follow-up, the largest
mails) is over after day 60 and the rest of the year sends overdue notices, indicator
requests and digests only. ``--meetings-all-year`` spreads them from 90 days before to 60
days after the last day instead, as many more as keep the same number a week, as an
initiative that goes on meeting does.

bench/generate.py writes a synthetic initiative (people = actions/5, meetings and
indicators = actions/20 each, as bench/scale.py), and one real cycle (Cycle.run: read,
parse, plan, render, the SQLite ledger, the write-back to the workbook, retention) runs
each day at 09:00 for ``--days`` days, the mail going to a transport that drops it. Nobody
changes the sheet meanwhile, so every open action past its due date gets an overdue
notice every 7 days all year: the most mail a sheet of that size makes, and so the
largest ledger. mail.max_per_cycle is lifted so that no day is held as a burst.

It runs twice: with ``state.keep_messages_days`` = 30 (the default) and, unless
``--no-baseline``, with retention off (keep_messages_days = 100,000 days), and reports
the ledger file's size along the way, its bytes per sent mail, and what one delivery row
holds before and after retention (the columns' own bytes, from SQL).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from automation import config
from automation.cycle import Cycle
from automation.ledger import Ledger
from automation.mail.render import Renderer
from automation.sheets.xlsx import XlsxWorkbook
from bench.generate import generate

ZONE = ZoneInfo("Europe/Copenhagen")
START = date(2026, 12, 2)
NO_RETENTION = 100_000


class DroppingTransport:
    """Accepts every mail and keeps none: the ledger is what is measured."""

    def open(self) -> None: ...
    def close(self) -> None: ...

    def send(self, data: bytes, sender: str, recipients: list[str], name: str) -> None:
        self.bytes_sent = getattr(self, "bytes_sent", 0) + len(data)


def ledger_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")
               if not p.name.endswith(".lock"))


def row_bytes(path: Path) -> dict[str, Any]:
    """Per sent delivery: the bytes its columns hold, trimmed (past retention) or not."""
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT trimmed, COUNT(*), SUM(length(key) + length(recipient) + length(kind) "
            "+ length(subject_id) + length(at) + length(real_at) + length(payload) "
            "+ COALESCE(length(message), 0) + length(error) + length(message_id)), "
            "SUM(COALESCE(length(message), 0)) FROM deliveries WHERE state = 'sent' "
            "GROUP BY trimmed").fetchall()
    db.close()
    return {("trimmed" if trimmed else "kept"): {"rows": count, "bytes_per_row": total / count,
                                                 "message_bytes_per_row": message / count}
            for trimmed, count, total, message in rows}


def simulate(folder: Path, actions: int, days: int, keep_days: int,
             checkpoints: set[int], all_year: bool = False) -> dict[str, Any]:
    folder.mkdir(parents=True)
    workbook = folder / "initiative.xlsx"
    meetings, span = max(1, actions // 20), (-90, 60)
    if all_year:  # the same meetings a week as over the default 150 days
        meetings, span = round(meetings * (days + 150) / 150), (-90, days + 60)
    generate(workbook, START, actions=actions, people=max(1, actions // 5),
             meetings=meetings, indicators=max(1, actions // 20), meeting_days=span)
    settings = config.parse(
        {"initiative": {"name": "Bench", "secretariat": "Sekretariatet <s@bench.example>"},
         "sheet": {"path": str(workbook)},
         "mail": {"outbox_dir": str(folder / "outbox"), "max_per_cycle": 1_000_000},
         "state": {"dir": str(folder / "state"), "keep_messages_days": keep_days},
         "schedule": {"send_window": "00:00-24:00", "send_days": "all",
                      "skip_holidays": False}},
        folder / "rygrad.toml")
    path = folder / "state" / "ledger.sqlite3"
    ledger = Ledger(path)
    retention = [0.0, 0.0]  # seconds in Ledger.expire, the most one cycle took

    def timed_expire(before: datetime, expire: Any = ledger.expire) -> int:
        began = time.perf_counter()
        trimmed = int(expire(before))
        took = time.perf_counter() - began
        retention[0] += took
        retention[1] = max(retention[1], took)
        return trimmed

    ledger.expire = timed_expire  # type: ignore[method-assign]
    transport = DroppingTransport()
    cycle = Cycle(settings, XlsxWorkbook(workbook), ledger, transport,
                  Renderer(settings, ledger.secret()), lambda: datetime.now(ZONE))
    sent = 0
    seconds = 0.0
    along: list[dict[str, Any]] = []
    for day in range(1, days + 1):
        now = datetime.combine(START + timedelta(days=day - 1), datetime.min.time(),
                               ZONE).replace(hour=9)
        began = time.perf_counter()
        outcome = cycle.run(now)
        seconds += time.perf_counter() - began
        sent += outcome.sent
        if day in checkpoints or day % 30 == 0 or day == days:
            along.append({"day": day, "sent": sent, "ledger_bytes": ledger_size(path),
                          "seconds": round(seconds, 1)})
            print(f"  keep {keep_days} d, day {day}: {sent} sent, "
                  f"{ledger_size(path) / 1e6:.1f} MB, {seconds:.0f} s", file=sys.stderr)
    ledger.close()
    return {"keep_messages_days": keep_days, "meetings": meetings, "sent": sent,
            "mail_bytes_sent": getattr(transport, "bytes_sent", 0),
            "ledger_bytes": ledger_size(path), "bytes_per_sent_mail": ledger_size(path) / sent,
            "rows": row_bytes(path), "along": along, "seconds": round(seconds, 1),
            "retention_seconds": round(retention[0], 2),
            "retention_max_ms": round(retention[1] * 1000, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--no-baseline", action="store_true",
                        help="only the run with retention (the baseline keeps every mail)")
    parser.add_argument("--meetings-all-year", action="store_true",
                        help="meetings all along the simulated days, not only the first 60")
    parser.add_argument("--json", type=Path, help="write the raw numbers here")
    args = parser.parse_args(argv)
    checkpoints = {1, 7, 31}  # and every 30th day, and the last
    runs = []
    with tempfile.TemporaryDirectory() as scratch:
        for keep in (30,) if args.no_baseline else (30, NO_RETENTION):
            runs.append(simulate(Path(scratch) / f"keep-{keep}", args.actions, args.days,
                                 keep, checkpoints, args.meetings_all_year))
    for run in runs:
        label = "retention 30 d" if run["keep_messages_days"] == 30 else "no retention"
        print(f"{args.actions} actions, {run['meetings']} meetings, {args.days} daily cycles, "
              f"{label}: "
              f"{run['sent']} mails sent ({run['mail_bytes_sent'] / run['sent'] / 1e3:.1f} KB "
              f"each), ledger {run['ledger_bytes'] / 1e6:.1f} MB = "
              f"{run['bytes_per_sent_mail']:,.0f} bytes per sent mail; cycles "
              f"{run['seconds']:.0f} s in all, of which retention {run['retention_seconds']:.1f} s "
              f"(at most {run['retention_max_ms']:.0f} ms in one cycle)")
        for state, numbers in sorted(run["rows"].items()):
            print(f"  {state} rows: {numbers['rows']}, {numbers['bytes_per_row']:,.0f} bytes "
                  f"each ({numbers['message_bytes_per_row']:,.0f} of them the mail)")
        for point in run["along"]:
            print(f"  day {point['day']:>3}: {point['sent']:>7} sent, ledger "
                  f"{point['ledger_bytes'] / 1e6:7.1f} MB")
    if args.json:
        args.json.write_text(json.dumps(
            {"actions": args.actions, "days": args.days,
             "meetings_all_year": args.meetings_all_year,
             "runs": runs}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
