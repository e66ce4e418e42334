"""An indicator's progress as a chart shows it, and in words (README, "Charts and the
status report").

Everything a chart draws is decided here, from the sheet and the day: the measurements
(Målinger, and the current value on Indikatorer), the baseline at its start date, the
target at its date, the straight trajectory between them with the tolerance band of
`rules.on_track_tolerance`, today, and the assessment of `indicators.assess` (never
worked out twice). `automation.progress.charts` only draws it. Input a chart cannot
show as asked (no values, a target date before the start date, a value far off the
scale) is named in ``problems``; the chart is still drawn with what makes sense.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from automation.core import indicators, measurements
from automation.core.model import Indicator, Initiative
from automation.core.settings import Rules
from automation.mail import formatting

# problem codes, worded by `problem_text`
NO_VALUES, ONE_VALUE, TARGET_BEFORE_START, OFF_SCALE = (
    "no_values", "one_value", "target_before_start", "off_scale")
# a value further from the baseline–target span than this many spans is drawn at the
# edge of the chart, not on a scale that would flatten everything else
OFF_SCALE_SPANS = 3.0
RISING, FALLING, FLAT = "rising", "falling", "flat"

Point = tuple[date, float]


@dataclass(frozen=True)
class ChartData:
    """What one indicator's chart shows; language-free (codes, dates, numbers)."""

    indicator_id: str
    name: str
    unit: str
    points: tuple[Point, ...]  # measurements by date, one per date
    baseline: Point | None
    target: Point | None
    # the trajectory from baseline to target and the lowest value still on track, at
    # the start and target dates (straight lines): (date, trajectory, tolerance limit)
    band: tuple[tuple[date, float, float], ...]
    today: date
    assessment: str  # a code of automation.core.indicators
    trend: str  # rising | falling | flat | "" (fewer than two values)
    y_range: tuple[float, float]  # what the value axis shows
    off_scale: tuple[Point, ...] = ()  # values outside y_range, drawn at its edge
    problems: tuple[str, ...] = ()

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None


def values_of(indicator: Indicator, initiative: Initiative) -> tuple[Point, ...]:
    """The indicator's measurements by date: Målinger's rows, and the current value on
    Indikatorer on its date (it wins over a Målinger row of the same date, being the
    one partners keep up to date). Undated current values have no place on a time axis."""
    by_date = {m.date: m.value for m in measurements.history(initiative, indicator.id)}
    if indicator.current is not None and indicator.updated is not None:
        by_date[indicator.updated] = indicator.current
    return tuple(sorted(by_date.items()))


def chart_data(indicator: Indicator, initiative: Initiative, today: date,
               rules: Rules) -> ChartData:
    points = values_of(indicator, initiative)
    problems: list[str] = []
    if not points:
        problems.append(NO_VALUES)
    elif len(points) == 1:
        problems.append(ONE_VALUE)
    start, end = indicator.start_date, indicator.target_date
    if start is not None and end is not None and end <= start:
        problems.append(TARGET_BEFORE_START)
    baseline = (start, indicator.baseline) if start and indicator.baseline is not None \
        else None
    target = (end, indicator.target) if end and indicator.target is not None else None
    band: tuple[tuple[date, float, float], ...] = ()
    if baseline and target and target[0] > baseline[0] and target[1] != baseline[1]:
        slack = rules.on_track_tolerance * (target[1] - baseline[1])
        band = ((baseline[0], baseline[1], baseline[1] - slack),
                (target[0], target[1], target[1] - slack))
    y_range, off = _scale(points, baseline, target, band)
    if off:
        problems.append(OFF_SCALE)
    return ChartData(
        indicator_id=indicator.id,
        name=" ".join(indicator.indicator.split()) or indicator.id,
        unit=" ".join(indicator.unit.split()),
        points=points,
        baseline=baseline,
        target=target,
        band=band,
        today=today,
        assessment=indicators.assess(indicator, today, rules),
        trend=_trend(points),
        y_range=y_range,
        off_scale=off,
        problems=tuple(problems),
    )


def _trend(points: tuple[Point, ...]) -> str:
    if len(points) < 2:
        return ""
    before, last = points[-2][1], points[-1][1]
    if abs(last - before) <= 1e-9 * max(abs(last), abs(before), 1.0):
        return FLAT
    return RISING if last > before else FALLING


def _scale(points: tuple[Point, ...], baseline: Point | None, target: Point | None,
           band: tuple[tuple[date, float, float], ...]
           ) -> tuple[tuple[float, float], tuple[Point, ...]]:
    """The value axis: the plan (baseline, target, band) and the measurements, except
    measurements so far off the plan that they would flatten it (drawn at the edge)."""
    planned = [v for v in (baseline[1] if baseline else None, target[1] if target else None)
               if v is not None] + [v for _, a, b in band for v in (a, b)]
    values = [v for _, v in points]
    off: list[Point] = []
    if planned:
        low, high = min(planned), max(planned)
        span = max(high - low, abs(high) * 0.1, 1.0)
        inside = [v for v in values
                  if low - OFF_SCALE_SPANS * span <= v <= high + OFF_SCALE_SPANS * span]
        off = [p for p in points if p[1] not in inside]
        shown = planned + inside
    else:
        shown = values or [0.0, 1.0]
    low, high = min(shown), max(shown)
    margin = (high - low) * 0.08 or max(abs(high) * 0.1, 1.0)
    bottom = low - margin
    if low >= 0 and bottom < 0:
        bottom = 0.0  # a count or a share never goes below nothing
    return (bottom, high + margin), tuple(off)


