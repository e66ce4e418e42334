"""What one reply to rygrad's mail does (README, "Replies by mail"): pure.

From the reply as read (`automation.inbox.reading.Reply`), the mail it answers as the
ledger knows it, and the sheet as it is now, `decide` says what happens: the cells to
change (old → new), a meeting answer, or why nothing changes; and what the partner is
told. Nothing here reads a clock, a mailbox or a database.

The rules, in the order they are checked:

1. Automatic mail (out of office, bulk) and mail the trusted server says failed DMARC
   change nothing and get no answer: an answer to automatic mail could start a loop,
   one to a spoofed sender would go to someone who never wrote.
2. A calendar answer counts for a rygrad meeting when its ATTENDEE is the sender and
   an invitee; it gets no answer (the partner pressed a button, not wrote a mail).
3. A written reply counts only from the recipient of the mail it answers (an
   escalation: the chair it went to, or the action's owner).
4. Its own text decides (`automation.core.commands.read_command`); a cell that changed
   since the mail was sent is a conflict, left to the secretariat.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from automation.core import values
from automation.core.commands import Done, FreeText, NewDue, NotUnderstood, Value, read_command
from automation.core.i18n import text
from automation.core.model import (
    Action,
    Change,
    Group,
    Indicator,
    Initiative,
    MeetingAnswer,
    Person,
    SentMail,
)
from automation.core.settings import Settings
from automation.inbox.reading import Reply

ACTION_KINDS = frozenset({"reminder", "overdue", "escalation"})
MEETING_KINDS = frozenset({"invitation", "rsvp"})
# replies to these are kept for the secretariat but never answered
UNANSWERED_KINDS = frozenset({"answer", "digest", "burst"})
PARTSTAT = {"ACCEPTED": "accepted", "DECLINED": "declined", "TENTATIVE": "tentative"}

# decisions that change something, and those the partner is answered for
APPLIED = "applied"
ANSWERED = frozenset({"applied", "conflict", "not_understood", "not_allowed", "unreadable"})


@dataclass(frozen=True)
class Decision:
    """What a reply does. ``reason`` is for the secretariat (the digest, the ledger),
    in the initiative's language; ``told`` is the sentence for the partner, in theirs."""

    decision: str  # applied | conflict | not_understood | not_allowed | automatic |
    #                untrusted | unknown_mail | calendar | unreadable
    kind: str = ""  # action | indicator | meeting | report | "": what the reply is about
    subject_id: str = ""
    reason: str = ""
    changes: tuple[Change, ...] = ()
    meeting_answers: tuple[MeetingAnswer, ...] = ()
    told: str = ""
    replier: Person | None = None  # the partner as People knows them, when found

    @property
    def answered(self) -> bool:
        """Whether the partner gets an answer by mail."""
        return self.decision in ANSWERED and not self.meeting_answers and bool(self.told)


