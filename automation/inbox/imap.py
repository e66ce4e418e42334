"""The secretariat's mailbox over IMAP (README, "Replies by mail"): log in as `[inbox]`
says, SELECT the folder, and read it without changing what people see.

    with Mailbox(settings.inbox, tokens) as box:       # tokens: None for a password
        headers = box.headers(since=date(2026, 10, 1))   # one SEARCH, FETCH per 200
        for uid, raw in box.bodies([h.uid for h in ours]):
            ...
        box.mark_handled(handled_uids)                   # the keyword $rygrad

- Nothing is fetched without ``BODY.PEEK``, so no message becomes read (\\Seen), and
  nothing is moved or deleted. The only change is the keyword ``$rygrad`` on handled
  replies, for people to see; whether a reply was handled is the ledger's to say.
- ``headers()`` costs one UID SEARCH plus one UID FETCH per ``HEADER_BATCH`` messages:
  flags, size, BODYSTRUCTURE (parsed, literals and all, to see a text/calendar part:
  more robust than guessing from a Content-Type header, and free in the same command)
  and the three threading headers.
- ``bodies()`` fetches whole messages in batches of at most ``BODY_BATCH`` messages or
  ``BODY_BATCH_BYTES``; a message larger than ``inbox.max_message_bytes`` is never
  fetched whole: its first ``PARTIAL_BYTES`` are (the header and the start of the text,
  where a reply's own words are), and the caller, which knows the size from
  ``headers()``, answers that it was too large to read.
- Every failure is an ``InboxError`` of one sentence naming host:port and the key to
  check. With --debug the conversation is logged: commands and status lines, never a
  password, a token or a message's content.
- OAuth: the token comes from automation/oauth.py's token sources, as for SMTP, passed
  in; a refused token is replaced once (``token(True)``) and tried again.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from automation.config import InboxSettings
from automation.errors import ConfigError, InboxError, error_text
from automation.files import read_secret_file, secret_from_env
from automation.inbox import imap_faults as faults
from automation.inbox import imap_wire as wire
from automation.oauth import xoauth2
from automation.transports.smtp_connect import tls_context

__all__ = ["KEYWORD", "InboxError", "MailHeader", "Mailbox", "inbox_password"]

log = logging.getLogger(__name__)

KEYWORD = "$rygrad"
HEADER_BATCH = 200  # messages per header FETCH
BODY_BATCH = 50  # messages per body FETCH …
BODY_BATCH_BYTES = 20_000_000  # … and at most this much in one answer
PARTIAL_BYTES = 65_536  # what is read of a message over inbox.max_message_bytes
HEADER_ITEMS = ("(UID FLAGS RFC822.SIZE BODYSTRUCTURE "
                "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID IN-REPLY-TO REFERENCES)])")


@dataclass(frozen=True)
class MailHeader:
    uid: int
    message_id: str  # "<…>" or ""
    answers: tuple[str, ...]  # In-Reply-To then References, "<…>", each once
    calendar: bool  # a text/calendar (or application/ics) part, not in a forwarded mail
    size: int  # RFC822.SIZE
    flags: frozenset[str]  # without \Recent


def inbox_password(settings: InboxSettings, environ: Mapping[str, str] | None = None
                   ) -> str:
    """The password from `inbox.password_env`, else `inbox.password_file`."""
    environ = os.environ if environ is None else environ
    if settings.password_env:
        return secret_from_env(environ, settings.password_env, "inbox.password_env")
    if settings.password_file is not None:
        password = read_secret_file(settings.password_file, "inbox.password_file").rstrip(
            "\r\n")  # an editor's final newline is not part of the password
        if not password:
            raise ConfigError(f"inbox.password_file: {settings.password_file} is empty")
        return password
    raise ConfigError("inbox.password_env: a password login needs inbox.password_env or "
                      "inbox.password_file (or set inbox.auth for an OAuth login)")


class Mailbox:
    """One IMAP session on the folder `[inbox]` names (a context manager)."""

    def __init__(self, inbox: InboxSettings, token: Callable[[bool], str] | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        """``token``: for an OAuth login, where tokens come from (a TokenSource's
        ``token``; called with True for a new one after the server refused one);
        None logs in with the password of inbox.password_env or inbox.password_file."""
        self.inbox = inbox
        self.round_trips = 0
        self._where = f"{inbox.host}:{inbox.port}"
        self._sizes: dict[int, int] = {}
        self._permanent: frozenset[str] | None = None
        password = inbox_password(inbox, environ) if token is None else ""
        self._imap = self._connect()
        try:
            self._login(password, token)
            self._select()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Mailbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):  # lost already: nothing to end
            self._imap.logout()

    # -- reading ---------------------------------------------------------------------------

    def headers(self, since: date | None = None) -> list[MailHeader]:
        """Every message in the folder (since ``since``, by the server's INTERNALDATE),
        oldest first: one SEARCH, then one FETCH per HEADER_BATCH messages."""
        criteria = ("SINCE", wire.search_date(since)) if since else ("ALL",)
        data = self._command("the message list", "UID", "SEARCH", *criteria)
        uids = sorted({int(n) for line in data if isinstance(line, bytes)
                       for n in line.split() if n.isdigit()})
        found = []
        for start in range(0, len(uids), HEADER_BATCH):
            batch = uids[start:start + HEADER_BATCH]
            answer = self._command("the messages' headers", "UID", "FETCH",
                                   wire.uid_set(batch), HEADER_ITEMS)
            for message in self._parsed(answer):
                header = _header(message)
                if header is not None and header.uid in batch:
                    self._sizes[header.uid] = header.size
                    found.append(header)
        return sorted(found, key=lambda h: h.uid)

    def bodies(self, uids: Sequence[int]) -> Iterator[tuple[int, bytes]]:
        """(uid, the message's bytes) for each uid still in the folder, in uid order; over
        inbox.max_message_bytes only its first PARTIAL_BYTES (see the module docstring)."""
        wanted = sorted(set(uids))
        unknown = [uid for uid in wanted if uid not in self._sizes]
        if unknown:
            answer = self._command("the messages' sizes", "UID", "FETCH",
                                   wire.uid_set(unknown), "(UID RFC822.SIZE)")
            for message in self._parsed(answer):
                uid, size = wire.item(message, "UID"), wire.item(message, "RFC822.SIZE")
                if isinstance(uid, str) and isinstance(size, str) and (uid + size).isdigit():
                    self._sizes[int(uid)] = int(size)
        present = [uid for uid in wanted if uid in self._sizes]
        limit = self.inbox.max_message_bytes
        for batch in _batches(present, self._sizes, limit):
            large = self._sizes[batch[0]] > limit
            items = (f"(UID BODY.PEEK[]<0.{PARTIAL_BYTES}>)" if large else "(UID BODY.PEEK[])")
            answer = self._command("the replies' content", "UID", "FETCH",
                                   wire.uid_set(batch), items)
            for message in sorted(self._parsed(answer), key=_uid_of):
                number, raw = _uid_of(message), wire.item(message, "BODY[")
                if number in batch and isinstance(raw, bytes):
                    yield number, raw

    def mark_handled(self, uids: Sequence[int]) -> bool:
        """Set the keyword $rygrad on these messages; False, with nothing sent, when the
        folder keeps no keywords (its PERMANENTFLAGS allow neither \\* nor $rygrad)."""
        if not wire.keywords_allowed(self._permanent, KEYWORD):
            log.info("inbox: %s keeps no keywords in %s; replies are not marked %s",
                     self._where, self.inbox.folder, KEYWORD)
            return False
        for uid_set in wire.uid_sets(uids):  # usually one command: 1:1000
            try:
                self._command("the keyword", "UID", "STORE", uid_set, "+FLAGS.SILENT",
                              f"({KEYWORD})", refusal=_Refused)
            except _Refused as err:
                log.info("inbox: %s did not keep %s (%s)", self._where, KEYWORD, err)
                return False
        return True

    # -- the session ------------------------------------------------------------------------

    def _connect(self) -> imaplib.IMAP4:
        inbox = self.inbox
        context = tls_context(inbox)
        imap: imaplib.IMAP4 | None = None
        try:
            if inbox.security == "ssl":
                imap = imaplib.IMAP4_SSL(inbox.host, inbox.port, ssl_context=context,
                                         timeout=inbox.timeout)
            else:
                imap = imaplib.IMAP4(inbox.host, inbox.port, timeout=inbox.timeout)
            self.round_trips += 1  # the greeting and CAPABILITY
            _debug("< %s (capabilities: %s)", imap.welcome, " ".join(imap.capabilities))
            if inbox.security == "starttls":
                if "STARTTLS" not in imap.capabilities:
                    raise faults.NoStarttls()
                imap.starttls(context)
                self.round_trips += 2  # STARTTLS, then CAPABILITY again
        except Exception as err:
            if imap is not None:
                with contextlib.suppress(OSError):
                    imap.shutdown()
            raise InboxError(faults.cannot_connect(self.inbox, err)) from None
        return imap

    def _login(self, password: str, token: Callable[[bool], str] | None) -> None:
        inbox, imap = self.inbox, self._imap
        try:
            if token is not None:
                if "AUTH=XOAUTH2" not in imap.capabilities:
                    offered = " ".join(c for c in imap.capabilities if c.startswith("AUTH="))
                    raise InboxError(
                        f"{self._where} does not offer OAuth 2.0 login (SASL XOAUTH2; it "
                        f"offers: {offered or 'LOGIN only'}); check inbox.host, or set "
                        "inbox.auth = \"password\" for this server")
                for fresh in (False, True):
                    try:
                        self._authenticate("XOAUTH2", _sasl(xoauth2(inbox.username,
                                                                    token(fresh))))
                        return
                    except _Refused:
                        if fresh:
                            raise
            elif (inbox.username + password).isascii():
                _debug("> LOGIN %s [withheld]", inbox.username)
                self.round_trips += 1
                imap.login(inbox.username, password)
            else:  # LOGIN's quoted strings are ASCII; PLAIN carries UTF-8 (æ, ø, å)
                raw = f"\0{inbox.username}\0{password}".encode()
                self._authenticate("PLAIN", lambda _: raw)
        except _Refused as err:
            raise InboxError(faults.refused(self.inbox, str(err))) from None
        except imaplib.IMAP4.abort as err:
            raise InboxError(faults.lost(self.inbox, "the login", err)) from None
        except imaplib.IMAP4.error as err:
            raise InboxError(faults.refused(self.inbox, _text(err))) from None
        except OSError as err:
            raise InboxError(faults.lost(self.inbox, "the login", err)) from None

    def _authenticate(self, mechanism: str, answer: Callable[[bytes], bytes]) -> None:
        _debug("> AUTHENTICATE %s [withheld]", mechanism)
        self.round_trips += 1
        try:
            self._imap.authenticate(mechanism, answer)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as err:
            raise _Refused(_text(err)) from None

    def _select(self) -> None:
        folder = self.inbox.folder
        try:
            self._command("the folder", "SELECT", wire.quote(wire.encode_folder(folder)),
                          refusal=_Refused)
        except _Refused as err:
            names = self._folders()
            listed = ", ".join(f"»{n}«" for n in names[:20]) or "none"
            raise InboxError(f"inbox.folder: {self._where} has no folder »{folder}« for "
                             f"{self.inbox.username} ({err}); the folders are {listed}; "
                             "put one of them in inbox.folder") from None
        self._permanent = wire.permanent_flags(
            self._imap.response("PERMANENTFLAGS")[1] or [])

    def _folders(self) -> list[str]:
        try:
            return wire.listed_folders(self._command("the folders", "LIST", '""', '"*"'))
        except InboxError:
            return []

    def _command(self, what: str, *words: str, refusal: type[Exception] = InboxError
                 ) -> list[Any]:
        """Send one command and give its untagged data. A NO or BAD raises ``refusal``
        (an InboxError unless the caller handles it: _Refused); a lost connection or a
        timeout is an InboxError naming ``what`` was being read."""
        _debug("> %s", " ".join(words))
        self.round_trips += 1
        imap = self._imap
        try:
            if words[0] == "UID":
                typ, data = imap.uid(*words[1:])
            elif words[0] == "SELECT":
                typ, data = imap.select(words[1])
            else:
                typ, data = imap.list(*words[1:])
        except imaplib.IMAP4.abort as err:
            raise InboxError(faults.lost(self.inbox, what, err)) from None
        except imaplib.IMAP4.error as err:
            raise self._refusal(refusal, what, _text(err)) from None
        except OSError as err:
            raise InboxError(faults.lost(self.inbox, what, err)) from None
        _debug("< %s", typ)
        if typ != "OK":
            reply = " ".join(_text(d) for d in data if isinstance(d, bytes)) or typ
            raise self._refusal(refusal, what, f"{typ} {reply}")
        return [d for d in data if d is not None]

    def _refusal(self, kind: type[Exception], what: str, reply: str) -> Exception:
        if kind is _Refused:
            return _Refused(reply)
        return InboxError(f"{self._where} refused to give {what} ({reply}); rygrad tries "
                          f"again at the next cycle")

    def _parsed(self, data: list[Any]) -> list[dict[str, wire.Value]]:
        try:
            return wire.fetched(data)
        except wire.WireError as err:
            raise InboxError(f"{self._where} answered a FETCH in a way rygrad cannot read "
                             f"({err}); check inbox.host") from None

class _Refused(Exception):
    """The server answered NO or BAD (its text is the message)."""


def _header(message: dict[str, wire.Value]) -> MailHeader | None:
    uid, size = wire.item(message, "UID"), wire.item(message, "RFC822.SIZE")
    if not isinstance(uid, str) or not uid.isdigit():
        return None
    block = wire.item(message, "BODY[HEADER.FIELDS")
    own, answers = wire.message_ids(block if isinstance(block, bytes) else None)
    return MailHeader(
        uid=int(uid), message_id=own, answers=answers,
        calendar=wire.has_calendar(wire.item(message, "BODYSTRUCTURE")),
        size=int(size) if isinstance(size, str) and size.isdigit() else 0,
        flags=wire.flags(wire.item(message, "FLAGS")))


def _uid_of(message: dict[str, wire.Value]) -> int:
    uid = wire.item(message, "UID")
    return int(uid) if isinstance(uid, str) and uid.isdigit() else 0


def _batches(uids: Sequence[int], sizes: Mapping[int, int], limit: int
             ) -> Iterator[list[int]]:
    """The messages to fetch whole in batches bounded by count and bytes, then those
    over ``limit`` (fetched in part) in their own batches."""
    whole = [uid for uid in uids if sizes[uid] <= limit]
    batch: list[int] = []
    total = 0
    for uid in whole:
        if batch and (len(batch) >= BODY_BATCH or total + sizes[uid] > BODY_BATCH_BYTES):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += sizes[uid]
    if batch:
        yield batch
    large = [uid for uid in uids if sizes[uid] > limit]
    for start in range(0, len(large), BODY_BATCH):
        yield large[start:start + BODY_BATCH]


def _sasl(initial: str) -> Callable[[bytes], bytes]:
    """imaplib's authobject for XOAUTH2: the initial response (``xoauth2`` gives it in
    base64; imaplib encodes it again, so it is decoded here), then an empty line to a
    server's error challenge, after which the server says NO."""
    raw = base64.b64decode(initial)
    answers = [raw]

    def answer(_challenge: bytes) -> bytes:
        return answers.pop() if answers else b""

    return answer


def _text(error: BaseException | bytes) -> str:
    """A server's answer as it said it: without imaplib's b'…' and Dovecot's timings."""
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    text = re.sub(r'^b([\'"])(.*)\1$', r"\2", text.strip())
    return error_text(re.sub(r"\s*\([\d.+ ]+ secs\)\.?$", "", text))


def _debug(text: str, *args: object) -> None:
    log.debug("imap " + text, *args)
