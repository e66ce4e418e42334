"""Rendered texts → the bytes of one mail (RFC 5322 and MIME, RFC 2045–2047).

The standard library's `EmailMessage` parses and refolds every header through its
header-value parser, and its classic classes fold every header again through `Header`;
either way two thirds of a message's rendering went to the `email` package (3 of
4.5 ms). A mail of this one fixed shape is simple to write directly, with the C codecs
of `binascii` and `base64` for the bodies and the encoded words of headers. Every test
reads the result back with `email.message_from_bytes(…, policy=email.policy.default)`,
so what a client sees is checked by the standard library's parser.

Header values arrive here on one line (`formatting.one_line`); non-ASCII is
RFC 2047-encoded, so the header block is plain ASCII whatever a cell holds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import formataddr

LINE = 78  # RFC 5322 §2.1.1: lines SHOULD be no longer than 78 characters
# base64 of 39 bytes is 52 characters, 64 with "=?utf-8?b?" and "?=": a word fits on a
# line after the longest header name here ("X-Rygrad-Key: ") within 78
WORD_BYTES = 39
LONGEST_WORD = 60  # an ASCII word longer than this goes in encoded words too


@dataclass(frozen=True)
class Envelope:
    """The headers of one mail, each value on one line."""

    sender: Address
    to: Address
    cc: tuple[Address, ...]
    subject: str
    date: str
    message_id: str
    key: str
    language: str
    # an answer to a partner's reply: threaded under it (In-Reply-To, References) and
    # marked auto-replied, so that no auto-responder answers it back
    in_reply_to: str = ""


@dataclass(frozen=True)
class Invite:
    """A calendar to carry: METHOD (REQUEST or CANCEL) and the iCalendar bytes."""

    method: str
    calendar: bytes
    filename: str = "invitation.ics"  # the attachment's name: what it is, for the reader


@dataclass(frozen=True)
class InlineImage:
    """A picture the HTML shows by ``src="cid:{cid}"`` (a chart): never a link outside."""

    cid: str  # without angle brackets
    data: bytes
    filename: str
    subtype: str = "png"


@dataclass(frozen=True)
class Attachment:
    """A file that goes with the mail (the steering group's status report)."""

    content_type: str  # e.g. "application/pdf"
    data: bytes
    filename: str


def mail_bytes(envelope: Envelope, text: str, html: str, invite: Invite | None,
               images: Sequence[InlineImage] = (),
               attachments: Sequence[Attachment] = ()) -> bytes:
    """multipart/alternative(text, html); with an invite, multipart/mixed(
    multipart/alternative(text, html, text/calendar), the .ics file).

    With images the HTML becomes multipart/related(text/html, image/png …), inside the
    alternative, where mail programs look for the parts a ``cid:`` names; with
    attachments (or an invite) everything is inside multipart/mixed, the files after it.
    """
    # boundaries start with "=_", which neither quoted-printable nor base64 can contain;
    # made from the Message-ID so the same mail is the same bytes
    seed = hashlib.sha256(envelope.message_id.encode()).hexdigest()[:24]
    html_part = _text_part("html", html)
    if images:
        html_part = _multipart("related", f"=_rel_{seed}", [html_part, *(
            _part([f'Content-Type: image/{image.subtype}; name="{_file(image.filename)}"',
                   f"Content-ID: <{image.cid}>",
                   f'Content-Disposition: inline; filename="{_file(image.filename)}"'], image.data)
            for image in images)])
    parts = [_text_part("plain", text), html_part]
    files = [_part([f'Content-Type: {a.content_type}; name="{_file(a.filename)}"',
                    f'Content-Disposition: attachment; filename="{_file(a.filename)}"'], a.data)
             for a in attachments]
    if invite is None:
        body = _multipart("alternative", f"=_alt_{seed}", parts)
        if files:
            body = _multipart("mixed", f"=_mix_{seed}", [body, *files])
    else:
        # inside the alternative, Outlook and Gmail show accept/decline buttons;
        # the attachment is for clients that only import files
        parts.append(_part([f'Content-Type: text/calendar; charset="UTF-8"; '
                            f'method="{invite.method}"'], invite.calendar))
        attachment = _part([f'Content-Type: application/ics; name="{invite.filename}"',
                            f'Content-Disposition: attachment; filename="{invite.filename}"'],
                           invite.calendar)
        body = _multipart("mixed", f"=_mix_{seed}",
                          [_multipart("alternative", f"=_alt_{seed}", parts), attachment,
                           *files])
    return ("\n".join(_headers(envelope)) + "\nMIME-Version: 1.0\n" + body).encode("ascii")


DANISH_LETTERS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe",
                                "Å": "Aa"})


