"""Grid data: ``spreadsheets.get`` with cells, and the cell-level batchUpdate requests.

``spreadsheets.get`` returns ``sheets[].data[].rowData[].values[]`` (CellData) when
``includeGridData=true`` or when its ``fields`` mask names ``sheets.data``. As Google
does, a cell whose masked CellData is empty is ``{}``, trailing empty cells and rows
are left out, and ``data`` is ``[{}]`` when nothing in the range has the masked parts.

Notes, user-entered formats and data validation live beside the values (a cell may
have a note and no value); ``updateCells``, ``repeatCell`` and ``setDataValidation``
set them. Inserting and deleting rows moves them with their rows; sorting and column
moves do not (the emulator's limit).
"""

from __future__ import annotations

import copy
from typing import Any

from automation.core.a1 import trim
from tests.emulators.sheets_a1 import Box
from tests.emulators.sheets_cells import evaluate, formatted
from tests.emulators.sheets_fields import Mask, parse_fields, select
from tests.emulators.sheets_model import Cell, Sheet, Spreadsheet, clip

# The parts of a cell's format Google always reports in effectiveFormat.
_DEFAULT_FORMAT: dict[str, Any] = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM",
    "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {
        "foregroundColor": {},
        "fontFamily": "arial,sans,sans-serif",
        "fontSize": 10,
        "bold": False,
        "italic": False,
        "strikethrough": False,
        "underline": False,
    },
}


class GridError(Exception):
    """A bad cell-level request; the caller names the request in Google's words."""


def wants_grid(params: dict[str, list[str]], mask: Mask | None) -> bool:
    if mask is not None:  # "includeGridData is ignored if a field mask was set"
        return "data" in mask.get("sheets", {})
    return params.get("includeGridData", ["false"])[-1].lower() == "true"


def add_grid_data(
    book: Spreadsheet, meta: dict[str, Any], ranges: list[str], mask: Mask | None
) -> None:
    """Put each sheet's GridData (one per requested range on it) into ``meta``."""
    cell_mask = _sub(mask, "sheets", "data", "rowData", "values") if mask else {}
    boxes: dict[int, list[Box]] = {}
    for text in ranges:
        sheet, span = book.resolve(text)
        boxes.setdefault(sheet.sheet_id, []).append(clip(sheet, span))
    for entry in meta["sheets"]:
        found = book.sheet_by_id(int(entry["properties"]["sheetId"]))
        assert found is not None
        wanted = boxes.get(found.sheet_id) or [found.grid()]
        entry["data"] = [_grid_data(found, box, cell_mask) for box in wanted]


def _sub(mask: Mask, *path: str) -> Mask:
    node = mask
    for key in path:
        if key not in node:
            return {}
        node = node[key]
    return node


def _grid_data(sheet: Sheet, box: Box, cell_mask: Mask) -> dict[str, Any]:
    wanted = set(cell_mask) or None
    rows: list[dict[str, Any]] = []
    for r in range(box.row0, min(box.row1, sheet.row_count)):
        values = []
        for c in range(box.col0, min(box.col1, sheet.col_count)):
            cell = cell_data(sheet, r, c, wanted)
            values.append(select(cell, cell_mask) if cell_mask else cell)
        values = list(trim(values, blank=lambda cell: not cell))
        rows.append({"values": values} if values else {})
    rows = list(trim(rows, blank=lambda row: not row))
    data: dict[str, Any] = {}
    if box.row0:
        data["startRow"] = box.row0
    if box.col0:
        data["startColumn"] = box.col0
    if rows:
        data["rowData"] = rows
    return data


def _typed(value: str | float | bool) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    number = int(value) if value == int(value) and abs(value) < 2**53 else value
    return {"numberValue": number}


