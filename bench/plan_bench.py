"""Seconds per stage of a cycle (read, parse, plan, render) on a synthetic initiative.

    .venv/bin/python bench/plan_bench.py [--actions 10000 --people 2000 --meetings 500
                                          --indicators 500] [--repeat 3]

Generates the workbook (bench/generate.py), then times each stage on it as
`rygrad plan` runs them, plus rendering every message due. Nothing is sent or
written. A real cycle renders only what it sends — at most mail.max_per_cycle
(100) unless released with --allow-burst — so the last column shows plan plus
rendering 100 messages. Prints the best of --repeat runs per stage. Run at several sizes to see
how a cycle's cost grows with rows (--scale runs 1/4, 1/2 and 1×).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from automation import config
from automation.core.parse import parse
from automation.core.plan import plan
from automation.core.projection import cell_updates
from automation.mail.render import Renderer
from automation.sheets.xlsx import XlsxWorkbook
from bench.generate import generate

TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo("Europe/Copenhagen"))


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
    best: dict[str, float] = {}

    def timed(stage: str, work, *args):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        result = work(*args)
        elapsed = time.perf_counter() - start
        best[stage] = min(best.get(stage, elapsed), elapsed)
        return result

    renderer = Renderer(settings)

    def render_all(messages, initiative):  # type: ignore[no-untyped-def]
        return [renderer.render(m, initiative, NOW) for m in messages]

    for _ in range(repeat):
        snapshot = timed("read", XlsxWorkbook(workbook).read)
        initiative = timed("parse", parse, snapshot, settings)
        messages = timed("plan", plan, initiative, [], NOW, settings).messages
        timed("write-back", cell_updates, initiative, [], NOW, settings)
        timed("render", render_all, messages, initiative)
    return {**best, "messages": len(messages)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actions", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--meetings", type=int, default=500)
    parser.add_argument("--indicators", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", action="store_true", help="also run at 1/4 and 1/2 size")
    args = parser.parse_args()
    factors = (0.25, 0.5, 1.0) if args.scale else (1.0,)
    print("actions  people  meetings  indicators  messages   read    parse   plan    "
          "render  w-back  plan+render  ms/message  cycle (plan + render 100)")
    with tempfile.TemporaryDirectory() as folder:
        for factor in factors:
            sizes = [max(1, int(n * factor)) for n in
                     (args.actions, args.people, args.meetings, args.indicators)]
            r = measure(Path(folder), *sizes, repeat=args.repeat)
            per_message = r["render"] / max(1, r["messages"])
            print(f"{sizes[0]:7}  {sizes[1]:6}  {sizes[2]:8}  {sizes[3]:10}  "
                  f"{r['messages']:8}  {r['read']:6.2f}  {r['parse']:6.2f}  {r['plan']:6.2f}  "
                  f"{r['render']:6.2f}  {r['write-back']:6.2f}  "
                  f"{r['plan'] + r['render']:6.2f} s   {per_message * 1000:6.2f}      "
                  f"{r['plan'] + 100 * per_message:6.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
