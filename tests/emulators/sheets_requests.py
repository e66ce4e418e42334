"""spreadsheets:batchUpdate — the structural requests, applied all or nothing.

The caller snapshots the spreadsheet first; any request that fails raises Google's
400 naming it (``Invalid requests[i].kind: …``) and the caller restores the snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.emulators import sheets_grid
from tests.emulators.sheets_a1 import Box
from tests.emulators.sheets_model import (
    ApiError,
    Cell,
    Sheet,
    Spreadsheet,
    bad_request,
    new_sheet,
    new_sheet_id,
)

# Google leaves these out of a sheet's properties when they are off.
_OMITTED_WHEN_OFF = ("hidden", "rightToLeft")
_GRID_OMITTED_WHEN_OFF = (
    "frozenRowCount",
    "frozenColumnCount",
    "hideGridlines",
    "rowGroupControlAfter",
    "columnGroupControlAfter",
)


class RequestError(Exception):
    """A problem with one request; the caller names the request in Google's words."""


def _fields(mask: str) -> list[list[str]]:
    return [f.strip().replace("/", ".").split(".") for f in mask.split(",") if f.strip()]


def _apply_mask(
    target: dict[str, Any], source: dict[str, Any], mask: str, skip: tuple[str, ...] = ()
) -> None:
    paths = [list(source)] if mask.strip() == "*" else None
    if paths is not None:
        for key in source:
            if key not in skip:
                target[key] = source[key]
        return
    for path in _fields(mask):
        src: Any = source
        dst = target
        for key in path[:-1]:
            src = src.get(key, {}) if isinstance(src, dict) else {}
            dst = dst.setdefault(key, {})
        leaf = path[-1]
        if isinstance(src, dict) and leaf in src:
            dst[leaf] = src[leaf]
        else:
            dst.pop(leaf, None)


def _tidy(properties: dict[str, Any]) -> None:
    for key in _OMITTED_WHEN_OFF:
        if not properties.get(key, True):
            properties.pop(key)
    grid = properties.get("gridProperties", {})
    for key in _GRID_OMITTED_WHEN_OFF:
        if not grid.get(key, True):
            grid.pop(key)


def _sheet(book: Spreadsheet, sheet_id: Any) -> Sheet:
    sheet = book.sheet_by_id(int(sheet_id or 0))
    if sheet is None:
        raise RequestError(f"No grid with id: {sheet_id or 0}")
    return sheet


def add_sheet(book: Spreadsheet, req: dict[str, Any]) -> dict[str, Any]:
    props = dict(req.get("properties", {}))
    taken = {s.sheet_id for s in book.sheets}
    sheet_id = props.get("sheetId", new_sheet_id(taken))
    if sheet_id in taken:
        raise RequestError(f"A sheet with id {sheet_id} already exists.")
    title = props.get("title") or _free_title(book)
    if book.sheet_by_title(title) is not None:
        raise RequestError(
            f'A sheet with the name "{title}" already exists. Please enter another name.'
        )
    grid = props.get("gridProperties", {})
    index = min(int(props.get("index", len(book.sheets))), len(book.sheets))
    sheet = new_sheet(
        int(sheet_id),
        title,
        index,
        int(grid.get("rowCount", 1000)),
        int(grid.get("columnCount", 26)),
    )
    for key, value in props.items():
        if key not in ("sheetId", "title", "index", "gridProperties"):
            sheet.properties[key] = value
    sheet.properties["gridProperties"].update(
        {k: v for k, v in grid.items() if k not in ("rowCount", "columnCount")}
    )
    for other in book.sheets:
        if int(other.properties["index"]) >= index:
            other.properties["index"] += 1
    book.sheets.append(sheet)
    _tidy(sheet.properties)
    return {"addSheet": {"properties": dict(sheet.properties)}}


def _free_title(book: Spreadsheet) -> str:
    n = len(book.sheets) + 1
    while book.sheet_by_title(f"Sheet{n}") is not None:
        n += 1
    return f"Sheet{n}"


