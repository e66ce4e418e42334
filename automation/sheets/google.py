"""The google backend: a Google Sheet read and written through the Sheets API v4.

A cycle makes at most three API calls, the first one included in a fresh process:

1. ``read``: one ``spreadsheets.get`` whose ``fields`` mask asks for every tab's
   properties and, per cell, only ``effectiveValue`` (the unformatted value; dates
   as serial numbers) and ``effectiveFormat.numberFormat.type``.
2. ``write``: one ``values:batchGet`` of the ID columns and the columns about to be
   written, just before writing: each row is re-found by its ID, so rows that
   partners inserted, deleted or sorted meanwhile keep their statuses.
3. ``write``: one ``values:batchUpdate`` with ``valueInputOption=RAW`` (a value
   starting with ``=`` stays text) — and none when no cell would change. The rows
   appended to Målinger are in it too, placed below the tab's last row as call 2 found
   it. Only when that tab's grid is full does a ``batchUpdate`` add rows first.

Why the read is not a ``values:batchGet`` (as the first design had it): that call
answers a date cell with a bare serial number, the same as a number cell, and
needs the tab titles first. Telling them apart needs each cell's number format,
which only ``spreadsheets.get`` gives; cached once per process it goes stale as
soon as a partner types a date in a new row (Google formats that one cell), and
``run --once`` pays it in every process, making four calls. Asking
``spreadsheets.get`` for values and format types together is one call that is
always right and is also the "metadata" (titles, grid sizes) — nothing to cache.
Rendering dates as formatted strings instead would make rygrad guess the order of
``12/4/2026`` in a US-locale sheet, after Google already knew the date.

So a serial in a DATE cell becomes a ``date``, in a TIME cell a ``time``, in a
DATE_TIME cell a ``datetime`` (a date at midnight); other numbers stay numbers.
``Snapshot.version`` is "": Google has no cheap content version, so ``write``
re-anchors by ID instead of refusing a changed sheet.
"""

from __future__ import annotations

import functools
import logging
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from automation.config import Settings, SheetSettings
from automation.core.a1 import column_letter, quote, trim
from automation.core.model import CellValue, CellWrite, Snapshot, Table
from automation.core.schema import normalise_header
from automation.core.values import cell_text
from automation.errors import SheetError, SheetLockedError, StaleSheetError
from automation.sheets import Skipped
from automation.sheets.google_api import SheetsApi

log = logging.getLogger(__name__)

READ_FIELDS = (
    "sheets(properties(sheetId,title,index,gridProperties(rowCount,columnCount)),"
    "data(rowData(values(effectiveValue,effectiveFormat/numberFormat/type))))"
)
# where partners open the sheet (mailcontext adds the tab and row); never sheet.api_base,
# which only points rygrad's own calls elsewhere
EDIT_URL = "https://docs.google.com/spreadsheets/d/%s/edit"
ROWS = ("sheets", "data", "rowData")  # the answer's rows, decoded one at a time
DOUBLED = 0  # in the write-back's index: more than one row has this ID
EPOCH = datetime(1899, 12, 30)  # serial 0 in Google Sheets (and Excel after 1900-03-01)
ERRORS = {
    "NULL_VALUE": "#NULL!", "DIVIDE_BY_ZERO": "#DIV/0!", "VALUE": "#VALUE!", "REF": "#REF!",
    "NAME": "#NAME?", "NUM": "#NUM!", "N_A": "#N/A", "LOADING": "Loading...",
}


