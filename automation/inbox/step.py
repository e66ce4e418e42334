"""The cycle's inbound step (README, "Replies by mail"): read the replies to rygrad's
mails, decide each once, record it in the ledger, and hand the cycle what follows.

It runs before planning, so an action marked done by reply gets no overdue notice in
the same cycle. A mailbox that cannot be read (connection, login, folder) stops only
this step: the cycle goes on with the sheet and mail and says what happened.

Each reply is handled once, keyed by its Message-ID in the ledger, whatever the
mailbox's flags say; the keyword ``$rygrad`` only helps people see what rygrad read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from automation.core import values
from automation.core.measurements import mail_source
from automation.core.model import (
    CellUpdate,
    Change,
    Initiative,
    Measurement,
    MeetingAnswer,
    Message,
    Recipient,
    ReplyRecord,
    SentMail,
)
from automation.core.reports import status_received_updates
from automation.core.settings import Settings
from automation.errors import RygradError
from automation.inbox.decide import Decision, decide, row_of, still_applies
from automation.inbox.reading import read_reply
from automation.mail.ics import event_uid

log = logging.getLogger(__name__)

ANSWER_KIND = "answer"


class Header(Protocol):
    uid: int
    message_id: str
    answers: tuple[str, ...]
    calendar: bool
    size: int


class MailboxLike(Protocol):
    round_trips: int

    def headers(self, since: date | None = None) -> Sequence[Header]: ...
    def bodies(self, uids: Sequence[int]) -> Iterator[tuple[int, bytes]]: ...
    def mark_handled(self, uids: Sequence[int]) -> bool: ...


class RepliesLedger(Protocol):
    def sent_mail(self, message_ids: Sequence[str]) -> dict[str, SentMail]: ...
    def replies_known(self, message_ids: Sequence[str]) -> set[str]: ...
    def record_reply(self, record: ReplyRecord) -> bool: ...
    def replies(self, since: datetime | None = None) -> list[ReplyRecord]: ...
    def has_key(self, key: str) -> bool: ...


@dataclass
class InboxOutcome:
    """What the step did, for the cycle's summary and `status`."""

    read: int = 0  # messages in the folder looked at
    handled: int = 0  # replies decided this cycle
    applied: int = 0
    not_applied: int = 0
    calendar: int = 0
    marked: bool | None = None  # False: the server takes no keywords
    error: str = ""  # one sentence when the mailbox could not be read
    round_trips: int = 0

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass
class Inbound:
    """What the cycle takes from the step: the sheet as the replies leave it, the
    changes still to write and the meeting answers so far."""

    initiative: Initiative
    changes: list[Change] = field(default_factory=list)
    meeting_answers: list[MeetingAnswer] = field(default_factory=list)
    # values from replies, for Målinger (Kilde »mail fra Sofie Holm«)
    measurements: list[Measurement] = field(default_factory=list)
    # group name → the day its chair's status came by reply (Grupper's Status modtaget)
    status_received: dict[str, date] = field(default_factory=dict)
    outcome: InboxOutcome = field(default_factory=InboxOutcome)
    records: Sequence[ReplyRecord] = ()  # the replies of inbox.days, oldest first

    def answers(self, ledger: RepliesLedger, settings: Settings) -> list[Message]:
        """The answers still to send: one per reply that tells its sender something and
        has no delivery yet (asked only by the cycle that sends, not by the write-back)."""
        return [answer_message(record, settings) for record in self.records
                if record.payload.get("told") and not ledger.has_key(answer_key(record))]

    def updates(self, read: Initiative) -> list[CellUpdate]:
        """The partners' cells to write, placed on the rows of the sheet as read, and
        the Status modtaget of the groups whose status came by reply."""
        found = status_received_updates(read, self.status_received)
        for change in self.changes:
            row = row_of(read, change)
            if row is not None:
                found.append(CellUpdate(change.tab, row.row, change.row_id, change.column,
                                        change.new, change.old, _number(change)))
        return found


