"""Dates, times, numbers and small phrases in the reader's language (pure).

Danish reads as a Danish secretariat writes it (``torsdag den 3. december 2026
kl. 14.00–16.00``); English is British (locale ``en_GB``: day before month,
24-hour times), because babel's plain ``en`` is American.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import lru_cache

from babel.dates import format_date, format_time
from babel.numbers import format_decimal

LOCALES = {"da": "da", "en": "en_GB"}
# a cycle formats the same few hundred dates again and again, and babel parses its
# locale and pattern on every call: about half of a message's template time
CACHED = 4096
NBSP = "\u00a0"  # between a number and its unit (issue 13: never split across two lines)

_LONG = {"da": "full", "en": "EEEE d MMMM y"}  # da "full" is "torsdag den 3. december 2026"
_DAY = {"da": "EEEE 'den' d. MMMM", "en": "EEEE d MMMM"}
_WEEKDAY_SHORT = {"da": "EEEE d. MMM", "en": "EEEE d MMM"}  # "fredag 4. dec.", "Friday 4 Dec"
_DAY_SHORT = {"da": "d. MMM", "en": "d MMM"}  # "2. dec.", "2 Dec"
EMPTY = "–"  # what a table shows for a value nobody has filled in
# numbers in running text are written out up to twelve, as Danish and British style guides do
_WORDS = {
    "da": ("nul", "en", "to", "tre", "fire", "fem", "seks", "syv", "otte", "ni", "ti",
           "elleve", "tolv"),
    "en": ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
           "eleven", "twelve"),
}
# Danish status values a partner picks in the sheet, with what an English reader calls them
STATUS_ENGLISH = {"færdig": "Done", "afsluttet": "Completed", "lukket": "Closed",
                  "i gang": "In progress", "ikke startet": "Not started"}
_SHORT = {"da": "medium", "en": "d MMM y"}  # "3. dec. 2026", "3 Dec 2026"

ASSESSMENTS = {
    "da": {"achieved": "Nået", "on_track": "På sporet", "behind": "Bagud",
           "no_data": "Mangler data"},
    "en": {"achieved": "Achieved", "on_track": "On track", "behind": "Behind",
           "no_data": "No data"},
}


def language(lang: str) -> str:
    """Anything but English is read as Danish, the initiative's home language."""
    return "en" if lang == "en" else "da"


@lru_cache(maxsize=CACHED)
def long_date(day: date, lang: str) -> str:
    """``torsdag den 3. december 2026`` / ``Thursday 3 December 2026``."""
    lang = language(lang)
    return format_date(day, _LONG[lang], locale=LOCALES[lang])


@lru_cache(maxsize=CACHED)
def day_date(day: date, lang: str) -> str:
    """Weekday and date without the year: ``fredag den 4. december`` / ``Friday 4 December``."""
    lang = language(lang)
    return format_date(day, _DAY[lang], locale=LOCALES[lang])


@lru_cache(maxsize=CACHED)
def short_date(day: date, lang: str) -> str:
    """``3. dec. 2026`` / ``3 Dec 2026``."""
    lang = language(lang)
    return format_date(day, _SHORT[lang], locale=LOCALES[lang])


@lru_cache(maxsize=CACHED)
def weekday_short(day: date, lang: str) -> str:
    """What a phone shows of a date in a subject: ``fredag 4. dec.`` / ``Friday 4 Dec``."""
    lang = language(lang)
    return format_date(day, _WEEKDAY_SHORT[lang], locale=LOCALES[lang])


@lru_cache(maxsize=CACHED)
def day_month(day: date, lang: str) -> str:
    """``5. dec.`` / ``5 Dec``: a recent date in a list."""
    lang = language(lang)
    return format_date(day, _DAY_SHORT[lang], locale=LOCALES[lang])


@lru_cache(maxsize=CACHED)
def clock(moment: time, lang: str) -> str:
    """``9.00``, ``14.00`` / ``09:00``, ``14:00`` (Danish writes the hour without a zero)."""
    lang = language(lang)
    if lang == "da":
        return f"{moment.hour}.{moment.minute:02}"
    return format_time(moment, "short", locale=LOCALES[lang])


def moment(when: datetime, lang: str) -> str:
    """A time something happened, as people write it: ``2. dec. kl. 5.24`` / ``2 Dec at 05:24``."""
    lang = language(lang)
    day = day_month(when.date(), lang)
    hours = clock(when.time(), lang)
    return f"{day} kl. {hours}" if lang == "da" else f"{day} at {hours}"


def count_word(count: int, lang: str) -> str:
    """``to`` / ``two`` up to twelve, digits from 13: numbers in running text."""
    words = _WORDS[language(lang)]
    return words[count] if 0 <= count < len(words) else str(count)


def times(count: int, lang: str) -> str:
    """``én gang``, ``to gange`` / ``once``, ``twice``, ``three times``."""
    if language(lang) == "da":
        return "én gang" if count == 1 else f"{count_word(count, lang)} gange"
    return {1: "once", 2: "twice"}.get(count, f"{count_word(count, lang)} times")


def status_value(value: str, lang: str) -> str:
    """A status as typed in the sheet; for English readers a Danish one is explained:
    ``Færdig (Done)``."""
    english = STATUS_ENGLISH.get(" ".join(value.split()).casefold())
    if language(lang) == "en" and english and english.casefold() != value.casefold():
        return f"{value} ({english})"
    return value


