"""The W columns as a projection of the ledger and the sheet (DESIGN §2, write-back).

Pure: computes what every worker-owned cell should read now, and returns only
the cells whose text differs from what the sheet holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from automation.config import Settings
from automation.i18n import text
from automation.indicators import assess, next_update
from automation.model import CellUpdate, CellWrite, Initiative, LedgerEntry
from automation.plan import latest_sent
from automation.schema import MEETINGS, TAB_BY_KEY

ASSESSMENT_LABELS = {
    "da": {"achieved": "Nået", "on_track": "På sporet", "behind": "Bagud",
           "no_data": "Mangler data"},
    "en": {"achieved": "Achieved", "on_track": "On track", "behind": "Behind",
           "no_data": "No data"},
}
ACTION_MAIL_KINDS = ("reminder", "overdue", "escalation")


def overdue_flag(days: int, language: str) -> str:
    if language == "da":
        return f"FORSINKET ({days} {'dag' if days == 1 else 'dage'})"
    return f"OVERDUE ({days} {'day' if days == 1 else 'days'})"


def worker_values(
    initiative: Initiative, entries: Iterable[LedgerEntry], now: datetime, settings: Settings
) -> dict[tuple[str, int], dict[str, str]]:
    """(tab key, row) → {W column key: the text it should hold}."""
    language = settings.initiative.language
    zone = settings.initiative.zone
    today = now.astimezone(zone).date()
    latest = latest_sent(entries)

    def sent(kinds: Iterable[str], subject_id: str) -> str:
        times = [latest[(k, subject_id)] for k in kinds if (k, subject_id) in latest]
        return max(times).astimezone(zone).strftime("%Y-%m-%d %H:%M") if times else ""

    values: dict[tuple[str, int], dict[str, str]] = {
        place: {"note": ""} for place in initiative.worker_cells
    }
    for problem in initiative.problems:
        if problem.row:
            add_note(values, (problem.tab_key, problem.row), problem.message)
    for meeting in initiative.meetings:
        if meeting.start is None and not meeting.cancelled and (
                0 <= (meeting.date - today).days <= settings.rules.invite_days_before):
            add_note(values, ("meetings", meeting.row), text(
                language, "no_start_time", column=MEETINGS.column("start").title(language)))
        values[("meetings", meeting.row)].update(
            invitation_sent=sent(["invitation"], meeting.id),
            agenda_sent=sent(["agenda"], meeting.id),
            followup_sent=sent(["followup"], meeting.id),
        )
    for action in initiative.actions:
        late = (today - action.due).days if action.due and not action.done else 0
        values[("actions", action.row)].update(
            overdue=overdue_flag(late, language) if late > 0 else "",
            last_reminder=sent(ACTION_MAIL_KINDS, action.id),
        )
    for indicator in initiative.indicators:
        due = next_update(indicator)
        values[("indicators", indicator.row)].update(
            next_update=due.isoformat() if due else "",
            assessment=ASSESSMENT_LABELS[language][assess(indicator, today, settings.rules)],
            last_reminder=sent(["indicator"], indicator.id),
        )
    return values


def add_note(values: dict[tuple[str, int], dict[str, str]], place: tuple[str, int],
             note: str) -> None:
    if place in values:
        values[place]["note"] = "; ".join(filter(None, (values[place]["note"], note)))


def cell_updates(
    initiative: Initiative, entries: Iterable[LedgerEntry], now: datetime, settings: Settings
) -> list[CellUpdate]:
    """Only the W cells whose text changes."""
    updates = []
    for place, wanted in worker_values(initiative, entries, now, settings).items():
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
    """Place updates by column index; append missing W columns to the header row."""
    writes: list[CellWrite] = []
    columns = {tab: dict(found) for tab, found in initiative.columns.items()}
    for tab_key, title in initiative.tab_titles.items():
        tab = TAB_BY_KEY[tab_key]
        width = initiative.header_width.get(tab_key, 0)
        for column in tab.columns:
            if column.worker and column.key not in columns[tab_key]:
                width += 1
                columns[tab_key][column.key] = width
                writes.append(CellWrite(title, 1, width, column.title(language)))
    for update in updates:
        tab = TAB_BY_KEY[update.tab]
        writes.append(CellWrite(
            initiative.tab_titles[update.tab], update.row, columns[update.tab][update.column],
            update.value, update.row_id, columns[update.tab].get(tab.id_column, 0),
        ))
    return writes
