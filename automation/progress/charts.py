"""An indicator's chart as a PNG (README, "Charts and the status report").

What the chart shows is decided in `automation.core.progress`; this module only draws
it, with matplotlib's Agg canvas (no pyplot, no global figure state). The PNG is 2× for
sharp screens (640 × 360 CSS pixels → 1280 × 720 pixels) and the same bytes for the
same data: DejaVu Sans (it ships with matplotlib, and has æ, ø and å) whatever the
machine's fonts, no Software or date metadata, one grey channel. Black-and-white printing keeps it
readable: the band is hatched, the lines differ in style, the points are marked.
matplotlib is imported on the first chart, never by a cycle that sends none.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_date

from automation.core import progress
from automation.core.progress import ChartData
from automation.mail import formatting

WIDTH, HEIGHT = 640, 360  # CSS pixels
SCALE = 2  # the PNG's pixels per CSS pixel
DPI = 200
INK, GREY, LIGHT = "#1a1a1a", "#6b6b6b", "#d9d9d9"
CHARTS_KEPT = 2048  # a steering group's agenda to every member draws each chart once
_LABELS = {
    "da": {"values": "Målinger", "plan": "Lige linje mod målet",
           "band": "Tolerance", "target": "Mål", "baseline": "Udgangspunkt",
           "today": "I dag", "off": "uden for skalaen"},
    "en": {"values": "Values", "plan": "Straight line to the target",
           "band": "Tolerance", "target": "Target", "baseline": "Baseline",
           "today": "Today", "off": "off the scale"},
}


@dataclass(frozen=True)
class Chart:
    """A drawn chart: the PNG, its alt text, its size in CSS pixels, its Content-ID."""

    png: bytes
    alt: str
    width: int
    height: int
    cid: str  # without angle brackets: the HTML says src="cid:{cid}"
    indicator_id: str = ""


def chart(data: ChartData, lang: str) -> Chart:
    """The chart of one indicator in the reader's language."""
    lang = formatting.language(lang)
    png = _png(data, lang)
    safe = re.sub(r"[^A-Za-z0-9.-]", "-", data.indicator_id)[:40] or "indicator"
    cid = f"chart-{safe}-{hashlib.sha256(png).hexdigest()[:16]}@rygrad"
    return Chart(png, progress.alt_text(data, lang), WIDTH, HEIGHT, cid, data.indicator_id)


@functools.lru_cache(maxsize=CHARTS_KEPT)
def _png(data: ChartData, lang: str) -> bytes:
    from PIL import Image  # Pillow: a dependency of matplotlib

    figure = _draw(data, lang)
    with warnings.catch_warnings():
        # a name in a script DejaVu Sans lacks is drawn as boxes; the alt text says it
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.canvas.draw()
    width, height = figure.canvas.get_width_height()
    pixels = Image.frombuffer("RGBA", (width, height), figure.canvas.buffer_rgba())
    # the chart is drawn in greys only: one grey channel is the same picture in less than
    # half the bytes (a steering group's agenda carries every chart); Pillow writes no
    # Software or time chunk
    out = io.BytesIO()
    pixels.convert("L").save(out, format="PNG")
    return out.getvalue()


@functools.cache
def _matplotlib() -> Any:
    """matplotlib, set up once for deterministic output; imported on the first chart."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    matplotlib.rcParams.update({
        "font.family": "DejaVu Sans",
        "font.size": 8,
        "svg.hashsalt": "rygrad",
        "path.simplify": True,
        "axes.edgecolor": GREY,
        "axes.labelcolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
        "hatch.linewidth": 0.6,
    })
    return matplotlib


def _draw(data: ChartData, lang: str) -> Any:
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import date2num
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    labels = _LABELS[lang]
    figure = Figure(figsize=(WIDTH * SCALE / DPI, HEIGHT * SCALE / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.1, 0.2, 0.86, 0.66))
    low, high = data.y_range
    if data.band:
        xs = [date2num(day) for day, _, _ in data.band]
        axes.fill_between(xs, [b[1] for b in data.band], [b[2] for b in data.band],
                          facecolor="none", edgecolor=GREY, hatch="////", linewidth=0,
                          label=labels["band"])
        axes.plot(xs, [b[1] for b in data.band], color=GREY, linestyle="--", linewidth=1,
                  label=labels["plan"])
    if data.baseline:
        axes.plot([date2num(data.baseline[0])], [data.baseline[1]], marker="o",
                  markerfacecolor="white", markeredgecolor=INK, linestyle="none",
                  markersize=5, label=labels["baseline"])
    if data.target:
        axes.plot([date2num(data.target[0])], [data.target[1]], marker="*", color=INK,
                  linestyle="none", markersize=10, label=labels["target"])
    inside = [p for p in data.points if p not in data.off_scale]
    if inside:
        axes.plot([date2num(d) for d, _ in inside], [v for _, v in inside], color=INK,
                  marker="o", markersize=4, linewidth=1.6, label=labels["values"])
    for day, value in data.off_scale:
        edge = high if value > high else low
        axes.plot([date2num(day)], [edge], marker="^" if value > high else "v", color=INK,
                  markersize=7, linestyle="none", clip_on=False)
        axes.annotate(f"{formatting.number(value, lang)} ({labels['off']})",
                      (date2num(day), edge), textcoords="offset points",
                      xytext=(6, -10 if value > high else 4), fontsize=7, color=INK)
    axes.axvline(date2num(data.today), color=INK, linestyle=":", linewidth=1)
    axes.annotate(labels["today"], (date2num(data.today), 1), xycoords=("data", "axes fraction"),
                  xytext=(3, -10), textcoords="offset points", fontsize=7, color=INK)
    axes.set_ylim(low, high)
    first, last = _time_span(data)
    axes.set_xlim(date2num(first), date2num(last))
    axes.xaxis.set_major_formatter(FuncFormatter(
        lambda x, _pos: _month(x, lang)))
    axes.yaxis.set_major_formatter(FuncFormatter(
        lambda y, _pos: formatting.number(round(y, 6), lang)))
    axes.grid(axis="y", color=LIGHT, linewidth=0.6)
    axes.spines[["top", "right"]].set_visible(False)
    unit = f" ({data.unit})" if data.unit else ""
    verdict = formatting.assessment(data.assessment, lang)
    figure.suptitle(f"{_fit(data.name + unit, 64)}: {verdict}", x=0.1, ha="left",
                    fontsize=10, fontweight="bold", color=INK)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=5, fontsize=7,
                    frameon=False)
    return figure


def _time_span(data: ChartData) -> tuple[date, date]:
    days = [d for d, _ in data.points] + [data.today]
    days += [p[0] for p in (data.baseline, data.target) if p]
    first, last = min(days), max(days)
    pad = max((last - first).days // 20, 7)
    return date.fromordinal(first.toordinal() - pad), date.fromordinal(last.toordinal() + pad)


def _month(x: float, lang: str) -> str:
    from matplotlib.dates import num2date

    day = num2date(x).date()
    return format_date(day, "MMM y", locale=formatting.LOCALES[lang])


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
