"""The spreadsheets.values resource: get, update, append, clear and their batches.

Responses follow Google's shapes: trailing empty cells and rows trimmed, ``values``
left out when nothing is there, zero counts left out, ranges in canonical A1.
"""

from __future__ import annotations

from typing import Any

from automation.core.a1 import column_letter, trim
from tests.emulators.sheets_a1 import Box, a1, cell_name, span_a1
from tests.emulators.sheets_cells import entered, render
from tests.emulators.sheets_model import (
    Sheet,
    Spreadsheet,
    bad_request,
    clip,
    exceeds_grid,
)

Params = dict[str, list[str]]


def _param(params: Params, name: str, default: str) -> str:
    return params.get(name, [default])[-1]


def read_box(book: Spreadsheet, text: str) -> tuple[Sheet, Box]:
    sheet, span = book.resolve(text)
    box = clip(sheet, span)
    if box.row0 >= sheet.row_count or box.col0 >= sheet.col_count:
        raise exceeds_grid(sheet, span_a1(span))
    return sheet, Box(
        box.row0, min(box.row1, sheet.row_count), box.col0, min(box.col1, sheet.col_count)
    )


def read(
    sheet: Sheet, box: Box, major: str, value_option: str, date_option: str
) -> list[list[Any]]:
    """Rendered values of the box, trailing empties trimmed as Google trims them."""
    lines: list[list[Any]] = []
    if major == "COLUMNS":
        outer, inner = range(box.col0, box.col1), range(box.row0, box.row1)
    else:
        outer, inner = range(box.row0, box.row1), range(box.col0, box.col1)
    for o in outer:
        line: list[Any] = []
        for i in inner:
            cell = sheet.cell(i, o) if major == "COLUMNS" else sheet.cell(o, i)
            line.append(None if cell is None else render(cell, value_option, date_option))
        lines.append(["" if v is None else v for v in trim(line)])
    return list(trim(lines, blank=lambda line: not line))


def value_range(sheet: Sheet, box: Box, params: Params) -> dict[str, Any]:
    major = _param(params, "majorDimension", "ROWS")
    values = read(
        sheet,
        box,
        major,
        _param(params, "valueRenderOption", "FORMATTED_VALUE"),
        _param(params, "dateTimeRenderOption", "SERIAL_NUMBER"),
    )
    body: dict[str, Any] = {"range": a1(sheet.title, box), "majorDimension": major}
    if values:
        body["values"] = values
    return body


def get(book: Spreadsheet, text: str, params: Params) -> dict[str, Any]:
    sheet, box = read_box(book, text)
    return value_range(sheet, box, params)


def batch_get(book: Spreadsheet, params: Params) -> dict[str, Any]:
    found = [read_box(book, text) for text in params.get("ranges", [])]
    return {
        "spreadsheetId": book.spreadsheet_id,
        "valueRanges": [value_range(sheet, box, params) for sheet, box in found],
    }


def _rows_of(body: dict[str, Any], where: str) -> list[list[Any]]:
    values = body.get("values", [])
    if not isinstance(values, list) or not all(isinstance(v, list) for v in values):
        raise bad_request(
            f"Invalid value at '{where}' (type.googleapis.com/google.protobuf.ListValue), "
            f'"{values}"'
        )
    if body.get("majorDimension") == "COLUMNS":
        height = max((len(col) for col in values), default=0)
        return [[col[r] if r < len(col) else None for col in values] for r in range(height)]
    return values


def _write(
    book: Spreadsheet,
    sheet: Sheet,
    row0: int,
    col0: int,
    rows: list[list[Any]],
    option: str,
    limit: Box | None,
    text: str,
) -> dict[str, Any]:
    """Write rows at (row0, col0); the counts Google reports, or its 400s."""
    if option not in ("RAW", "USER_ENTERED"):
        raise bad_request(f"Invalid valueInputOption: {option or 'INPUT_VALUE_OPTION_UNSPECIFIED'}")
    height = len(rows)
    width = max((len(r) for r in rows), default=0)
    if limit is not None:
        if row0 + height > limit.row1:
            raise bad_request(
                f"Requested writing within range [{text}], but tried writing to row "
                f"[{limit.row1 + 1}]"
            )
        if col0 + width > limit.col1:
            raise bad_request(
                f"Requested writing within range [{text}], but tried writing to "
                f"column [{column_letter(limit.col1 + 1)}]"
            )
    if col0 + width > sheet.col_count:
        raise exceeds_grid(sheet, cell_name(row0, sheet.col_count))
    if row0 + height > sheet.row_count:
        raise exceeds_grid(sheet, cell_name(sheet.row_count, col0))
    touched_rows: set[int] = set()
    touched_cols: set[int] = set()
    cells = 0
    for r, line in enumerate(rows):
        for c, value in enumerate(line):
            if value is None:
                continue
            sheet.put(row0 + r, col0 + c, entered(value, option, sheet.cell))
            touched_rows.add(row0 + r)
            touched_cols.add(col0 + c)
            cells += 1
    box = Box(row0, row0 + max(height, 1), col0, col0 + max(width, 1))
    result: dict[str, Any] = {
        "spreadsheetId": book.spreadsheet_id,
        "updatedRange": a1(sheet.title, box),
        "updatedRows": len(touched_rows),
        "updatedColumns": len(touched_cols),
        "updatedCells": cells,
    }
    result = {k: v for k, v in result.items() if v != 0}
    result[_TOUCHED] = (sheet.sheet_id, touched_rows, touched_cols)
    return result


_TOUCHED = "_touched"  # private: which cells a write touched, for batch totals


def _public(result: dict[str, Any]) -> dict[str, Any]:
    result.pop(_TOUCHED, None)
    return result


