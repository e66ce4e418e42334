"""The rules of README, "The rules": (initiative, ledger history, now) → messages due.

Level-triggered and pure: everything due now and not yet in the ledger is
planned, so a cycle after downtime catches up and a repeated cycle plans nothing
new. No I/O, no clock: ``now`` is a parameter.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from automation.core import reports, rsvp
from automation.core.indicators import BEHIND, NO_DATA, assess, next_update
from automation.core.model import (
    Action,
    Indicator,
    Initiative,
    LedgerEntry,
    Meeting,
    MeetingAnswer,
    Message,
    Person,
    Recipient,
)
from automation.core.payloads import (
    AgendaPayload,
    DigestPayload,
    EscalationPayload,
    IndicatorPayload,
    InvitationPayload,
    MeetingDetails,
    OverduePayload,
    ReminderPayload,
    RsvpPayload,
)
from automation.core.settings import Settings

# A ledger entry in one of these states counts as "already sent" for planning:
# "sending" is uncertain (resent only on request), "failed" is permanent.
SETTLED = ("sending", "sent", "failed")
DIGEST_LOOKAHEAD_DAYS = 14
MINUTES_GRACE_DAYS = 2
# an invitation younger than this has not been left unanswered yet: no reminder about it
RSVP_ANSWER_TIME = timedelta(days=1)


@dataclass
class Plan:
    messages: list[Message] = field(default_factory=list)


class History:
    """The ledger, indexed the ways the rules ask about it."""

    def __init__(self, entries: Iterable[LedgerEntry]) -> None:
        self.entries = [e for e in entries if e.state in SETTLED]
        self.keys: set[tuple[str, str]] = set()
        self.by_key: dict[str, list[LedgerEntry]] = defaultdict(list)
        self.by_subject: dict[tuple[str, str], list[LedgerEntry]] = defaultdict(list)
        for entry in self.entries:
            self.keys.add((entry.key, entry.recipient.casefold()))
            self.by_key[entry.key].append(entry)
            self.by_subject[(entry.kind, entry.subject_id)].append(entry)

    def has(self, key: str, recipient: str) -> bool:
        return (key, recipient.casefold()) in self.keys

    def about(self, kind: str, subject_id: str, prefix: str = "") -> list[LedgerEntry]:
        return [e for e in self.by_subject.get((kind, subject_id), ()) if e.key.startswith(prefix)]


def digest_payload(initiative: Initiative, entries: list[LedgerEntry], now: datetime,
                   settings: Settings, key: str) -> DigestPayload:
    """What the weekly digest shows as of ``now`` (for the cycle that completes it with
    what it just sent, and for send-test's sample): the planner's view, as a function."""
    return DueRules(initiative, History(entries), now, settings).digest_payload(key, entries)


def plan(
    initiative: Initiative,
    entries: Iterable[LedgerEntry],
    now: datetime,
    settings: Settings,
    answers: Sequence[MeetingAnswer] | None = None,
) -> Plan:
    """Everything due now and not yet sent.

    ``answers``: the meeting answers read from the mailbox (README, "Meeting answers");
    None when no ``[inbox]`` is configured: then nothing depends on answers.
    """
    history = History(entries)
    rules = DueRules(initiative, history, now, settings, answers)
    result = Plan()
    for meeting in initiative.meetings:
        result.messages += rules.meeting_messages(meeting)
    for action in initiative.actions:
        result.messages += rules.action_messages(action)
    for indicator in initiative.indicators:
        result.messages += rules.indicator_messages(indicator)
    result.messages += reports.report_requests(initiative, rules.today, settings, history.has)
    result.messages += rules.digest(list(entries))
    return result


class DueRules:
    """One cycle's view: the rules applied to each row at a fixed moment."""

    def __init__(
        self, initiative: Initiative, history: History, now: datetime, settings: Settings,
        answers: Sequence[MeetingAnswer] | None = None,
    ) -> None:
        self.initiative = initiative
        # meeting id → its answers; None when answers are not tracked (no [inbox])
        self.answers: dict[str, list[MeetingAnswer]] | None = None
        if answers is not None:
            self.answers = defaultdict(list)
            for answer in answers:
                self.answers[answer.meeting_id].append(answer)
        self.history = history
        self.settings = settings
        self.rules = settings.rules
        self.zone = settings.initiative.zone
        self.now = now.astimezone(self.zone)
        self.today = self.now.date()

    # -- meetings --------------------------------------------------------------

    def meeting_messages(self, meeting: Meeting) -> list[Message]:
        people = self.initiative.members_of(meeting.group)
        members = [self.recipient(p) for p in people]
        days_until = (meeting.date - self.today).days
        messages = self.invitations(meeting, members, days_until)
        if meeting.cancelled:
            return messages
        if not messages:  # an invitation going out now may ask again: remind next cycle
            messages += self.rsvp_reminders(meeting, people, days_until)
        if meeting.agenda and 0 <= days_until <= self.rules.agenda_days_before:
            agenda = AgendaPayload()
            if self.answers is not None:  # who comes, as the answers say after this cycle
                agenda["answers"] = self.responses(meeting, people, messages).names()
            messages += self.once(f"agenda:{meeting.id}", "agenda", meeting.id, members,
                                  dict(agenda))
        days_since = -days_until
        if (
            meeting.minutes
            and self.rules.followup_days_after <= days_since <= self.rules.followup_max_days
        ):
            messages += self.once(f"followup:{meeting.id}", "followup", meeting.id, members)
        return messages

    def invitations(
        self, meeting: Meeting, members: list[Recipient], days_until: int
    ) -> list[Message]:
        sent = self.history.about("invitation", meeting.id)
        details = invitation_details(meeting)
        if not sent:
            if (
                meeting.cancelled
                or meeting.start is None
                or not 0 <= days_until <= self.rules.invite_days_before
            ):
                return []
            return self.invitation_series(meeting, members, 0, 0, details)
        last_seq = max(key_seq(e.key) for e in sent)
        last = [e for e in sent if key_seq(e.key) == last_seq]
        cancels = self.history.about("cancel", meeting.id)
        ics_sequence = max(int(e.payload.get("seq", key_seq(e.key))) for e in sent + cancels)
        if meeting.cancelled:
            if cancels or days_until < 0:
                return []
            invited = sorted({e.recipient for e in sent if e.state != "failed"})
            carried = dict(last[0].payload, seq=ics_sequence + 1)
            carried.pop("previous", None)
            if meeting.cancel_reason:
                carried["reason"] = meeting.cancel_reason
            by_address = {m.email.casefold(): m for m in members}
            return [
                Message(
                    "cancel", f"cancel:{meeting.id}",
                    by_address.get(address.casefold()) or self.stranger(address),
                    meeting.id, payload=carried,
                )
                for address in invited
            ]
        if days_until < 0 or meeting.start is None:
            return []
        reinstated = bool(cancels) and max(e.at for e in cancels) > max(e.at for e in last)
        changed = reinstated or carried_details(last[0].payload) != details
        if changed:
            series = self.invitation_series(meeting, members, last_seq + 1, ics_sequence + 1,
                                            details, carried_details(last[0].payload))
            for message in series if reinstated else ():
                message.payload["reinstated"] = True  # held after all, not moved
            return series
        # unchanged: members added since get the current invitation, worded as the others
        # got it (what changed since the one before)
        sequence = int(last[0].payload.get("seq", last_seq))
        earlier = [e for e in sent if key_seq(e.key) < last_seq]
        previous = carried_details(max(earlier, key=lambda e: key_seq(e.key)).payload) \
            if earlier else None
        return self.invitation_series(meeting, members, last_seq, sequence, details, previous)

    def invitation_series(
        self,
        meeting: Meeting,
        members: list[Recipient],
        seq: int,
        ics_sequence: int,
        details: MeetingDetails,
        previous: dict[str, str] | None = None,
    ) -> list[Message]:
        """``previous``: what the invitation before this one carried, so that an update can
        name what changed (old → new)."""
        payload = InvitationPayload(**details, seq=ics_sequence, update=seq > 0)
        if seq > 0 and previous is not None:
            payload["previous"] = previous
        return self.once(f"invitation:{meeting.id}:{seq}", "invitation", meeting.id, members,
                         dict(payload))

    def calendar(self, meeting: Meeting) -> list[LedgerEntry]:
        """The meeting's invitations and cancellations, as the ledger has them."""
        return self.history.about("invitation", meeting.id) + \
            self.history.about("cancel", meeting.id)

    def responses(self, meeting: Meeting, people: list[Person],
                  planned: Iterable[Message] = ()) -> rsvp.Responses:
        """``planned``: this cycle's invitations too (an update that moves the meeting asks
        everyone again, an agenda going out with it must not count the old answers)."""
        answers = self.answers.get(meeting.id, []) if self.answers is not None else []
        calendar = self.calendar(meeting) + [
            LedgerEntry(m.key, m.recipient.email, m.kind, m.subject_id, "sent", self.now,
                        m.payload) for m in planned if m.kind in ("invitation", "cancel")]
        return rsvp.responses(meeting, people, answers, calendar)

    def rsvp_reminders(
        self, meeting: Meeting, people: list[Person], days_until: int
    ) -> list[Message]:
        """One reminder per (meeting, SEQUENCE asked) to each invitee who has not answered,
        ``rsvp_reminder_days_before`` days before; only when answers are tracked, and not
        about an invitation too recent to have been answered."""
        if self.answers is None or not 0 < days_until <= self.rules.rsvp_reminder_days_before:
            return []
        calendar = self.calendar(meeting)
        since = rsvp.asked_since(calendar)
        if since is None:
            return []
        key = f"rsvp:{meeting.id}:{since}"
        messages = []
        for person in self.responses(meeting, people).missing:
            address = (person.email or "").casefold()
            asked = [e.at for e in calendar
                     if e.kind == "invitation" and e.state == "sent"
                     and e.recipient.casefold() == address
                     and rsvp.calendar_sequence(e) >= since]
            if not asked or self.now - min(asked) < RSVP_ANSWER_TIME:
                continue
            payload = RsvpPayload(seq=since, days_left=days_until,
                                  invited=min(asked).astimezone(self.zone).date().isoformat())
            messages += self.once(key, "rsvp", meeting.id, [self.recipient(person)],
                                  dict(payload))
        return messages

    # -- actions ---------------------------------------------------------------

    def action_messages(self, action: Action) -> list[Message]:
        if action.done or action.due is None:
            return []
        days_until = (action.due - self.today).days
        due = action.due.isoformat()
        owner = self.recipient(action.owner) if action.owner and action.owner.email else None
        messages: list[Message] = []
        if owner and 0 < days_until <= self.rules.remind_days_before_due:
            messages += self.once(f"reminder:{action.id}:{due}", "reminder", action.id, [owner],
                                  dict(ReminderPayload(due=due, days_left=days_until)))
        overdue = -days_until
        if overdue <= 0:
            return messages
        if owner:
            prefix = f"overdue:{action.id}:{due}:"
            n = self.repeat_number(self.history.about("overdue", action.id, prefix))
            if n:
                messages.append(Message(
                    "overdue", f"{prefix}{n}", owner, action.id,
                    payload=dict(OverduePayload(due=due, days_overdue=overdue, n=n)),
                ))
        if overdue >= self.rules.escalate_after_days:
            key = f"escalation:{action.id}:{due}"
            if not self.history.by_key.get(key):
                noticed_now = any(m.kind == "overdue" for m in messages)
                messages.append(self.escalation(action, key, owner, overdue, noticed_now))
        return messages

    def escalation(
        self, action: Action, key: str, owner: Recipient | None, overdue: int,
        noticed_now: bool = False,
    ) -> Message:
        group = self.initiative.group(action.group)
        chair = group.chair if group and group.chair and group.chair.email else None
        is_owner = chair is not None and owner is not None and (
            chair.email or "").casefold() == owner.email.casefold()
        due = action.due.isoformat() if action.due else ""
        # the overdue notices the owner was sent, so the chair hears what was already done
        notices = sorted(e.at.astimezone(self.zone).date().isoformat() for e in
                         self.history.about("overdue", action.id, f"overdue:{action.id}:{due}:")
                         if e.state == "sent")
        if noticed_now:  # the notice that goes out in this cycle, with the escalation
            notices.append(self.today.isoformat())
        to_secretariat = chair is None or is_owner
        payload = EscalationPayload(
            due=due, days_overdue=overdue,
            owner=action.owner.name if action.owner else action.owner_text,
            notices=notices, reason="secretariat" if to_secretariat else "chair")
        # a status note to whoever can help, not a copy to the owner, who has had the
        # notices already: an escalation with the owner in Cc reads as a public rebuke
        recipient = self.secretariat() if to_secretariat or chair is None \
            else self.recipient(chair)
        return Message("escalation", key, recipient, action.id, payload=dict(payload))

    # -- indicators ------------------------------------------------------------

    def indicator_messages(self, indicator: Indicator) -> list[Message]:
        owner = indicator.owner
        if owner is None or not owner.email:
            return []
        due = next_update(indicator)
        days_until = (due - self.today).days if due else 0
        if days_until > self.rules.indicator_remind_days_before:
            return []
        prefix = f"indicator:{indicator.id}:{due.isoformat() if due else 'none'}:"
        earlier = self.history.about("indicator", indicator.id, prefix)
        if earlier and days_until >= 0 and due is not None:
            return []  # asked once before the date; again only once it is overdue
        n = self.repeat_number(earlier)
        if not n:
            return []
        return [Message(
            "indicator", f"{prefix}{n}", self.recipient(owner), indicator.id,
            payload=dict(IndicatorPayload(next_update=due.isoformat() if due else None, n=n)),
        )]

    # -- digest ----------------------------------------------------------------

    def digest(self, entries: list[LedgerEntry]) -> list[Message]:
        schedule = self.settings.schedule
        monday = self.today - timedelta(days=self.today.weekday())
        start = datetime.combine(
            monday + timedelta(days=schedule.digest_weekday), schedule.digest_time, self.zone
        )
        iso = self.today.isocalendar()
        key = f"digest:{iso.year}-W{iso.week:02}"
        if self.now < start or self.history.by_key.get(key):
            return []
        return [Message("digest", key, self.secretariat(), "",
                        payload=dict(self.digest_payload(key, entries)))]

    def digest_payload(self, key: str, entries: list[LedgerEntry]) -> DigestPayload:
        initiative, today = self.initiative, self.today
        soon = [m for m in initiative.meetings
                if not m.cancelled and 0 <= (m.date - today).days <= DIGEST_LOOKAHEAD_DAYS]
        sent_times = latest_sent(self.history.entries)
        payload: DigestPayload = {
            "week": key.split(":", 1)[1],
            "overdue_actions": [a.id for a in initiative.actions
                                if not a.done and a.due and a.due < today],
            "upcoming_meetings": [
                {"id": m.id, "sent": {kind: self.local_text(sent_times.get((kind, m.id)))
                                      for kind in ("invitation", "agenda", "followup")}}
                for m in sorted(soon, key=lambda m: (m.date, m.start or time()))
            ],
            "missing_agendas": [m.id for m in soon if not m.agenda
                                and (m.date - today).days <= self.rules.agenda_days_before],
            "missing_minutes": [
                m.id for m in initiative.meetings
                if not m.cancelled and not m.minutes
                and MINUTES_GRACE_DAYS <= (today - m.date).days <= self.rules.followup_max_days
            ],
            "indicators": [
                {"id": i.id, "assessment": a} for i in initiative.indicators
                if (a := assess(i, today, self.rules)) in (BEHIND, NO_DATA)
            ],
            # and Målinger's own warnings (the tab or a column missing): nothing else says
            # that the history is not kept
            "problems": [str(p) for p in initiative.problems if p.severity == "error"
                         or (p.tab_key == "measurements" and not p.cell)],
            "failed": [{"key": e.key, "recipient": e.recipient, "error": e.error}
                       for e in entries if e.state == "failed"],
            "uncertain": [{"key": e.key, "recipient": e.recipient}
                          for e in entries if e.state == "sending"],
            # refused for now (4xx, a lost connection): tried again next cycle
            "retrying": [{"key": e.key, "recipient": e.recipient, "error": e.error}
                         for e in entries if e.state == "retry"],
            "held": {"window": 0, "cap": 0},
        }
        return payload

    # -- helpers ---------------------------------------------------------------

    def once(
        self,
        key: str,
        kind: str,
        subject_id: str,
        recipients: list[Recipient],
        payload: dict[str, Any] | None = None,
    ) -> list[Message]:
        """The message to every recipient who has not had this key yet."""
        return [
            Message(kind, key, r, subject_id, payload=dict(payload or {}))
            for r in recipients
            if not self.history.has(key, r.email)
        ]

    def repeat_number(self, earlier: list[LedgerEntry]) -> int:
        """n for the next repeat, or 0 while the last one is too recent."""
        if not earlier:
            return 1
        last = max(e.at for e in earlier).astimezone(self.zone).date()
        if (self.today - last).days < self.rules.overdue_repeat_days:
            return 0
        return max(key_seq(e.key) for e in earlier) + 1

    def recipient(self, person: Person) -> Recipient:
        assert person.email
        return Recipient(person.name, person.email, person.language)

    def secretariat(self) -> Recipient:
        return secretariat(self.settings)

    def stranger(self, address: str) -> Recipient:
        """Someone who had the invitation but has left the group: still gets the cancel."""
        person = next((p for p in self.initiative.people
                       if p.email and p.email.casefold() == address.casefold()), None)
        if person:
            return self.recipient(person)
        return Recipient(address, address, self.settings.initiative.language)

    def local_text(self, moment: datetime | None) -> str:
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def secretariat(settings: Settings) -> Recipient:
    """The secretariat as a recipient: digests, alerts, escalations without a chair."""
    initiative = settings.initiative
    return Recipient(initiative.secretariat_name, initiative.secretariat_email,
                     initiative.language)


DETAILS = ("date", "start", "end", "location", "link")


def invitation_details(meeting: Meeting) -> MeetingDetails:
    """What an invitation carries; a change in any of these sends an update.

    The online link only when there is one: invitations recorded before the Link
    column existed carry none, and an absent link equals an empty one.
    """
    details = MeetingDetails(
        date=meeting.date.isoformat(),
        start=meeting.start.strftime("%H:%M") if meeting.start else "",
        end=meeting.end.strftime("%H:%M") if meeting.end else "",
        location=meeting.location,
    )
    if meeting.link:
        details["link"] = meeting.link
    return details


def carried_details(payload: dict[str, Any]) -> dict[str, str]:
    """The details an invitation's payload carried, in invitation_details' form."""
    return {name: str(payload[name]) for name in DETAILS
            if name in payload and (name != "link" or payload[name])}


def key_seq(key: str) -> int:
    """The trailing number of a key like ``invitation:M-1:2`` or ``overdue:A:d:3``."""
    tail = key.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def latest_sent(entries: Iterable[LedgerEntry]) -> dict[tuple[str, str], datetime]:
    """(kind, subject id) → when the last message of that kind about it was sent."""
    latest: dict[tuple[str, str], datetime] = {}
    for entry in entries:
        slot = (entry.kind, entry.subject_id)
        if entry.state == "sent" and (slot not in latest or entry.at > latest[slot]):
            latest[slot] = entry.at
    return latest
