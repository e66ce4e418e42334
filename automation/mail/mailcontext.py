"""What each kind of mail shows, gathered from the message and the initiative (pure).

The planner decides what is due and puts the facts it decided on in the
message's payload; everything else is looked up here by id. An id that is no
longer in the sheet never crashes a mail: it renders with what the payload has.
Templates get plain dicts with every key present (StrictUndefined would fail on
a missing one), dates as ``date`` objects and language-free codes; the
templates word them with the localised filters.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from automation.core import indicators, kinds, schema, statusreport
from automation.core.model import Action, Indicator, Initiative, Meeting, Message
from automation.core.settings import Settings
from automation.mail.ics import Slot, parse_date, slot_for

View = dict[str, Any]


def context_for(message: Message, initiative: Initiative, settings: Settings,
                today: date) -> dict[str, Any]:
    """The template variables for one message; ``lang`` and ``now`` are added by the caller."""
    recipient = message.recipient
    payload = message.payload
    context: dict[str, Any] = {
        "kind": message.kind,
        "key": message.key,
        "recipient": recipient,
        "first_name": first_name(recipient.name),
        "cc": list(message.cc),
        "secretariat": {"name": settings.initiative.secretariat_name,
                        "email": settings.initiative.secretariat_email},
        "initiative_name": settings.initiative.name,
        "today": today,
        "payload": payload,
        "sheet": _sheet_names(initiative, settings.initiative.language),
        # the status that marks an action done, as the mails tell partners to set it
        "done_status": next(iter(settings.rules.done_statuses), "Færdig"),
        "sheet_url": "",  # the "Open the sheet" button; "" = no button
        # replies are read (README, "Replies by mail"): mails say what to answer
        "replies_read": settings.inbox is not None,
    }
    builder = _BUILDERS.get(message.kind) or _BUILDERS.get(kinds.KINDS[message.kind].about)
    if builder:
        context.update(builder(message, initiative, settings, today))
    return context


def first_name(name: str) -> str:
    """Whom a mail greets; none (a neutral greeting) when the name is only an address."""
    words = name.split()
    return words[0] if words and "@" not in name else ""


def sheet_link(initiative: Initiative, tab_key: str, row: int = 0) -> str:
    """Where a partner opens the sheet on the tab (and row) a mail is about.

    A Google Sheet opens on the tab's ``gid`` and the row's first cell; a local
    workbook at ``sheet.link`` (its SharePoint or OneDrive address, which cannot
    point at a tab); "" when neither is known.
    """
    address = initiative.address
    sheet_id = initiative.tab_ids.get(tab_key)
    if not address or sheet_id is None:
        return address
    return f"{address}#gid={sheet_id}" + (f"&range=A{row}" if row > 1 else "")


def _sheet_names(initiative: Initiative, language: str) -> dict[str, str]:
    """Tab and column names as partners see them in the sheet, whatever the mail's language."""

    def tab(key: str) -> str:
        return initiative.tab_titles.get(key) or schema.TAB_BY_KEY[key].title(language)

    def column(tab_key: str, key: str) -> str:
        return schema.TAB_BY_KEY[tab_key].column(key).title(language)

    return {
        "meetings": tab("meetings"),
        "actions": tab("actions"),
        "indicators": tab("indicators"),
        "action_id": column("actions", "action_id"),
        "status": column("actions", "status"),
        "indicator_id": column("indicators", "indicator_id"),
        "current": column("indicators", "current"),
        "updated": column("indicators", "updated"),
    }


# -- views ----------------------------------------------------------------------

def meeting_view(meeting: Meeting | None, meeting_id: str, slot: Slot | None = None) -> View:
    """A meeting as the sheet has it, or as the slot (payload) says when given."""
    return {
        "id": meeting.id if meeting else meeting_id,
        "group": meeting.group if meeting else "",
        "date": slot.date if slot else (meeting.date if meeting else None),
        "start": slot.start if slot else (meeting.start if meeting else None),
        "end": slot.end if slot else (meeting.end if meeting else None),
        "location": slot.location if slot else (meeting.location if meeting else ""),
        "agenda": [line for line in (meeting.agenda if meeting else ()) if line.strip()],
        "minutes": meeting.minutes.strip() if meeting else "",
        "cancelled": meeting.cancelled if meeting else False,
    }