class GoogleSheet:
    """A Google Sheet; the SheetBackend of ``sheet.backend = "google"``.

    Each request waits ``timeout`` seconds at most (``sheet.timeout`` unless given);
    ``sleep`` (``time.sleep`` unless given) waits between retries. After ``write``,
    ``skipped`` lists the writes it left out (each also logged).
    """

    def __init__(
        self,
        settings: SheetSettings,
        *,
        timeout: float | None = None,
        retries: int = 4,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.api = SheetsApi(settings, timeout=timeout, retries=retries,
                             sleep=time.sleep if sleep is None else sleep)
        self.spreadsheet = settings.spreadsheet  # as configured: its id or URL
        self.skipped: list[Skipped] = []
        self._headers: dict[str, tuple[CellValue, ...]] = {}  # as of the last read
        self._columns: dict[str, int] = {}  # grid width per tab, as of the last read
        self._rows: dict[str, int] = {}  # grid height per tab, as of the last read
        self._sheet_ids: dict[str, int] = {}  # tab title → its sheetId, as of the last read

    def describe(self) -> str:
        return f"Google Sheet {self.spreadsheet}"

    def init(self, settings: Settings) -> list[str]:
        """Two reads and at most one batchUpdate (sheets/init_sheet.py)."""
        from automation.sheets.init_sheet import init_google

        return init_google(settings, self.api)

    # -- read ----------------------------------------------------------------------------

    def read(self) -> Snapshot:
        # prettyPrint=false: the answer holds every cell; indentation would double it.
        # The answer is decoded as it arrives, a row at a time, each cell becoming its
        # value as soon as it is decoded (_compact) and each row its trimmed tuple
        # (_row): the answer for a big sheet is tens of MB of JSON, and as a tree of
        # little dicts, or as one text beside its rows, it cost several times that
        # (docs/benchmarks.md, "Why the code is shaped this way").
        answer = self.api.get({"fields": READ_FIELDS, "prettyPrint": "false"},
                              object_hook=_compact, path=ROWS, each=_row)
        tables: dict[str, Table] = {}
        for sheet in answer.get("sheets", []):
            properties = sheet.get("properties", {})
            title = str(properties.get("title", ""))
            sheet_id = properties.get("sheetId")
            tables[title] = _table(title, sheet.get("data") or [{}],
                                   int(sheet_id) if sheet_id is not None else None)
            grid = properties.get("gridProperties", {})
            self._columns[title] = int(grid.get("columnCount", 0) or 0)
            self._rows[title] = int(grid.get("rowCount", 0) or 0)
            if sheet_id is not None:
                self._sheet_ids[title] = int(sheet_id)
        self._headers = {title: table.header for title, table in tables.items()}
        return Snapshot(tables, version="", address=EDIT_URL % self.api.spreadsheet_id)

    # -- write ---------------------------------------------------------------------------

    def write(self, writes: Sequence[CellWrite], version: str) -> int:
        """Set the cells, each on the row that now has its ID; return how many changed.

        Raises StaleSheetError when a column moved since the read (re-read and
        recompute), SheetLockedError when the sheet cannot be written now (the
        status columns follow on a later cycle).
        """
        self.skipped = []
        if not writes:
            return 0
        wanted: dict[str, set[int]] = {}
        for w in writes:
            wanted.setdefault(w.tab, set()).update({w.column, w.id_column} - {0})
        ranges = [(tab, column) for tab in wanted for column in sorted(wanted[tab])]
        try:
            reply = self.api.values_batch_get(
                [f"{quote(tab)}!{column_letter(c)}:{column_letter(c)}" for tab, c in ranges],
                {"majorDimension": "COLUMNS", "valueRenderOption": "UNFORMATTED_VALUE",
                 "dateTimeRenderOption": "SERIAL_NUMBER"},
            )
        except SheetError as err:
            raise SheetLockedError(f"{err}; status columns will be written on a later cycle"
                                   ) from err
        found = reply.get("valueRanges", [])
        columns: dict[tuple[str, int], list[Any]] = {}
        for (tab, column), value_range in zip(ranges, found, strict=False):
            values = value_range.get("values") or [[]]
            columns[(tab, column)] = values[0]
        self._check_headers(writes, columns)
        writes = self._after_last_rows(writes, columns)
        cells = self._place(writes, columns)
        del reply, found, columns  # the re-read columns are done with (100,000 rows each)
        for skipped in self.skipped:
            log.warning("not written: %s", skipped)
        if not cells:
            return 0
        try:
            self.api.write_cells((f"{quote(tab)}!{column_letter(column)}{row}", value)
                                 for (tab, row, column), value in cells.items())
        except SheetError as err:
            raise SheetLockedError(f"{err}; status columns will be written on a later cycle"
                                   ) from err
        return len(cells)

    def _check_headers(
        self, writes: Sequence[CellWrite], columns: dict[tuple[str, int], list[Any]]
    ) -> None:
        """A partner who inserted or moved a column makes every index stale: read again."""
        for w in writes:
            before = self._headers.get(w.tab)
            if before is None:
                continue
            for column in {w.id_column, w.column if w.row_id or w.row > 1 else 0} - {0}:
                now = columns.get((w.tab, column), [])
                was = before[column - 1] if column <= len(before) else None
                if _key(now[0] if now else None) != _key(was):
                    raise StaleSheetError(
                        f"{w.tab}: column {column_letter(column)} changed since the sheet was "
                        "read; read it again")

    def _after_last_rows(
        self, writes: Sequence[CellWrite], columns: dict[tuple[str, int], list[Any]]
    ) -> Sequence[CellWrite]:
        """Rows rygrad appends (Målinger) moved to just below the tab's last row now: a
        partner may have added rows since the read, which must not be written over.

        The columns re-read are those the new rows fill, so a row a partner typed there
        shows. A tab whose grid has too few rows left gets them first: one more call,
        made only when the tab is full (a new tab has 1,000 rows).
        """
        appended: dict[str, list[CellWrite]] = {}
        for w in writes:
            if w.appended:
                appended.setdefault(w.tab, []).append(w)
        if not appended:
            return writes
        moved: dict[int, CellWrite] = {}
        grow: dict[str, int] = {}
        for tab, cells in appended.items():
            last = max((len(values) for (t, _), values in columns.items() if t == tab),
                       default=1)
            shift = max(last, 1) + 1 - min(w.row for w in cells)
            for w in cells:
                moved[id(w)] = replace(w, row=w.row + shift)
            bottom = max(w.row for w in cells) + shift
            if self._rows.get(tab) and bottom > self._rows[tab]:
                grow[tab] = bottom - self._rows[tab]
        if grow:
            self._add_rows(grow)
        return [moved.get(id(w), w) for w in writes]

    def _add_rows(self, grow: dict[str, int]) -> None:
        ids = self._sheet_ids
        requests = [{"appendDimension": {"sheetId": ids[tab], "dimension": "ROWS",
                                         "length": max(count, 500)}}
                    for tab, count in grow.items() if tab in ids]
        try:
            self.api.batch_update({"requests": requests})
        except SheetError as err:
            raise SheetLockedError(f"{err}; status columns will be written on a later cycle"
                                   ) from err
        for tab, count in grow.items():
            self._rows[tab] += max(count, 500)

    def _place(
        self, writes: Sequence[CellWrite], columns: dict[tuple[str, int], list[Any]]
    ) -> dict[tuple[str, int, int], str | float]:
        """Each write on the row that has its ID now; unchanged cells left out. A number
        (``CellWrite.number``) goes as a JSON number: RAW keeps it a number cell."""
        rows_by_id: dict[tuple[str, int], dict[str, int]] = {}
        cells: dict[tuple[str, int, int], str | float] = {}
        for w in writes:
            target = self._target(w, columns, rows_by_id)
            if target is None:
                continue
            current = columns.get((w.tab, w.column), [])
            now = cell_text(current[target - 1]) if target <= len(current) else ""
            if now != w.value:
                cells[(w.tab, target, w.column)] = w.value if w.number is None else w.number
            else:
                cells.pop((w.tab, target, w.column), None)
        return cells

    def _target(
        self,
        w: CellWrite,
        columns: dict[tuple[str, int], list[Any]],
        rows_by_id: dict[tuple[str, int], dict[str, int]],
    ) -> int | None:
        if w.row == 1 and not w.row_id:  # a header added for a missing W column
            current = columns.get((w.tab, w.column), [])
            header = cell_text(current[0]) if current else ""
            if header.strip() and _key(header) != _key(w.value):
                return self._skip(w, f"the header cell now holds {header!r}")
            if self._columns.get(w.tab) and w.column > self._columns[w.tab]:
                return self._skip(w, "the tab has no column there; run rygrad init-sheet")
            return 1
        if not w.id_column or w.appended:  # an appended row was placed by _after_last_rows
            return w.row
        ids = columns.get((w.tab, w.id_column), [])
        if not w.row_id:  # a row without an ID: only where it was, if it still has none
            if w.row <= len(ids) and cell_text(ids[w.row - 1]).strip():
                return self._skip(w, "the row without an ID has moved")
            return w.row
        index = rows_by_id.get((w.tab, w.id_column))
        if index is None:
            # ID → its row, or DOUBLED: an int per row, not a list (100,000 rows)
            index = {}
            for number, value in enumerate(ids[1:], start=2):
                if key := _key(value):
                    index[key] = DOUBLED if key in index else number
            rows_by_id[(w.tab, w.id_column)] = index
        wanted = _key(w.row_id)
        row = index.get(wanted)
        if row is None:
            return self._skip(w, f"no row has the ID {w.row_id!r} any more")
        if row == DOUBLED:
            # a doubled ID's rows still get their cells (above all the note that
            # says so) where the row read is still that row; a row that moved is skipped,
            # since which of them it became cannot be told
            if 2 <= w.row <= len(ids) and _key(ids[w.row - 1]) == wanted:
                return w.row
            rows = [n for n, value in enumerate(ids[1:], start=2) if _key(value) == wanted]
            return self._skip(w, f"the ID {w.row_id!r} is now on rows "
                                 f"{', '.join(map(str, rows))}")
        return row

    def _skip(self, w: CellWrite, reason: str) -> int | None:
        self.skipped.append(Skipped(w, reason))
        return None


# -- helpers -----------------------------------------------------------------------------


def _key(value: CellValue) -> str:
    """IDs and headers match as the parser matches them: trimmed, case-insensitive."""
    return normalise_header(cell_text(value))


def _row(row: Any) -> tuple[CellValue, ...]:
    """A decoded row (cells as values, see _compact) as its values, trailing empties cut."""
    cells = row.get("values", []) if isinstance(row, dict) else []
    return trim([_value(cell) if isinstance(cell, dict) else cell for cell in cells])


def _table(title: str, data: list[dict[str, Any]], sheet_id: int | None = None) -> Table:
    """A tab from its grid data, each row already a tuple of values (_row)."""
    header: tuple[CellValue, ...] = ()
    rows: list[tuple[int, tuple[CellValue, ...]]] = []
    grid = data[0] if data else {}
    first = int(grid.get("startRow", 0)) + 1
    for number, values in enumerate(grid.get("rowData", []), start=first):
        if number == 1:
            header = values
        elif any(v is not None and not (isinstance(v, str) and not v.strip()) for v in values):
            rows.append((number, values))
    return Table(title, header, tuple(rows), sheet_id=sheet_id)


def _compact(decoded: dict[str, Any]) -> Any:
    """The object_hook of the read: a cell object becomes its value, anything else stays.

    An empty cell (``{}``) cannot be told from any other empty object, so it stays a
    dict; ``_table`` reads it as None.
    """
    if "effectiveValue" in decoded or "effectiveFormat" in decoded:
        return _value(decoded)
    return decoded


def _value(cell: dict[str, Any]) -> CellValue:
    value = cell.get("effectiveValue")
    if not value:
        return None
    if "stringValue" in value:
        return sys.intern(str(value["stringValue"]))
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "errorValue" in value:
        return ERRORS.get(str(value["errorValue"].get("type")), "#ERROR!")
    if "numberValue" not in value:
        return None
    number = float(value["numberValue"])
    kind = cell.get("effectiveFormat", {}).get("numberFormat", {}).get("type", "")
    if kind in ("DATE", "TIME", "DATE_TIME") and math.isfinite(number):
        return serial_moment(number, kind)
    return int(number) if number.is_integer() else number


@functools.lru_cache(maxsize=4096)  # a sheet has few distinct dates: one object each
def serial_moment(serial: float, kind: str) -> CellValue:
    """A Google serial number as the date, time or date and time its format shows."""
    if kind == "DATE":
        return (EPOCH + timedelta(days=math.floor(serial))).date()
    moment = EPOCH + timedelta(seconds=round(serial * 86400))
    if kind == "TIME":
        return moment.time()
    return moment.date() if moment.time() == datetime.min.time() else moment