def read_inbox(
    settings: Settings,
    ledger: RepliesLedger,
    initiative: Initiative,
    now: datetime,
    open_mailbox: Callable[[], AbstractContextManager[MailboxLike]] | None,
) -> Inbound:
    """Handle new replies (``open_mailbox`` None: only what the ledger holds), then
    work out from the ledger what the replies mean for this cycle."""
    outcome = InboxOutcome()
    if open_mailbox is not None and settings.inbox is not None:
        try:
            with open_mailbox() as box:
                try:
                    _handle_new(settings, ledger, initiative, now, box, outcome)
                finally:
                    outcome.round_trips = box.round_trips
        except RygradError as err:
            outcome.error = str(err)
            log.warning("inbox: %s", err)
        except OSError as err:  # a socket error the adapter did not name
            outcome.error = f"the mailbox could not be read ({err})"
            log.warning("inbox: %s", outcome.error)
    since = now - timedelta(days=settings.inbox.days if settings.inbox else 60)
    records = ledger.replies(since)
    return _inbound(settings, initiative, records, outcome)


def _handle_new(settings: Settings, ledger: RepliesLedger, initiative: Initiative,
                now: datetime, box: MailboxLike, outcome: InboxOutcome) -> None:
    assert settings.inbox is not None
    since = (now - timedelta(days=settings.inbox.days)).date()
    headers = list(box.headers(since))
    outcome.read = len(headers)
    known = ledger.replies_known([h.message_id for h in headers if h.message_id])
    fresh = [h for h in headers if not h.message_id or h.message_id not in known]
    sent = ledger.sent_mail(sorted({i for h in fresh for i in h.answers}))
    # only our replies: naming a mail rygrad sent, or perhaps a calendar answer
    wanted = {h.uid: h for h in fresh if h.calendar or any(i in sent for i in h.answers)}
    uids = _meeting_uids(settings, initiative)
    handled: list[int] = []
    seen: set[str] = set()
    for uid, raw in box.bodies(sorted(wanted)):
        reply = read_reply(raw, settings.inbox.max_message_bytes)
        message_id = reply.message_id or _made_id(raw)
        if message_id in known or message_id in seen:
            continue
        answered = next((sent[i] for i in reply.answers if i in sent), None)
        if answered is None:
            answered = next((sent[i] for i in wanted[uid].answers if i in sent), None)
        ours_calendar = any(c.uid in uids for c in reply.calendar)
        if answered is None and not ours_calendar:
            continue  # not a reply to rygrad: not touched, not marked
        # the Date header is the sender's to write: never later than now (Opdateret)
        received = min(reply.date, now) if reply.date else now
        decision = decide(reply, answered, initiative, settings, uids, received)
        record = _record(message_id, reply.sender, reply.sender_name, reply.subject,
                         answered, decision, now)
        if ledger.record_reply(record):
            outcome.handled += 1
            outcome.applied += decision.decision == "applied"
            outcome.calendar += decision.decision == "calendar"
            outcome.not_applied += decision.decision not in ("applied", "calendar")
            log.info("reply %s: %s", message_id, decision.decision)
        seen.add(message_id)
        handled.append(uid)
    if handled:
        outcome.marked = box.mark_handled(handled)


def _record(message_id: str, sender: str, sender_name: str, subject: str,
            answered: SentMail | None, decision: Decision, now: datetime) -> ReplyRecord:
    replier = decision.replier
    payload: dict[str, Any] = {
        "subject": subject,
        "name": replier.name if replier else sender_name,
        "language": replier.language if replier else "",
        "told": decision.told if decision.answered else "",
        "answered_message_id": answered.message_id if answered else "",
        "meeting_answers": [
            {"meeting_id": a.meeting_id, "attendee": a.attendee, "answer": a.answer,
             "sequence": a.sequence, "at": a.at.isoformat()}
            for a in decision.meeting_answers],
    }
    return ReplyRecord(message_id, sender, answered.key if answered else "", decision.kind,
                       decision.subject_id, decision.decision, decision.reason,
                       decision.changes, now, payload)


def _inbound(settings: Settings, initiative: Initiative,
             records: Sequence[ReplyRecord], outcome: InboxOutcome) -> Inbound:
    inbound = Inbound(initiative, outcome=outcome, records=records)
    order = settings.sheet.date_order
    for record in records:
        if record.decision == "applied":
            for change in record.changes:
                if still_applies(change, initiative, order) == "write":
                    inbound.changes.append(change)
            if record.kind == "indicator":
                inbound.measurements += _measurement(record, settings)
            if record.kind == "report":
                inbound.status_received[record.subject_id] = \
                    record.at.astimezone(settings.initiative.zone).date()
        for item in record.payload.get("meeting_answers", ()):
            inbound.meeting_answers.append(MeetingAnswer(
                item["meeting_id"], item["attendee"], item["answer"], int(item["sequence"]),
                datetime.fromisoformat(item["at"])))
    inbound.initiative = with_changes(initiative, inbound.changes, order)
    return inbound