def action_view(action: Action | None, action_id: str, today: date,
                due: date | None = None) -> View:
    due = due or (action.due if action else None)
    late = (today - due).days if due else 0
    return {
        "id": action.id if action else action_id,
        "action": " ".join(action.action.split()) if action else "",
        "group": action.group if action else "",
        "owner": _owner(action.owner, action.owner_text) if action else "",
        "due": due,
        "status": action.status if action else "",
        "days_overdue": max(late, 0),
        "days_left": max(-late, 0),
    }


def indicator_view(indicator: Indicator | None, indicator_id: str, today: date,
                   settings: Settings) -> View:
    if indicator is None:
        return {"id": indicator_id, "name": "", "group": "", "unit": "", "baseline": None,
                "start_date": None, "target": None, "target_date": None, "current": None,
                "updated": None, "owner": "", "assessment": indicators.NO_DATA,
                "next_update": None}
    return {
        "id": indicator.id,
        "name": " ".join(indicator.indicator.split()),
        "group": indicator.group,
        "unit": indicator.unit,
        "baseline": indicator.baseline,
        "start_date": indicator.start_date,
        "target": indicator.target,
        "target_date": indicator.target_date,
        "current": indicator.current,
        "updated": indicator.updated,
        "owner": _owner(indicator.owner, indicator.owner_text),
        "assessment": indicators.assess(indicator, today, settings.rules),
        "next_update": indicators.next_update(indicator),
    }


def _owner(person: Any, text: str) -> str:
    return person.name if person is not None and person.name else text


def _group_goal(initiative: Initiative, name: str) -> str:
    group = initiative.group(name) if name else None
    return group.goal.strip() if group else ""


def _by_due(view: View) -> tuple[bool, date, str]:
    return (view["due"] is None, view["due"] or date.max, view["id"])


# -- per kind -------------------------------------------------------------------

def _meeting_mail(message: Message, initiative: Initiative, settings: Settings,
                  today: date) -> dict[str, Any]:
    meeting = initiative.meeting(message.subject_id)
    slot = None
    if message.kind in ("invitation", "cancel"):
        slot = slot_for(message, meeting, settings.rules.default_meeting_minutes)
    view = meeting_view(meeting, message.subject_id, slot)
    group = view["group"]
    context: dict[str, Any] = {
        "meeting": view,
        "goal": _group_goal(initiative, group),
        "update": bool(message.payload.get("update")),
        "seq": int(message.payload.get("seq") or 0),
    }
    if message.kind in ("agenda", "followup"):
        context["sheet_url"] = sheet_link(initiative, "actions")
    if message.kind in ("invitation", "cancel"):
        context.update(_invitation(message, meeting, slot, settings))
    if message.kind == "agenda":
        context["actions"] = sorted(
            (action_view(a, a.id, today) for a in initiative.in_group("actions", group)
             if group and not a.done),
            key=_by_due,
        )
        # a steering group's agenda shows every indicator of the initiative (README,
        # "Charts and the status report"); another group's only its own
        steering = statusreport.is_steering_group(initiative.group(group) if group else None)
        context["indicators"] = [
            indicator_view(i, i.id, today, settings)
            for i in (initiative.indicators if steering
                      else initiative.in_group("indicators", group) if group else [])
        ]
        context["answers"] = answers_view(message.payload.get("answers"))
    if message.kind == "rsvp":
        context["days_left"] = int(message.payload.get("days_left") or 0)
        context["invited"] = parse_date(message.payload.get("invited"))
    if message.kind == "followup":
        context["next_steps"] = sorted(
            (action_view(a, a.id, today)
             for a in (initiative.agreed_at(meeting.id) if meeting else [])),
            key=_by_due,
        )
        later = sorted(
            (m for m in initiative.in_group("meetings", group)
             if meeting and not m.cancelled and m.date > meeting.date),
            key=lambda m: (m.date, m.start is None, m.start or m.date, m.id),
        )
        context["next_meeting"] = meeting_view(later[0], later[0].id) if later else None
    return context


def answers_view(answers: Any) -> View | None:
    """Who comes, as an agenda's payload says (names by answer); None when answers are
    not tracked or nobody has been asked yet: then the agenda says nothing about it."""
    if not isinstance(answers, dict):
        return None
    view = {name: [str(n) for n in answers.get(name) or []]
            for name in ("accepted", "tentative", "declined", "missing")}
    return view if any(view.values()) else None


