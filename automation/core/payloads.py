"""What each kind of message carries beyond the sheet (its payload), one TypedDict per
kind, registered with the kind (automation/core/kinds.py).

The payload is stored with the ledger row, read back for the calendar history, and
given to the templates; its keys are a contract between the planner and the templates.
mypy checks the payloads the planner builds; tests/test_kinds.py checks every message
the planner and `send-test` make against its kind's TypedDict.
"""

# no `from __future__ import annotations`: TypedDict reads NotRequired from the real
# annotations, not from strings (Python 3.11)
from typing import Any, NotRequired, TypedDict


class MeetingDetails(TypedDict):
    """What an invitation carries; a change in any of these sends an update."""

    date: str  # ISO date
    start: str  # HH:MM, "" when not given
    end: str
    location: str
    link: NotRequired[str]  # an online meeting's address, when there is one


class InvitationPayload(MeetingDetails):
    seq: int  # the calendar's SEQUENCE
    update: bool  # worded as an update: a change after an earlier invitation
    previous: NotRequired[dict[str, str]]  # what the invitation before carried
    reinstated: NotRequired[bool]  # held after all, after a cancellation


class CancelPayload(MeetingDetails):
    seq: int
    update: NotRequired[bool]  # carried over from the invitation it cancels
    reinstated: NotRequired[bool]
    reason: NotRequired[str]  # the text partners wrote in Aflyst


class NoPayload(TypedDict):
    """Agenda and follow-up: everything they show is in the sheet."""


class AgendaPayload(TypedDict):
    # who comes, when answers are tracked ([inbox]): names by answer, keys accepted,
    # tentative, declined and missing (automation/core/rsvp.py); absent otherwise
    answers: NotRequired[dict[str, list[str]]]


class RsvpPayload(TypedDict):
    """A reminder to answer a meeting's invitation (README, "Meeting answers")."""

    seq: int  # the SEQUENCE from which the current time and place date: the one asked
    days_left: int  # days until the meeting
    invited: str  # ISO date the invitation asked went to this invitee


class ReportPayload(TypedDict):
    """A working group's chair asked for its status before a steering-group meeting."""

    group: str  # the working group, as Grupper names it
    days_left: int  # days until the steering group meets
    by_reply: bool  # [inbox] is set: a reply is read into the sheet (else: type it there)


class ReminderPayload(TypedDict):
    due: str  # ISO date
    days_left: int


class OverduePayload(TypedDict):
    due: str
    days_overdue: int
    n: int  # the how-manieth notice


class EscalationPayload(TypedDict):
    due: str
    days_overdue: int
    owner: str  # the owner's name (as typed, when unknown)
    notices: list[str]  # ISO dates of the overdue notices the owner was sent
    reason: str  # chair | secretariat: why it goes where it goes


class IndicatorPayload(TypedDict):
    next_update: str | None  # ISO date; None when no date is known (due now)
    n: int


class AnswerPayload(TypedDict):
    """The answer to a partner's reply: threaded under it, saying what became of it."""

    in_reply_to: str  # the reply's Message-ID
    subject: str  # the reply's subject
    applied: bool  # the sheet was changed as the reply said
    told: str  # one sentence: what changed, or why nothing did
    name: str  # the partner's name as People has it, else as their mail said


class DigestPayload(TypedDict):
    week: str
    overdue_actions: list[str]
    upcoming_meetings: list[dict[str, Any]]
    missing_agendas: list[str]
    missing_minutes: list[str]
    indicators: list[dict[str, Any]]
    problems: list[str]
    failed: list[dict[str, str]]
    uncertain: list[dict[str, str]]
    retrying: list[dict[str, str]]
    held: dict[str, int]
    # with [inbox]: the week's replies (README, "Replies by mail"): "applied" lists who
    # changed what ({who, what, changes: [{column, old, new}]}), "unused" who and why not,
    # "error" the last mailbox error ("" = read fine)
    replies: NotRequired[dict[str, Any]]


class BurstPayload(TypedDict):
    due: int  # how many messages were held
    max_per_cycle: int
