"""Indicator arithmetic (automation/core/indicators.py): the next update, rolling over month
ends and year ends, and the assessment at each of its boundaries (README, "The workbook
contract")."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from automation.config import Rules
from automation.core.indicators import (
    ACHIEVED,
    BEHIND,
    NO_DATA,
    ON_TRACK,
    add_months,
    assess,
    next_update,
)
from automation.core.model import Indicator

RULES = Rules()  # stale after 30 days, on-track tolerance 0.10
START = date(2026, 1, 1)
END = START + timedelta(days=100)
UPDATED = START + timedelta(days=50)  # half the time has passed when it was measured
TODAY = START + timedelta(days=60)


def indicator(**fields) -> Indicator:
    values = dict(row=2, id="I1", group="AG", indicator="Unge i uddannelse", baseline=20.0,
                  start_date=START, target=120.0, target_date=END, current=60.0,
                  updated=UPDATED, frequency_months=3)
    values.update(fields)
    return Indicator(**values)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 3, 15), 3, date(2026, 6, 15)),
    (date(2026, 10, 15), 3, date(2027, 1, 15)),  # into the next year
    (date(2026, 12, 15), 1, date(2027, 1, 15)),
    (date(2026, 12, 31), 12, date(2027, 12, 31)),
    (date(2026, 11, 30), 1, date(2026, 12, 30)),
    (date(2026, 12, 1), 11, date(2027, 11, 1)),
    (date(2026, 12, 1), 12, date(2027, 12, 1)),
    (date(2026, 12, 1), 13, date(2028, 1, 1)),
    (date(2026, 6, 1), 30, date(2028, 12, 1)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),  # clamped to the month's end
    (date(2027, 11, 30), 3, date(2028, 2, 29)),  # a leap year
    (date(2028, 2, 29), 12, date(2029, 2, 28)),
    (date(2026, 8, 31), 1, date(2026, 9, 30)),
])
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(("updated", "start", "months", "expected"), [
    (date(2026, 9, 1), date(2026, 1, 1), 3, date(2026, 12, 1)),  # Updated wins
    (None, date(2026, 1, 1), 3, date(2026, 4, 1)),  # never updated: from the start date
    (date(2026, 11, 15), None, 3, date(2027, 2, 15)),  # the next update rolls into 2027
    (date(2026, 12, 20), None, 1, date(2027, 1, 20)),
    (date(2026, 12, 20), None, 12, date(2027, 12, 20)),
    (None, None, 3, None),  # neither: due now
])
def test_next_update(updated, start, months, expected):
    assert next_update(indicator(updated=updated, start_date=start,
                                 frequency_months=months)) == expected


@pytest.mark.parametrize(("fields", "expected"), [
    # progress (current-baseline)/(target-baseline) against elapsed (updated-start)/(end-start)
    # = 0.5, on track while progress >= 0.5 - 0.10
    ({}, ON_TRACK),  # progress 0.4: exactly at the tolerance
    ({"current": 59.0}, BEHIND),  # 0.39
    ({"current": 70.0}, ON_TRACK),  # 0.5
    ({"current": 20.0}, BEHIND),  # no progress
    ({"current": 119.0}, ON_TRACK),
    # elapsed time is measured on the day of the value, not today
    ({"updated": START + timedelta(days=60), "current": 69.0}, BEHIND),  # 0.49 < 0.5
    ({"updated": START + timedelta(days=60), "current": 70.0}, ON_TRACK),
    ({"updated": None, "current": 70.0}, ON_TRACK),  # never updated: elapsed until today
    ({"updated": None, "current": 69.0}, BEHIND),
    # falling: baseline 100, target 50; 80 is 0.4 of the way
    ({"baseline": 100.0, "target": 50.0, "current": 80.0}, ON_TRACK),
    ({"baseline": 100.0, "target": 50.0, "current": 81.0}, BEHIND),
    ({"baseline": 100.0, "target": 50.0, "current": 51.0}, ON_TRACK),
    ({"baseline": 100.0, "target": 50.0, "current": 50.0}, ACHIEVED),
    ({"baseline": 100.0, "target": 50.0, "current": 49.0}, ACHIEVED),
    ({"baseline": 100.0, "target": 50.0, "current": 120.0}, BEHIND),
    # reaching the target in its direction
    ({"current": 120.0}, ACHIEVED),
    ({"current": 121.0}, ACHIEVED),
    ({"baseline": None, "current": 120.0}, ACHIEVED),
    ({"baseline": None, "current": 119.0}, ON_TRACK),  # no baseline: no progress to measure
    ({"baseline": None, "current": 0.0}, ON_TRACK),
    ({"baseline": 100.0, "target": 100.0, "current": 100.0}, ACHIEVED),
    ({"baseline": 100.0, "target": 100.0, "current": 101.0}, ACHIEVED),
    ({"baseline": 100.0, "target": 100.0, "current": 99.0}, ON_TRACK),
    # without what the comparison needs: on track
    ({"target": None, "current": 0.0}, ON_TRACK),
    ({"start_date": None, "current": 21.0}, ON_TRACK),
    ({"target_date": None, "current": 21.0}, ON_TRACK),
    ({"target_date": START, "current": 21.0}, ON_TRACK),  # no time to measure against
    ({"target_date": START - timedelta(days=1), "current": 21.0}, ON_TRACK),
    # no value
    ({"current": None}, NO_DATA),
    ({"current": None, "target": None}, NO_DATA),
])
def test_assessment(fields, expected):
    assert assess(indicator(**fields), TODAY, RULES) == expected


@pytest.mark.parametrize(("days_overdue", "expected"), [
    (-1, ON_TRACK),
    (0, ON_TRACK),
    (30, ON_TRACK),  # the stale limit itself: still assessed
    (31, NO_DATA),
    (400, NO_DATA),
])
def test_stale_value_is_no_data(days_overdue, expected):
    due = next_update(indicator())
    assert due == date(2026, 5, 20)
    assert assess(indicator(), due + timedelta(days=days_overdue), RULES) == expected


@pytest.mark.parametrize(("stale_after_days", "expected"), [(9, NO_DATA), (10, ON_TRACK)])
def test_stale_limit_is_the_rule(stale_after_days, expected):
    rules = Rules(stale_after_days=stale_after_days)
    day = next_update(indicator()) + timedelta(days=10)
    assert assess(indicator(), day, rules) == expected


@pytest.mark.parametrize(("tolerance", "current", "expected"), [
    (0.25, 45.0, ON_TRACK),  # progress 0.25 = 0.5 - 0.25
    (0.25, 44.0, BEHIND),
    (0.0, 70.0, ON_TRACK),
    (0.0, 69.0, BEHIND),
])
def test_on_track_tolerance_is_the_rule(tolerance, current, expected):
    assert assess(indicator(current=current), TODAY,
                  Rules(on_track_tolerance=tolerance)) == expected


def test_never_measured_without_dates_is_assessed_without_a_due_date():
    # no start date and no update: next_update is None, so it can never be stale
    found = indicator(updated=None, start_date=None, current=50.0)
    assert next_update(found) is None
    assert assess(found, date(2030, 1, 1), RULES) == ON_TRACK
