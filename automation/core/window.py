"""When mail may go out: the send window, send days and public holidays (README,
"Configuration")."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from automation.core.settings import ScheduleSettings

# Besides the public holidays, the days Danish offices are commonly closed.
CLOSED_DAYS_DK = ("Grundlovsdag", "Juleaftensdag", "Nytårsaften", "Nytårsaftensdag")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@lru_cache(maxsize=32)
def _holidays(country: str, year: int) -> dict[date, str]:
    public = holidays.country_holidays(country, years=year, language="da")
    found = dict(public.items())
    if country == "DK":
        optional = holidays.country_holidays(country, years=year, language="da",
                                             categories=("optional",))
        found.update({d: n for d, n in optional.items() if n in CLOSED_DAYS_DK})
    return found


def holiday(day: date, country: str) -> str:
    """The holiday's name, or "" on an ordinary day."""
    return _holidays(country, day.year).get(day, "")


def window_opened(local: datetime, window: tuple[time, time]) -> date | None:
    """The day whose send window is open at this local moment, None between windows.

    The window is [start, end); an end of time.max is "24:00". An end before the start
    runs across midnight ("20:00-06:00"): its early hours belong to the day before, the
    day it opened, so a window opened on Friday evening still sends on Saturday at 05:00.
    """
    start, end = window
    moment = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= moment and (moment < end or end == time.max)
        return local.date() if inside else None
    if moment >= start:
        return local.date()
    if moment < end:
        return local.date() - timedelta(days=1)
    return None


def held_reason(local: datetime, schedule: ScheduleSettings, country: str) -> str:
    """Why mail must wait at this local moment ("" when it may go out).

    Send days and holidays are those of the day the window opened (for a window across
    midnight, the evening before); outside any window, those of the day itself.
    """
    opened = window_opened(local, schedule.send_window)
    day = opened or local.date()
    since = "" if day == local.date() else f" (the window opened on a {DAY_NAMES[day.weekday()]})"
    if day.weekday() not in schedule.send_days:
        return "not a send day" + since
    if schedule.skip_holidays and (name := holiday(day, country)):
        return f"public holiday ({name})"
    if opened is None:
        start, end = schedule.send_window
        closing = "24:00" if end == time.max else f"{end:%H:%M}"
        return f"outside the send window {start:%H:%M}-{closing}"
    return ""
