"""Report requests: before each steering-group meeting, each working group's chair is
asked for 3–5 lines of status (README, "The rules"; the answer lands in Grupper's
Seneste status, the date in Status modtaget).

Due when 0 ≤ days until the meeting ≤ ``rules.report_request_days_before`` (10), the
meeting not cancelled and its group a steering group (Type Styregruppe / Steering
group). One mail per working group (every other group with a chair who can get mail),
key ``report:{meeting}:{group}``, once: a later cycle finds the key in the ledger. A
working group whose chair cannot be mailed is asked nothing; its row says why
(``notes``), so the secretariat can ask by hand.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date

from automation.core.i18n import text
from automation.core.model import CellUpdate, Group, Initiative, Meeting, Message, Recipient
from automation.core.payloads import ReportPayload
from automation.core.schema import GROUPS
from automation.core.settings import Settings
from automation.core.statusreport import is_steering_group


def report_key(meeting_id: str, group: str) -> str:
    return f"report:{meeting_id}:{group}"


def working_groups(initiative: Initiative) -> list[Group]:
    """The groups that report to the steering group: every group that is not one."""
    return [g for g in initiative.groups.values() if not is_steering_group(g)]


def meetings_asking(initiative: Initiative, today: date, settings: Settings) -> list[Meeting]:
    """The steering-group meetings whose reports are to be asked for now."""
    window = settings.rules.report_request_days_before
    return [m for m in initiative.meetings
            if not m.cancelled and 0 <= (m.date - today).days <= window
            and is_steering_group(initiative.group(m.group))]


def report_requests(initiative: Initiative, today: date, settings: Settings,
                    sent: Callable[[str, str], bool]) -> Iterator[Message]:
    """The requests due now; ``sent(key, address)`` says the ledger already has one."""
    by_reply = settings.inbox is not None
    for meeting in meetings_asking(initiative, today, settings):
        for group in working_groups(initiative):
            chair = group.chair
            if chair is None or not chair.email:
                continue  # notes() says so on the group's row
            key = report_key(meeting.id, group.name)
            if sent(key, chair.email):
                continue
            payload = ReportPayload(group=group.name, days_left=(meeting.date - today).days,
                                    by_reply=by_reply)
            yield Message("report", key, Recipient(chair.name, chair.email, chair.language),
                          meeting.id, payload=dict(payload))


def notes(initiative: Initiative, today: date, settings: Settings
          ) -> dict[tuple[str, int], list[str]]:
    """(``groups``, row) → the note of a working group that cannot be asked for its
    status now (no chair, or a chair without an address)."""
    language = settings.initiative.language
    found: dict[tuple[str, int], list[str]] = {}
    for meeting in meetings_asking(initiative, today, settings)[:1]:
        column = GROUPS.column("chair").title(language)
        for group in working_groups(initiative):
            if group.chair is None or not group.chair.email:
                found.setdefault(("groups", group.row), []).append(text(
                    language, "report_no_chair", column=column, day=meeting.date.isoformat()))
    return found


def status_received_updates(initiative: Initiative, received: Mapping[str, date]
                            ) -> list[CellUpdate]:
    """Status modtaget for the groups whose status came by reply: group name → the day.

    For the reply step, from its ledger records: the W cell is written where its text
    differs, like every W cell the projection writes.
    """
    updates = []
    for name, day in received.items():
        group = initiative.group(name)
        if group is None:
            continue
        place = ("groups", group.row)
        old = initiative.worker_cells.get(place, {}).get("status_received", "")
        if old != day.isoformat():
            updates.append(CellUpdate("groups", group.row, initiative.row_ids.get(place, ""),
                                      "status_received", day.isoformat(), old))
    return updates
