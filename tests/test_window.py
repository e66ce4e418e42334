"""When mail may go out (automation/core/window.py) and how the send window is read from the
config: the window's edges, "24:00", windows across midnight, send days, holidays."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from automation import config
from automation.config import ScheduleSettings
from automation.core.window import held_reason, holiday
from automation.errors import ConfigError

ZONE = ZoneInfo("Europe/Copenhagen")
EVERY_DAY = frozenset(range(7))
WEEKDAYS = frozenset(range(5))


def at(day: date, hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second, micro), ZONE)


WED = date(2026, 12, 2)
FRI, SAT, SUN, MON = date(2026, 12, 4), date(2026, 12, 5), date(2026, 12, 6), date(2026, 12, 7)
OFFICE = (time(7, 30), time(17, 0))
ANY_HOUR = (time(0, 0), time.max)
OVERNIGHT = (time(20, 0), time(6, 0))


def schedule(window=OFFICE, days=EVERY_DAY, skip_holidays=False) -> ScheduleSettings:
    return ScheduleSettings(send_window=window, send_days=days, skip_holidays=skip_holidays)


@pytest.mark.parametrize(("window", "local", "expected"), [
    (OFFICE, at(WED, 7, 29, 59, 999999), "outside the send window 07:30-17:00"),
    (OFFICE, at(WED, 7, 30), ""),  # the start is inside
    (OFFICE, at(WED, 16, 59, 59, 999999), ""),
    (OFFICE, at(WED, 17, 0), "outside the send window 07:30-17:00"),  # the end is not
    (OFFICE, at(WED, 0, 0), "outside the send window 07:30-17:00"),
    (ANY_HOUR, at(WED, 0, 0), ""),
    (ANY_HOUR, at(WED, 12, 0), ""),
    (ANY_HOUR, at(WED, 23, 59, 59, 999999), ""),  # "24:00": to the very end of the day
    ((time(6, 0), time.max), at(WED, 5, 59), "outside the send window 06:00-24:00"),
    ((time(6, 0), time.max), at(WED, 6, 0), ""),
    ((time(6, 0), time.max), at(WED, 23, 59, 59, 999999), ""),
    # across midnight: open in the evening and in the early morning, not at noon
    (OVERNIGHT, at(WED, 22, 0), ""),
    (OVERNIGHT, at(WED, 5, 0), ""),
    (OVERNIGHT, at(WED, 12, 0), "outside the send window 20:00-06:00"),
    (OVERNIGHT, at(WED, 20, 0), ""),
    (OVERNIGHT, at(WED, 19, 59, 59, 999999), "outside the send window 20:00-06:00"),
    (OVERNIGHT, at(WED, 0, 0), ""),
    (OVERNIGHT, at(WED, 23, 59, 59, 999999), ""),
    (OVERNIGHT, at(WED, 5, 59, 59, 999999), ""),
    (OVERNIGHT, at(WED, 6, 0), "outside the send window 20:00-06:00"),
    # a window that closes at midnight, written "20:00-00:00"
    ((time(20, 0), time(0, 0)), at(WED, 21, 0), ""),
    ((time(20, 0), time(0, 0)), at(WED, 0, 0), "outside the send window 20:00-00:00"),
    ((time(20, 0), time(0, 0)), at(WED, 12, 0), "outside the send window 20:00-00:00"),
])
def test_send_window_edges(window, local, expected):
    assert held_reason(local, schedule(window), "DK") == expected


@pytest.mark.parametrize(("window", "local", "expected"), [
    (OFFICE, at(FRI, 10), ""),
    (OFFICE, at(SAT, 10), "not a send day"),
    (OFFICE, at(SUN, 10), "not a send day"),
    (OFFICE, at(MON, 10), ""),
    (OFFICE, at(SAT, 3), "not a send day"),  # the day's own verdict comes first
    # an overnight window belongs to the day it opened: Friday's runs into Saturday
    (OVERNIGHT, at(FRI, 22), ""),
    (OVERNIGHT, at(SAT, 5), ""),
    (OVERNIGHT, at(SAT, 22), "not a send day"),
    (OVERNIGHT, at(SUN, 5), "not a send day (the window opened on a Saturday)"),
    (OVERNIGHT, at(MON, 5), "not a send day (the window opened on a Sunday)"),
    (OVERNIGHT, at(MON, 12), "outside the send window 20:00-06:00"),
    (OVERNIGHT, at(MON, 20), ""),
    (OVERNIGHT, at(date(2026, 12, 8), 5, 59), ""),  # Monday's window, Tuesday morning
])
def test_send_days(window, local, expected):
    assert held_reason(local, schedule(window, WEEKDAYS), "DK") == expected


@pytest.mark.parametrize(("window", "local", "expected"), [
    (OFFICE, at(date(2026, 12, 23), 10), ""),
    (OFFICE, at(date(2026, 12, 24), 10), "public holiday (Juleaftensdag)"),
    (OFFICE, at(date(2026, 12, 25), 10), "public holiday (Juledag)"),
    (OFFICE, at(date(2026, 12, 31), 10), "public holiday (Nytårsaften)"),
    (OFFICE, at(date(2027, 1, 1), 10), "public holiday (Nytårsdag)"),
    (OFFICE, at(date(2026, 6, 5), 10), "public holiday (Grundlovsdag)"),
    (OFFICE, at(date(2026, 5, 14), 10), "public holiday (Kristi himmelfartsdag)"),
    (OFFICE, at(date(2026, 4, 6), 10), "public holiday (Anden påskedag)"),
    (OFFICE, at(date(2026, 12, 24), 3), "public holiday (Juleaftensdag)"),
    # overnight: the evening before a holiday runs into its early morning
    (OVERNIGHT, at(date(2026, 12, 23), 22), ""),
    (OVERNIGHT, at(date(2026, 12, 24), 5), ""),
    (OVERNIGHT, at(date(2026, 12, 24), 22), "public holiday (Juleaftensdag)"),
    (OVERNIGHT, at(date(2026, 12, 25), 5), "public holiday (Juleaftensdag)"),
    (OVERNIGHT, at(date(2027, 1, 1), 5), "public holiday (Nytårsaften)"),
    (OVERNIGHT, at(date(2027, 1, 2), 5), "public holiday (Nytårsdag)"),
])
def test_public_holidays_hold_mail(window, local, expected):
    assert held_reason(local, schedule(window, skip_holidays=True), "DK") == expected


def test_holidays_are_ignored_when_skip_holidays_is_off():
    assert held_reason(at(date(2026, 12, 24), 10), schedule(), "DK") == ""


@pytest.mark.parametrize(("day", "country", "expected"), [
    (date(2026, 12, 24), "DK", "Juleaftensdag"),
    (date(2026, 6, 5), "DK", "Grundlovsdag"),
    (date(2026, 12, 31), "DK", "Nytårsaften"),
    (date(2026, 12, 2), "DK", ""),
    (date(2026, 12, 24), "NO", ""),  # the Danish closed days are Danish only
])
def test_holiday_names(day, country, expected):
    assert holiday(day, country) == expected


def test_other_countries_have_their_own_holidays():
    assert holiday(date(2026, 5, 17), "NO") and not holiday(date(2026, 5, 17), "DK")


def settings(window: str) -> config.Settings:
    return config.parse(
        {"initiative": {"name": "Test", "secretariat": "Sekretariatet <sek@example.dk>"},
         "sheet": {"path": "x.xlsx"}, "schedule": {"send_window": window}},
        Path("rygrad.toml"),
    )


@pytest.mark.parametrize(("text", "expected"), [
    ("07:30-17:00", (time(7, 30), time(17, 0))),
    ("7.30 - 17.00", (time(7, 30), time(17, 0))),
    ("00:00-24:00", (time(0, 0), time.max)),
    ("06:00-24:00", (time(6, 0), time.max)),
    ("20:00-06:00", (time(20, 0), time(6, 0))),
    ("22:15-00:00", (time(22, 15), time(0, 0))),
])
def test_send_window_read_from_config(text, expected):
    assert settings(text).schedule.send_window == expected


@pytest.mark.parametrize(("text", "message"), [
    ("09:00-09:00", "rygrad.toml: schedule.send_window: '09:00-09:00' opens and closes at "
     "the same time, so no mail could ever go out; write e.g. \"07:30-17:00\", "
     "\"20:00-06:00\" across midnight, or \"00:00-24:00\" for any hour"),
    ("00:00-00:00", "rygrad.toml: schedule.send_window: '00:00-00:00' opens and closes at "
     "the same time, so no mail could ever go out; write e.g. \"07:30-17:00\", "
     "\"20:00-06:00\" across midnight, or \"00:00-24:00\" for any hour"),
    ("24:00-06:00", "rygrad.toml: schedule.send_window: '24:00-06:00' is not a window; "
     "write it as \"07:30-17:00\" (or \"00:00-24:00\" for any hour)"),
    ("07:60-17:00", "rygrad.toml: schedule.send_window: '07:60-17:00' is not a window; "
     "write it as \"07:30-17:00\" (or \"00:00-24:00\" for any hour)"),
    ("07:30-24:30", "rygrad.toml: schedule.send_window: '07:30-24:30' is not a window; "
     "write it as \"07:30-17:00\" (or \"00:00-24:00\" for any hour)"),
    ("07:30-25:00", "rygrad.toml: schedule.send_window: '07:30-25:00' is not a window; "
     "write it as \"07:30-17:00\" (or \"00:00-24:00\" for any hour)"),
    ("7-17", "rygrad.toml: schedule.send_window: '7-17' is not a window; "
     "write it as \"07:30-17:00\" (or \"00:00-24:00\" for any hour)"),
])
def test_bad_send_window_refused_with_one_sentence(text, message):
    with pytest.raises(ConfigError) as caught:
        settings(text)
    assert str(caught.value) == message