def delete_sheet(book: Spreadsheet, req: dict[str, Any]) -> dict[str, Any]:
    sheet = _sheet(book, req.get("sheetId"))
    if len(book.sheets) == 1:
        raise RequestError("You can't remove all the sheets in a document.")
    book.sheets.remove(sheet)
    book.reindex()
    return {}


def update_sheet_properties(book: Spreadsheet, req: dict[str, Any]) -> dict[str, Any]:
    props = req.get("properties", {})
    sheet = _sheet(book, props.get("sheetId"))
    old_index = int(sheet.properties["index"])
    updated = {k: v for k, v in sheet.properties.items()}
    updated["gridProperties"] = dict(sheet.properties["gridProperties"])
    _apply_mask(updated, props, req.get("fields", ""), skip=("sheetId",))
    title = updated.get("title")
    if title != sheet.title and book.sheet_by_title(str(title)) is not None:
        raise RequestError(
            f'A sheet with the name "{title}" already exists. Please enter another name.'
        )
    if updated.get("hidden") and all(s is sheet or s.properties.get("hidden") for s in book.sheets):
        raise RequestError("You can't hide all the sheets in a document.")
    grid = updated["gridProperties"]
    rows, cols = int(grid.get("rowCount", 0)), int(grid.get("columnCount", 0))
    if rows < 1 or cols < 1:
        raise RequestError("Sheet must have at least one row and one column.")
    sheet.clear(Box(rows, 10**9, 0, 10**9))
    sheet.clear(Box(0, 10**9, cols, 10**9))
    sheet.properties = updated
    new_index = int(updated.get("index", old_index))
    if new_index != old_index:
        others = [s for s in book.ordered() if s is not sheet]
        others.insert(min(new_index, len(others)), sheet)
        for i, s in enumerate(others):
            s.properties["index"] = i
    _tidy(sheet.properties)
    return {}


def update_spreadsheet_properties(book: Spreadsheet, req: dict[str, Any]) -> dict[str, Any]:
    _apply_mask(book.properties, req.get("properties", {}), req.get("fields", ""))
    return {}


def insert_rows(sheet: Sheet, start: int, count: int) -> None:
    sheet.rows = {(r + count if r >= start else r): cells for r, cells in sheet.rows.items()}
    sheets_grid.move_rows(sheet, start, count)
    sheet.properties["gridProperties"]["rowCount"] += count


def _shift_columns(sheet: Sheet, start: int, count: int) -> None:
    """Move columns from start on by count (negative: delete columns before start)."""
    for r, cells in sheet.rows.items():
        moved: dict[int, Cell] = {}
        for c, cell in cells.items():
            if c >= start:
                moved[c + count] = cell
            elif count >= 0 or c < start + count:
                moved[c] = cell
        sheet.rows[r] = moved
    sheet.rows = {r: cells for r, cells in sheet.rows.items() if cells}
    sheet.properties["gridProperties"]["columnCount"] += count


def _dimension(book: Spreadsheet, req: dict[str, Any]) -> tuple[Sheet, str, int, int]:
    rng = req.get("range", {})
    sheet = _sheet(book, rng.get("sheetId"))
    dimension = rng.get("dimension", "")
    if dimension not in ("ROWS", "COLUMNS"):
        raise RequestError("range.dimension must be ROWS or COLUMNS.")
    start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", 0))
    limit = sheet.row_count if dimension == "ROWS" else sheet.col_count
    if not 0 <= start < end or end > limit + (1 if "inheritFromBefore" in req else 0):
        raise RequestError(f"Invalid dimension range: {start} to {end}.")
    return sheet, dimension, start, end


def insert_dimension(book: Spreadsheet, req: dict[str, Any]) -> dict[str, Any]:
    sheet, dimension, start, end = _dimension(book, req)
    if dimension == "ROWS":
        insert_rows(sheet, start, end - start)
    else:
        _shift_columns(sheet, start, end - start)
    return {}


