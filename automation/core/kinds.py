"""Every kind of mail rygrad sends, declared once (docs/architecture.md, "Where new things go").

A kind's record says what the rest of the code needs to know of it: what it is about
(which decides how its mail is filled in, `mailcontext`, and its sample, `samples`),
the calendar method of its .ics part, whether the burst cap counts it, whether the
planner reads its payload back from the ledger, and the W column that shows it was sent.
Adding a kind = its record here, a rule in `plan`, and its templates in both languages
(`tests/test_kinds.py` fails until all of them exist and it renders).

Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from automation.core import payloads

MEETING, ACTION, INDICATOR, INITIATIVE = "meeting", "action", "indicator", "initiative"


@dataclass(frozen=True)
class Kind:
    name: str
    about: str  # meeting | action | indicator | initiative: what its subject id names
    calendar: str = ""  # the iTIP method of its calendar part (REQUEST, CANCEL); "" = none
    capped: bool = True  # counts against mail.max_per_cycle (mail to partners does)
    history: bool = False  # the planner reads its payload back (a meeting's calendar history)
    sent_column: str = ""  # the W column of its subject's row that shows when it went out
    payload: type = payloads.NoPayload  # the TypedDict of what its messages carry


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("invitation", MEETING, calendar="REQUEST", history=True,
         sent_column="invitation_sent", payload=payloads.InvitationPayload),
    Kind("cancel", MEETING, calendar="CANCEL", history=True, payload=payloads.CancelPayload),
    Kind("agenda", MEETING, sent_column="agenda_sent", payload=payloads.AgendaPayload),
    Kind("followup", MEETING, sent_column="followup_sent"),
    # "are you coming?" to an invitee who has not answered (only with [inbox])
    Kind("rsvp", MEETING, payload=payloads.RsvpPayload),
    # a working group's chair asked for 3–5 lines before the steering group meets; the
    # subject is the steering group's meeting (core/reports.py)
    Kind("report", MEETING, payload=payloads.ReportPayload),
    Kind("reminder", ACTION, sent_column="last_reminder", payload=payloads.ReminderPayload),
    Kind("overdue", ACTION, sent_column="last_reminder", payload=payloads.OverduePayload),
    Kind("escalation", ACTION, sent_column="last_reminder",
         payload=payloads.EscalationPayload),
    Kind("indicator", INDICATOR, sent_column="last_reminder",
         payload=payloads.IndicatorPayload),
    # the answer to a partner's reply by mail (README, "Replies by mail"): one per reply
    # read, so bounded by the replies, not by the sheet: the cap does not hold it
    Kind("answer", INITIATIVE, capped=False, payload=payloads.AnswerPayload),
    # to the secretariat: never held by the cap (the burst alert is what the cap sends)
    Kind("digest", INITIATIVE, capped=False, payload=payloads.DigestPayload),
    Kind("burst", INITIATIVE, capped=False, payload=payloads.BurstPayload),
)}

UNCAPPED = frozenset(name for name, kind in KINDS.items() if not kind.capped)
CALENDAR = {name: kind.calendar for name, kind in KINDS.items() if kind.calendar}
HISTORY = frozenset(name for name, kind in KINDS.items() if kind.history)


def marking(about: str, column: str) -> tuple[str, ...]:
    """The kinds whose sending a W column of a row about ``about`` shows."""
    return tuple(name for name, kind in KINDS.items()
                 if kind.about == about and kind.sent_column == column)
