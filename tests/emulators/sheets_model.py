"""The emulator's spreadsheets, and the API errors it answers with, as Google words them."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from tests.emulators.sheets_a1 import Box, RangeSyntaxError, Span, parse_range, quote_title

DEFAULT_ROWS, DEFAULT_COLS = 1000, 26
_ID_ALPHABET = string.ascii_letters + string.digits + "-_"


class ApiError(Exception):
    """An error answered with Google's JSON error body."""

    def __init__(self, code: int, message: str, status: str, details: list[Any] | None = None):
        super().__init__(message)
        self.code, self.message, self.status, self.details = code, message, status, details

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, "INVALID_ARGUMENT")


def not_found() -> ApiError:
    return ApiError(404, "Requested entity was not found.", "NOT_FOUND")


def permission_denied() -> ApiError:
    return ApiError(403, "The caller does not have permission", "PERMISSION_DENIED")


@dataclass(slots=True)
class Cell:
    """One cell: its effective value, the formula behind it, its number format.

    ``number_format`` is Google's (type, pattern), e.g. ("DATE", "yyyy-mm-dd"); None is
    the automatic format.
    """

    value: str | float | bool
    formula: str | None = None
    number_format: tuple[str, str] | None = None


@dataclass
class Sheet:
    properties: dict[str, Any]
    rows: dict[int, dict[int, Cell]] = field(default_factory=dict)
    # (row, col) → note, userEnteredFormat, dataValidation (see sheets_grid); the inner
    # dicts are replaced, never changed in place, so a shallow copy can undo a request
    decor: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return str(self.properties["title"])

    @property
    def sheet_id(self) -> int:
        return int(self.properties["sheetId"])

    @property
    def row_count(self) -> int:
        return int(self.properties["gridProperties"]["rowCount"])

    @property
    def col_count(self) -> int:
        return int(self.properties["gridProperties"]["columnCount"])

    def cell(self, row: int, col: int) -> Cell | None:
        cells = self.rows.get(row)
        return cells.get(col) if cells else None

    def put(self, row: int, col: int, cell: Cell | None) -> None:
        if cell is None:
            cells = self.rows.get(row)
            if cells is not None:
                cells.pop(col, None)
                if not cells:
                    del self.rows[row]
        else:
            self.rows.setdefault(row, {})[col] = cell

    def clear(self, box: Box) -> None:
        for row in [r for r in self.rows if box.row0 <= r < box.row1]:
            for col in [c for c in self.rows[row] if box.col0 <= c < box.col1]:
                self.put(row, col, None)

    def grid(self) -> Box:
        return Box(0, self.row_count, 0, self.col_count)


def new_sheet(
    sheet_id: int, title: str, index: int, rows: int = DEFAULT_ROWS, cols: int = DEFAULT_COLS
) -> Sheet:
    return Sheet(
        {
            "sheetId": sheet_id,
            "title": title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": {"rowCount": rows, "columnCount": cols},
        }
    )


def new_spreadsheet_id() -> str:
    return "1" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(43))


def new_sheet_id(taken: set[int]) -> int:
    while True:
        candidate = secrets.randbelow(2**31 - 1) + 1
        if candidate not in taken:
            return candidate


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    properties: dict[str, Any]
    sheets: list[Sheet]
    created: str
    modified: str
    shared: bool = True

    @classmethod
    def blank(cls, spreadsheet_id: str, title: str, now: str) -> Spreadsheet:
        properties = {
            "title": title,
            "locale": "en_US",
            "autoRecalc": "ON_CHANGE",
            "timeZone": "Etc/GMT",
        }
        return cls(spreadsheet_id, properties, [new_sheet(0, "Sheet1", 0)], now, now)

    def sheet_by_title(self, title: str) -> Sheet | None:
        return next((s for s in self.sheets if s.title == title), None)

    def sheet_by_id(self, sheet_id: int) -> Sheet | None:
        return next((s for s in self.sheets if s.sheet_id == sheet_id), None)

    def ordered(self) -> list[Sheet]:
        return sorted(self.sheets, key=lambda s: int(s.properties["index"]))

    def reindex(self) -> None:
        for i, sheet in enumerate(self.ordered()):
            sheet.properties["index"] = i

    def resolve(self, text: str) -> tuple[Sheet, Span]:
        """The sheet a request's range names, or Google's 400 'Unable to parse range'."""
        try:
            span = parse_range(text, {s.title for s in self.sheets})
        except RangeSyntaxError:
            raise bad_request(f"Unable to parse range: {text}") from None
        if span.title is None:
            sheet = self.ordered()[0]
        else:
            found = self.sheet_by_title(span.title)
            if found is None:
                raise bad_request(f"Unable to parse range: {text}")
            sheet = found
        return sheet, span

    def metadata(self) -> dict[str, Any]:
        return {
            "spreadsheetId": self.spreadsheet_id,
            "properties": dict(self.properties),
            "sheets": [{"properties": _copy(s.properties)} for s in self.ordered()],
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit",
        }


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def clip(sheet: Sheet, span: Span) -> Box:
    """The span bounded by the sheet's grid (open ends run to the grid's edge)."""
    row0 = span.row0 or 0
    col0 = span.col0 or 0
    row1 = sheet.row_count if span.row1 is None else span.row1
    col1 = sheet.col_count if span.col1 is None else span.col1
    return Box(row0, row1, col0, col1)


def exceeds_grid(sheet: Sheet, where: str) -> ApiError:
    return bad_request(
        f"Range ({quote_title(sheet.title)}!{where}) exceeds grid limits. "
        f"Max rows: {sheet.row_count}, max columns: {sheet.col_count}"
    )
