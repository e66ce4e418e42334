"""Write the status report's pictures for the README: docs/report-example.pdf, its first
two pages as docs/report-page-1.png and docs/report-page-2.png, and one indicator's
chart as docs/chart-example.png.

    .venv/bin/python bench/report_example.py
    .venv/bin/python bench/report_example.py --out /tmp/report

The example initiative (`rygrad init` on a fixed day, so the files change only when the
report or the example does), its steering group's next meeting; the pages are rendered
by poppler's `pdftoppm` (Debian's poppler-utils). Run it again after changing the
report's template or the charts.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from automation import config  # noqa: E402
from automation.cli import build_sheet, main  # noqa: E402
from automation.core import progress  # noqa: E402
from automation.core.parse import parse  # noqa: E402
from automation.progress import charts, report  # noqa: E402

DAY = date(2026, 12, 2)  # a Wednesday: the example's steering group meets in 19 days
CHART = "I-01"  # the chart in the README: the initiative's main goal, with its history


def write(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        with open("/dev/null", "w") as quiet:
            stdout, sys.stdout = sys.stdout, quiet
            try:
                main(["init", folder])
            finally:
                sys.stdout = stdout
        # the example's dates sit around the day it was written: write it for DAY
        book = Path(folder) / "examples" / "initiative.xlsx"
        book.unlink()
        from automation.scaffold.example import write_example_workbook

        write_example_workbook(book, DAY)
        settings = config.load(Path(folder) / "config" / "rygrad.toml")
        initiative = parse(build_sheet(settings).read(), settings)
    made = report.make_report(initiative, settings, DAY)
    pdf = out / "report-example.pdf"
    pdf.write_bytes(made.pdf)
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "2", str(pdf),
                    str(out / "report-page")], check=True)
    pages = sorted(out.glob("report-page-*.png"))
    for number, page in enumerate(pages, 1):  # pdftoppm numbers them page-01 or page-1
        page.rename(out / f"report-page-{number}.png")
    indicator = next(i for i in initiative.indicators if i.id == CHART)
    chart = charts.chart(progress.chart_data(indicator, initiative, DAY, settings.rules), "da")
    (out / "chart-example.png").write_bytes(chart.png)
    print(f"chart-example.png alt text: {chart.alt}")
    return [pdf, out / "report-page-1.png", out / "report-page-2.png",
            out / "chart-example.png"]


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    for path in write(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    cli()
