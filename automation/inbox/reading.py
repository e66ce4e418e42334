"""One reply's bytes → what rygrad needs from it (README, "Replies by mail"): who wrote,
what it answers, whether a machine wrote it, whether a DMARC check failed, the partner's own
text with the quoted mail cut off, and the calendar answers it carries.

Pure: bytes in, data out, with the standard library's ``email`` (``policy.default``),
``html.parser`` (automation/inbox/quotes.py) and icalendar for iTIP. It never raises on
what a mail server hands it: a broken message gives a ``Reply`` with a ``note``, undecodable
bytes are replaced.

The quote cut (automation/inbox/quotes.py) is our own. Checked on PyPI: mail-parser-reply
1.36 has Danish patterns but leaves Gmail's Danish attribution line in the reply when Gmail
wraps it over two lines, and cuts signatures and lines starting "Tak" as closings;
quotequail 0.5.4 finds Gmail's "Den … skrev …:" but not Outlook's Danish "Fra:/Sendt:"
block, so a whole quoted mail stays in the reply;
email-reply-parser 0.5.12 (2020) knows English attribution lines only; talon's last
release is from 2017. The partner's signature is kept: the first lines decide
(automation/core/commands.py), so it does no harm, and the secretariat sees the reply as
written.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

import icalendar

from automation.inbox.quotes import html_text, normalised, own_text

__all__ = ["CalendarAnswer", "Reply", "calendar_answers", "decoded", "header", "html_text",
           "is_automatic", "normalised", "own_text", "read_reply"]

MAX_BYTES = 10_000_000
PARTSTATS = ("ACCEPTED", "DECLINED", "TENTATIVE")


@dataclass(frozen=True)
class CalendarAnswer:
    uid: str
    attendee: str      # lower-case address from ATTENDEE mailto:
    partstat: str      # ACCEPTED | DECLINED | TENTATIVE (others are ignored)
    sequence: int


@dataclass(frozen=True)
class Reply:
    message_id: str                 # "<…>" as in the header, "" when none
    answers: tuple[str, ...]        # In-Reply-To then References ids, "<…>", deduplicated
    sender: str                     # From address, lower-case; "" when unreadable
    sender_name: str
    subject: str
    date: datetime | None           # Date header, aware
    automatic: str                  # "" or why it is automatic
    dmarc_fail_by: tuple[str, ...]  # authserv-ids whose Authentication-Results say dmarc=fail
    text: str                       # the reply's own text (quote cut, signature kept)
    calendar: tuple[CalendarAnswer, ...]
    language: str                   # "da", "en" or "" (no guess)
    note: str                       # "" or why there is no text: "too large", "no text
                                    # part", "only an attachment", "only the quoted mail",
                                    # "encrypted", "unreadable message (…)"


def read_reply(raw: bytes, max_bytes: int = MAX_BYTES) -> Reply:
    """The reply in ``raw`` (one message as fetched). A message over ``max_bytes`` is read
    for its headers only (note "too large"); one that cannot be read at all gives an empty
    Reply with a note, never an exception."""
    try:
        if len(raw) > max_bytes:
            message = _parse(_header_block(raw))
            return _reply(message, "", (), "too large")
        message = _parse(raw)
        body, note = _body_text(message)
        text = own_text(body)
        if body.strip() and not text and not note:
            note = "only the quoted mail"  # sent without a word written above it
        return _reply(message, text, calendar_answers(message), note)
    except Exception as err:  # a mailbox holds anything; never stop the run
        return Reply("", (), "", "", "", None, "", (), "", (), "",
                     f"unreadable message ({type(err).__name__})")


def _parse(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.default)


def _header_block(raw: bytes) -> bytes:
    """The headers of a message (up to the first empty line), so a huge mail still says
    who sent it and what it answers."""
    end = re.search(rb"\r?\n\r?\n", raw[:1_000_000])
    return raw[: end.end()] if end else raw[:1_000_000]


def _reply(message: Message, text: str, calendar: tuple[CalendarAnswer, ...],
           note: str) -> Reply:
    name, sender = _sender(message)
    subject = header(message, "Subject")
    if not text and not note and not calendar:
        note = "no text part"
    return Reply(
        message_id=(_ids(header(message, "Message-ID")) or ("",))[0],
        answers=_answers(message),
        sender=sender,
        sender_name=name,
        subject=subject,
        date=_date(header(message, "Date")),
        automatic=is_automatic(message),
        dmarc_fail_by=_dmarc_failures(message),
        text=text,
        calendar=calendar,
        language=_language(header(message, "Content-Language"), subject, text),
        note=note,
    )


# --- headers -----------------------------------------------------------------------------

def header(message: Message, name: str) -> str:
    """A header as one line of text ("" when absent); a header the parser refuses is read
    from its raw form, encoded words decoded where they can be."""
    try:
        value = message.get(name)
        return "" if value is None else " ".join(str(value).split())
    except Exception:  # malformed headers raise from deep in the parser
        return " ".join(_raw_header(message, name).split())


def _raw_header(message: Message, name: str) -> str:
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            try:
                return str(make_header(decode_header(str(value))))
            except Exception:
                return str(value)
    return ""


def _all_raw(message: Message, name: str) -> list[str]:
    return [str(value) for key, value in message.raw_items() if key.lower() == name.lower()]


_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def _ids(value: str) -> list[str]:
    found = _MESSAGE_ID.findall(value)
    if not found and "@" in value and len(value.split()) == 1:
        found = [f"<{value.strip()}>"]  # an id some client wrote without its brackets
    return found


def _answers(message: Message) -> tuple[str, ...]:
    ids = _ids(header(message, "In-Reply-To")) + _ids(header(message, "References"))
    return tuple(dict.fromkeys(ids))


def _sender(message: Message) -> tuple[str, str]:
    """(display name, lower-case address) of the first From address; ("", "") when there
    is none that reads as an address."""
    for name, address in getaddresses([header(message, "From")]):
        if "@" in address and " " not in address.strip():
            return name.strip(), address.strip().lower()
    return "", ""


def _date(value: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value)
    except Exception:  # a Date header can hold anything; the reply is still read
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_REPLY_PREFIX = r"^\s*(?:(?:re|sv|aw|vs|fw|fwd)\s*:\s*)*"
_AUTOMATIC_SUBJECT = re.compile(
    _REPLY_PREFIX + r"(?:automatisk svar|fraværende|out of office|autosvar|autoreply"
    r"|auto-reply|auto reply|automatic reply|abwesenheitsnotiz|ikke på kontoret|feriesvar)\b",
    re.IGNORECASE,
)
_REPORT_SUBJECT = re.compile(
    _REPLY_PREFIX + r"(?:(?:ikke leveret|undeliverable|returned mail|læst|read|ikke læst"
    r"|not read)\s*:|delivery status notification|mail delivery failed)",
    re.IGNORECASE,
)
_AUTOMATIC_PRECEDENCE = {"bulk", "auto_reply", "list", "junk"}


def is_automatic(message: Message) -> str:
    """Why a machine wrote ``message`` ("Auto-Submitted: auto-replied", "out-of-office
    subject"), or "" when a person did (RFC 3834 and the headers mail systems use)."""
    submitted = header(message, "Auto-Submitted").casefold()
    if submitted and submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {submitted}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if _all_raw(message, name):
            return f"{name}: {header(message, name) or 'present'}"
    precedence = header(message, "Precedence").casefold()
    if precedence in _AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    if message.get_content_type() == "multipart/report":
        # a delivery failure or a read receipt (RFC 3464, RFC 8098), whoever it names
        report = str(message.get_param("report-type") or "").lower()
        return f"multipart/report: {report or 'report'}"
    if header(message, "Return-Path").replace(" ", "") == "<>":
        return "Return-Path: <>"  # the null sender: bounces and auto-replies (RFC 3834)
    subject = header(message, "Subject")
    if _AUTOMATIC_SUBJECT.match(subject):
        return "out-of-office subject"
    if _REPORT_SUBJECT.match(subject):
        return "delivery or read report subject"
    return ""


_COMMENT = re.compile(r"\([^()]*\)")


def _dmarc_failures(message: Message) -> tuple[str, ...]:
    """The authserv-ids (RFC 8601: the first token) of every Authentication-Results
    header whose dmarc result is fail; comments, which may quote anything, are left out."""
    failed = []
    for value in _all_raw(message, "Authentication-Results"):
        text = " ".join(_COMMENT.sub(" ", value).split())
        authserv_id, _, results = text.partition(";")
        if re.search(r"(?:^|[\s;])dmarc\s*=\s*fail\b", results, re.IGNORECASE):
            failed.append(authserv_id.split()[0].lower() if authserv_id.split() else "")
    return tuple(dict.fromkeys(failed))


# --- body ----------------------------------------------------------------------------------

def _body_text(message: Message) -> tuple[str, str]:
    """(the text of the message's main body, note). Plain text first, else HTML read as
    text; an attachment is never read as the reply."""
    body = None
    try:
        body = message.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
    except Exception:  # a broken MIME tree: fall back to a walk
        body = None
    if body is None:
        body = next((part for part in message.walk()
                     if part.get_content_type() in ("text/plain", "text/html")
                     and not _is_attachment(part)), None)
    if body is None:
        types = {part.get_content_type() for part in message.walk()}
        if types & _ENCRYPTED:
            return "", "encrypted"
        attached = any(_is_attachment(part) for part in message.walk())
        return "", "only an attachment" if attached else ""
    text = decoded(body)
    if body.get_content_type() == "text/html":
        text = html_text(text)
    return text, ""


_ENCRYPTED = {"multipart/encrypted", "application/pkcs7-mime", "application/x-pkcs7-mime"}


def _is_attachment(part: Message) -> bool:
    try:
        return part.get_content_disposition() == "attachment"
    except Exception:
        return False


def decoded(part: Message) -> str:
    """A text part's content as str, whatever its transfer encoding and charset: an
    unknown or missing charset (or US-ASCII with 8-bit bytes, which some clients declare
    anyway) is read as UTF-8, else Windows-1252; bad bytes replaced."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = str(part.get_payload()).encode("utf-8", "replace")
    charset = (part.get_content_charset() or "").strip().strip('"')
    if charset in ("us-ascii", "ascii"):
        charset = ""
    if charset:
        try:
            # Outlook labels Windows-1252 text as ISO-8859-1; the former is a superset
            codec = "cp1252" if charset.lower() in ("iso-8859-1", "latin-1", "latin1") \
                else charset
            return payload.decode(codec, "replace")
        except LookupError:
            pass
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("cp1252", "replace")


# --- iTIP ----------------------------------------------------------------------------------

def calendar_answers(message: Message) -> tuple[CalendarAnswer, ...]:
    """The attendees' answers in every METHOD:REPLY calendar part (text/calendar inline or
    an .ics attachment; Gmail sends both, counted once). Other methods and PARTSTATs
    (NEEDS-ACTION, DELEGATED) are not answers; an unreadable part is skipped."""
    found: list[CalendarAnswer] = []
    for part in message.walk():
        content_type = part.get_content_type()
        filename = (part.get_filename() or "").lower() if _safe_filename(part) else ""
        if content_type not in ("text/calendar", "application/ics") \
                and not filename.endswith(".ics"):
            continue
        try:
            found += _answers_in(decoded(part), part.get_param("method") or "")
        except Exception:  # a broken calendar part is no answer
            continue
    return tuple(dict.fromkeys(found))


def _safe_filename(part: Message) -> bool:
    try:
        part.get_filename()
    except Exception:
        return False
    return True


def _answers_in(text: str, method_param: object) -> list[CalendarAnswer]:
    calendar = icalendar.Calendar.from_ical(text)
    method = str(calendar.get("METHOD") or method_param or "").upper()
    if method != "REPLY":
        return []
    answers = []
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID", "")).strip()
        try:
            sequence = int(str(event.get("SEQUENCE", 0)))
        except ValueError:
            sequence = 0
        attendees = event.get("ATTENDEE", [])
        for attendee in attendees if isinstance(attendees, list) else [attendees]:
            partstat = str(attendee.params.get("PARTSTAT", "")).upper()
            address = str(attendee).strip()
            if address.lower().startswith("mailto:"):
                address = address[len("mailto:"):]
            if uid and partstat in PARTSTATS and "@" in address:
                answers.append(CalendarAnswer(uid, address.strip().lower(), partstat, sequence))
    return answers


# --- language --------------------------------------------------------------------------------

_DANISH = re.compile(r"\b(?:hej|tak|færdig|udført|frist|værdi|venlig|hilsen|mvh|jeg|ikke|og"
                     r"|er|sendt|fra|min|kære|har|denne|med|vi)\b", re.IGNORECASE)
_ENGLISH = re.compile(r"\b(?:hi|hello|thanks|thank|done|due|value|regards|best|the|is|not"
                      r"|and|dear|has|this|with|we|sent|from|my)\b", re.IGNORECASE)


def _language(content_language: str, subject: str, text: str) -> str:
    """"da" or "en": the Content-Language header, else the words of the text, else the
    reply prefix of the subject (Danish clients write "SV:"); "" when nothing tells."""
    first = content_language.split(",")[0].strip().lower()[:2]
    if first in ("da", "en"):
        return first
    danish, english = len(_DANISH.findall(text)), len(_ENGLISH.findall(text))
    if danish != english:
        return "da" if danish > english else "en"
    if re.match(r"^\s*(?:sv|vs)\s*:", subject, re.IGNORECASE):
        return "da"
    return ""