def _invitation(message: Message, meeting: Meeting | None, slot: Slot | None,
                settings: Settings) -> dict[str, Any]:
    """An invitation's or cancellation's own facts: where to go in person (``place``),
    where to join online (``join_link``), what an update changed (``changes``) and why
    the meeting was cancelled (``reason``)."""
    payload = message.payload
    previous = payload.get("previous")
    changes: list[View] = []
    if slot is not None and isinstance(previous, dict) and message.kind == "invitation":
        before = slot_for(Message(message.kind, message.key, message.recipient,
                                  message.subject_id, payload=previous),
                          meeting, settings.rules.default_meeting_minutes)
        if before is not None:
            changes = meeting_changes(before, slot)
    return {
        "place": slot.place if slot else (meeting.location if meeting else ""),
        "join_link": slot.join_link if slot else "",
        "changes": changes,
        "reinstated": bool(payload.get("reinstated")),
        "reason": str(payload.get("reason") or "") if message.kind == "cancel" else "",
    }


def meeting_changes(before: Slot, after: Slot) -> list[View]:
    """What changed between two invitations, old → new, as the update mail names it.

    ``time``: the two slots' date, start and end (``same_day``, ``same_year`` say how
    much of the new one to repeat). ``location``: the place, or ``online`` for a meeting
    with only a join link. ``link``: ``added``, ``removed`` or ``new`` when the join
    link changed and the location row does not already say so (Rådhuset → Online).
    """
    changes: list[View] = []
    if (before.date, before.start, before.end) != (after.date, after.start, after.end):
        changes.append({
            "what": "time",
            "old": {"date": before.date, "start": before.start, "end": before.end},
            "new": {"date": after.date, "start": after.start, "end": after.end},
            "same_day": before.date == after.date,
            "same_year": before.date.year == after.date.year,
        })
    online_before = not before.place and bool(before.join_link)
    online_after = not after.place and bool(after.join_link)
    place_changed = before.place != after.place
    if place_changed:
        changes.append({"what": "location",
                        "old": {"place": before.place, "online": online_before},
                        "new": {"place": after.place, "online": online_after}})
    if before.join_link != after.join_link and not (
            place_changed and (online_before or online_after)):
        state = "added" if not before.join_link else "removed" if not after.join_link \
            else "new"
        changes.append({"what": "link", "state": state})
    return changes


def _action_mail(message: Message, initiative: Initiative, settings: Settings,
                 today: date) -> dict[str, Any]:
    payload = message.payload
    action = initiative.action(message.subject_id)
    view = action_view(action, message.subject_id, today, parse_date(payload.get("due")))
    # the planner's count wins: it is what the ledger key says
    days_overdue = int(payload.get("days_overdue", view["days_overdue"]) or 0)
    return {
        "sheet_url": sheet_link(initiative, "actions", action.row if action else 0),
        # the overdue notices the owner had before an escalation (dates, oldest first)
        "notices": [d for d in (parse_date(str(n)) for n in payload.get("notices") or []) if d],
        "action": view,
        "due": view["due"],
        "days_left": int(payload.get("days_left", view["days_left"]) or 0),
        "days_overdue": days_overdue,
        "n": int(payload.get("n") or 1),
        "owner": str(payload.get("owner") or view["owner"]),
        "reason": str(payload.get("reason") or "chair"),
        "goal": _group_goal(initiative, view["group"]),
    }


def _indicator_mail(message: Message, initiative: Initiative, settings: Settings,
                    today: date) -> dict[str, Any]:
    indicator = initiative.indicator(message.subject_id)
    view = indicator_view(indicator, message.subject_id, today, settings)
    next_update = parse_date(message.payload.get("next_update"))
    return {
        "sheet_url": sheet_link(initiative, "indicators", indicator.row if indicator else 0),
        "indicator": view,
        "next_update": next_update,
        "overdue": next_update is not None and next_update < today,
        "n": int(message.payload.get("n") or 1),
    }


