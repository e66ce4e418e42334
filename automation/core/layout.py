"""Where things are in the workbook: which table is each tab, which column holds each
known header (its Danish or English title, or an alias from the config), and the A1
address of a cell.

Separate from parse.py, which reads what the rows mean: finding the layout knows
headers and aliases, nothing of people, meetings or actions. Pure: no I/O, no
clock. A missing tab or required column raises SheetError; a second tab of the same
name, a repeated header or a missing optional column is a Problem returned with the
layout.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from automation.core import values
from automation.core.a1 import column_letter
from automation.core.i18n import both_names, text
from automation.core.model import CellValue, Problem, Snapshot, Table
from automation.core.schema import Tab, normalise_header
from automation.errors import SheetError


@dataclass(frozen=True)
class Layout:
    """One tab as found: its table and where each known column is."""

    tab: Tab
    table: Table
    columns: dict[str, int]  # column key → 1-based index
    headers: dict[str, str]  # column key → the header as written (spaces collapsed)
    width: int


@dataclass(frozen=True)
class Row:
    layout: Layout
    number: int
    cells: tuple[CellValue, ...]

    def raw(self, key: str) -> CellValue:
        index = self.layout.columns.get(key, 0)
        return self.cells[index - 1] if 0 < index <= len(self.cells) else None

    def text(self, key: str) -> str:
        return values.cell_text(self.raw(key)).strip()

    def cell(self, key: str) -> str:
        index = self.layout.columns.get(key)
        return f"{column_letter(index)}{self.number}" if index else ""


def has_tab(snapshot: Snapshot, tab: Tab) -> bool:
    """Whether the workbook has the tab, under its Danish or English title."""
    wanted = {normalise_header(tab.da), normalise_header(tab.en)}
    return any(normalise_header(title) in wanted for title in snapshot.tables)


def find_layout(snapshot: Snapshot, tab: Tab, aliases: dict[str, tuple[str, ...]],
                language: str) -> tuple[Layout, list[Problem]]:
    """The tab's table and columns, with the problems found in its header row."""
    wanted = {normalise_header(tab.da), normalise_header(tab.en)}
    tables = [t for t in snapshot.tables.values() if normalise_header(t.title) in wanted]
    if not tables:
        found = ", ".join(snapshot.tables) or text(language, "none_found")
        raise SheetError(text(language, "missing_tab", found=found,
                              names=both_names(language, tab.da, tab.en)))
    table = tables[0]
    problems = []
    for other in tables[1:]:
        problems.append(Problem(other.title, "", other.title, text(
            language, "duplicate_tab", value=other.title, first=table.title),
            "warning", tab.key))
    names = header_names(tab, aliases)
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    written: list[str] = []
    width = 0
    for index, cell in enumerate(table.header, start=1):
        header = " ".join(values.cell_text(cell).split())
        if not header:
            continue
        width = index
        written.append(header)
        key = names.get(normalise_header(header))
        if key is None:
            continue
        if key in columns:
            problems.append(Problem(table.title, f"{column_letter(index)}1", header, text(
                language, "duplicate_header", value=header,
                first=f"{column_letter(columns[key])}1"), "error", tab.key))
            continue
        columns[key] = index
        headers[key] = header
    layout = Layout(tab, table, columns, headers, width)
    problems += _check_columns(layout, written, language)
    return layout, problems


def header_names(tab: Tab, aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Normalised header → column key: the titles, then the config's aliases."""
    names: dict[str, str] = {}
    for column in tab.columns:
        names.setdefault(normalise_header(column.da), column.key)
        names.setdefault(normalise_header(column.en), column.key)
    titles = dict(names)
    for column in tab.columns:
        for alias in column.aliases:
            names.setdefault(normalise_header(alias), column.key)
    tab_titles = {normalise_header(tab.da), normalise_header(tab.en)}
    for target, alias_names in aliases.items():
        key = titles.get(normalise_header(target))
        if key is None and "." in target:
            prefix, _, title = target.partition(".")
            if normalise_header(prefix) in tab_titles:
                key = titles.get(normalise_header(title))
        if key is not None:
            for alias in alias_names:
                names.setdefault(normalise_header(alias), key)
    return names


def _check_columns(layout: Layout, written: list[str], language: str) -> list[Problem]:
    """A warning for each optional column not found; SheetError for a required one, and
    for one that guards mail (schema.Column.guards_mail) once the tab has data rows."""
    tab, title = layout.tab, layout.table.title
    has_rows = any(not values.is_blank(cell)
                   for _, cells in layout.table.rows for cell in cells)
    problems = []
    missing = [c for c in tab.columns if c.key not in layout.columns and not c.worker]
    needed = sum(c.needed(has_rows) for c in missing)
    for column in missing:
        if not column.needed(has_rows):
            problems.append(Problem(title, "", "", text(
                language, "optional_column_missing",
                names=both_names(language, column.da, column.en)),
                "warning", tab.key))
            continue
        unmatched = [h for h in written if h not in layout.headers.values()]
        hint = _closest([column.da, column.en], unmatched, only_one_missing=needed == 1)
        found = ", ".join(written) or text(language, "none_found")
        raise SheetError(text(
            language, "missing_column_hint" if hint else "missing_column",
            tab=title, names=both_names(language, column.da, column.en), found=found,
            hint=hint))
    return problems


def _closest(titles: list[str], headers: list[str], only_one_missing: bool) -> str:
    """The unmatched header most like a missing column's titles (or the only one left,
    when this is the only column missing: then it was most likely renamed)."""
    def likeness(header: str) -> float:
        return max(difflib.SequenceMatcher(None, normalise_header(title),
                                           normalise_header(header)).ratio()
                   for title in titles)

    best = max(headers, key=likeness, default="")
    renamed = only_one_missing and len(headers) == 1
    return best if best and (renamed or likeness(best) > 0.4) else ""
