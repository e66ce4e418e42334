"""What the IMAP server says, read as data: FETCH responses (with their literals) as
nested lists, BODYSTRUCTURE's parts, the three threading headers, UID sets, and folder
names in IMAP's modified UTF-7. Plain functions over bytes: no socket, no clock.

imaplib hands a FETCH response over in pieces: a line ending in ``{n}`` and the n
bytes of that literal as a tuple, then the rest of the line, which may end in another
literal. ``fetched`` puts the pieces back together into one token stream and parses
it, so a literal anywhere (a header block, a file name in BODYSTRUCTURE) is read as
the value it is, never as text to be searched.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import TypeAlias

Value: TypeAlias = "str | bytes | list[Value] | None"  # an atom or quoted string, a literal, NIL

_TOKEN = re.compile(
    rb'\s*(?:(?P<open>\()|(?P<close>\))|"(?P<quoted>(?:[^"\\]|\\.)*)"'
    rb"|\{(?P<literal>\d+)\+?\}$"
    rb"|(?P<atom>[^\s()\"{\[\]]+(?:\[[^\]]*\](?:<[\d.]+>)?)?))")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_FOLD = re.compile(rb"\r?\n(?=[ \t])")  # a header line continued on the next
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
CALENDAR_TYPES = {("TEXT", "CALENDAR"), ("APPLICATION", "ICS")}


class WireError(ValueError):
    """The server's answer does not parse as IMAP."""


# -- FETCH responses --------------------------------------------------------------------


def fetched(data: Sequence[object]) -> list[dict[str, Value]]:
    """imaplib's FETCH data as one dict per message: item name (upper case, e.g. "UID",
    "FLAGS", "BODY[HEADER.FIELDS (MESSAGE-ID)]") → value."""
    tokens: list[object] = []
    for piece in data:
        if piece is None:
            continue
        if isinstance(piece, tuple):
            text, literal = piece
            tokens.extend(_tokens(bytes(text), literal_follows=True))
            tokens.append(_Literal(bytes(literal)))
        elif isinstance(piece, bytes):
            tokens.extend(_tokens(piece, literal_follows=False))
    messages = []
    position = 0
    while position < len(tokens):
        sequence = tokens[position]  # the message sequence number, unused
        if not isinstance(sequence, str) or position + 1 >= len(tokens):
            raise WireError(f"a FETCH response starts with {sequence!r}")
        items, position = _parse(tokens, position + 1)
        if not isinstance(items, list) or len(items) % 2:
            raise WireError("a FETCH response is not a list of names and values")
        messages.append({str(items[i]).upper(): items[i + 1] for i in range(0, len(items), 2)})
    return messages


class _Literal(bytes):
    pass


_OPEN, _CLOSE = object(), object()


def _tokens(text: bytes, literal_follows: bool) -> list[object]:
    found: list[object] = []
    text = text.rstrip(b"\r\n")
    position = 0
    for match in _TOKEN.finditer(text):
        if match.start() != position:  # something no token matches was skipped
            break
        position = match.end()
        kind = match.lastgroup
        if kind == "atom":
            atom = match.group("atom").decode("utf-8", "replace")
            found.append(None if atom.upper() == "NIL" else atom)
        elif kind == "open":
            found.append(_OPEN)
        elif kind == "close":
            found.append(_CLOSE)
        elif kind == "quoted":
            quoted = match.group("quoted")
            if b"\\" in quoted:
                quoted = re.sub(rb"\\(.)", rb"\1", quoted)
            found.append(quoted.decode("utf-8", "replace"))
        elif not literal_follows:
            raise WireError("a literal without its bytes")
    if text[position:].strip():
        raise WireError(f"cannot read {text[position:position + 40]!r}")
    return found


def _parse(tokens: list[object], position: int) -> tuple[Value, int]:
    token = tokens[position]
    if token is _OPEN:
        values: list[Value] = []
        position += 1
        while position < len(tokens) and tokens[position] is not _CLOSE:
            value, position = _parse(tokens, position)
            values.append(value)
        if position >= len(tokens):
            raise WireError("a list is not closed")
        return values, position + 1
    if token is _CLOSE:
        raise WireError("a ')' without its '('")
    if isinstance(token, _Literal):
        return bytes(token), position + 1
    assert token is None or isinstance(token, str)
    return token, position + 1


def item(message: dict[str, Value], prefix: str) -> Value:
    """The value of the first item whose name starts with ``prefix`` (servers may echo
    BODY.PEEK[…] as BODY[…], and quote the header names their own way)."""
    for name, value in message.items():
        if name.startswith(prefix):
            return value
    return None


# -- what a message is ------------------------------------------------------------------