def behind_days(indicator: Indicator, today: date, rules: Rules) -> int:
    """How far behind its straight line an indicator is, in days of its schedule: the
    time it would take at the planned pace to make up the gap; 0 when it is not behind.
    An indicator without data counts the days since its value was due."""
    verdict = indicators.assess(indicator, today, rules)
    if verdict == indicators.NO_DATA:
        due = indicators.next_update(indicator)
        return max((today - due).days, 0) if due else 0
    if verdict != indicators.BEHIND:
        return 0
    start, end = indicator.start_date, indicator.target_date
    baseline, target, current = indicator.baseline, indicator.target, indicator.current
    if start is None or end is None or baseline is None or target is None or current is None:
        return 0
    total = (end - start).days
    progress = (current - baseline) / (target - baseline)
    elapsed = ((indicator.updated or today) - start).days / total
    return max(round((elapsed - progress) * total), 0)


# -- in words -------------------------------------------------------------------

_WORDS = {
    "da": {
        "chart": "Diagram over »{name}«",
        "latest": "seneste værdi {value} ({when})",
        "none": "ingen målinger endnu",
        "target": "mål {value} senest {when}",
        "target_open": "mål {value}",
        "baseline": "udgangspunkt {value} ({when})",
        "assessment": "Vurdering: {verdict}",
        RISING: "Tendens: stigende siden målingen før",
        FALLING: "Tendens: faldende siden målingen før",
        FLAT: "Tendens: uændret siden målingen før",
        NO_VALUES: "Der er ingen målinger, så diagrammet viser kun planen",
        ONE_VALUE: "Der er kun én måling, så der er endnu ingen tendens",
        TARGET_BEFORE_START: "Måldatoen ligger før startdatoen, så der er ingen linje mod "
                             "målet; ret datoerne på fanen Indikatorer",
        OFF_SCALE: "{count} ligger langt fra målet og er vist i kanten af diagrammet "
                   "({values}); tjek om værdien er tastet rigtigt",
        "values": "én værdi", "values_many": "{n} værdier",
    },
    "en": {
        "chart": "Chart of “{name}”",
        "latest": "latest value {value} ({when})",
        "none": "no values yet",
        "target": "target {value} by {when}",
        "target_open": "target {value}",
        "baseline": "baseline {value} ({when})",
        "assessment": "Assessment: {verdict}",
        RISING: "Trend: rising since the value before",
        FALLING: "Trend: falling since the value before",
        FLAT: "Trend: unchanged since the value before",
        NO_VALUES: "There are no values, so the chart shows only the plan",
        ONE_VALUE: "There is only one value, so there is no trend yet",
        TARGET_BEFORE_START: "The target date is before the start date, so there is no "
                             "line to the target; correct the dates on the Indicators tab",
        OFF_SCALE: "{count} far from the target {verb} shown at the edge of the chart "
                   "({values}); check that it was typed correctly",
        "values": "one value", "values_many": "{n} values",
    },
}


def problem_text(data: ChartData, code: str, lang: str) -> str:
    """One sentence naming what the chart could not show as asked, and what to do."""
    lang = formatting.language(lang)
    words = _WORDS[lang]
    if code != OFF_SCALE:
        return words[code]
    count = len(data.off_scale)
    counted = words["values"] if count == 1 else words["values_many"].format(n=count)
    shown = ", ".join(formatting.quantity(v, data.unit, lang) for _, v in data.off_scale[:3])
    return words[OFF_SCALE].format(count=counted[:1].upper() + counted[1:], values=shown,
                                   verb="is" if count == 1 else "are")


def alt_text(data: ChartData, lang: str) -> str:
    """The chart in words, for the image's alt text and the mail's text part: the latest
    value, the target and its date, the baseline, the assessment, the trend, problems."""
    lang = formatting.language(lang)
    words = _WORDS[lang]

    def amount(value: float) -> str:
        return formatting.quantity(value, data.unit, lang) + (
            f" {data.unit}" if data.unit and data.unit.isalpha() else "")

    facts = []
    latest = data.latest
    facts.append(words["latest"].format(value=amount(latest[1]),
                                        when=formatting.short_date(latest[0], lang))
                 if latest else words["none"])
    if data.target:
        facts.append(words["target"].format(value=amount(data.target[1]),
                                            when=formatting.short_date(data.target[0], lang)))
    if data.baseline:
        facts.append(words["baseline"].format(
            value=amount(data.baseline[1]), when=formatting.short_date(data.baseline[0], lang)))
    sentences = [words["chart"].format(name=data.name) + ": " + ", ".join(facts),
                 words["assessment"].format(
                     verdict=formatting.assessment(data.assessment, lang))]
    if data.trend:
        sentences.append(words[data.trend])
    sentences += [problem_text(data, code, lang) for code in data.problems
                  if code != ONE_VALUE or not data.trend]
    return ". ".join(sentences) + "."