def cell_data(
    sheet: Sheet, row: int, col: int, wanted: set[str] | None = None
) -> dict[str, Any]:
    """The CellData of one cell, as far as the emulator keeps it (only ``wanted`` parts).

    The parts are built fresh but may share nested values with the sheet: callers copy
    what they change.
    """
    cell = sheet.cell(row, col)
    decor = sheet.decor.get((row, col), {})
    data: dict[str, Any] = {}
    user_format = dict(decor.get("userEnteredFormat", {}))
    if cell is not None and cell.number_format is not None:
        kind, pattern = cell.number_format
        user_format["numberFormat"] = {"type": kind, "pattern": pattern}

    def want(part: str) -> bool:
        return wanted is None or part in wanted

    if cell is not None:
        if want("userEnteredValue"):
            data["userEnteredValue"] = (
                {"formulaValue": cell.formula} if cell.formula else _typed(cell.value)
            )
        if want("effectiveValue"):
            data["effectiveValue"] = _typed(cell.value)
        if want("formattedValue"):
            data["formattedValue"] = formatted(cell)
    if user_format and want("userEnteredFormat"):
        data["userEnteredFormat"] = user_format
    if (cell is not None or user_format) and want("effectiveFormat"):
        data["effectiveFormat"] = {**_DEFAULT_FORMAT, **user_format}
    if "note" in decor and want("note"):
        data["note"] = decor["note"]
    if "dataValidation" in decor and want("dataValidation"):
        data["dataValidation"] = decor["dataValidation"]
    return data


# -- requests ----------------------------------------------------------------------------


def _box(sheet: Sheet, grid_range: dict[str, Any]) -> Box:
    box = Box(
        int(grid_range.get("startRowIndex", 0)),
        int(grid_range.get("endRowIndex", sheet.row_count)),
        int(grid_range.get("startColumnIndex", 0)),
        int(grid_range.get("endColumnIndex", sheet.col_count)),
    )
    if not (0 <= box.row0 <= box.row1 and 0 <= box.col0 <= box.col1):
        raise GridError("Invalid range.")
    if box.row1 > sheet.row_count or box.col1 > sheet.col_count:
        raise GridError(
            f"Range ({box.row0},{box.col0}):({box.row1},{box.col1}) exceeds grid limits. "
            f"Max rows: {sheet.row_count}, max columns: {sheet.col_count}"
        )
    return box


def _paths(mask: str) -> list[list[str]]:
    """The leaf paths of a field mask: ``a(b,c.d)`` → [[a, b], [a, c, d]]."""

    def leaves(node: Mask, prefix: list[str]) -> list[list[str]]:
        if not node:
            return [prefix]
        return [path for key, sub in node.items() for path in leaves(sub, [*prefix, key])]

    return leaves(parse_fields(mask), []) if mask.strip() else []


def _with_styles(user_format: dict[str, Any]) -> dict[str, Any]:
    """Google mirrors each colour as a ColorStyle beside it."""
    if "backgroundColor" in user_format:
        user_format["backgroundColorStyle"] = {"rgbColor": user_format["backgroundColor"]}
    else:
        user_format.pop("backgroundColorStyle", None)
    text = user_format.get("textFormat")
    if isinstance(text, dict):
        if "foregroundColor" in text:
            text["foregroundColorStyle"] = {"rgbColor": text["foregroundColor"]}
        else:
            text.pop("foregroundColorStyle", None)
    return user_format


def _apply(sheet: Sheet, row: int, col: int, source: dict[str, Any], mask: str) -> None:
    """Set the masked parts of one cell from ``source`` (a masked part it lacks is cleared)."""
    if not mask.strip():
        raise GridError("At least one field must be updated, but 'fields' is empty.")
    current = cell_data(sheet, row, col)
    parts = ("userEnteredValue", "userEnteredFormat", "note", "dataValidation")
    target: dict[str, Any] = {k: copy.deepcopy(current[k]) for k in parts if k in current}
    paths = (
        [[key] for key in ("userEnteredValue", "userEnteredFormat", "note", "dataValidation")]
        if mask.strip() == "*"
        else _paths(mask)
    )
    for path in paths:
        src: Any = source
        dst = target
        for key in path[:-1]:
            src = src.get(key, {}) if isinstance(src, dict) else {}
            dst = dst.setdefault(key, {})
        if isinstance(src, dict) and path[-1] in src:
            dst[path[-1]] = copy.deepcopy(src[path[-1]])
        else:
            dst.pop(path[-1], None)
    _store(sheet, row, col, target)


