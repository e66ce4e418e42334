"""What tracking meeting answers costs the planner and the write-back (README, "Meeting
answers").

    .venv/bin/python bench/rsvp_bench.py [--actions 10000 --people 2000 --meetings 500
                                          --indicators 500] [--repeat 3]

Generates the workbook (bench/generate.py) and plans a first day against an empty ledger;
every message due is then taken as sent, and every other invitee of every invited
meeting has answered (accepted, declined or tentative in turn). The next morning is
planned and projected three ways: without [inbox] (answers None), with it but no answer
yet (an empty list), and with all those answers. Prints the best of --repeat runs in
seconds; nothing is sent or written.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from automation import config
from automation.core.model import LedgerEntry, MeetingAnswer
from automation.core.parse import parse
from automation.core.plan import plan
from automation.core.projection import cell_updates
from automation.core.rsvp import ANSWERS
from automation.sheets.xlsx import XlsxWorkbook
from bench.generate import generate

TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo("Europe/Copenhagen"))
NEXT = NOW + timedelta(days=1)


def measure(folder: Path, actions: int, people: int, meetings: int, indicators: int,
            repeat: int) -> dict[str, float | int]:
    workbook = folder / f"bench-{actions}.xlsx"
    generate(workbook, TODAY, actions=actions, people=people, meetings=meetings,
             indicators=indicators)
    settings = config.parse(
        {"initiative": {"name": "Bench", "secretariat": "Sekretariatet <s@bench.example>"},
         "sheet": {"path": str(workbook)}},
        folder / "rygrad.toml",
    )
    initiative = parse(XlsxWorkbook(workbook).read(), settings)
    first = plan(initiative, [], NOW, settings, []).messages
    entries = [LedgerEntry(m.key, m.recipient.email, m.kind, m.subject_id, "sent", NOW,
                           m.payload) for m in first]
    invitations = [m for m in first if m.kind == "invitation"]
    answers = [MeetingAnswer(m.subject_id, m.recipient.email.casefold(),
                             ANSWERS[n // 2 % len(ANSWERS)], int(m.payload["seq"]),
                             NOW + timedelta(hours=1))
               for n, m in enumerate(invitations) if n % 2 == 0]
    best: dict[str, float] = {}

    def timed(stage: str, work: Callable[..., Any], *args: Any) -> Any:
        start = time.perf_counter()
        result = work(*args)
        elapsed = time.perf_counter() - start
        best[stage] = min(best.get(stage, elapsed), elapsed)
        return result

    for _ in range(repeat):
        for name, given in (("none", None), ("empty", []), ("answers", answers)):
            timed(f"plan {name}", plan, initiative, entries, NEXT, settings, given)
            timed(f"write-back {name}", cell_updates, initiative, entries, NEXT, settings,
                  given)
    return {**best, "invitations": len(invitations), "answers": len(answers)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actions", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--meetings", type=int, default=500)
    parser.add_argument("--indicators", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        r = measure(Path(folder), args.actions, args.people, args.meetings, args.indicators,
                    args.repeat)
    print(f"{args.actions} actions, {args.meetings} meetings: {r['invitations']} invitations "
          f"sent, {r['answers']} answers")
    print("                 no [inbox]   no answers yet   with the answers")
    for stage in ("plan", "write-back"):
        print(f"{stage:15}  {r[f'{stage} none']:8.3f} s   {r[f'{stage} empty']:10.3f} s   "
              f"{r[f'{stage} answers']:12.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
