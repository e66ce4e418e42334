"""rygrad init-sheet on a Google Sheet (through the emulator) and on xlsx workbooks."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import requests

from automation import config
from automation.cli import build_sheet
from automation.core.parse import parse
from automation.errors import SheetError
from automation.sheets.google import GoogleSheet
from automation.sheets.xlsx import XlsxWorkbook
from tests.emulators import start_emulator
from tests.emulators.sheets_emulator import Emulator


def init_sheet(settings: config.Settings, sleep: Any = None) -> list[str]:
    """`rygrad init-sheet`: the configured backend's init (its waits recorded, not slept)."""
    return build_sheet(settings, sleep=sleep).init(settings)


SHEET = "1RygradInitSheetTest000000000000000000000"
DONE = ["Færdig", "Afsluttet", "Lukket", "Done", "Completed", "Closed"]


def settings(tmp_path: Path, sheet: dict[str, Any], language: str = "da") -> config.Settings:
    return config.parse({
        "initiative": {"name": "Ungeløftet", "language": language,
                       "secretariat": "Sekretariatet <sekretariat@example.dk>"},
        "sheet": sheet,
    }, tmp_path / "rygrad.toml")


@pytest.fixture
def emulator() -> Any:
    with start_emulator() as running:
        yield running


def google(emulator: Emulator, tmp_path: Path, tabs: dict[str, list[list[Any]]],
           language: str = "da") -> config.Settings:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in tabs.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    requests.put(f"{emulator.base_url}/_emulator/spreadsheets/{SHEET}", data=data.getvalue(),
                 timeout=10).raise_for_status()
    key = requests.get(f"{emulator.base_url}/_emulator/service-account.json", timeout=10).json()
    (tmp_path / "key.json").write_text(json.dumps(key))
    return settings(tmp_path, {"backend": "google", "spreadsheet": SHEET,
                               "credentials": "key.json", "api_base": emulator.base_url},
                    language)


def stats(emulator: Emulator) -> dict[str, int]:
    return requests.get(f"{emulator.base_url}/_emulator/stats", timeout=10).json()


def grid(chosen: config.Settings, title: str
         ) -> tuple[dict[str, Any], list[list[dict[str, Any]]]]:
    """A tab's properties and its first two rows' cells, as the API gives them."""
    sheet = GoogleSheet(chosen.sheet)
    found = sheet.api.get({"ranges": [f"'{title}'!1:2"], "fields": (
        "sheets(properties,data(rowData(values(effectiveValue,note,"
        "userEnteredFormat/backgroundColor,dataValidation))))")})["sheets"][0]
    rows = found["data"][0].get("rowData", [])
    return found["properties"], [r.get("values", []) for r in rows]


def test_google_sheet_gets_every_tab_header_dropdown_and_shading(
    emulator: Emulator, tmp_path: Path
) -> None:
    chosen = google(emulator, tmp_path, {"Ark1": [["noget"]]})
    changes = init_sheet(chosen, sleep=lambda s: None)
    assert changes == [
        "added the tab Personer", "added the tab Grupper", "added the tab Møder",
        "added the tab Handlinger",
        "Handlinger!F: a dropdown of statuses (Ikke startet, I gang, " + ", ".join(DONE) + ")",
        "added the tab Indikatorer", "added the tab Målinger"]
    properties, rows = grid(chosen, "Handlinger")
    assert properties["gridProperties"]["frozenRowCount"] == 1
    header = rows[0]
    assert [c["effectiveValue"]["stringValue"] for c in header] == [
        "Handling-ID", "Gruppe", "Handling", "Ansvarlig", "Frist", "Status", "Møde-ID",
        "Forsinket", "Sidste påmindelse", "Bemærkning"]
    assert [c.get("note") for c in header][5:] == [None, None, "udfyldes automatisk",
                                                   "udfyldes automatisk", "udfyldes automatisk"]
    assert header[7]["userEnteredFormat"]["backgroundColor"] == {
        "red": 0.85, "green": 0.85, "blue": 0.85}
    assert "userEnteredFormat" not in header[0]
    rule = rows[1][5]["dataValidation"]
    assert [v["userEnteredValue"] for v in rule["condition"]["values"]] == [
        "Ikke startet", "I gang", *DONE]
    # the sheet now reads and parses without a missing tab or column
    initiative = parse(GoogleSheet(chosen.sheet).read(), chosen)
    assert [p for p in initiative.problems if p.severity == "error"] == []


