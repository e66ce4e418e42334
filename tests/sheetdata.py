"""Small builders for workbooks in tests: settings, tables and snapshots from plain dicts.

    snap = snapshot({
        "Personer": [{"Navn": "Anne Holm", "E-mail": "anne@kommune.example"}],
        "Møder": [{"Møde-ID": "M-01", "Gruppe": "Styregruppen", "Dato": "4-12-2026"}],
    })

Rows are numbered from 2 (row 1 is the header); ``None`` in a row list leaves that
sheet row empty. A tab of the five gets its full header in the schema's order (in the
language of its title; a key written differently, e.g. "FRIST", replaces its title),
then any other keys; pass a ``table(title, rows, header)`` to choose the header
yourself. Tabs of the five that are not named get their full header and no rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from automation import config
from automation.config import Settings
from automation.core.model import CellValue, Initiative, Snapshot, Table
from automation.core.parse import parse
from automation.core.schema import TABS, normalise_header

Rows = Sequence[Mapping[str, CellValue] | None]


def settings(language: str = "da", **sheet: Any) -> Settings:
    """Settings as `config.parse` makes them; ``sheet`` keys go to [sheet] (aliases, …)."""
    data: dict[str, Any] = {
        "initiative": {
            "name": "Ungeløftet Aarhus",
            "language": language,
            "secretariat": "Sekretariatet <sekretariat@ungeloeftet.example>",
        },
        "sheet": {"path": "initiative.xlsx", **sheet},
    }
    return config.parse(data, Path("/config/rygrad.toml"))


def table(title: str, rows: Rows, header: Iterable[str] | None = None) -> Table:
    names = list(header) if header is not None else _keys(rows)
    numbered = tuple(
        (number, tuple(row.get(name) for name in names))
        for number, row in enumerate(rows, start=2)
        if row is not None
    )
    return Table(title, tuple(names), numbered)


def snapshot(tabs: Mapping[str, Rows | Table], language: str = "da") -> Snapshot:
    """A snapshot of the given tabs plus, for the five tabs not given, empty ones."""
    tables = {
        title: rows if isinstance(rows, Table) else table(title, rows, _header(title, rows))
        for title, rows in tabs.items()
    }
    named = {title.strip().casefold() for title in tables}
    for tab in TABS:
        if not named & {tab.da.casefold(), tab.en.casefold()}:
            title = tab.title(language)
            tables[title] = table(title, [], [c.title(language) for c in tab.columns])
    return Snapshot(tables)


def initiative(tabs: Mapping[str, Rows | Table], language: str = "da", **sheet: Any
               ) -> Initiative:
    """Parse the tabs with default settings in ``language``."""
    return parse(snapshot(tabs, language), settings(language, **sheet))


def _header(title: str, rows: Rows) -> list[str]:
    """The schema's titles for the tab (if it is one of the five), then the rows' other keys."""
    wanted = normalise_header(title)
    header: list[str] = []
    positions: dict[str, int] = {}
    for tab in TABS:
        if wanted in (normalise_header(tab.da), normalise_header(tab.en)):
            language = "en" if wanted == normalise_header(tab.en) else "da"
            header = [column.title(language) for column in tab.columns]
            for index, column in enumerate(tab.columns):
                positions[normalise_header(column.da)] = index
                positions[normalise_header(column.en)] = index
    for key in _keys(rows):
        if normalise_header(key) in positions:
            header[positions[normalise_header(key)]] = key
        else:
            header.append(key)
    return header


def _keys(rows: Rows) -> list[str]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row or {}))
    return list(names)