def has_calendar(structure: Value) -> bool:
    """Whether a BODYSTRUCTURE holds a text/calendar (or application/ics) part, at the
    top or in any multipart; a message/rfc822 inside (a forwarded mail) is not looked
    into: its invitation is not an answer to ours."""
    if not isinstance(structure, list) or not structure:
        return False
    if isinstance(structure[0], list):  # multipart: the parts, then the subtype
        return any(has_calendar(part) for part in structure if isinstance(part, list))
    kind = tuple(str(v).upper() for v in structure[:2] if isinstance(v, str))
    return kind in CALENDAR_TYPES


def message_ids(header_block: bytes | None) -> tuple[str, tuple[str, ...]]:
    """(Message-ID, the ids In-Reply-To then References name, each once) from a block
    of header lines; "" and () for what is missing."""
    if not header_block:
        return "", ()
    fields: dict[str, list[str]] = {}
    for line in _FOLD.sub(b" ", header_block).splitlines():
        field, colon, value = line.partition(b":")
        if colon:
            fields.setdefault(field.strip().lower().decode("ascii", "replace"), []).append(
                value.decode("utf-8", "replace"))
    own = _MESSAGE_ID.findall(" ".join(fields.get("message-id", [])))
    answers: list[str] = []
    for name in ("in-reply-to", "references"):
        for found in _MESSAGE_ID.findall(" ".join(fields.get(name, []))):
            if found not in answers:
                answers.append(found)
    return (own[0] if own else ""), tuple(answers)


def flags(value: Value) -> frozenset[str]:
    """FLAGS as a set, without \\Recent (which says only who looked first)."""
    if not isinstance(value, list):
        return frozenset()
    return frozenset(str(f) for f in value if isinstance(f, str) and f.lower() != "\\recent")


# -- commands ---------------------------------------------------------------------------


def uid_set(uids: Iterable[int]) -> str:
    """``1:3,7,9:10`` for 1, 2, 3, 7, 9, 10 (IMAP's sequence set, shortest form)."""
    ranges: list[list[int]] = []
    for uid in sorted(set(uids)):
        if ranges and uid == ranges[-1][1] + 1:
            ranges[-1][1] = uid
        else:
            ranges.append([uid, uid])
    return ",".join(f"{a}:{b}" if a != b else str(a) for a, b in ranges)


def uid_sets(uids: Iterable[int], longest: int = 4000) -> list[str]:
    """The uids as few sequence sets as keep each within ``longest`` characters (a
    command line's length is what servers limit, not the number of messages)."""
    sets: list[str] = []
    for part in uid_set(uids).split(","):
        if part and sets and len(sets[-1]) + 1 + len(part) <= longest:
            sets[-1] += "," + part
        elif part:
            sets.append(part)
    return sets


def search_date(day: date) -> str:
    """IMAP's date (``3-Dec-2026``), in English whatever the locale."""
    return f"{day.day}-{MONTHS[day.month - 1]}-{day.year}"


def permanent_flags(response: Sequence[object]) -> frozenset[str] | None:
    """PERMANENTFLAGS from the SELECT's untagged OK, or None when the server sent none
    (RFC 3501: then every flag can be kept)."""
    for line in response:
        if isinstance(line, bytes) and line.strip():
            return frozenset(line.strip().strip(b"()").decode("utf-8", "replace").split())
    return None


def keywords_allowed(permanent: frozenset[str] | None, keyword: str) -> bool:
    if permanent is None:
        return True
    return "\\*" in permanent or keyword.lower() in {f.lower() for f in permanent}


# -- folder names: IMAP's modified UTF-7 (RFC 3501, 5.1.3) ------------------------------


def encode_folder(name: str) -> str:
    """"Svar på" → "Svar p&AOU-"; printable ASCII stays, "&" becomes "&-"."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def decode_folder(name: str) -> str:
    def one(match: re.Match[str]) -> str:
        text = match.group(1)
        if not text:
            return "&"
        padded = text.replace(",", "/") + "=" * (-len(text) % 4)
        try:
            return base64.b64decode(padded).decode("utf-16-be")
        except ValueError:
            return match.group(0)

    return re.sub(r"&([^-]*)-", one, name)


def quote(text: str) -> str:
    """An IMAP quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def listed_folders(data: Sequence[object]) -> list[str]:
    """The names in a LIST answer (decoded), in the server's order."""
    names = []
    for line in data:
        if isinstance(line, tuple):  # a name sent as a literal
            names.append(decode_folder(bytes(line[1]).decode("utf-8", "replace")))
            continue
        if not isinstance(line, bytes):
            continue
        match = re.match(rb'\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (?P<name>.+)$', line)
        if match is None:
            continue
        if b"\\noselect" in match.group("flags").lower():
            continue
        raw = match.group("name").decode("utf-8", "replace")
        if raw.startswith('"') and raw.endswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        names.append(decode_folder(raw))
    return names
