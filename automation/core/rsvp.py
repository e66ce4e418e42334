"""Meeting answers (README, "Meeting answers"): which calendar answer counts, and who has
not answered yet.

An invitee's latest answer counts until the meeting moves: an update that changes its
date, start, end or place asks again (Outlook does), so answers to the invitations before
it no longer count. An update that changes something else (the online link) does not,
and neither does a member's late copy of the same invitation. A cancellation ends every
answer: one given before it does not count for the meeting reinstated afterwards, and a
cancelled meeting has no answers at all.

Pure: no I/O, no clock. The calendar history comes from the ledger's invitation and
cancellation payloads (their ``seq`` is the SEQUENCE the .ics carried).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from automation.core.model import LedgerEntry, Meeting, MeetingAnswer, Person

ACCEPTED, DECLINED, TENTATIVE = "accepted", "declined", "tentative"
ANSWERS = (ACCEPTED, DECLINED, TENTATIVE)
# what moves a meeting: a change in any of these asks every invitee again
MOVES = ("date", "start", "end", "location")


@dataclass(frozen=True, slots=True)
class Responses:
    """The invitees by their answer that counts, each in the order they were given."""

    accepted: tuple[Person, ...] = ()
    declined: tuple[Person, ...] = ()
    tentative: tuple[Person, ...] = ()
    missing: tuple[Person, ...] = ()  # sent the invitation, no answer that counts

    def names(self) -> dict[str, list[str]]:
        """The names by answer, as the agenda's payload carries them."""
        return {ACCEPTED: [p.name for p in self.accepted],
                TENTATIVE: [p.name for p in self.tentative],
                DECLINED: [p.name for p in self.declined],
                "missing": [p.name for p in self.missing]}


def invitees(members: Iterable[Person], history: Iterable[LedgerEntry]) -> list[Person]:
    """The members (as the invitation rule picks them) who were sent the invitation."""
    invited = {e.recipient.casefold() for e in history
               if e.kind == "invitation" and e.state == "sent"}
    return [p for p in members if p.email and p.email.casefold() in invited]


def asked_since(history: Iterable[LedgerEntry]) -> int | None:
    """The SEQUENCE from which the meeting's current time and place date: answers to it or
    a later one count. None when no invitation was sent, or the last word was a cancel."""
    steps: dict[int, tuple[bool, dict[str, Any]]] = {}
    for entry in history:
        if entry.kind not in ("invitation", "cancel") or entry.state == "failed":
            continue
        sequence = calendar_sequence(entry)
        # one step per SEQUENCE (a row per recipient); a cancellation wins, as it came later
        if entry.kind == "cancel" or sequence not in steps:
            steps[sequence] = (entry.kind == "cancel", entry.payload)
    since: int | None = None
    place: tuple[str, ...] | None = None
    for sequence in sorted(steps):
        cancelled, payload = steps[sequence]
        if cancelled:
            since, place = None, None
            continue
        where = tuple(str(payload.get(name, "")) for name in MOVES)
        if since is None or where != place:
            since, place = sequence, where
    return since


def calendar_sequence(entry: LedgerEntry) -> int:
    """The SEQUENCE an invitation or cancellation carried (its key's seq in old entries)."""
    value = entry.payload.get("seq")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    tail = entry.key.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def responses(meeting: Meeting, members: Sequence[Person], answers: Iterable[MeetingAnswer],
              history: Iterable[LedgerEntry]) -> Responses:
    """Who has accepted, declined, said maybe, or not answered the meeting's invitation.

    ``members``: the meeting's group as the invitation rule picks them
    (Initiative.members_of); ``history``: the ledger's entries about the meeting.
    Nothing for a cancelled meeting, or one whose invitation was not sent.
    """
    history = list(history)
    since = asked_since(history)
    if meeting.cancelled or since is None:
        return Responses()
    latest: dict[str, tuple[datetime, int, str]] = {}
    for answer in answers:
        if answer.meeting_id != meeting.id or answer.answer not in ANSWERS \
                or answer.sequence < since:
            continue
        who = answer.attendee.casefold()
        ranked = (answer.at, answer.sequence, answer.answer)
        if who not in latest or ranked[:2] > latest[who][:2]:
            latest[who] = ranked
    by_answer: dict[str, list[Person]] = {name: [] for name in (*ANSWERS, "missing")}
    for person in invitees(members, history):
        found = latest.get((person.email or "").casefold())
        by_answer[found[2] if found else "missing"].append(person)
    return Responses(accepted=tuple(by_answer[ACCEPTED]), declined=tuple(by_answer[DECLINED]),
                     tentative=tuple(by_answer[TENTATIVE]), missing=tuple(by_answer["missing"]))
