"""Personal data (README, "Personal data (GDPR)"): what the ledger and the outbox hold
about one person, handed over (`rygrad export`) or erased (`rygrad forget`); the
outbox's retention; and the re-linking of a forgotten person who comes back.

A forgotten person's deliveries keep only their keys, states and times, with the
address replaced by ``hmac:`` and an HMAC-SHA256 of it under the initiative's secret:
no one can read the address back, but if the same address is put in People again, the
next cycle recognises it (`relink`) and nothing sent before is sent again.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from automation.core.model import LedgerEntry
from automation.errors import LedgerError
from automation.ledger import DeliveryLedger
from automation.ledger.sql import ERASED, StoredDelivery

log = logging.getLogger(__name__)

DIGEST_PREFIX = "hmac:"
MIN_NAME = 4  # shorter "names" (»Bo«) are not searched for: they are inside other words


def address_digest(secret: bytes, address: str) -> str:
    """What a forgotten address becomes: the same address always gives the same text."""
    digest = hmac.new(secret, address.strip().casefold().encode(), hashlib.sha256)
    return DIGEST_PREFIX + digest.hexdigest()


def relink(ledger: DeliveryLedger, addresses: Iterable[str]) -> int:
    """Give a forgotten person who is back in People their old deliveries again (one
    small query when nobody was forgotten); how many rows."""
    forgotten = ledger.forgotten()
    if not forgotten:
        return 0
    secret = ledger.secret()
    linked = 0
    for address in {a.casefold(): a for a in addresses if a}.values():
        digest = address_digest(secret, address)
        if digest in forgotten:
            linked += ledger.relink(digest, address)
    if linked:
        log.info("%d earlier deliveries recognised for a person back in People", linked)
    return linked


def relinked(ledger: DeliveryLedger, entries: list[LedgerEntry], addresses: Iterable[str]
             ) -> list[LedgerEntry]:
    """`relink` in memory, for `plan`, which changes nothing."""
    forgotten = ledger.forgotten()
    if not forgotten:
        return entries
    try:
        secret = ledger.secret()
    except LedgerError:
        return entries
    back = {d: a for a in addresses if (d := address_digest(secret, a)) in forgotten}
    return [replace(e, recipient=back[e.recipient]) if e.recipient in back else e
            for e in entries]


# -- reading a stored mail ------------------------------------------------------------


@dataclass(frozen=True)
class MailText:
    subject: str
    text: str  # the plain-text part
    addressed: tuple[str, ...]  # To and Cc addresses, casefolded
    names: dict[str, str]  # casefolded address → display name, from To and Cc
    searchable: str  # headers and every text part, decoded, casefolded


def read_mail(data: bytes) -> MailText:
    """A stored mail's subject, text, addressees and all its words; rygrad wrote it, but
    a mail that will not parse is still searched, as raw text."""
    try:
        return _parsed_mail(data)
    except Exception:  # the email package raises many things on broken input
        return MailText("", "", (), {}, data.decode("utf-8", "replace").casefold())


def _parsed_mail(data: bytes) -> MailText:
    message = email.message_from_bytes(data, policy=email.policy.default)
    pairs = getaddresses([str(v) for name in ("To", "Cc")
                          for v in message.get_all(name, [])])
    parts, text = [], ""
    for part in message.walk():
        if part.get_content_maintype() == "text":
            try:
                content = part.get_content()
            except (LookupError, ValueError):
                content = part.get_payload(decode=True) or b""
                content = content.decode("utf-8", "replace") \
                    if isinstance(content, bytes) else str(content)
            parts.append(str(content))
            if not text and part.get_content_type() == "text/plain":
                text = str(content)
    headers = "\n".join(f"{k}: {v}" for k, v in message.items())
    return MailText(str(message.get("Subject", "")), text,
                    tuple(a.casefold() for _, a in pairs if a),
                    {a.casefold(): n for n, a in pairs if a and n},
                    "\n".join([headers, *parts]).casefold())


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False).casefold()


# -- what is held about one person ----------------------------------------------------


@dataclass
class Holdings:
    """Where one address (and the names it went with) occurs in the ledger."""

    address: str
    names: set[str]
    digest: str
    own: list[tuple[StoredDelivery, MailText | None]]  # delivered to them
    naming: list[tuple[StoredDelivery, MailText | None]]  # others' that name them
    replies: list[Any]  # ReplyRecord from them or naming them
    cycles: list[tuple[int, dict[str, Any], str]]  # cycle records naming them

    @property
    def empty(self) -> bool:
        return not (self.own or self.naming or self.replies or self.cycles)


def holdings(ledger: DeliveryLedger, address: str) -> Holdings:
    """Every row that holds the address, or a name it was sent to under."""
    wanted = address.strip().casefold()
    try:
        digest = address_digest(ledger.secret(), wanted)
    except LedgerError:  # read-only, and no cycle has run: nobody was forgotten
        digest = DIGEST_PREFIX
    rows = []
    for row in ledger.stored():
        mail = read_mail(row.message) if row.message else None
        rows.append((row, mail))
    names: set[str] = set()
    for _, mail in rows:
        if mail and wanted in mail.names:
            names.add(mail.names[wanted])
    records = ledger.replies()
    for record in records:
        if record.sender.casefold() == wanted and record.payload.get("name"):
            names.add(str(record.payload["name"]))
    names = {n for n in names if len(n.strip()) >= MIN_NAME}
    needles = [wanted, *(n.casefold() for n in names)]

    def names_them(*texts: str) -> bool:
        return any(needle in text for text in texts for needle in needles)

    own, naming = [], []
    for row, mail in rows:
        if row.recipient.casefold() in (wanted, digest):
            own.append((row, mail))
        elif (mail and (wanted in mail.addressed or names_them(mail.searchable))) \
                or names_them(_json_text(row.payload), row.error.casefold()):
            naming.append((row, mail))
    replies = [r for r in records
               if r.sender.casefold() in (wanted, digest)
               or names_them(_json_text(r.payload), r.reason.casefold(),
                             _json_text([[c.old, c.new] for c in r.changes]))]
    cycles = [c for c in ledger.cycle_texts() if names_them(_json_text(c[1]), c[2].casefold())]
    return Holdings(wanted, names, digest, own, naming, replies, cycles)


def export(ledger: DeliveryLedger, address: str) -> dict[str, Any] | None:
    """Everything held about the address, as JSON values; None when nothing is."""
    held = holdings(ledger, address)
    if held.empty:
        return None

    def delivery(row: StoredDelivery, mail: MailText | None) -> dict[str, Any]:
        found: dict[str, Any] = {"kind": row.kind, "key": row.key, "about": row.subject_id,
                                 "when": row.at, "state": row.state,
                                 "recipient": address if row.recipient == held.digest
                                 else row.recipient}
        if row.message_id:
            found["message_id"] = row.message_id
        if mail:
            found["subject"] = mail.subject
            found["text"] = mail.text
        else:
            found["text"] = None  # not kept past state.keep_messages_days
        if row.error:
            found["error"] = row.error
        return found

    replies = [{"message_id": r.message_id, "from": r.sender, "answered": r.answered_key,
                "about": r.subject_id, "decision": r.decision, "reason": r.reason,
                "when": r.at.isoformat(),
                "cells_changed": [{"tab": c.tab, "row": c.row_id, "column": c.column,
                                   "old": c.old, "new": c.new} for c in r.changes]}
               for r in held.replies]
    return {
        "address": held.address,
        "names": sorted(held.names),
        "deliveries_to_them": [delivery(*pair) for pair in held.own],
        "deliveries_naming_them": [delivery(*pair) for pair in held.naming],
        "replies": replies,
        "cells_changed_on_their_behalf": [
            change for r in replies if r["from"].casefold() == held.address
            for change in r["cells_changed"]],
    }


# -- erasing one person ---------------------------------------------------------------


@dataclass
class Erased:
    rows: int = 0  # ledger rows changed (deliveries, replies, cycles)
    messages: int = 0  # stored mails erased
    outbox_files: int = 0


def forget(ledger: DeliveryLedger, address: str, outbox: Path | None,
           dry_run: bool = False) -> Erased:
    """Erase the address and its names from the ledger and the outbox (counts only)."""
    held = holdings(ledger, address)
    erased = Erased()
    needles = [held.address, *held.names]
    for row, _ in held.own:
        erased.rows += 1
        erased.messages += row.message is not None
        if not dry_run:
            # bytes, payload and error go; what keeps it from being sent again stays
            ledger.rewrite(row, replace(row, recipient=held.digest,
                                        payload=_scrubbed(row.payload, needles),
                                        message=None, error=""))
    for row, _ in held.naming:
        erased.rows += 1
        erased.messages += row.message is not None
        if not dry_run:
            ledger.rewrite(row, replace(row, payload=_scrubbed(row.payload, needles),
                                        message=None,
                                        error=_scrubbed(row.error, needles)))
    for record in held.replies:
        erased.rows += 1
        if not dry_run:
            sender = held.digest if record.sender.casefold() == held.address \
                else record.sender
            ledger.rewrite_reply(record, replace(
                record, sender=sender, reason=_scrubbed(record.reason, needles),
                payload=_scrubbed(record.payload, needles),
                changes=tuple(replace(c, old=_scrubbed(c.old, needles),
                                      new=_scrubbed(c.new, needles))
                              for c in record.changes)))
    for cycle, summary, reason in held.cycles:
        erased.rows += 1
        if not dry_run:
            ledger.rewrite_cycle(cycle, _scrubbed(summary, needles),
                                 _scrubbed(reason, needles))
    for path in _outbox_files(outbox, needles):
        erased.outbox_files += 1
        if not dry_run:
            path.unlink()
    if not dry_run:
        if held.own or held.replies:
            ledger.remember_forgotten(held.digest)
        ledger.reclaim(thorough=True)
    return erased


def _scrubbed(value: Any, needles: list[str]) -> Any:
    """The value with every needle (the address, a name) replaced, whatever its case."""
    if isinstance(value, str):
        folded = value.casefold()
        if not any(n.casefold() in folded for n in needles):
            return value
        for needle in sorted(needles, key=len, reverse=True):
            value = _replace_folded(value, needle)
        return value
    if isinstance(value, dict):
        return {_scrubbed(k, needles): _scrubbed(v, needles) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrubbed(v, needles) for v in value)
    return value


def _replace_folded(text: str, needle: str) -> str:
    folded, wanted = text.casefold(), needle.casefold()
    if len(folded) != len(text):  # casefolding changed lengths (ß): replace exactly
        return text.replace(needle, ERASED)
    out, start = [], 0
    while (at := folded.find(wanted, start)) >= 0:
        out += [text[start:at], ERASED]
        start = at + len(wanted)
    return "".join([*out, text[start:]])


def _outbox_files(outbox: Path | None, needles: list[str]) -> Iterator[Path]:
    if outbox is None or not outbox.is_dir():
        return
    folded = [n.casefold() for n in needles]
    for path in sorted(outbox.glob("*.eml")):
        try:
            mail = read_mail(path.read_bytes())
        except OSError:
            continue
        if folded[0] in mail.addressed or any(n in mail.searchable for n in folded):
            yield path


# -- the outbox's retention -----------------------------------------------------------


def prune_outbox(outbox: Path, before: datetime) -> int:
    """Delete the outbox's mails written before ``before`` (mail.outbox_keep_days)."""
    if not outbox.is_dir():
        return 0
    limit = before.timestamp()
    deleted = 0
    for path in outbox.glob("*.eml"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                deleted += 1
        except FileNotFoundError:
            continue
    if deleted:
        log.info("%d mails older than mail.outbox_keep_days deleted from the outbox", deleted)
    return deleted


def private_file(path: Path, text: str) -> None:
    """Write an export readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)


__all__ = ["DIGEST_PREFIX", "Erased", "address_digest", "export", "forget",
           "holdings", "private_file", "prune_outbox", "read_mail", "relink"]