def _store(sheet: Sheet, row: int, col: int, data: dict[str, Any]) -> None:
    user_format = _with_styles(copy.deepcopy(data.get("userEnteredFormat") or {}))
    number_format = user_format.get("numberFormat")
    kept = (
        (str(number_format.get("type", "NUMBER")), str(number_format.get("pattern", "")))
        if number_format
        else None
    )
    cell = _cell(sheet, row, col, data.get("userEnteredValue"), kept)
    sheet.put(row, col, cell)
    if cell is not None:
        user_format.pop("numberFormat", None)  # kept on the cell, where rendering reads it
    decor = {
        key: value
        for key, value in (
            ("userEnteredFormat", user_format),
            ("note", data.get("note")),
            ("dataValidation", data.get("dataValidation")),
        )
        if value
    }
    if decor:
        sheet.decor[(row, col)] = decor
    else:
        sheet.decor.pop((row, col), None)


def _cell(
    sheet: Sheet, row: int, col: int, value: dict[str, Any] | None,
    number_format: tuple[str, str] | None,
) -> Cell | None:
    if not value:
        return None
    if "formulaValue" in value:
        formula = str(value["formulaValue"])
        return Cell(evaluate(formula, sheet.cell), formula=formula, number_format=number_format)
    if "stringValue" in value:
        return Cell(str(value["stringValue"]), number_format=number_format)
    if "boolValue" in value:
        return Cell(bool(value["boolValue"]), number_format=number_format)
    if "numberValue" in value:
        return Cell(float(value["numberValue"]), number_format=number_format)
    raise GridError("Invalid userEnteredValue.")


def update_cells(book: Spreadsheet, req: dict[str, Any]) -> dict[str, Any]:
    rows = req.get("rows", [])
    mask = str(req.get("fields", ""))
    if "range" in req:
        sheet = _sheet(book, req["range"].get("sheetId"))
        box = _box(sheet, req["range"])
    else:
        start = req.get("start", {})
        sheet = _sheet(book, start.get("sheetId"))
        row0, col0 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
        width = max((len(r.get("values", [])) for r in rows), default=0)
        box = _box(sheet, {"startRowIndex": row0, "endRowIndex": row0 + len(rows),
                           "startColumnIndex": col0, "endColumnIndex": col0 + width})
    for r in range(box.row0, box.row1):
        line = rows[r - box.row0].get("values", []) if r - box.row0 < len(rows) else []
        for c in range(box.col0, box.col1):
            source = line[c - box.col0] if c - box.col0 < len(line) else {}
            _apply(sheet, r, c, source, mask)
    return {}


def repeat_cell(book: Spreadsheet, req: dict[str, Any]) -> dict[str, Any]:
    sheet = _sheet(book, req.get("range", {}).get("sheetId"))
    box = _box(sheet, req.get("range", {}))
    for r in range(box.row0, box.row1):
        for c in range(box.col0, box.col1):
            _apply(sheet, r, c, req.get("cell", {}), str(req.get("fields", "")))
    return {}


def set_data_validation(book: Spreadsheet, req: dict[str, Any]) -> dict[str, Any]:
    sheet = _sheet(book, req.get("range", {}).get("sheetId"))
    box = _box(sheet, req.get("range", {}))
    rule = req.get("rule")
    if rule is not None:
        condition = rule.get("condition", {})
        if condition.get("type") == "ONE_OF_LIST" and not condition.get("values"):
            raise GridError("Condition ONE_OF_LIST requires at least one value.")
    for r in range(box.row0, box.row1):
        for c in range(box.col0, box.col1):
            _apply(sheet, r, c, {"dataValidation": rule} if rule else {}, "dataValidation")
    return {}


def _sheet(book: Spreadsheet, sheet_id: Any) -> Sheet:
    sheet = book.sheet_by_id(int(sheet_id or 0))
    if sheet is None:
        raise GridError(f"No grid with id: {sheet_id or 0}")
    return sheet


def move_rows(sheet: Sheet, start: int, count: int) -> None:
    """Notes and formats follow their rows: rows from ``start`` on move by ``count``
    (negative after rows before ``start`` were deleted)."""
    moved: dict[tuple[int, int], dict[str, Any]] = {}
    for (r, c), decor in sheet.decor.items():
        moved[(r, c) if r < start else (r + count, c)] = decor
    sheet.decor = moved
