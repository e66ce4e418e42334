"""The sheet an end-to-end test runs against: a local workbook, or a Google Sheet served by
the Sheets API emulator and reached with the real gspread + google-auth over HTTP.

Either way the test builds its workbook with openpyxl; `sheet_settings` puts it where the
backend reads it, and `cells`/`edit` read and change it as a partner would.
"""

from __future__ import annotations

import io
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import openpyxl
import requests

TIMEOUT = 30


class XlsxSheet:
    kind = "xlsx"

    def __init__(self, folder: Path) -> None:
        self.path = folder / "initiative.xlsx"

    def sheet_settings(self, workbook: Path) -> dict[str, Any]:
        if workbook != self.path:
            shutil.copyfile(workbook, self.path)
        return {"path": str(self.path)}

    def load(self) -> openpyxl.Workbook:
        return openpyxl.load_workbook(self.path)

    def save(self, book: openpyxl.Workbook) -> None:
        book.save(self.path)


class GoogleSheetOnEmulator:
    kind = "google"

    def __init__(self, folder: Path, base_url: str) -> None:
        self.base_url = base_url
        self.id = "1Rygrad" + uuid.uuid4().hex  # one spreadsheet per test
        self.key_file = folder / "service-account.json"
        key = requests.get(f"{base_url}/_emulator/service-account.json", timeout=TIMEOUT)
        self.key_file.write_text(json.dumps(key.json()))
        self.key_file.chmod(0o600)  # a key that others can read is warned about

    def sheet_settings(self, workbook: Path) -> dict[str, Any]:
        self.upload(workbook.read_bytes())
        return {"backend": "google", "spreadsheet": self.id,
                "credentials": str(self.key_file), "api_base": self.base_url}

    def upload(self, data: bytes) -> None:
        reply = requests.put(f"{self.base_url}/_emulator/spreadsheets/{self.id}", data=data,
                             timeout=TIMEOUT)
        assert reply.status_code == 200, reply.text

    def load(self) -> openpyxl.Workbook:
        reply = requests.get(f"{self.base_url}/_emulator/spreadsheets/{self.id}.xlsx",
                             timeout=TIMEOUT)
        assert reply.status_code == 200, reply.text
        return openpyxl.load_workbook(io.BytesIO(reply.content))

    def save(self, book: openpyxl.Workbook) -> None:
        data = io.BytesIO()
        book.save(data)
        self.upload(data.getvalue())


Sheet = XlsxSheet | GoogleSheetOnEmulator


def cells(sheet: Sheet, tab: str) -> list[dict[str, Any]]:
    rows = list(sheet.load()[tab].iter_rows(values_only=True))
    header = [str(h) if h is not None else "" for h in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


def edit(sheet: Sheet, tab: str, row_id: str, column: str, value: Any) -> None:
    """A partner edits one cell, found by the row's ID (column A) and the column's header."""
    book = sheet.load()
    table = book[tab]
    header = [c.value for c in table[1]]
    for row in table.iter_rows(min_row=2):
        if row[0].value == row_id:
            row[header.index(column)].value = value
    sheet.save(book)