def _file(name: str) -> str:
    """A file name a header can carry as it is: ASCII letters, digits, '.', '_' and '-'
    (an indicator's ID may be anything a partner typed)."""
    danish = name.translate(DANISH_LETTERS)
    folded = unicodedata.normalize("NFKD", danish).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9._-]+", "-", folded).strip("-.") or "file"


def _headers(envelope: Envelope) -> list[str]:
    fields = [("From", _address(envelope.sender)), ("To", _address(envelope.to))]
    if envelope.cc:
        fields.append(("Cc", ", ".join(_address(a) for a in envelope.cc)))
    fields += [
        ("Reply-To", _address(envelope.sender)),
        ("Subject", _encoded(envelope.subject)),
        ("Date", envelope.date),
        ("Message-ID", envelope.message_id),
        *([("In-Reply-To", envelope.in_reply_to), ("References", envelope.in_reply_to)]
          if envelope.in_reply_to else []),
        ("X-Rygrad-Key", _encoded(envelope.key)),
        ("Auto-Submitted", "auto-replied" if envelope.in_reply_to else "auto-generated"),
        ("Content-Language", envelope.language),
    ]
    return [_fold(f"{name}: {value}") for name, value in fields]


def _multipart(subtype: str, boundary: str, parts: list[str]) -> str:
    inner = "".join(f"\n--{boundary}\n{part}" for part in parts)
    return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n{inner}\n--{boundary}--\n'


def _text_part(subtype: str, text: str) -> str:
    # quoted-printable keeps Danish text readable in an .eml file in the outbox
    encoded = binascii.b2a_qp(text.encode("utf-8"), istext=True).decode("ascii")
    return (f'Content-Type: text/{subtype}; charset="utf-8"\n'
            f"Content-Transfer-Encoding: quoted-printable\n\n{encoded}")


def _part(headers: list[str], data: bytes) -> str:
    encoded = base64.encodebytes(data).decode("ascii")
    return "\n".join([*headers, "Content-Transfer-Encoding: base64", "", encoded])


def _encoded(value: str) -> str:
    """Plain ASCII as it is; anything else as RFC 2047 encoded words, one per folded line."""
    if _plain(value):
        return value
    return "\n ".join(_encoded_words(value))


def _plain(value: str) -> bool:
    """ASCII with no word too long to fold: a header line can only break at a space, so a
    cell of 3,000 letters without one goes in encoded words, which can be split."""
    return value.isascii() and all(len(word) <= LONGEST_WORD for word in value.split(" "))


def _encoded_words(text: str) -> list[str]:
    """`=?utf-8?b?…?=` words of at most 75 characters (RFC 2047 §2), never splitting a
    character's UTF-8 bytes between two words (§5)."""
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for char in text:
        length = len(char.encode("utf-8"))
        if size + length > WORD_BYTES:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += length
    words.append("".join(chunk))
    return [f"=?utf-8?b?{base64.b64encode(w.encode()).decode('ascii')}?=" for w in words]


def _address(address: Address) -> str:
    """`Name <local@domain>`: the name quoted or RFC 2047-encoded, the domain in IDNA."""
    local, _, domain = address.addr_spec.rpartition("@")  # the local part quoted if need be
    if not domain.isascii():
        domain = domain.encode("idna").decode("ascii")
    if _plain(address.display_name):
        return formataddr((address.display_name, f"{local}@{domain}"))
    return f"{' '.join(_encoded_words(address.display_name))} <{local}@{domain}>"


def _fold(field: str) -> str:
    """Fold a long header line before spaces (RFC 5322 §2.2.3); unfolding restores it."""
    if len(field) <= LINE or "\n" in field:
        return field
    lines: list[str] = []
    line = ""
    for word in field.split(" "):
        if line and len(line) + 1 + len(word) > LINE:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n ".join(lines)