def _digest(message: Message, initiative: Initiative, settings: Settings,
            today: date) -> dict[str, Any]:
    payload = message.payload
    upcoming = []
    for entry in payload.get("upcoming_meetings") or []:
        meeting_id = str(entry.get("id", ""))
        sent = entry.get("sent") or {}
        upcoming.append({
            "meeting": meeting_view(initiative.meeting(meeting_id), meeting_id),
            "sent": {kind: _sent_time(sent.get(kind)) for kind in
                     ("invitation", "agenda", "followup")},
        })
    flagged = []
    for entry in payload.get("indicators") or []:
        indicator_id = str(entry.get("id", ""))
        view = indicator_view(initiative.indicator(indicator_id), indicator_id,
                              today, settings)
        view["assessment"] = str(entry.get("assessment") or view["assessment"])
        flagged.append(view)
    held = payload.get("held") or {}
    context: dict[str, Any] = {
        "sheet_url": sheet_link(initiative, "actions"),
        "week": str(payload.get("week", "")),
        "overdue_actions": [
            action_view(initiative.action(str(i)), str(i), today)
            for i in payload.get("overdue_actions") or []
        ],
        "upcoming_meetings": upcoming,
        "missing_agendas": [meeting_view(initiative.meeting(str(i)), str(i))
                            for i in payload.get("missing_agendas") or []],
        "missing_minutes": [meeting_view(initiative.meeting(str(i)), str(i))
                            for i in payload.get("missing_minutes") or []],
        "indicators": flagged,
        "problems": [str(p) for p in payload.get("problems") or []],
        "failed": [{"key": str(f.get("key", "")), "recipient": str(f.get("recipient", "")),
                    "error": str(f.get("error", ""))} for f in payload.get("failed") or []],
        "uncertain": [{"key": str(u.get("key", "")), "recipient": str(u.get("recipient", ""))}
                      for u in payload.get("uncertain") or []],
        "retrying": [{"key": str(r.get("key", "")), "recipient": str(r.get("recipient", "")),
                      "error": str(r.get("error", ""))} for r in payload.get("retrying") or []],
        "held": {"window": int(held.get("window") or 0), "cap": int(held.get("cap") or 0)},
        # with [inbox] (README, "Replies by mail"); None = replies are not read
        "replies": _digest_replies(payload.get("replies")),
    }
    replies = context["replies"] or {}
    context["attention"] = sum(len(context[name]) for name in (
        "overdue_actions", "missing_agendas", "missing_minutes", "indicators", "problems",
        "failed", "uncertain", "retrying")) + context["held"]["window"] + context["held"]["cap"] \
        + len(replies.get("unused", ())) + bool(replies.get("error"))
    return context


def _digest_replies(given: Any) -> dict[str, Any] | None:
    if not isinstance(given, dict):
        return None
    return {
        "applied": [{"who": str(a.get("who", "")), "what": str(a.get("what", "")),
                     "changes": [{"column": str(c.get("column", "")), "old": str(c.get("old", "")),
                                  "new": str(c.get("new", ""))} for c in a.get("changes") or []]}
                    for a in given.get("applied") or []],
        "unused": [{"who": str(u.get("who", "")), "what": str(u.get("what", "")),
                    "why": str(u.get("why", ""))} for u in given.get("unused") or []],
        "error": str(given.get("error") or ""),
    }


def _sent_time(text: Any) -> datetime | None:
    """A sent time as the digest's payload holds it (``2026-12-02 05:24``, local), or None."""
    try:
        return datetime.strptime(str(text or "").strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        return None


def _burst(message: Message, initiative: Initiative, settings: Settings,
           today: date) -> dict[str, Any]:
    return {
        "due": int(message.payload.get("due") or 0),
        "max_per_cycle": int(message.payload.get("max_per_cycle")
                             or settings.mail.max_per_cycle),
    }


# how each kind's mail is filled in: by what it is about (automation/core/kinds.py), or, for
# the secretariat's own mails, by the kind itself
def _answer(message: Message, initiative: Initiative, settings: Settings,
            today: date) -> dict[str, Any]:
    """The answer to a partner's reply: only what the payload says (inbox/step.py)."""
    return {"told": str(message.payload.get("told") or ""),
            "applied": bool(message.payload.get("applied"))}


def _report_request(message: Message, initiative: Initiative, settings: Settings,
                    today: date) -> dict[str, Any]:
    """A working group's chair asked for its status before the steering group meets
    (core/reports.py): the meeting, the group, and where the lines go."""
    meeting = initiative.meeting(message.subject_id)
    name = str(message.payload.get("group") or "")
    group = initiative.group(name)
    language = settings.initiative.language
    return {
        "meeting": meeting_view(meeting, message.subject_id),
        "group": {"name": group.name if group else name, "goal": group.goal if group else "",
                  "latest_status": group.latest_status if group else ""},
        "days_left": int(message.payload.get("days_left") or 0),
        "by_reply": bool(message.payload.get("by_reply")),
        "sheet_url": sheet_link(initiative, "groups", group.row if group else 0),
        "groups_tab": initiative.tab_titles.get("groups") or schema.GROUPS.title(language),
        "status_column": schema.GROUPS.column("latest_status").title(language),
    }


_BUILDERS = {
    kinds.MEETING: _meeting_mail,
    kinds.ACTION: _action_mail,
    kinds.INDICATOR: _indicator_mail,
    "digest": _digest,
    "burst": _burst,
    "answer": _answer,
    "report": _report_request,
}
