"""The W columns as a projection of the ledger and the sheet (README, "The rules", write-back).

Pure: computes what every worker-owned cell should read now, and returns only
the cells whose text differs from what the sheet holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from automation.core import kinds, reports, rsvp
from automation.core.a1 import column_letter
from automation.core.i18n import text
from automation.core.indicators import assess, next_update
from automation.core.model import CellUpdate, CellWrite, Initiative, LedgerEntry, MeetingAnswer
from automation.core.plan import latest_sent
from automation.core.schema import MEETINGS, TAB_BY_KEY
from automation.core.settings import Settings

ASSESSMENT_LABELS = {
    "da": {"achieved": "Nået", "on_track": "På sporet", "behind": "Bagud",
           "no_data": "Mangler data"},
    "en": {"achieved": "Achieved", "on_track": "On track", "behind": "Behind",
           "no_data": "No data"},
}
ACTION_MAIL_KINDS = kinds.marking(kinds.ACTION, "last_reminder")
INDICATOR_MAIL_KINDS = kinds.marking(kinds.INDICATOR, "last_reminder")
MEETING_MARKS = {column: kinds.marking(kinds.MEETING, column)
                 for column in ("invitation_sent", "agenda_sent", "followup_sent")}
CALENDAR_KINDS = ("invitation", "cancel")  # a meeting's calendar history (rsvp.asked_since)


def overdue_flag(days: int, language: str) -> str:
    if language == "da":
        return f"FORSINKET ({days} {'dag' if days == 1 else 'dage'})"
    return f"OVERDUE ({days} {'day' if days == 1 else 'days'})"


def worker_values(
    initiative: Initiative, entries: Iterable[LedgerEntry], now: datetime, settings: Settings,
    answers: Sequence[MeetingAnswer] | None = None,
) -> Iterator[tuple[tuple[str, int], dict[str, str]]]:
    """(tab key, row) and {W column key: the text it should hold}, row by row.

    ``answers`` None (no ``[inbox]``): the meeting answer columns are left alone.

    A generator: a dict of every row's values at once cost memory a big sheet notices
    (docs/benchmarks.md, "Why the code is shaped this way").
    """
    language = settings.initiative.language
    zone = settings.initiative.zone
    today = now.astimezone(zone).date()
    entries = list(entries)
    latest = latest_sent(entries)
    answers_by_meeting: dict[str, list[MeetingAnswer]] = {}
    for answer in answers or ():
        answers_by_meeting.setdefault(answer.meeting_id, []).append(answer)

    def sent(kinds: Iterable[str], subject_id: str) -> str:
        times = [latest[(k, subject_id)] for k in kinds if (k, subject_id) in latest]
        return max(times).astimezone(zone).strftime("%Y-%m-%d %H:%M") if times else ""

    notes: dict[tuple[str, int], list[str]] = {}
    for problem in initiative.problems:
        if problem.row:
            notes.setdefault((problem.tab_key, problem.row), []).append(problem.message)
    for meeting in initiative.meetings:
        if meeting.start is None and not meeting.cancelled and (
                0 <= (meeting.date - today).days <= settings.rules.invite_days_before):
            notes.setdefault(("meetings", meeting.row), []).append(text(
                language, "no_start_time", column=MEETINGS.column("start").title(language)))
    for place, found in reports.notes(initiative, today, settings).items():
        notes.setdefault(place, []).extend(found)

    def note(place: tuple[str, int]) -> dict[str, str]:
        return {"note": "; ".join(notes.get(place, ()))}

    calendars: dict[str, list[LedgerEntry]] = {}
    if answers is not None:
        for entry in entries:
            if entry.kind in CALENDAR_KINDS:
                calendars.setdefault(entry.subject_id, []).append(entry)

    done: set[tuple[str, int]] = set()
    for meeting in initiative.meetings:
        place = ("meetings", meeting.row)
        done.add(place)
        values = {**note(place), **{column: sent(MEETING_MARKS[column], meeting.id)
                                    for column in MEETING_MARKS}}
        # written until the meeting day; afterwards the record stays as it was, whatever
        # the inbox keeps (it reads back only inbox.days of replies)
        if answers is not None and meeting.date >= today:
            values.update(answer_columns(rsvp.responses(
                meeting, initiative.members_of(meeting.group),
                answers_by_meeting.get(meeting.id, ()), calendars.get(meeting.id, ()))))
        yield place, values
    for action in initiative.actions:
        place = ("actions", action.row)
        done.add(place)
        late = (today - action.due).days if action.due and not action.done else 0
        yield place, {**note(place),
                      "overdue": overdue_flag(late, language) if late > 0 else "",
                      "last_reminder": sent(ACTION_MAIL_KINDS, action.id)}
    for indicator in initiative.indicators:
        place = ("indicators", indicator.row)
        done.add(place)
        due = next_update(indicator)
        yield place, {**note(place), "next_update": due.isoformat() if due else "",
                      "assessment": ASSESSMENT_LABELS[language][
                          assess(indicator, today, settings.rules)],
                      "last_reminder": sent(INDICATOR_MAIL_KINDS, indicator.id)}
    for place in initiative.worker_cells:  # people, groups, and rows skipped as invalid
        if place not in done:
            yield place, note(place)


def answer_columns(found: rsvp.Responses) -> dict[str, str]:
    """The meeting answer columns: names as in People, separated by ", "."""
    return {column: ", ".join(person.name for person in people) for column, people in (
        ("attending", found.accepted), ("declined", found.declined),
        ("tentative", found.tentative), ("no_answer", found.missing))}


def cell_updates(
    initiative: Initiative, entries: Iterable[LedgerEntry], now: datetime, settings: Settings,
    answers: Sequence[MeetingAnswer] | None = None,
) -> list[CellUpdate]:
    """Only the W cells whose text changes; ``answers`` as in worker_values."""
    updates = []
    for place, wanted in worker_values(initiative, entries, now, settings, answers):
        current = initiative.worker_cells.get(place, {})
        for column, value in wanted.items():
            old = current.get(column, "")
            if value != old:
                tab, row = place
                updates.append(CellUpdate(tab, row, initiative.row_ids.get(place, ""),
                                          column, value, old))
    return updates


def resolve(
    updates: Iterable[CellUpdate], initiative: Initiative, language: str
) -> list[CellWrite]:
    """Place updates by column index; append missing W columns to the header row (an
    on-demand one only when an update writes in it)."""
    updates = list(updates)
    writes: list[CellWrite] = []
    columns = {tab: dict(found) for tab, found in initiative.columns.items()}
    for tab_key, title in initiative.tab_titles.items():
        tab = TAB_BY_KEY[tab_key]
        width = initiative.header_width.get(tab_key, 0)
        wanted = {u.column for u in updates if u.tab == tab_key}
        for column in tab.columns:
            if column.on_demand and column.key not in wanted:
                continue
            if column.worker and column.key not in columns[tab_key]:
                width += 1
                columns[tab_key][column.key] = width
                writes.append(CellWrite(title, 1, width, column.title(language)))
    for update in updates:
        tab = TAB_BY_KEY[update.tab]
        writes.append(CellWrite(
            initiative.tab_titles[update.tab], update.row, columns[update.tab][update.column],
            update.value, update.row_id, columns[update.tab].get(tab.id_column, 0),
            number=update.number,
        ))
    return writes


# the W columns that show a mail went out; the sheet's memory of the ledger
SENT_COLUMNS = {
    "meetings": ("invitation_sent", "agenda_sent", "followup_sent"),
    "actions": ("last_reminder",),
    "indicators": ("last_reminder",),
}


def mail_shown_sent(initiative: Initiative) -> list[str]:
    """The cells (``Møder!J2``) whose W column says a mail was sent, in sheet order.

    With an empty ledger these mean the ledger was lost, not that nothing was ever sent:
    planning from an empty ledger would mail that history again.
    """
    found = []
    for (tab_key, row), current in initiative.worker_cells.items():
        for key in SENT_COLUMNS.get(tab_key, ()):
            if current.get(key):
                column = initiative.columns[tab_key][key]
                found.append(f"{initiative.tab_titles[tab_key]}!{column_letter(column)}{row}")
    return found