def decide(
    reply: Reply,
    answered: SentMail | None,
    initiative: Initiative,
    settings: Settings,
    meeting_uids: Mapping[str, str],
    received: datetime,
) -> Decision:
    """``meeting_uids``: calendar UID → meeting ID for the sheet's meetings;
    ``received``: when the reply arrived (its Date header, else now)."""
    language = _language(reply, initiative, settings)
    replier = _person(initiative, reply.sender)
    trusted = settings.inbox.trusted_authserv_id if settings.inbox else ""
    if reply.automatic:
        return Decision("automatic", reason=_t(settings, "automatic", why=reply.automatic))
    if trusted and trusted.casefold() in (a.casefold() for a in reply.dmarc_fail_by):
        return Decision("untrusted", reason=_t(settings, "untrusted", server=trusted,
                                                sender=reply.sender))
    if "@" not in reply.sender:
        # nobody to answer, nobody whose cells these could be
        return Decision("unreadable", reason=_t(settings, "unreadable", why="From"))
    if reply.calendar:
        return _calendar(reply, initiative, settings, meeting_uids, received)
    if answered is None:
        return Decision("unknown_mail", reason=_t(settings, "unknown_mail"))
    kind, subject_id = _about(answered)
    if reply.sender not in _allowed(answered, initiative):
        return Decision("not_allowed", kind, subject_id, replier=replier,
                        reason=_t(settings, "not_allowed", sender=reply.sender,
                                  recipient=answered.recipient),
                        told=_t(settings, "told_not_allowed", language))
    if not reply.text.strip():
        return Decision("unreadable", kind, subject_id, replier=replier,
                        reason=_t(settings, "unreadable", why=reply.note or "–"),
                        told=_t(settings, "told_unreadable", language))
    today = received.astimezone(settings.initiative.zone).date()
    answering = {"action": "action", "indicator": "indicator", "report": "report"}.get(kind)
    if answered.kind in UNANSWERED_KINDS:
        # a reply to rygrad's own answer (or to the secretariat's digest) gets none: an
        # auto-responder that marks nothing cannot start a loop with rygrad
        return Decision("not_understood", kind, subject_id, replier=replier,
                        reason=_t(settings, "no_commands", kind=answered.kind))
    if answering is None:
        return Decision("not_understood", kind, subject_id, replier=replier,
                        reason=_t(settings, "no_commands", kind=answered.kind),
                        told=_t(settings, "told_no_commands", language))
    command = read_command(reply.text, answering, settings.rules.done_statuses, today,
                           settings.sheet.date_order, language)
    if isinstance(command, NotUnderstood):
        return Decision("not_understood", kind, subject_id, replier=replier,
                        reason=command.reason, told=command.reason)
    if kind == "action":
        action = initiative.action(subject_id)
        if action is None:
            return _gone(settings, kind, subject_id, language, replier)
        return _on_action(action, command, answered, settings, language, replier)
    if kind == "indicator":
        indicator = initiative.indicator(subject_id)
        if indicator is None:
            return _gone(settings, kind, subject_id, language, replier)
        return _on_indicator(indicator, command, answered, settings, language, replier, today)
    return _on_report(initiative, command, subject_id, settings, language, replier, today)


def _on_action(action: Action, command: object, answered: SentMail, settings: Settings,
               language: str, replier: Person | None) -> Decision:
    def result(decision: str, reason: str, told: str,
               changes: tuple[Change, ...] = ()) -> Decision:
        return Decision(decision, "action", action.id, reason, changes, told=told,
                        replier=replier)

    if isinstance(command, Done):
        if action.done:
            return result(APPLIED, _t(settings, "already_done", id=action.id),
                          _t(settings, "told_already_done", language, id=action.id))
        done = settings.rules.done_statuses[0]
        return result(APPLIED, _t(settings, "done", id=action.id),
                      _t(settings, "told_done", language, id=action.id),
                      (Change("actions", action.id, "status", action.status, done),))
    if isinstance(command, NewDue):
        if action.done:
            return result("conflict", _t(settings, "done_stays_done", id=action.id),
                          _t(settings, "told_conflict", language, id=action.id))
        when_sent = answered.payload.get("due", "")
        now_due = action.due.isoformat() if action.due else ""
        if when_sent != now_due:
            return result("conflict", _t(settings, "due_changed", id=action.id,
                                         then=when_sent or "–", now=now_due or "–"),
                          _t(settings, "told_conflict", language, id=action.id))
        new = sheet_date(command.due, settings.sheet.date_order)
        old = sheet_date(action.due, settings.sheet.date_order) if action.due else ""
        return result(APPLIED, _t(settings, "new_due", id=action.id, due=new),
                      _t(settings, "told_new_due", language, id=action.id,
                         due=_long_date(command.due, language)),
                      (Change("actions", action.id, "due", old, new),))
    return result("not_understood", _t(settings, "not_for_action", id=action.id),
                  _t(settings, "told_not_for_action", language, id=action.id))