def _measurement(record: ReplyRecord, settings: Settings) -> list[Measurement]:
    cells = {c.column: c.new for c in record.changes}
    try:
        value = values.parse_number(cells.get("current", ""))
        day = values.parse_date(cells.get("updated", ""), settings.sheet.date_order)
    except ValueError:
        return []
    if value is None or day is None:
        return []
    language = "en" if settings.initiative.language.startswith("en") else "da"
    name = record.payload.get("name") or record.sender
    return [Measurement(0, record.subject_id, day, value, mail_source(name, language))]


def _number(change: Change) -> float | None:
    """A value from a reply goes into Aktuel værdi as a number, as a partner types it."""
    if (change.tab, change.column) != ("indicators", "current"):
        return None
    try:
        return values.parse_number(change.new)
    except ValueError:
        return None


def answer_key(record: ReplyRecord) -> str:
    return f"{ANSWER_KIND}:{record.message_id}"


def answer_message(record: ReplyRecord, settings: Settings) -> Message:
    """The answer to one reply, in the partner's language, threaded under it."""
    language = record.payload.get("language") or settings.initiative.language
    recipient = Recipient(record.payload.get("name", ""), record.sender, language)
    return Message(ANSWER_KIND, answer_key(record), recipient, record.subject_id, payload={
        "in_reply_to": record.message_id,
        "subject": record.payload.get("subject", ""),
        "applied": record.decision == "applied",
        "told": record.payload.get("told", ""),
        "name": record.payload.get("name", ""),
    })


def with_changes(initiative: Initiative, changes: Sequence[Change], order: str) -> Initiative:
    """The initiative as it will be once the changes are written: what planning sees."""
    if not changes:
        return initiative
    by_row: dict[tuple[str, str], dict[str, str]] = {}
    for change in changes:
        by_row.setdefault((change.tab, change.row_id), {})[change.column] = change.new
    actions = []
    for action in initiative.actions:
        cells = by_row.get(("actions", action.id))
        if cells:
            if "status" in cells:
                action = dataclasses.replace(action, status=cells["status"], done=True)
            if "due" in cells:
                action = dataclasses.replace(action, due=values.parse_date(cells["due"], order))
        actions.append(action)
    indicators = []
    for indicator in initiative.indicators:
        cells = by_row.get(("indicators", indicator.id))
        if cells:
            indicator = dataclasses.replace(
                indicator,
                current=values.parse_number(cells["current"]) if "current" in cells
                else indicator.current,
                updated=values.parse_date(cells["updated"], order) if "updated" in cells
                else indicator.updated)
        indicators.append(indicator)
    groups = {}
    for name, group in initiative.groups.items():
        cells = by_row.get(("groups", group.name))
        if cells and "latest_status" in cells:
            group = dataclasses.replace(group, latest_status=cells["latest_status"])
        groups[name] = group
    changed = dataclasses.replace(initiative, actions=actions, indicators=indicators,
                                  groups=groups)
    changed._index = {}
    return changed


def _meeting_uids(settings: Settings, initiative: Initiative) -> dict[str, str]:
    domain = settings.initiative.secretariat_email.rpartition("@")[2]
    return {event_uid(settings.initiative.name, m.id, domain): m.id
            for m in initiative.meetings}


def _made_id(raw: bytes) -> str:
    """A reply without a Message-ID is still handled once: keyed by its bytes."""
    return f"<{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id>"


def digest_replies(records: Sequence[ReplyRecord], error: str) -> dict[str, Any]:
    """The digest's »Opdateret fra mails« and »Svar, som rygrad ikke brugte«."""
    applied, unused = [], []
    for record in records:
        who = record.payload.get("name") or record.sender
        if record.decision == "applied":
            applied.append({"who": who, "what": record.subject_id, "changes": [
                {"column": c.column, "old": c.old, "new": c.new} for c in record.changes]})
        elif record.decision not in ("calendar",):
            unused.append({"who": f"{who} <{record.sender}>" if who != record.sender
                           else who, "what": record.subject_id, "why": record.reason})
    return {"applied": applied, "unused": unused, "error": error}
