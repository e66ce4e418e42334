"""A synthetic initiative for benchmarks: any number of people, meetings, actions, indicators.

    python bench/generate.py OUT.xlsx --actions 10000 --people 2000 --meetings 500 \\
        --indicators 500 [--today 2026-12-01] [--seed 1]

The tabs and columns are those of README, "The workbook contract" (Danish titles); the worker-owned
cells are left empty, as in a sheet the worker has never seen. Dates spread around
`today` so that every rule of §2 fires somewhere. The same seed gives the same file.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import date, time, timedelta
from pathlib import Path

from openpyxl import Workbook

from automation.core.schema import TABS

FIRST = ("Anne", "Mette", "Line", "Sofie", "Ida", "Maja", "Camilla", "Fatima", "Nanna",
         "Karen", "Louise", "Hanne", "Yasmin", "Amira", "Peter", "Jonas", "Henrik", "Lars",
         "Rasmus", "Kasper", "Mikkel", "Thomas", "Jesper", "Bo", "Ali", "Søren", "Mads")
LAST = ("Holm", "Skovgaard", "Bach", "Dahl", "Nørgaard", "Friis", "Østergaard", "Kristensen",
        "Bech", "Yousef", "Mølgaard", "Winther", "Juhl", "Berg", "Vinther", "Bjerre", "Krogh",
        "Thygesen", "Rasmussen", "Lindberg", "Hassan", "Kjær", "Jensen", "Nielsen", "Hansen")
ORGANISATIONS = ("Aarhus Kommune", "UU Aarhus", "Aarhus Tech", "Brabrand Boligforening",
                 "Red Barnet", "Ungdommens Røde Kors", "KFUM", "TrygFonden", "Dansk Erhverv",
                 "SSP Aarhus", "Aarhus Kommunes Biblioteker")
TASKS = ("Kortlæg fritidstilbud i", "Hold informationsmøde for forældre i",
         "Start lektiecafé i", "Evaluer fritidsjobindsatsen i", "Find praktikpladser i",
         "Rekrutter frivillige i")
PLACES = ("Gellerup", "Toveshøj", "Bispehaven", "Brabrand", "Viby", "Skejby", "Tilst")
STATUSES = ("Ikke startet", "I gang", "I gang", "Færdig")
FREQUENCIES = ("månedlig", "kvartalsvis", "kvartalsvis", "halvårlig", "årlig", "")
UNITS = ("%", "antal", "unge")


def generate(path: Path, today: date, actions: int, people: int, meetings: int,
             indicators: int, seed: int = 1,
             meeting_days: tuple[int, int] = (-90, 60)) -> None:
    """Write the synthetic workbook to `path` (overwriting it: it is a benchmark artefact).

    ``meeting_days``: the meetings' dates, in days from ``today`` (a simulation that runs
    for months needs meetings all along it).
    """
    rng = random.Random(seed)
    groups = [f"Gruppe {n:03}" for n in range(1, max(1, people // 20) + 1)]
    names = [f"{rng.choice(FIRST)} {rng.choice(LAST)} {n}" for n in range(1, people + 1)]

    def day(low: int, high: int) -> date:
        return today + timedelta(days=rng.randint(low, high))

    def someone() -> str:
        return rng.choice(names) if names else ""

    content = {
        "people": (
            [name, f"person{n}@partner{n % 50}.example", rng.choice(ORGANISATIONS),
             ", ".join(sorted({groups[(n - 1) // 20 % len(groups)], rng.choice(groups)})),
             "en" if n % 25 == 0 else ""]
            for n, name in enumerate(names, 1)
        ),
        "groups": (
            [group, "Styregruppe" if n == 0 else "Arbejdsgruppe",
             names[n * 20 % len(names)] if names else "", f"Målet for {group}"]
            for n, group in enumerate(groups)
        ),
        "meetings": (
            [f"M-{n:05}", rng.choice(groups), day(*meeting_days),
             time(rng.choice((8, 9, 13, 15)), rng.choice((0, 30))), None, "Dokk1",
             "1. Velkomst\n2. Status" if rng.random() < 0.7 else None,
             "Referat udsendt." if rng.random() < 0.5 else None,
             "ja" if rng.random() < 0.05 else None]
            for n in range(1, meetings + 1)
        ),
        "actions": (
            [f"H-{n:06}", rng.choice(groups),
             f"{rng.choice(TASKS)} {rng.choice(PLACES)}", someone(),
             day(-40, 90) if rng.random() < 0.9 else None, rng.choice(STATUSES),
             f"M-{rng.randint(1, meetings):05}" if meetings and rng.random() < 0.3 else None]
            for n in range(1, actions + 1)
        ),
        "indicators": (
            _indicator(rng, n, today, rng.choice(groups), someone())
            for n in range(1, indicators + 1)
        ),
    }
    workbook = Workbook(write_only=True)
    for tab in TABS:
        sheet = workbook.create_sheet(tab.da)
        sheet.append([column.da for column in tab.columns])
        for row in content.get(tab.key, ()):
            sheet.append(row)
    workbook.save(path)


def _indicator(rng: random.Random, n: int, today: date, group: str, owner: str) -> list[object]:
    baseline = rng.randint(0, 100)
    target = baseline + rng.choice((-1, 1)) * rng.randint(5, 50)
    current = baseline + (target - baseline) * rng.uniform(-0.2, 1.2)
    measured = rng.random() < 0.85
    return [f"I-{n:05}", group, f"Indikator {n}", rng.choice(UNITS), baseline,
            today - timedelta(days=rng.randint(100, 500)), target,
            today + timedelta(days=rng.randint(60, 700)),
            round(current, 1) if measured else None,
            today - timedelta(days=rng.randint(0, 400)) if measured else None,
            owner, rng.choice(FREQUENCIES)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic initiative workbook.")
    parser.add_argument("out", type=Path, help="the .xlsx file to write")
    parser.add_argument("--actions", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--meetings", type=int, default=500)
    parser.add_argument("--indicators", type=int, default=500)
    parser.add_argument("--today", type=date.fromisoformat, default=date.today(),
                        help="the date the spread is centred on (default: today)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    generate(args.out, args.today, actions=args.actions, people=args.people,
             meetings=args.meetings, indicators=args.indicators, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