def delete_dimension(book: Spreadsheet, req: dict[str, Any]) -> dict[str, Any]:
    sheet, dimension, start, end = _dimension(book, req)
    count = end - start
    if dimension == "ROWS":
        if count >= sheet.row_count:
            raise RequestError("You can't delete all the rows on the sheet.")
        sheet.rows = {
            (r - count if r >= end else r): cells
            for r, cells in sheet.rows.items()
            if not start <= r < end
        }
        sheet.decor = {k: v for k, v in sheet.decor.items() if not start <= k[0] < end}
        sheets_grid.move_rows(sheet, end, -count)
        sheet.properties["gridProperties"]["rowCount"] -= count
    else:
        if count >= sheet.col_count:
            raise RequestError("You can't delete all the columns on the sheet.")
        _shift_columns(sheet, end, -count)
    return {}


def append_dimension(book: Spreadsheet, req: dict[str, Any]) -> dict[str, Any]:
    sheet = _sheet(book, req.get("sheetId"))
    length = int(req.get("length", 0))
    if length < 1:
        raise RequestError("length must be greater than 0.")
    dimension = req.get("dimension", "")
    if dimension == "ROWS":
        sheet.properties["gridProperties"]["rowCount"] += length
    elif dimension == "COLUMNS":
        sheet.properties["gridProperties"]["columnCount"] += length
    else:
        raise RequestError("dimension must be ROWS or COLUMNS.")
    return {}


def _sort_key(cell: Cell | None) -> tuple[int, Any]:
    if cell is None:
        return (3, 0)
    value = cell.value
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, str):
        return (1, value.casefold())
    return (0, value)


def sort_range(book: Spreadsheet, req: dict[str, Any]) -> dict[str, Any]:
    rng = req.get("range", {})
    sheet = _sheet(book, rng.get("sheetId"))
    box = Box(
        int(rng.get("startRowIndex", 0)),
        int(rng.get("endRowIndex", sheet.row_count)),
        int(rng.get("startColumnIndex", 0)),
        int(rng.get("endColumnIndex", sheet.col_count)),
    )
    rows = [
        {c: sheet.cell(r, c) for c in range(box.col0, box.col1)} for r in range(box.row0, box.row1)
    ]
    for spec in reversed(req.get("sortSpecs", [])):
        col = box.col0 + int(spec.get("dimensionIndex", 0))
        descending = spec.get("sortOrder") == "DESCENDING"
        # Blank cells sort last in both directions, as in Google Sheets.
        filled = [row for row in rows if row.get(col) is not None]
        blank = [row for row in rows if row.get(col) is None]
        filled.sort(
            key=lambda row, col=col: _sort_key(row.get(col)),  # type: ignore[misc]
            reverse=descending,
        )
        rows = filled + blank
    for offset, row in enumerate(rows):
        for c, cell in row.items():
            sheet.put(box.row0 + offset, c, cell)
    return {}


HANDLERS: dict[str, Callable[[Spreadsheet, dict[str, Any]], dict[str, Any]]] = {
    "addSheet": add_sheet,
    "deleteSheet": delete_sheet,
    "updateSheetProperties": update_sheet_properties,
    "updateSpreadsheetProperties": update_spreadsheet_properties,
    "insertDimension": insert_dimension,
    "deleteDimension": delete_dimension,
    "appendDimension": append_dimension,
    "sortRange": sort_range,
    "updateCells": sheets_grid.update_cells,
    "repeatCell": sheets_grid.repeat_cell,
    "setDataValidation": sheets_grid.set_data_validation,
}


def batch_update(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    """Apply every request in order; raise on the first that fails (caller rolls back)."""
    requests = body.get("requests", [])
    if not requests:
        raise bad_request("Must specify at least one request.")
    replies = []
    for i, request in enumerate(requests):
        kind = next(iter(request), "")
        handler = HANDLERS.get(kind)
        if handler is None:
            raise ApiError(
                400,
                f"Invalid requests[{i}]: the emulator does not support {kind}.",
                "INVALID_ARGUMENT",
            )
        try:
            replies.append(handler(book, request[kind]))
        except (RequestError, sheets_grid.GridError) as err:
            raise bad_request(f"Invalid requests[{i}].{kind}: {err}") from None
    result: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id, "replies": replies}
    if body.get("includeSpreadsheetInResponse"):
        result["updatedSpreadsheet"] = book.metadata()
    return result