def _with_data(result: dict[str, Any], sheet: Sheet, params: Params) -> dict[str, Any]:
    if _param(params, "includeValuesInResponse", "false").lower() == "true":
        box = read_box_of(sheet, result["updatedRange"])
        render_params = {
            "valueRenderOption": [_param(params, "responseValueRenderOption", "FORMATTED_VALUE")],
            "dateTimeRenderOption": [
                _param(params, "responseDateTimeRenderOption", "SERIAL_NUMBER")
            ],
        }
        result["updatedData"] = value_range(sheet, box, render_params)
    return result


def read_box_of(sheet: Sheet, canonical: str) -> Box:
    from tests.emulators.sheets_a1 import parse_cells, split_title

    row0, row1, col0, col1 = parse_cells(split_title(canonical)[1])
    return Box(row0 or 0, row1 or 1, col0 or 0, col1 or 1)


def update(book: Spreadsheet, text: str, body: dict[str, Any], params: Params) -> dict[str, Any]:
    return _public(_update(book, text, body, params))


def _update(book: Spreadsheet, text: str, body: dict[str, Any], params: Params) -> dict[str, Any]:
    sheet, span = book.resolve(text)
    rows = _rows_of(body, "data.values")
    # A single cell only anchors the data; a larger range also bounds it.
    limit = clip(sheet, span) if span.row1 is not None or span.col1 is not None else None
    if limit is not None and limit.rows == 1 and limit.cols == 1:
        limit = None
    if limit is not None and span.row1 is None:
        limit = Box(limit.row0, 10**9, limit.col0, limit.col1)
    if limit is not None and span.col1 is None:
        limit = Box(limit.row0, limit.row1, limit.col0, 10**9)
    option = _param(params, "valueInputOption", "")
    result = _write(book, sheet, span.row0 or 0, span.col0 or 0, rows, option, limit, text)
    return _with_data(result, sheet, params)


def batch_update(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    option = body.get("valueInputOption", "")
    params: Params = {"valueInputOption": [option]}
    for key in (
        "includeValuesInResponse",
        "responseValueRenderOption",
        "responseDateTimeRenderOption",
    ):
        if key in body:
            params[key] = [str(body[key])]
    responses = [
        _update(book, data.get("range", ""), data, params) for data in body.get("data", [])
    ]
    # Rows and columns are counted once each, however many ranges touched them.
    rows = {(r[_TOUCHED][0], row) for r in responses for row in r[_TOUCHED][1]}
    cols = {(r[_TOUCHED][0], col) for r in responses for col in r[_TOUCHED][2]}
    sheets = {r[_TOUCHED][0] for r in responses if r[_TOUCHED][1]}
    result: dict[str, Any] = {
        "spreadsheetId": book.spreadsheet_id,
        "totalUpdatedRows": len(rows),
        "totalUpdatedColumns": len(cols),
        "totalUpdatedCells": sum(r.get("updatedCells", 0) for r in responses),
        "totalUpdatedSheets": len(sheets),
        "responses": [_public(r) for r in responses],
    }
    return {k: v for k, v in result.items() if v != 0}


def _region(sheet: Sheet, row: int, col: int) -> Box:
    """The block of filled cells around one cell, grown as Excel's 'current region'."""
    box = Box(row, row + 1, col, col + 1)
    while True:
        grown = box
        for r in range(max(box.row0 - 1, 0), box.row1 + 1):
            for c in range(max(box.col0 - 1, 0), box.col1 + 1):
                if sheet.cell(r, c) is not None and not (
                    grown.row0 <= r < grown.row1 and grown.col0 <= c < grown.col1
                ):
                    grown = Box(
                        min(grown.row0, r),
                        max(grown.row1, r + 1),
                        min(grown.col0, c),
                        max(grown.col1, c + 1),
                    )
        if grown == box:
            return box
        box = grown


def append(book: Spreadsheet, text: str, body: dict[str, Any], params: Params) -> dict[str, Any]:
    """Write below the last table in the range, growing the grid by rows if needed."""
    sheet, span = book.resolve(text)
    rows = _rows_of(body, "data.values")
    box = clip(sheet, span)
    last = None
    for r in sorted((r for r in sheet.rows if box.row0 <= r < box.row1), reverse=True):
        cols = [c for c in sheet.rows[r] if box.col0 <= c < box.col1]
        if cols:
            last = (r, max(cols))
            break
    table = None if last is None else _region(sheet, *last)
    row0, col0 = (box.row0, box.col0) if table is None else (table.row1, table.col0)
    grow = row0 + len(rows) - sheet.row_count
    if _param(params, "insertDataOption", "OVERWRITE") == "INSERT_ROWS" and rows:
        from tests.emulators.sheets_requests import insert_rows

        insert_rows(sheet, row0, len(rows))
    elif grow > 0:
        sheet.properties["gridProperties"]["rowCount"] += grow
    option = _param(params, "valueInputOption", "")
    updates = _public(
        _with_data(_write(book, sheet, row0, col0, rows, option, None, text), sheet, params)
    )
    result: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    if table is not None:
        result["tableRange"] = a1(sheet.title, table)
    result["updates"] = updates
    return result


def clear(book: Spreadsheet, text: str) -> dict[str, Any]:
    sheet, box = read_box(book, text)
    sheet.clear(box)
    return {"spreadsheetId": book.spreadsheet_id, "clearedRange": a1(sheet.title, box)}


def batch_clear(book: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
    found = [read_box(book, text) for text in body.get("ranges", [])]
    for sheet, box in found:
        sheet.clear(box)
    return {
        "spreadsheetId": book.spreadsheet_id,
        "clearedRanges": [a1(sheet.title, box) for sheet, box in found],
    }
