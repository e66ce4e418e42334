"""Time and memory of the charts and the status report, and the start-up of a cycle
(figures in docs/benchmarks.md, "Charts and the status report (issue 16)").

    .venv/bin/python bench/report_bench.py                    # 1,000 indicators, 100 groups
    .venv/bin/python bench/report_bench.py --indicators 200 --groups 40
    .venv/bin/python bench/report_bench.py --startup-only --baseline 22c3ae0

The report: an initiative of that many groups (each with two overdue actions and a
status) and indicators (every tenth without values, a history of four measurements
each), measured in a fresh process: drawing every chart, the HTML, the PDF, and the
process's peak resident memory (getrusage). Start-up: `import automation.cli` and a
`rygrad run --once` of the example initiative without indicators (no chart due) to the
outbox, each the median of five fresh processes, in this tree and, with --baseline, in
the tree of that commit (`git archive`, so the working tree is not touched).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5


def initiative(groups: int, indicators: int):
    from automation.core.model import (
        Action,
        Group,
        Indicator,
        Initiative,
        Measurement,
        Meeting,
        Person,
    )

    today = date(2026, 12, 2)
    chair = Person(2, "Mette Skovgaard", "mette@ung.example", "mette@ung.example")
    found = Initiative(people=[chair])
    found.groups["Styregruppe"] = Group(2, "Styregruppe", "Styregruppe", chair, "Flere unge")
    found.meetings.append(Meeting(2, "SG-1", "Styregruppe", today + timedelta(days=3)))
    names = [f"AG {g:03d}" for g in range(groups)]
    for g, name in enumerate(names):
        found.groups[name] = Group(3 + g, name, "Arbejdsgruppe", chair, f"Mål for {name}",
                                   latest_status="Vi er godt i gang. " * 5,
                                   status_received=today - timedelta(days=3))
        for a in range(2):
            found.actions.append(Action(3 + 2 * g + a, f"H-{g}-{a}", name, "Opgave " * 6,
                                        chair, chair.name, today - timedelta(days=a * 9 + 1)))
    for i in range(indicators):
        values = i % 10 != 0
        found.indicators.append(Indicator(
            3 + i, f"I-{i:04d}", names[i % groups], f"Indikator nummer {i}", "%", 40,
            date(2025, 1, 1), 80, date(2028, 1, 1), 50 + i % 7 if values else None,
            date(2026, 11, 1) if values else None))
        if values:
            found.measurements += [Measurement(0, f"I-{i:04d}", date(2025, 3 * m + 3, 1),
                                               41 + m * 2 + i % 3) for m in range(3)]
    return found


def measure_report(groups: int, indicators: int) -> dict[str, float]:
    """In this process (run it fresh): each step's seconds and the peak memory."""
    sys.path.insert(0, str(ROOT))
    from automation.config import InitiativeSettings, MailSettings, Settings, SheetSettings
    from automation.progress import charts, report

    settings = Settings(file=Path("rygrad.toml"), initiative=InitiativeSettings(
        name="Bench", secretariat_name="Sekretariatet",
        secretariat_email="sekretariat@ung.example"), sheet=SheetSettings(), mail=MailSettings())
    found = initiative(groups, indicators)
    today = date(2026, 12, 2)
    started = time.perf_counter()
    data = report.report_data(found, settings, today)
    figures: dict[str, float] = {"data_s": time.perf_counter() - started}
    started = time.perf_counter()
    drawn = [charts.chart(line.chart, "da") for line in data.indicators]
    figures["charts_s"] = time.perf_counter() - started
    figures["chart_kb_mean"] = sum(len(c.png) for c in drawn) / len(drawn) / 1024
    started = time.perf_counter()
    html = report.report_html(data, settings, "da")  # the charts again: cached
    figures["html_s"] = time.perf_counter() - started
    started = time.perf_counter()
    pdf = report.report_pdf(html)
    figures["pdf_s"] = time.perf_counter() - started
    figures["pdf_mb"] = len(pdf) / 1e6
    figures["html_mb"] = len(html.encode()) / 1e6
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def median_seconds(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def startup(tree: Path, without_numpy: bool = False) -> dict[str, float]:
    """`import automation.cli` and a no-chart `run --once` in the code of ``tree``;
    ``without_numpy``: as in a virtualenv without numpy, which matplotlib brings and
    openpyxl then imports whenever it is installed."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    block = "import sys; sys.modules['numpy'] = None; " if without_numpy else ""
    figures = {"import_s": median_seconds(
        [sys.executable, "-c", block + "import automation.cli"], tree, env)}
    cycle = (block + "import sys; from automation.cli import main; "
             "main(['run', '--once', '--config', sys.argv[1], '--now', sys.argv[2]]); "
             "print('LOADED', ','.join(m for m in ('matplotlib', 'weasyprint', 'numpy') "
             "if sys.modules.get(m) is not None) or '-')")
    times, loaded = [], ""
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run([sys.executable, "-c", "import sys; from automation.cli import main;"
                            " main(['init', sys.argv[1]])", folder], cwd=tree, env=env,
                           check=True, capture_output=True)
            _without_indicators(Path(folder) / "examples" / "initiative.xlsx")
            day = date.today()
            while day.weekday() >= 5:
                day += timedelta(days=1)
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", cycle,
                                   f"{folder}/config/rygrad.toml", f"{day}T10:00"],
                                  cwd=tree, env=env, capture_output=True, text=True)
            times.append(time.perf_counter() - started)
            loaded = next((line.split(" ", 1)[1] for line in done.stdout.splitlines()
                           if line.startswith("LOADED ")), "?")
    figures["run_once_s"] = statistics.median(times)
    figures["loaded"] = loaded  # type: ignore[assignment]
    return figures


def _without_indicators(book: Path) -> None:
    from openpyxl import load_workbook

    workbook = load_workbook(book)
    for title in ("Indikatorer", "Indicators"):
        if title in workbook.sheetnames:
            workbook[title].delete_rows(2, workbook[title].max_row)
    workbook.save(book)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--indicators", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--baseline", metavar="COMMIT",
                        help="also time start-up in the tree of this commit")
    parser.add_argument("--startup-only", action="store_true")
    parser.add_argument("--measure-report", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_report:
        print(json.dumps(measure_report(args.groups, args.indicators)))
        return
    results: dict[str, object] = {}
    if not args.startup_only:
        done = subprocess.run([sys.executable, __file__, "--measure-report", "--indicators",
                               str(args.indicators), "--groups", str(args.groups)],
                              check=True, capture_output=True, text=True)
        results[f"report {args.indicators} indicators, {args.groups} groups"] = \
            json.loads(done.stdout.strip().splitlines()[-1])
    results["start-up, this tree"] = startup(ROOT)
    results["start-up, this tree, numpy hidden"] = startup(ROOT, without_numpy=True)
    if args.baseline:
        with tempfile.TemporaryDirectory() as folder:
            archive = subprocess.run(["git", "archive", args.baseline], cwd=ROOT, check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
            results[f"start-up, {args.baseline}"] = startup(Path(folder))
            results[f"start-up, {args.baseline}, numpy hidden"] = startup(Path(folder), True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
