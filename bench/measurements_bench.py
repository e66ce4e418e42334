"""What appending to Målinger costs (README, "The workbook contract"): the rows due, their
cells, and the xlsx write that appends them, at 10k actions.

    .venv/bin/python bench/measurements_bench.py [--actions 10000 --people 2000
                                                  --meetings 500 --indicators 500]
                                                 [--repeat 3]

Generates the workbook (bench/generate.py, whose Målinger tab is empty), reads and parses
it, then times core/measurements.py (which values the tab lacks, and their cells) and
XlsxWorkbook.write with only those cells, on a fresh copy each time; finally reads the
workbook back and checks that nothing is due any more. Prints the best of --repeat runs.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from automation import config
from automation.core.measurements import measurement_rows, measurement_writes
from automation.core.parse import parse
from automation.sheets.xlsx import XlsxWorkbook
from bench.generate import generate

SETTINGS = {"initiative": {"name": "Bench", "secretariat": "Sekretariatet <s@example.dk>"},
            "sheet": {"path": "bench.xlsx"}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--meetings", type=int, default=500)
    parser.add_argument("--indicators", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = config.parse(SETTINGS, Path("/bench/rygrad.toml"))
    with tempfile.TemporaryDirectory() as temp:
        source = Path(temp) / "source.xlsx"
        generate(source, date(2026, 12, 2), actions=args.actions, people=args.people,
                 meetings=args.meetings, indicators=args.indicators)
        pure, write = float("inf"), float("inf")
        for _ in range(args.repeat):
            path = Path(temp) / "bench.xlsx"
            shutil.copyfile(source, path)
            book = XlsxWorkbook(path)
            snapshot = book.read()
            initiative = parse(snapshot, settings)
            start = time.perf_counter()
            rows = measurement_rows(initiative, "da")
            writes = measurement_writes(initiative, rows, "da")
            pure = min(pure, time.perf_counter() - start)
            start = time.perf_counter()
            book.write(writes, snapshot.version)
            write = min(write, time.perf_counter() - start)
        again = measurement_rows(parse(book.read(), settings), "da")
    print(f"{len(initiative.indicators)} indicators: {len(rows)} rows, {len(writes)} cells "
          f"to append")
    print(f"which and their cells: {pure * 1000:.1f} ms; xlsx write: {write:.3f} s; "
          f"due after reading back: {len(again)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
