"""Reading partners' cell values: dates, times, numbers, flags, lists, e-mail addresses.

Pure functions. Each returns None (or its documented default) for an empty cell and
raises ValueError for a value it cannot read; the row parser turns that into a Problem.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time

from email_validator import validate_email

from automation.core.model import CellValue

DATE_ORDERS = ("dmy", "mdy", "ymd")

MONTHS = {
    "januar": 1, "january": 1, "jan": 1,
    "februar": 2, "february": 2, "feb": 2,
    "marts": 3, "march": 3, "mar": 3,
    "april": 4, "apr": 4,
    "maj": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}

# A weekday in front of a date ("torsdag den 3. december 2026", "Thursday, 3 December 2026")
# is how the worker's own mails write dates; partners paste them back.
_WEEKDAY = (
    r"(?:mandag|tirsdag|onsdag|torsdag|fredag|lørdag|søndag|man|tirs?|ons|tors?|fre|lør|søn"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tues?|wed|thur?s?|fri|sat|sun)\.?,?\s+(?:den\s+|the\s+)?"
)
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_NUMERIC = re.compile(r"(\d{1,4})\s*([-./])\s*(\d{1,2})\s*\2\s*(\d{1,4})\.?")
_DAY_MONTH = re.compile(
    r"(\d{1,2})(?:st|nd|rd|th)?\.?[\s\-/]*([a-zæøå]+)\.?[\s\-/,]*(\d{4}|\d{2})"
)
_MONTH_DAY = re.compile(r"([a-zæøå]+)\.?\s*(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")
_TIME = re.compile(
    r"(?:kl\.?\s*)?(\d{1,2})(?:[:.](\d{2}))?(?::(\d{2}))?\.?\s*(am|pm|a\.m\.|p\.m\.)?"
)
_FRACTION_MINUTES = 24 * 60

FLAG_TRUE = {"ja", "j", "yes", "y", "x", "true", "sand", "1", "aflyst", "cancelled",
             "canceled", "✓", "✔"}
FLAG_FALSE = {"nej", "n", "no", "false", "falsk", "0", "-"}

FREQUENCIES = {
    "månedlig": 1, "månedligt": 1, "monthly": 1,
    "kvartalsvis": 3, "kvartalsvist": 3, "quarterly": 3,
    "halvårlig": 6, "halvårligt": 6, "half-yearly": 6, "half yearly": 6, "halfyearly": 6,
    "semi-annual": 6, "semi-annually": 6,
    "årlig": 12, "årligt": 12, "yearly": 12, "annual": 12, "annually": 12,
}
DEFAULT_FREQUENCY = 3

LANGUAGES = {"da": "da", "dansk": "da", "danish": "da", "en": "en", "engelsk": "en",
             "english": "en"}

_LIST_SEPARATORS = re.compile(r"[,;\n\r]+")
_SPACES = "\u0020\u00a0\u2009\u202f"


def cell_text(value: CellValue) -> str:
    """A cell as text, the way a partner would read it in the sheet ("" when empty)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def is_blank(value: CellValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_date(value: CellValue, order: str = "dmy") -> date | None:
    """A date cell or text; day first unless ``order`` ("mdy", "ymd") says otherwise.

    Numbers are not dates here: backends turn real date cells into date objects.
    """
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    text = " ".join(value.split()).casefold()
    text = re.sub(r"^" + _WEEKDAY, "", text)
    if match := _ISO.fullmatch(text):
        return date(int(match[1]), int(match[2]), int(match[3]))
    if match := _NUMERIC.fullmatch(text):
        return _numeric_date(match[1], match[3], match[4], order)
    if match := _DAY_MONTH.fullmatch(text):
        return date(_year(match[3]), _month(match[2]), int(match[1]))
    if match := _MONTH_DAY.fullmatch(text):
        return date(_year(match[3]), _month(match[1]), int(match[2]))
    raise ValueError(f"not a date: {value!r}")


def _numeric_date(first: str, second: str, third: str, order: str) -> date:
    if len(first) == 4:
        year, month, day = first, second, third
    elif len(first) > 2:
        raise ValueError("a year has two or four digits")
    elif order == "ymd" and len(third) <= 2:
        year, month, day = first, second, third
    elif order == "mdy":
        month, day, year = first, second, third
    else:
        day, month, year = first, second, third
    return date(_year(year), int(month), int(day))


def _year(text: str) -> int:
    if len(text) == 2:
        return 2000 + int(text)  # "04.12.26": nobody plans meetings in the 1920s
    if len(text) == 4:
        return int(text)
    raise ValueError(f"not a year: {text!r}")


def _month(name: str) -> int:
    if name not in MONTHS:
        raise ValueError(f"not a month: {name!r}")
    return MONTHS[name]


def example_date(order: str) -> str:
    """4 December 2026 written the way ``order`` reads it, for messages."""
    return {"mdy": "12-4-2026", "ymd": "2026-12-04"}.get(order, "4-12-2026")


def parse_time(value: CellValue) -> time | None:
    """A time cell, a day fraction (Excel), a whole hour, or text: 14:00, 14.00, kl. 14."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.time().replace(microsecond=0, tzinfo=None)
    if isinstance(value, time):
        return value.replace(microsecond=0, tzinfo=None)
    if isinstance(value, bool | date) or not isinstance(value, int | float | str):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        return _numeric_time(float(value))
    text = " ".join(value.split()).casefold()
    match = _TIME.fullmatch(text)
    if not match:
        raise ValueError(f"not a time: {value!r}")
    hour, minute, second = int(match[1]), int(match[2] or 0), int(match[3] or 0)
    if match[4]:
        if not 1 <= hour <= 12:
            raise ValueError(f"not a time: {value!r}")
        hour = hour % 12 + (12 if match[4].startswith("p") else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"not a time: {value!r}")
    return time(hour, minute, second)


def _numeric_time(number: float) -> time:
    if 0 <= number < 1:
        minutes = round(number * _FRACTION_MINUTES)
        if minutes < _FRACTION_MINUTES:
            return time(minutes // 60, minutes % 60)
    elif number.is_integer() and 0 <= number <= 23:
        return time(int(number))
    raise ValueError(f"not a time: {number!r}")


def parse_number(value: CellValue) -> float | None:
    """A number cell or text: 12,5  12.5  1.234,5  1 234  -3  45 %.

    One separator is a decimal mark whichever it is; repeated, or followed by the
    other one, it groups thousands.
    """
    if is_blank(value):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"not a number: {value!r}")
        return float(value)
    text = value.strip().replace("\u2212", "-").removesuffix("%").rstrip(_SPACES)
    match = re.fullmatch(r"([+-]?)\s*(\d[\d.,\u0020\u00a0\u2009\u202f]*)", text)
    if not match or not match[2][-1].isdigit():
        raise ValueError(f"not a number: {value!r}")
    sign, digits = match[1], match[2]
    decimal = _decimal_mark(digits)
    whole, _, fraction = digits.rpartition(decimal) if decimal else (digits, "", "")
    if not re.fullmatch(r"\d+|\d{1,3}(?:([.,\u0020\u00a0\u2009\u202f])\d{3})(?:\1\d{3})*", whole):
        raise ValueError(f"not a number: {value!r}")
    if fraction and not fraction.isdigit():
        raise ValueError(f"not a number: {value!r}")
    return float(sign + re.sub(r"\D", "", whole) + ("." + fraction if fraction else ""))


def _decimal_mark(digits: str) -> str:
    marks = [c for c in digits if c in ".,"]
    if not marks:
        return ""
    last = marks[-1]
    if marks.count(last) > 1:
        return ""  # 1.234.567: all of them group thousands
    return last


def parse_flag(value: CellValue) -> bool:
    """Aflyst/Cancelled: ja, yes, x, TRUE, 1 … → True; empty, nej, no, FALSE, 0 → False."""
    if is_blank(value):
        return False
    if isinstance(value, bool):
        return value
    text = cell_text(value).strip().casefold()
    if text in FLAG_TRUE:
        return True
    if text in FLAG_FALSE:
        return False
    raise ValueError(f"not yes or no: {value!r}")


# Words that make a cancellation text read as doubt, not a decision: a cancellation
# mails everyone and takes the meeting out of their calendars, so it must be meant.
_UNSURE = {"måske", "maybe", "evt", "evt.", "eventuelt", "perhaps", "possibly"}
# "Ja: formanden er syg", "Aflyst – flyttes til januar": the flag word before a mark
_FLAG_THEN_REASON = re.compile(r"([^\W\d_]+|x)\s*[:\-–—,;.]\s*(.+)", re.DOTALL | re.IGNORECASE)


def parse_cancellation(value: CellValue) -> tuple[bool, str]:
    """Aflyst/Cancelled: (cancelled, the reason partners gave).

    The flag words of ``parse_flag`` are a cancellation without a reason (or none).
    Any other text cancels the meeting and is its reason ("Formanden er syg"); a
    leading flag word and mark are dropped from it ("Ja: formanden er syg"). Text that
    starts with a no-word or reads as doubt ("nej tak", "måske?") and numbers other
    than 0 and 1 are not read: ValueError, so the row gets a note and nobody a mail.
    """
    if is_blank(value) or isinstance(value, bool):
        return parse_flag(value), ""
    if not isinstance(value, str):
        return parse_flag(value), ""  # a number or date cell: 1/0, else ValueError
    text = " ".join(value.split())
    folded = text.casefold()
    if folded in FLAG_TRUE or folded in FLAG_FALSE:
        return folded in FLAG_TRUE, ""
    first = re.split(r"[\s:\-–—,;.!]+", folded, maxsplit=1)[0]
    if first in FLAG_FALSE or first in _UNSURE or "?" in text or re.fullmatch(r"[\d\s.,]+", text):
        raise ValueError(f"not yes or no: {value!r}")
    flagged = _FLAG_THEN_REASON.fullmatch(text)
    if flagged and flagged[1].casefold() in FLAG_TRUE:
        text = flagged[2].strip()
    return True, text[:1].upper() + text[1:]


_URL = re.compile(r"https?://[^\s<>\"'»«]+", re.IGNORECASE)


def parse_link(value: CellValue) -> str:
    """A web address for joining a meeting online: the cell's first http(s) address
    ("Teams: https://…" gives the address), "" for an empty cell, else ValueError."""
    if is_blank(value):
        return ""
    found = _URL.search(cell_text(value))
    if not found:
        raise ValueError(f"not a link: {value!r}")
    return found[0].rstrip(".,;:)]")


def is_link(text: str) -> bool:
    """A cell that is nothing but a web address (a video link as the meeting's place)."""
    return _URL.fullmatch(text.strip()) is not None


def split_list(value: CellValue) -> tuple[str, ...]:
    """Names separated by commas, semicolons or line breaks."""
    parts = (" ".join(part.split()) for part in _LIST_SEPARATORS.split(cell_text(value)))
    return tuple(part for part in parts if part)


class UnsendableAddress(ValueError):
    """A valid address that no mail from rygrad can reach: letters such as æ, ø, å before
    the @ need SMTPUTF8 end to end, and the mail rygrad writes is plain ASCII (a domain
    with them is fine: it is written in its ASCII form, IDNA)."""


def parse_email(value: CellValue) -> str | None:
    """The normalised address (syntax only, no DNS); ValueError when it is not one, and
    UnsendableAddress when it is one that mail cannot be sent to. `check`, the run and
    the config's secretariat all use this one test."""
    if is_blank(value):
        return None
    # EmailNotValidError is a ValueError
    address = validate_email(cell_text(value).strip(), check_deliverability=False).normalized
    if not address.rpartition("@")[0].isascii():
        raise UnsendableAddress(address)
    return address


def parse_frequency(value: CellValue) -> int:
    """Months between indicator updates; empty means quarterly."""
    if is_blank(value):
        return DEFAULT_FREQUENCY
    text = " ".join(cell_text(value).split()).casefold()
    if text not in FREQUENCIES:
        raise ValueError(f"not a frequency: {value!r}")
    return FREQUENCIES[text]


def parse_language(value: CellValue, default: str) -> str:
    """"da" or "en"; empty means ``default`` (the initiative's language)."""
    if is_blank(value):
        return default
    text = cell_text(value).strip().casefold()
    if text not in LANGUAGES:
        raise ValueError(f"not a language: {value!r}")
    return LANGUAGES[text]


def agenda_items(value: CellValue) -> tuple[str, ...]:
    """One item per line; bullets and numbers dropped, since the mails number the items."""
    items = (re.sub(r"^(?:[-•*–·]\s*|\d{1,2}[.)]\s+)", "", line.strip())
             for line in cell_text(value).splitlines())
    return tuple(item.strip() for item in items if item.strip())
