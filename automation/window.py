"""When mail may go out: the send window, send days and public holidays (DESIGN §3)."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache

import holidays

from automation.config import ScheduleSettings

# Besides the public holidays, the days Danish offices are commonly closed.
CLOSED_DAYS_DK = ("Grundlovsdag", "Juleaftensdag", "Nytårsaften", "Nytårsaftensdag")


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


def held_reason(local: datetime, schedule: ScheduleSettings, country: str) -> str:
    """Why mail must wait at this local moment ("" when it may go out)."""
    start, end = schedule.send_window
    if local.weekday() not in schedule.send_days:
        return "not a send day"
    if schedule.skip_holidays and (name := holiday(local.date(), country)):
        return f"public holiday ({name})"
    moment = local.time().replace(tzinfo=None)
    if not (start <= moment < end or (end == time.max and moment >= start)):
        closing = "24:00" if end == time.max else f"{end:%H:%M}"
        return f"outside the send window {start:%H:%M}-{closing}"
    return ""
