"""Spreadsheets in and out of the emulator as .xlsx workbooks (values only).

Date cells become serial numbers with a DATE format, as Google stores them, so
FORMATTED_VALUE shows a date and UNFORMATTED_VALUE the serial; on the way out,
date-formatted serials become date cells again.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

from tests.emulators.sheets_cells import from_serial, serial
from tests.emulators.sheets_model import (
    DEFAULT_COLS,
    DEFAULT_ROWS,
    Cell,
    Sheet,
    Spreadsheet,
    new_sheet,
    new_sheet_id,
)

_DATE_TYPES = {"DATE", "DATE_TIME", "TIME"}


def _cell(value: object) -> Cell | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return Cell(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return Cell(serial(value), number_format=("DATE", "yyyy-mm-dd"))
        return Cell(
            serial(value.replace(tzinfo=None)), number_format=("DATE_TIME", "yyyy-mm-dd h:mm:ss")
        )
    if isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
        return Cell(serial(moment), number_format=("DATE", "yyyy-mm-dd"))
    if isinstance(value, dt.time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return Cell(seconds / 86400, number_format=("TIME", "h:mm:ss"))
    if isinstance(value, int | float):
        return Cell(float(value))
    return Cell(str(value))


def import_workbook(data: bytes, spreadsheet_id: str, title: str, now: str) -> Spreadsheet:
    """A spreadsheet holding the workbook's values (a formula's cached value)."""
    workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    sheets: list[Sheet] = []
    taken: set[int] = set()
    for index, worksheet in enumerate(workbook.worksheets):
        sheet_id = 0 if index == 0 else new_sheet_id(taken)
        taken.add(sheet_id)
        rows = max(worksheet.max_row, DEFAULT_ROWS)
        cols = max(worksheet.max_column, DEFAULT_COLS)
        sheet = new_sheet(sheet_id, worksheet.title, index, rows, cols)
        for row in worksheet.iter_rows():
            for xl in row:
                cell = _cell(xl.value)
                if cell is not None:
                    sheet.put(xl.row - 1, xl.column - 1, cell)
        sheets.append(sheet)
    book = Spreadsheet.blank(spreadsheet_id, title, now)
    book.sheets = sheets
    return book


def export_workbook(book: Spreadsheet) -> bytes:
    """The spreadsheet's current values as an .xlsx workbook."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for sheet in book.ordered():
        worksheet = workbook.create_sheet(sheet.title)
        for r, cells in sorted(sheet.rows.items()):
            for c, cell in sorted(cells.items()):
                target = worksheet.cell(row=r + 1, column=c + 1)
                kind = cell.number_format[0] if cell.number_format else ""
                if (
                    kind in _DATE_TYPES
                    and isinstance(cell.value, float | int)
                    and not isinstance(cell.value, bool)
                ):
                    moment = from_serial(float(cell.value))
                    if kind == "DATE":
                        target.value = moment.date()
                        target.number_format = "yyyy-mm-dd"
                    elif kind == "TIME":
                        target.value = moment.time()
                        target.number_format = "hh:mm:ss"
                    else:
                        target.value = moment
                        target.number_format = "yyyy-mm-dd hh:mm:ss"
                elif isinstance(cell.value, str):
                    target.value = cell.value
                    target.data_type = "s"  # a string starting with "=" stays text
                elif isinstance(cell.value, float) and cell.value == int(cell.value):
                    target.value = int(cell.value)
                else:
                    target.value = cell.value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