def _on_indicator(indicator: Indicator, command: object, answered: SentMail,
                  settings: Settings, language: str, replier: Person | None,
                  today: date) -> Decision:
    def result(decision: str, reason: str, told: str,
               changes: tuple[Change, ...] = ()) -> Decision:
        return Decision(decision, "indicator", indicator.id, reason, changes, told=told,
                        replier=replier)

    if not isinstance(command, Value):
        return result("not_understood", _t(settings, "not_for_indicator", id=indicator.id),
                      _t(settings, "told_not_for_indicator", language, id=indicator.id))
    # the request goes out only while the value is due, so an Opdateret on or after the
    # day it went out is someone's typing since
    sent_on = date.fromisoformat(answered.at[:10])
    if indicator.updated is not None and indicator.updated >= sent_on:
        return result("conflict", _t(settings, "updated_since", id=indicator.id,
                                     updated=indicator.updated.isoformat()),
                      _t(settings, "told_conflict", language, id=indicator.id))
    number = sheet_number(command.value, settings.initiative.language)
    changes = (
        Change("indicators", indicator.id, "current",
               "" if indicator.current is None
               else sheet_number(indicator.current, settings.initiative.language), number),
        Change("indicators", indicator.id, "updated",
               sheet_date(indicator.updated, settings.sheet.date_order)
               if indicator.updated else "", sheet_date(today, settings.sheet.date_order)),
    )
    return result(APPLIED, _t(settings, "value", id=indicator.id, value=number),
                  _t(settings, "told_value", language, id=indicator.id,
                     value=sheet_number(command.value, language)), changes)


def _on_report(initiative: Initiative, command: object, group_name: str, settings: Settings,
               language: str, replier: Person | None, today: date) -> Decision:
    group = initiative.group(group_name)
    if group is None:
        return _gone(settings, "report", group_name, language, replier)
    # read_command has cut the report at about REPORT_LIMIT; the cell holds one line
    status = " ".join(command.text.split()) if isinstance(command, FreeText) else ""
    if not status:
        return Decision("not_understood", "report", group.name, _t(settings, "empty_report"),
                        told=_t(settings, "told_unreadable", language), replier=replier)
    old = getattr(group, "latest_status", "")
    return Decision(APPLIED, "report", group.name, _t(settings, "report", group=group.name),
                    (Change("groups", group.name, "latest_status", old, status),),
                    told=_t(settings, "told_report", language, group=group.name),
                    replier=replier)


def _calendar(reply: Reply, initiative: Initiative, settings: Settings,
              meeting_uids: Mapping[str, str], received: datetime) -> Decision:
    answers = []
    refused = []
    for item in reply.calendar:
        meeting_id = meeting_uids.get(item.uid)
        meeting = initiative.meeting(meeting_id) if meeting_id else None
        answer = PARTSTAT.get(item.partstat.upper())
        if meeting is None or answer is None:
            continue
        invitees = {(p.email or "").casefold() for p in initiative.members_of(meeting.group)}
        attendee = item.attendee.casefold()
        if attendee != reply.sender.casefold() or attendee not in invitees:
            refused.append(meeting.id)
            continue
        answers.append(MeetingAnswer(meeting.id, attendee, answer, item.sequence, received))
    if answers:
        return Decision("calendar", "meeting", answers[0].meeting_id,
                        _t(settings, "calendar", sender=reply.sender,
                           answer=_t(settings, answers[0].answer), id=answers[0].meeting_id),
                        meeting_answers=tuple(answers))
    if refused:
        return Decision("not_allowed", "meeting", refused[0],
                        _t(settings, "calendar_not_invitee", sender=reply.sender,
                           id=refused[0]))
    return Decision("unknown_mail", "meeting", reason=_t(settings, "calendar_unknown"))



def _gone(settings: Settings, kind: str, subject_id: str, language: str,
          replier: Person | None) -> Decision:
    return Decision("conflict", kind, subject_id, _t(settings, "gone", id=subject_id),
                    told=_t(settings, "told_conflict", language, id=subject_id),
                    replier=replier)