def dash(value: object) -> object:
    """``–`` for a value nobody has filled in (None or blank text), else the value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return EMPTY
    return value


def meeting_time(day: date, start: time | None, end: time | None, lang: str) -> str:
    """``torsdag den 3. december 2026 kl. 14.00–16.00``;
    ``Thursday 3 December 2026, 14:00–16:00``."""
    lang = language(lang)
    text = long_date(day, lang)
    if start is None:
        return text
    hours = clock(start, lang) + (f"–{clock(end, lang)}" if end is not None else "")
    return f"{text} kl. {hours}" if lang == "da" else f"{text}, {hours}"


def days_left(days: int, lang: str) -> str:
    """``i dag``, ``i morgen``, ``om to dage`` / ``today``, ``tomorrow``, ``in two days``."""
    words = count_word(days, lang)
    if language(lang) == "da":
        return {0: "i dag", 1: "i morgen"}.get(days, f"om {words} dage")
    return {0: "today", 1: "tomorrow"}.get(days, f"in {words} days")


def days_overdue(days: int, lang: str) -> str:
    """``1 dag over fristen``, ``9 dage over fristen`` / ``1 day overdue``, ``9 days overdue``."""
    if language(lang) == "da":
        return f"{day_count(days, lang)} over fristen"
    return f"{day_count(days, lang)} overdue"


def days_ago(days: int, lang: str) -> str:
    """``i dag``, ``i går``, ``for ni dage siden`` / ``today``, ``yesterday``, ``nine days ago``."""
    words = count_word(days, lang)
    if language(lang) == "da":
        return {0: "i dag", 1: "i går"}.get(days, f"for {words} dage siden")
    return {0: "today", 1: "yesterday"}.get(days, f"{words} days ago")


def day_count(days: int, lang: str) -> str:
    """``1 dag``, ``9 dage`` / ``1 day``, ``9 days``, the number and its unit joined by a
    no-break space (NBSP), so a narrow screen never puts them on two lines."""
    if language(lang) == "da":
        return f"{days}{NBSP}{'dag' if days == 1 else 'dage'}"
    return f"{days}{NBSP}{'day' if days == 1 else 'days'}"


@lru_cache(maxsize=CACHED, typed=True)  # babel parses its pattern on every call
def number(value: float | int | None, lang: str) -> str:
    """``12,5`` and ``1.200`` / ``12.5`` and ``1,200``; whole numbers without decimals."""
    if value is None:
        return ""
    lang = language(lang)
    return format_decimal(value, format="#,##0.##", locale=LOCALES[lang])


def quantity(value: float | int | None, unit: str, lang: str) -> str:
    """A number with its unit when the unit is a symbol (``45 %``, ``1.200 kr.``), joined
    by a no-break space (NBSP) so they stay on one line.

    A unit that is a plain word (``antal``, ``personer``) is left out: "120 antal"
    reads wrong, and the mail names the unit on a line of its own.
    """
    text = number(value, lang)
    unit = " ".join(unit.split())
    if text and unit and not unit.isalpha():
        # British style writes 45%, Danish 45 %
        joiner = "" if unit == "%" and language(lang) == "en" else NBSP
        return f"{text}{joiner}{unit}"
    return text


def assessment(code: str, lang: str) -> str:
    """``Nået`` / ``Achieved`` … for the codes of automation.core.indicators."""
    return ASSESSMENTS[language(lang)].get(code, code)


def meeting_title(group: str, lang: str) -> str:
    """What to call a group's meeting: ``Styregruppemøde``, ``Møde i Arbejdsgruppe Fritid``.

    Danish joins a one-word group name ending in -gruppe(n) into one compound
    noun, as a Danish secretariat would write it; anything else becomes "Møde i …".
    """
    group = " ".join(group.split())
    if language(lang) == "en":
        return f"{group} meeting" if group else "Meeting"
    if not group:
        return "Møde"
    if re.fullmatch(r"\w*gruppe", group, re.IGNORECASE):
        return f"{group}møde"
    if re.fullmatch(r"\w*gruppen", group, re.IGNORECASE):
        return f"{group[:-1]}møde"
    return f"Møde i {group}"


def _compound(group: str) -> str | None:
    """``styregruppe`` for a one-word group name ending in -gruppe(n), else None."""
    if re.fullmatch(r"\w*gruppen?", group, re.IGNORECASE):
        return group.lower().removesuffix("n")
    return None


def the_group(group: str, lang: str) -> str:
    """A group named in running text: ``styregruppen``, ``AG Uddannelse`` / ``the Styregruppe``
    group, ``AG Uddannelse``. Danish gives a common noun its article, a name stays a name."""
    group = " ".join(group.split())
    noun = _compound(group)
    if language(lang) == "en":
        return group
    return f"{noun}n" if noun else group


def the_meeting(group: str, lang: str) -> str:
    """A group's meeting in running text: ``styregruppemødet``, ``mødet i AG Uddannelse`` /
    ``the Styregruppe meeting``."""
    group = " ".join(group.split())
    if language(lang) == "en":
        return f"the {group} meeting" if group else "the meeting"
    noun = _compound(group)
    if noun:
        return f"{noun}mødet"
    return f"mødet i {group}" if group else "mødet"


def heading(text: str) -> str:
    """A heading in a plain-text mail: the text underlined, not shouted in capitals."""
    return f"{text}\n{'-' * len(text)}"


def week_label(week: str, lang: str) -> str:
    """``2027-W09`` → ``uge 9, 2027`` / ``week 9, 2027``; other text is returned as is."""
    match = re.fullmatch(r"(\d{4})-W(\d{1,2})", week.strip())
    if not match:
        return week
    word = "uge" if language(lang) == "da" else "week"
    return f"{word} {int(match[2])}, {match[1]}"


def one_line(text: str) -> str:
    """Collapse every kind of line break and run of spaces into one space.

    ``str.split()`` also splits on U+2028/U+2029 and the other separators that a
    mail client could treat as a line break, so a cell value cannot break a header.
    """
    return " ".join(str(text).split())