def test_google_second_run_has_nothing_to_do_and_writes_nothing(
    emulator: Emulator, tmp_path: Path
) -> None:
    chosen = google(emulator, tmp_path, {"Ark1": [["noget"]]})
    init_sheet(chosen)
    before = stats(emulator)
    assert init_sheet(chosen) == []
    after = stats(emulator)
    assert after["writes"] == before["writes"]
    assert after["reads"] - before["reads"] == 2


def test_google_existing_tab_only_gets_what_it_lacks(emulator: Emulator, tmp_path: Path) -> None:
    chosen = google(emulator, tmp_path, {
        "handlinger": [["Action ID", "Action", "Owner", "Status"], ["H-1", "Skriv", "Anna", "x"]],
    }, language="da")
    changes = init_sheet(chosen)
    assert "handlinger: added the columns Gruppe, Frist, Møde-ID, Forsinket, " \
           "Sidste påmindelse, Bemærkning" in changes
    assert "handlinger: froze the header row" in changes
    assert "handlinger!H1: shaded grey, with the note \"udfyldes automatisk\"" in changes
    assert "handlinger!D: a dropdown of statuses (Ikke startet, I gang, " \
           + ", ".join(DONE) + ")" in changes
    _, rows = grid(chosen, "handlinger")
    assert rows[1][0]["effectiveValue"] == {"stringValue": "H-1"}  # the data stays
    assert rows[1][3]["effectiveValue"] == {"stringValue": "x"}
    assert init_sheet(chosen) == []


def test_english_initiative_gets_english_names(emulator: Emulator, tmp_path: Path) -> None:
    chosen = google(emulator, tmp_path, {"Sheet1": [[]]}, language="en")
    changes = init_sheet(chosen)
    assert "added the tab Actions" in changes
    _, rows = grid(chosen, "Actions")
    assert rows[0][7]["note"] == "filled in automatically"
    statuses = [v["userEnteredValue"] for v in rows[1][5]["dataValidation"]["condition"]["values"]]
    assert statuses[:2] == ["Not started", "In progress"]


# -- xlsx ---------------------------------------------------------------------------------


def test_xlsx_new_workbook_is_created_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    chosen = settings(tmp_path, {"backend": "xlsx", "path": "initiativ.xlsx"})
    path = tmp_path / "initiativ.xlsx"
    assert init_sheet(chosen) == [
        f"created {path}",
        "Handlinger!F: a dropdown of statuses (Ikke startet, I gang, " + ", ".join(DONE) + ")"]
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Personer", "Grupper", "Møder", "Handlinger", "Indikatorer",
                               "Målinger"]
    actions = book["Handlinger"]
    assert actions.freeze_panes == "A2"
    assert actions["H1"].value == "Forsinket"
    assert actions["H1"].comment.text == "udfyldes automatisk"
    assert actions["H1"].fill.fgColor.rgb == "FFD9D9D9"
    assert actions["A1"].comment is None
    rules = actions.data_validations.dataValidation
    assert len(rules) == 1 and "F2" in rules[0].sqref
    content = path.read_bytes()
    assert init_sheet(chosen) == []
    assert path.read_bytes() == content
    initiative = parse(XlsxWorkbook(path).read(), chosen)
    assert [p for p in initiative.problems if p.severity == "error"] == []


def test_xlsx_with_a_formula_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "initiativ.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Handlinger"
    book.active.append(["Handling-ID", "Frist"])
    book.active.append(["H-1", "=TODAY()+7"])
    book.save(path)
    content = path.read_bytes()
    chosen = settings(tmp_path, {"backend": "xlsx", "path": "initiativ.xlsx"})
    with pytest.raises(SheetError, match=r"Handlinger!B2 holds a formula"):
        init_sheet(chosen)
    assert path.read_bytes() == content
