"""What a partner's reply asks for (README, "Replies by mail"): the reply's own text (the
quote already cut, automation/inbox/reading.py) → one command.

The first non-empty line decides, after greeting lines ("Hej", "Hej Sekretariat,", "Hi
Sofie"), and a command is a line of its own: the word, or the word with its date or
number. "Færdig", "Færdig!", "færdig." are Done; "Jeg er ikke helt færdig endnu" is not a
command, and goes to the secretariat as NotUnderstood. What follows the deciding line (a
signature, "Tak") does not matter. When unsure, the answer is NotUnderstood: nothing is
changed, and the secretariat reads the reply.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from automation.core import i18n, values

ANSWERING = ("action", "indicator", "report")
DONE_WORDS = ("færdig", "udført", "done")
REPORT_LIMIT = 1500


@dataclass(frozen=True)
class Done:
    word: str


@dataclass(frozen=True)
class NewDue:
    due: date


@dataclass(frozen=True)
class Value:
    value: float


@dataclass(frozen=True)
class FreeText:
    text: str


@dataclass(frozen=True)
class NotUnderstood:
    reason: str   # one sentence, in the language asked for, for the polite answer


Command = Done | NewDue | Value | FreeText | NotUnderstood

# "Hej", "Hej Sekretariat,", "Kære sekretariat", "Hi Anna Berg": a greeting word and at
# most two names; "Hej jeg er færdig" is a sentence, not a greeting
_GREETING = re.compile(
    r"(?:hej|hejsa|hejhej|hey|hi|hello|hallo|dear|kære|goddag|godmorgen|god morgen"
    r"|good morning|good afternoon)(?:\s+[^\W\d_][\w.\-]*){0,2}\s*[,!.:]?", re.IGNORECASE)
_SENTENCE_WORDS = {"jeg", "er", "vi", "det", "den", "ikke", "i", "am", "is", "we", "it",
                   "not", "have", "har", *DONE_WORDS}
_DUE = re.compile(
    r"(?:ny\s+frist|frist|ny\s+deadline|deadline|new\s+due\s+date|due\s+date|new\s+deadline"
    r"|due)\s*[:=\-–]?\s*(?:(?:er|til|is|to|on|den|the)\s+)?(?P<date>.+)", re.IGNORECASE)
_VALUE = re.compile(
    r"(?:(?:ny\s+|aktuel\s+|new\s+|current\s+)?(?:værdi|value)\s*[:=\-–]?\s*(?:er\s+|is\s+)?)?"
    r"(?P<number>[+\-\u2212]?\s*\d[\d.,\u0020\u00a0\u2009\u202f]*(?:\s*%)?)", re.IGNORECASE)
_WEEKDAY = re.compile(
    r"(?:man|tirs|ons|tors|fre|lør|søn)dag\s+(?:den\s+)?"
    r"|(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+(?:the\s+)?", re.IGNORECASE)
_NO_YEAR_NUMERIC = re.compile(r"(\d{1,2})\s*([./\-])\s*(\d{1,2})\.?")
_NO_YEAR_DAY_MONTH = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\.?\s*([a-zæøå]+)\.?")
_NO_YEAR_MONTH_DAY = re.compile(r"([a-zæøå]+)\.?\s*(\d{1,2})(?:st|nd|rd|th)?")


def read_command(text: str, answering: str, done_statuses: Sequence[str], today: date,
                 date_order: str = "dmy", language: str = "da") -> Command:
    """The command in a reply's own ``text``, answering an "action" (reminder, overdue
    notice, escalation), an "indicator" (indicator request) or a "report" (report request:
    the whole text, trimmed, is FreeText). ``today`` decides the year of a date written
    without one (the next such date) and what is in the past."""
    if answering not in ANSWERING:
        raise ValueError(f"answering must be one of {ANSWERING}, not {answering!r}")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    example = _example(today, date_order)
    deciding = next((line for line in lines if not _is_greeting(line)), "")
    if not deciding:  # nothing, or only "Hej Sekretariat,"
        return NotUnderstood(i18n.text(language, "reply_empty"))
    if answering == "report":
        return FreeText(_cut("\n".join(line.rstrip() for line in text.strip().splitlines())))
    command = _command(_bare(deciding), done_statuses, today, date_order, language)
    if command is None:
        key = "reply_action_unclear" if answering == "action" else "reply_indicator_unclear"
        return NotUnderstood(i18n.text(language, key, example=example))
    if answering == "indicator" and not isinstance(command, Value):
        return NotUnderstood(i18n.text(language, "reply_command_on_indicator",
                                       value=deciding))
    if answering == "action" and isinstance(command, Value):
        return NotUnderstood(i18n.text(language, "reply_number_on_action", example=example))
    if isinstance(command, Value) and (written := _ambiguous_number(_bare(deciding))):
        return NotUnderstood(i18n.text(language, "reply_number_ambiguous", value=written))
    return command


def _is_greeting(line: str) -> bool:
    words = {word.casefold() for word in re.findall(r"\w+", line)}
    return _GREETING.fullmatch(line) is not None and not words & _SENTENCE_WORDS


_MARKS = " \t*_\"'»«“”„`"
# a thumbs-up or a smiley after the word: "Færdig 👍", "Done :)"
_TRAILING_SYMBOLS = re.compile(r"(?:\s*(?:[:;]-?[)D]|[\u2600-\u27bf\U0001f300-\U0001faff"
                               r"\ufe0f\u200d]))+$")


def _bare(line: str) -> str:
    """The line without the marks around a word: "*Færdig*", "Færdig!", "»færdig«.",
    "Færdig 👍"."""
    line = _TRAILING_SYMBOLS.sub("", line)
    return line.strip(_MARKS).rstrip(".!").strip(_MARKS)


def _command(line: str, done_statuses: Sequence[str], today: date, date_order: str,
             language: str) -> Command | None:
    """The command the line is, None when it is none."""
    folded = line.casefold()
    done = {word.casefold() for word in (*DONE_WORDS, *done_statuses)}
    if " ".join(folded.split()) in done:
        return Done(line)
    if match := _VALUE.fullmatch(line):
        try:
            number = values.parse_number(match["number"].replace("\u2212", "-"))
        except ValueError:
            number = None
        if number is not None and math.isfinite(number):  # 400 nines are no value
            return Value(number)
    if match := _DUE.fullmatch(line):
        written = match["date"].strip()
        if not re.search(r"\d", written):
            return None  # "due to illness …": words, not a date
        due = _due_date(written, today, date_order)
        if due is None:
            return NotUnderstood(i18n.text(language, "reply_not_date", value=written,
                                           example=_example(today, date_order)))
        if due < today:
            return NotUnderstood(i18n.text(language, "reply_date_past", value=written))
        return NewDue(due)
    return None


# "1.234" is 1234 to a Dane and 1.234 to the sheet's reader; "1,234" the other way round
_GROUPED_OR_DECIMAL = re.compile(r"[+\-\u2212]?[1-9]\d{0,2}[.,]\d{3}")


def _ambiguous_number(line: str) -> str:
    """The number, when one separator before exactly three digits could group thousands
    or mark decimals; "" when the number reads one way only (42,5  1.234,5  0,125)."""
    match = _VALUE.fullmatch(line)
    if not match:
        return ""
    number = match["number"].removesuffix("%").strip()
    return number if _GROUPED_OR_DECIMAL.fullmatch(number) else ""


def _due_date(written: str, today: date, date_order: str) -> date | None:
    """A date as the sheet reads them, or a day and month without a year: the next such
    date on or after ``today``. None when it is no date."""
    try:
        return values.parse_date(written.rstrip("!"), date_order)
    except ValueError:
        pass
    text = _WEEKDAY.sub("", " ".join(written.casefold().split()), count=1).rstrip(".!")
    try:
        if match := _NO_YEAR_NUMERIC.fullmatch(text):
            first, second = int(match[1]), int(match[3])
            day, month = (first, second) if date_order == "dmy" else (second, first)
        elif match := _NO_YEAR_DAY_MONTH.fullmatch(text):
            day, month = int(match[1]), values.MONTHS[match[2]]
        elif match := _NO_YEAR_MONTH_DAY.fullmatch(text):
            day, month = int(match[2]), values.MONTHS[match[1]]
        else:
            return None
    except KeyError:
        return None
    for year in range(today.year, today.year + 9):  # 29 February comes round within 8
        try:
            candidate = date(year, month, day)
        except ValueError:
            if not 1 <= month <= 12 or not 1 <= day <= 31 or (month, day) != (2, 29):
                return None
            continue
        if candidate >= today:
            return candidate
    return None


def _example(today: date, date_order: str) -> str:
    """A due date four weeks on, written the way the sheet reads dates, for the answer."""
    day = date.fromordinal(today.toordinal() + 28)
    if date_order == "mdy":
        return f"{day.month}/{day.day}/{day.year}"
    if date_order == "ymd":
        return day.isoformat()
    return f"{day.day}.{day.month}.{day.year}"


def _cut(text: str) -> str:
    """A report's text, up to about REPORT_LIMIT characters, cut at a word."""
    text = text.strip()
    if len(text) <= REPORT_LIMIT:
        return text
    cut = text[:REPORT_LIMIT].rsplit(None, 1)[0].rstrip()
    return cut + " …"
