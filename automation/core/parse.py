"""Snapshot → Initiative: read every row into people, groups, meetings, actions and
indicators, and note every problem.

Where the tabs and columns are is found by layout.py. Pure: no I/O, no clock. Only a
missing tab or required column raises (SheetError, from layout.py); everything else
wrong in the sheet becomes a Problem on its row, and the rest of the sheet is still
read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import date, time
from types import MappingProxyType
from typing import TypeVar

from automation.core import values
from automation.core.a1 import column_letter
from automation.core.i18n import and_list, both_names, text
from automation.core.layout import Layout, Row, find_layout, has_tab
from automation.core.model import (
    Action,
    CellValue,
    Group,
    Indicator,
    Initiative,
    Measurement,
    Meeting,
    Person,
    Problem,
    Snapshot,
)
from automation.core.schema import TABS, Tab, normalise_header
from automation.core.settings import Settings

T = TypeVar("T")
NO_TEXT: Mapping[str, str] = MappingProxyType({})  # a row whose W cells are all empty
_TAB_ORDER = {tab.key: index for index, tab in enumerate(TABS)}


def parse(snapshot: Snapshot, settings: Settings) -> Initiative:
    """Read the workbook into typed rows, problems and the worker's cells as they are."""
    return _Parser(settings).parse(snapshot)


