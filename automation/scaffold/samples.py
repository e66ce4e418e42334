"""Sample messages for `rygrad send-test`: one of each kind, from the sheet's own rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from automation.core import kinds
from automation.core.model import Initiative, Message, Recipient
from automation.core.plan import digest_payload, invitation_details
from automation.core.reports import working_groups
from automation.core.settings import Settings
from automation.core.statusreport import is_steering_group
from automation.errors import RygradError

KINDS = tuple(kinds.KINDS)


def sample_messages(
    initiative: Initiative, settings: Settings, now: datetime, address: str, kind: str | None
) -> list[Message]:
    if kind and kind not in KINDS:
        raise RygradError(f"--kind {kind!r} is not a kind; use one of: {', '.join(KINDS)}")
    meeting = next((m for m in initiative.meetings if m.start), None)
    action = next(iter(initiative.actions), None)
    indicator = next(iter(initiative.indicators), None)
    # greet a person, as the real mail would: the sheet's first person with a name,
    # mailed at ADDR (a greeting of "test@example.dk" reads like a fault)
    person = next((p for p in initiative.people if p.name.strip()), None)
    to = Recipient(person.name if person else "", address, settings.initiative.language)
    due = action.due.isoformat() if action and action.due else now.date().isoformat()
    samples: dict[str, tuple[str, dict[str, Any]]] = {
        "reminder": (action.id if action else "", {"due": due, "days_left": 2}),
        "overdue": (action.id if action else "", {"due": due, "days_overdue": 3, "n": 1}),
        "escalation": (action.id if action else "", {
            "due": due, "days_overdue": 15, "reason": "chair",
            "owner": action.owner.name if action and action.owner else "",
            # the one overdue notice the owner had, a week before
            "notices": [(now.date() - timedelta(days=8)).isoformat()]}),
        "indicator": (indicator.id if indicator else "", {"next_update": None, "n": 1}),
        "burst": ("", {"due": settings.mail.max_per_cycle + 1,
                       "max_per_cycle": settings.mail.max_per_cycle}),
        # the answer to »færdig« in a reply to the reminder
        "answer": (action.id if action else "", {
            "in_reply_to": "<sample-reply@example.invalid>",
            "subject": ("SV: " if settings.initiative.language == "da" else "Re: ")
            + (action.action if action else ""),
            "applied": True, "name": person.name if person else "",
            "told": (f"{action.id if action else 'H-1'} er markeret som udført i arket."
                     if settings.initiative.language == "da"
                     else f"{action.id if action else 'A-1'} is marked done in the sheet.")}),
    }
    if meeting:
        details = invitation_details(meeting)
        samples.update(
            invitation=(meeting.id, dict(details, seq=0, update=False)),
            cancel=(meeting.id, dict(details, seq=1)),
            agenda=(meeting.id, {}),
            followup=(meeting.id, {}),
        )
        # the next meeting ahead (else the sample meeting), its invitation a week old
        ahead = min((m for m in initiative.meetings if m.start and m.date > now.date()),
                    key=lambda m: m.date, default=meeting)
        samples["rsvp"] = (ahead.id, {
            "seq": 0, "days_left": max((ahead.date - now.date()).days, 1),
            "invited": (now.date() - timedelta(days=7)).isoformat()})
        # a working group asked for its status, the steering group meeting in ten days
        steering = min((m for m in initiative.meetings if m.start and is_steering_group(
            initiative.group(m.group))), default=meeting,
            key=lambda m: (m.date < now.date(), abs((m.date - now.date()).days)))
        working = next(iter(working_groups(initiative)), None)
        days_left = (steering.date - now.astimezone(settings.initiative.zone).date()).days
        samples["report"] = (steering.id, {
            "group": working.name if working else steering.group,
            "days_left": days_left if days_left >= 0 else 10,
            "by_reply": settings.inbox is not None})
    # the sample digest is this week's (»uge 49, 2026«), in the initiative's own time
    iso = now.astimezone(settings.initiative.zone).date().isocalendar()
    samples["digest"] = ("", dict(digest_payload(initiative, [], now, settings,
                                                 f"digest:{iso.year}-W{iso.week:02}")))
    wanted = [kind] if kind else list(KINDS)
    missing = [k for k in wanted if k not in samples or (not samples[k][0] and k in (
        "reminder", "overdue", "escalation", "indicator"))]
    if missing and kind:
        raise RygradError(f"the sheet has no row to make a sample {kind} from")
    return [Message(k, f"test:{k}", to, samples[k][0], payload=samples[k][1])
            for k in wanted if k not in missing]
