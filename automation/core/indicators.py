"""Indicator arithmetic: when the next value is due and how it is going (README, "The
workbook contract")."""

from __future__ import annotations

import calendar
from datetime import date

from automation.core.model import Indicator
from automation.core.settings import Rules

ACHIEVED = "achieved"
ON_TRACK = "on_track"
BEHIND = "behind"
NO_DATA = "no_data"


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_update(indicator: Indicator) -> date | None:
    """(Updated, or Start date if never updated) + frequency; None when both are empty."""
    since = indicator.updated or indicator.start_date
    return add_months(since, indicator.frequency_months) if since else None


def assess(indicator: Indicator, today: date, rules: Rules) -> str:
    """First match wins: No data, Achieved, On track / Behind by progress vs time."""
    if indicator.current is None:
        return NO_DATA
    due = next_update(indicator)
    if due is not None and (today - due).days > rules.stale_after_days:
        return NO_DATA
    target, baseline, current = indicator.target, indicator.baseline, indicator.current
    if target is None:
        return ON_TRACK
    rising = baseline is None or target >= baseline
    if (current >= target) if rising else (current <= target):
        return ACHIEVED
    start, end = indicator.start_date, indicator.target_date
    if baseline is None or start is None or end is None or end <= start or target == baseline:
        return ON_TRACK
    progress = (current - baseline) / (target - baseline)
    measured = indicator.updated or today
    elapsed = (measured - start).days / (end - start).days
    return ON_TRACK if progress >= elapsed - rules.on_track_tolerance else BEHIND