class _Parser:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.language = settings.initiative.language
        self.initiative = Initiative()
        self.people_by_name: dict[str, list[Person]] = defaultdict(list)
        self.people_by_email: dict[str, Person] = {}
        self.duplicated: dict[str, set[str]] = defaultdict(set)  # tab key → skipped IDs
        self.group_names: dict[str, str] = {}  # normalised → as written on Grupper

    def parse(self, snapshot: Snapshot) -> Initiative:
        self.initiative.address = snapshot.address or self.settings.sheet.link
        layouts = [layout for tab in TABS if (layout := self.layout(snapshot, tab))]
        rows = {layout.tab.key: self.rows(layout) for layout in layouts}
        group_rows = self.unique(rows["groups"])
        self.group_names = {normalise_header(row.text("group")): row.text("group")
                            for row in group_rows}
        self.people(rows["people"])
        for row in group_rows:
            self.group(row)
        meeting_ids = {normalise_header(row.text("meeting_id")) for row in rows["meetings"]}
        for row in self.unique(rows["meetings"]):
            self.meeting(row)
        for row in self.unique(rows["actions"]):
            self.action(row, meeting_ids)
        for row in self.unique(rows["indicators"]):
            self.indicator(row)
        indicator_ids = {normalise_header(row.text("indicator_id")): row.text("indicator_id")
                         for row in rows["indicators"]}
        for row in rows.get("measurements", ()):
            self.measurement(row, indicator_ids)
        self.initiative.problems.sort(key=self.problem_order)
        return self.initiative

    # --- layout -------------------------------------------------------------------------

    def layout(self, snapshot: Snapshot, tab: Tab) -> Layout | None:
        """The tab's layout; None for an optional tab the workbook lacks (a warning)."""
        if tab.optional and not has_tab(snapshot, tab):
            self.add(Problem(tab.title(self.language), "", "", text(
                self.language, "optional_tab_missing",
                names=both_names(self.language, tab.da, tab.en)), "warning", tab.key))
            return None
        layout, problems = find_layout(snapshot, tab, self.settings.sheet.aliases,
                                       self.language)
        for problem in problems:
            self.add(problem)
        self.initiative.tab_titles[tab.key] = layout.table.title
        if layout.table.sheet_id is not None:
            self.initiative.tab_ids[tab.key] = layout.table.sheet_id
        self.initiative.columns[tab.key] = dict(layout.columns)
        self.initiative.header_width[tab.key] = layout.width
        return layout

    # --- rows and IDs -------------------------------------------------------------------

    def rows(self, layout: Layout) -> list[Row]:
        """Every non-empty row, recorded for write-back; those with partner data returned."""
        tab = layout.tab
        partner_keys = [c.key for c in tab.columns if not c.worker]
        worker_keys = [c.key for c in tab.columns if c.worker]
        found = []
        for number, cells in layout.table.rows:
            if all(values.is_blank(cell) for cell in cells):
                continue
            row = Row(layout, number, cells)
            place = (tab.key, number)
            self.initiative.row_ids[place] = row.text(tab.id_column)
            # only the W cells that hold text; most rows of a big sheet hold none yet, and
            # they share one empty mapping (docs/benchmarks.md)
            current = {key: text for key in worker_keys
                       if (text := values.cell_text(row.raw(key)))}
            self.initiative.worker_cells[place] = current or NO_TEXT
            # a row holding only the worker's old notes (or partners' own columns) is not data
            if any(not values.is_blank(row.raw(key)) for key in partner_keys) and not (
                    layout.table.uncomputed and self.uncomputed(row, partner_keys)):
                found.append(row)
        return found

    def uncomputed(self, row: Row, partner_keys: list[str]) -> bool:
        """A partner cell holding a formula that was never calculated: it reads as empty,
        and no mail may follow from a value nobody has seen; the row is skipped."""
        found = False
        for key in partner_keys:
            index = row.layout.columns.get(key)
            if index and (row.number, index) in row.layout.table.uncomputed:
                self.report(row, key, "formula_without_value", skipped=True)
                found = True
        return found

    def unique(self, rows: list[Row]) -> list[Row]:
        """Rows with an ID that no other row has; the others get a problem and are skipped."""
        if not rows:
            return []
        id_key = rows[0].layout.tab.id_column
        by_id: dict[str, list[Row]] = defaultdict(list)
        for row in rows:
            if row.text(id_key):
                by_id[normalise_header(row.text(id_key))].append(row)
            else:
                self.report(row, id_key, "value_missing", skipped=True)
        self.skip_duplicates(by_id, id_key)
        return [row for same in by_id.values() if len(same) == 1 for row in same]

    def skip_duplicates(self, by_id: dict[str, list[Row]], id_key: str) -> None:
        for normalised, same in by_id.items():
            if len(same) < 2:
                continue
            self.duplicated[same[0].layout.tab.key].add(normalised)
            numbers = and_list(self.language, [str(row.number) for row in same])
            for row in same:
                self.report(row, id_key, "duplicate_id", rows=numbers)

    # --- the five tabs ------------------------------------------------------------------

    def people(self, rows: list[Row]) -> None:
        by_address: dict[str, list[Row]] = defaultdict(list)
        addresses: dict[int, str | None] = {}
        for row in rows:
            address = None
            try:
                address = values.parse_email(row.raw("email"))
            except values.UnsendableAddress:
                # the person counts as having no address: chair and secretariat rules apply
                self.report(row, "email", "email_not_sendable")
            except ValueError:
                self.report(row, "email", "not_email")
            if not row.text("email"):
                self.report(row, "email", "no_email")
            else:
                by_address[(address or row.text("email")).casefold()].append(row)
            addresses[row.number] = address
        self.skip_duplicates(by_address, "email")
        for row in rows:
            key = (addresses[row.number] or row.text("email")).casefold()
            if len(by_address.get(key, ())) > 1:
                # so that a reference to the skipped person says why it is not found
                self.duplicated["people"].add(normalise_header(row.text("name")))
                continue
            self.person(row, addresses[row.number])

    def person(self, row: Row, address: str | None) -> None:
        if not row.text("name"):
            self.report(row, "name", "value_missing", severity="warning")
        groups = []
        for name in values.split_list(row.raw("groups")):
            known = self.group_names.get(normalise_header(name))
            if known is None:
                self.report(row, "groups", "unknown_group", "warning", value=name,
                            tab=self.initiative.tab_titles["groups"])
            groups.append(known or name)
        person = Person(
            row=row.number,
            name=" ".join(row.text("name").split()),
            email=address,
            email_text=row.text("email"),
            organisation=row.text("organisation"),
            groups=tuple(groups),
            language=self.read(row, "language",
                               lambda v: values.parse_language(v, self.language),
                               "not_language", self.language, "warning",
                               default=self.language),
        )
        self.initiative.people.append(person)
        if person.name:
            self.people_by_name[normalise_header(person.name)].append(person)
        for email in (person.email_text, person.email or ""):
            if email:
                self.people_by_email.setdefault(email.casefold(), person)

    def group(self, row: Row) -> None:
        chair, _ = self.person_in(row, "chair")
        try:  # the worker's own cell: one it cannot read is simply not a date
            received = self.parse_date(row.raw("status_received"))
        except ValueError:
            received = None
        group = Group(row.number, row.text("group"), row.text("type"), chair, row.text("goal"),
                      latest_status=row.text("latest_status"), status_received=received)
        self.initiative.groups[group.name] = group

    def meeting(self, row: Row) -> None:
        group = self.group_in(row, "error", skipped=True)
        day = self.read(row, "date", self.parse_date, "not_date", None, skipped=True,
                        example=self.example_date)
        if day is None and not row.text("date"):
            self.report(row, "date", "value_missing", skipped=True)
        if group is None or day is None:
            return
        start = self.read(row, "start", values.parse_time, "not_time", None)
        end = self.read(row, "end", values.parse_time, "not_time", None)
        minutes = self.settings.rules.default_meeting_minutes
        if start and end and end <= start:
            self.report(row, "end", "end_before_start", start=start.strftime("%H:%M"),
                        minutes=minutes)
            end = None
        if start and end is None:
            end = _later(start, minutes)
        cancelled, reason = self.read(row, "cancelled", values.parse_cancellation, "not_flag",
                                      (False, ""), "warning")
        self.initiative.meetings.append(Meeting(
            row=row.number,
            id=row.text("meeting_id"),
            group=group,
            date=day,
            start=start,
            end=end,
            location=row.text("location"),
            agenda=values.agenda_items(row.raw("agenda")),
            minutes=row.text("minutes"),
            cancelled=cancelled,
            link=self.read(row, "link", values.parse_link, "not_link", "", "warning"),
            cancel_reason=reason,
        ))

    def action(self, row: Row, meeting_ids: set[str]) -> None:
        if not row.text("action"):
            self.report(row, "action", "value_missing")
        owner, owner_text = self.person_in(row, "owner")
        if not owner_text:
            self.report(row, "owner", "value_missing")
        meeting_id = row.text("meeting_id")
        if meeting_id and normalise_header(meeting_id) not in meeting_ids:
            self.report(row, "meeting_id", "unknown_meeting", "warning",
                        tab=self.initiative.tab_titles["meetings"])
        status = row.text("status")
        done_statuses = {normalise_header(s) for s in self.settings.rules.done_statuses}
        self.initiative.actions.append(Action(
            row=row.number,
            id=row.text("action_id"),
            group=self.group_in(row, "warning") or "",
            action=row.text("action"),
            owner=owner,
            owner_text=owner_text,
            due=self.read(row, "due", self.parse_date, "not_date", None,
                          example=self.example_date),
            status=status,
            done=normalise_header(status) in done_statuses,
            meeting_id=meeting_id,
        ))

    def indicator(self, row: Row) -> None:
        if not row.text("indicator"):
            self.report(row, "indicator", "value_missing")
        owner, owner_text = self.person_in(row, "owner")
        if not owner_text:
            self.report(row, "owner", "value_missing", "warning")

        def number(key: str) -> float | None:
            return self.read(row, key, values.parse_number, "not_number", None)

        def day(key: str) -> date | None:
            return self.read(row, key, self.parse_date, "not_date", None,
                             example=self.example_date)

        self.initiative.indicators.append(Indicator(
            row=row.number,
            id=row.text("indicator_id"),
            group=self.group_in(row, "warning") or "",
            indicator=row.text("indicator"),
            unit=row.text("unit"),
            baseline=number("baseline"),
            start_date=day("start_date"),
            target=number("target"),
            target_date=day("target_date"),
            current=number("current"),
            updated=day("updated"),
            owner=owner,
            owner_text=owner_text,
            frequency_months=self.read(row, "frequency", values.parse_frequency,
                                       "not_frequency", values.DEFAULT_FREQUENCY, "warning"),
        ))

    def measurement(self, row: Row, indicator_ids: dict[str, str]) -> None:
        """A row of Målinger; one without a known indicator, a date or a number is skipped."""
        written = row.text("indicator_id")
        indicator_id = indicator_ids.get(normalise_header(written))
        if not written:
            self.report(row, "indicator_id", "value_missing", skipped=True)
        elif indicator_id is None:
            self.report(row, "indicator_id", "unknown_indicator", skipped=True,
                        tab=self.initiative.tab_titles["indicators"])
        day = self.read(row, "date", self.parse_date, "not_date", None, skipped=True,
                        example=self.example_date)
        if day is None and not row.text("date"):
            self.report(row, "date", "value_missing", skipped=True)
        value = self.read(row, "value", values.parse_number, "not_number", None, skipped=True)
        if value is None and not row.text("value"):
            self.report(row, "value", "value_missing", skipped=True)
        if indicator_id is None or day is None or value is None:
            return
        self.initiative.measurements.append(Measurement(
            row.number, indicator_id, day, value, row.text("source")))

    # --- references between tabs --------------------------------------------------------

    def person_in(self, row: Row, key: str) -> tuple[Person | None, str]:
        """The person a cell names (by name or e-mail); problems when none or several."""
        written = row.text(key)
        if not written:
            return None, ""
        lookup = normalise_header(written)
        if "@" in written:
            found = [self.people_by_email[lookup]] if lookup in self.people_by_email else []
        else:
            found = self.people_by_name.get(lookup, [])
        people_tab = self.initiative.tab_titles["people"]
        if len(found) > 1:
            numbers = and_list(self.language, [str(p.row) for p in found])
            self.report(row, key, "ambiguous_person", tab=people_tab, rows=numbers)
            return None, written
        if not found:
            message = ("duplicated_reference" if lookup in self.duplicated["people"]
                       else "unknown_person")
            self.report(row, key, message, tab=people_tab)
            return None, written
        if found[0].email is None:
            self.report(row, key, "person_without_email", "warning", tab=people_tab)
        return found[0], written

    def group_in(self, row: Row, severity: str, skipped: bool = False) -> str | None:
        """The group a row names, as written on Grupper; None when it is not there."""
        written = row.text("group")
        if not written:
            if skipped:
                self.report(row, "group", "value_missing", skipped=True)
                return None
            return ""
        lookup = normalise_header(written)
        if lookup in self.group_names:
            return self.group_names[lookup]
        message = "duplicated_reference" if lookup in self.duplicated["groups"] else (
            "unknown_group")
        self.report(row, "group", message, severity, skipped=skipped,
                    tab=self.initiative.tab_titles["groups"])
        return None

    # --- values and problems ------------------------------------------------------------

    def parse_date(self, value: CellValue) -> date | None:
        return values.parse_date(value, self.settings.sheet.date_order)

    @property
    def example_date(self) -> str:
        return values.example_date(self.settings.sheet.date_order)

    def read(self, row: Row, key: str, reader: Callable[[CellValue], T], message_id: str,
             fallback: T, severity: str = "error", skipped: bool = False,
             **fields: object) -> T:
        """The cell read by ``reader``; on a value it cannot read, a problem and ``fallback``."""
        try:
            return reader(row.raw(key))
        except ValueError:
            self.report(row, key, message_id, severity, skipped=skipped, **fields)
            return fallback

    def report(self, row: Row, key: str, message_id: str, severity: str = "error",
               skipped: bool = False, **fields: object) -> None:
        layout = row.layout
        column = layout.headers.get(key) or layout.tab.column(key).title(self.language)
        fields.setdefault("value", row.text(key))
        message = text(self.language, message_id, column=column, **fields)
        if skipped:
            message += text(self.language, "row_skipped")
        self.add(Problem(layout.table.title, row.cell(key), str(fields["value"]), message,
                         severity, layout.tab.key, row.number))

    def add(self, problem: Problem) -> None:
        self.initiative.problems.append(problem)

    def problem_order(self, problem: Problem) -> tuple[int, int, int]:
        columns = self.initiative.columns.get(problem.tab_key, {})
        letters = problem.cell.rstrip("0123456789")
        index = next((i for i in columns.values() if column_letter(i) == letters), 0)
        return (_TAB_ORDER.get(problem.tab_key, len(TABS)), problem.row, index)


def _later(start: time, minutes: int) -> time:
    """``minutes`` after ``start`` on the same day; a meeting never runs past 23:59."""
    total = start.hour * 60 + start.minute + minutes
    return time(23, 59) if total >= 24 * 60 else time(total // 60, total % 60)