def _about(answered: SentMail) -> tuple[str, str]:
    if answered.kind in ACTION_KINDS:
        return "action", answered.subject_id
    if answered.kind in MEETING_KINDS:
        return "meeting", answered.subject_id
    if answered.kind == "report":
        # report:{meeting}:{group}: the group whose status it asks for
        return "report", answered.key.split(":", 2)[2] if answered.key.count(":") >= 2 \
            else answered.subject_id
    if answered.kind == "indicator":
        return "indicator", answered.subject_id
    return answered.kind, answered.subject_id


def _allowed(answered: SentMail, initiative: Initiative) -> set[str]:
    allowed = {answered.recipient.casefold()}
    if answered.kind == "escalation":
        action = initiative.action(answered.subject_id)
        if action and action.owner and action.owner.email:
            allowed.add(action.owner.email.casefold())
    return allowed


def _person(initiative: Initiative, address: str) -> Person | None:
    wanted = address.casefold()
    return next((p for p in initiative.people if (p.email or "").casefold() == wanted), None)


def _language(reply: Reply, initiative: Initiative, settings: Settings) -> str:
    person = _person(initiative, reply.sender)
    if person is not None:
        return "en" if person.language.startswith("en") else "da"
    if reply.language in ("da", "en"):
        return reply.language
    return "en" if settings.initiative.language.startswith("en") else "da"


def sheet_date(day: date | None, order: str) -> str:
    """A date as rygrad writes it into a partner's cell: the sheet's own order."""
    if day is None:
        return ""
    if order == "ymd":
        return day.isoformat()
    if order == "mdy":
        return f"{day.month}/{day.day}/{day.year}"
    return f"{day.day}.{day.month}.{day.year}"


def sheet_number(number: float, language: str) -> str:
    text = f"{number:.10g}"
    return text.replace(".", ",") if not language.startswith("en") else text


def _long_date(day: date, language: str) -> str:
    from automation.mail.formatting import long_date  # babel, for the partner's answer
    return long_date(day, language)


def _t(settings: Settings, name: str, language: str = "", **fields: object) -> str:
    """A text of the i18n catalogue's ``inbox_`` entries: for the secretariat in the
    initiative's language, or (``language``) for the partner in theirs."""
    lang = "en" if (language or settings.initiative.language).startswith("en") else "da"
    return text(lang, f"inbox_{name}", **fields)




def still_applies(change: Change, initiative: Initiative, order: str) -> str | None:
    """Whether a recorded change is still to be written: "write" when the cell still
    holds the old value, "" when it already holds the new one, None when a partner
    changed it since (their later typing wins)."""
    current = _current(change, initiative)
    if current is None:
        return None
    if _same(change.column, current, change.new, order):
        return ""
    if _same(change.column, current, change.old, order):
        return "write"
    return None


def row_of(initiative: Initiative, change: Change) -> Action | Indicator | Group | None:
    """The row a change is about, found by its ID in the sheet as parsed."""
    finders = {"actions": initiative.action, "indicators": initiative.indicator,
               "groups": initiative.group}
    find = finders.get(change.tab)
    return find(change.row_id) if find else None


def _current(change: Change, initiative: Initiative) -> str | None:
    row = row_of(initiative, change)
    if isinstance(row, Action):
        return {"status": row.status,
                "due": row.due.isoformat() if row.due else ""}.get(change.column)
    if isinstance(row, Indicator):
        if change.column == "current":
            return "" if row.current is None else repr(row.current)
        if change.column == "updated":
            return row.updated.isoformat() if row.updated else ""
        return None
    if isinstance(row, Group):
        return str(getattr(row, change.column, ""))
    return None


def _same(column: str, current: str, written: str, order: str) -> bool:
    """``current`` as `_current` gives it; ``written`` as rygrad wrote or found it."""
    if column in ("due", "updated"):
        try:
            day = values.parse_date(written, order) if written else None
        except ValueError:
            return False
        return (day.isoformat() if day else "") == current
    if column == "current":
        try:
            number = values.parse_number(written) if written else None
        except ValueError:
            return False
        if number is None or not current:
            return number is None and not current
        return abs(float(current) - number) < 1e-9
    return " ".join(current.split()).casefold() == " ".join(written.split()).casefold()
