"""Målinger, the indicators' history (README, "The workbook contract"): read with a
problem per bad row, and appended to in the cycle's one write, on a local workbook and
on a Google Sheet through the emulator."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import requests

from automation.core.measurements import (
    history,
    mail_source,
    measurement_rows,
    measurement_writes,
)
from automation.core.model import Measurement
from automation.sheets.google import GoogleSheet
from automation.sheets.xlsx import XlsxWorkbook
from tests.backends import cells
from tests.sheetdata import initiative, table
from tests.workbook import (
    HEADERS,
    PEOPLE,
    by_key,
    read_outbox,
    rygrad,
    write_config,
    write_workbook,
)

MEASUREMENT_HEADER = ["Indikator-ID", "Dato", "Værdi", "Kilde", "Bemærkning"]
INDICATORS = [
    {"Indikator-ID": "I-1", "Indikator": "Unge i job", "Enhed": "%", "Aktuel værdi": 42.5,
     "Opdateret": date(2026, 11, 20), "Ansvarlig": "Anne Holm", "Frekvens": "årlig"},
    {"Indikator-ID": "I-2", "Indikator": "Praktikpladser", "Aktuel værdi": 12,
     "Opdateret": date(2026, 10, 1), "Ansvarlig": "Bo Berg", "Frekvens": "årlig"},
    {"Indikator-ID": "I-3", "Indikator": "Ny indikator", "Ansvarlig": "Bo Berg",
     "Frekvens": "årlig"},
]


# -- reading ------------------------------------------------------------------------------


def test_rows_are_read_and_each_bad_one_is_named_by_its_cell():
    result = initiative({
        "Indikatorer": [{"Indikator-ID": "I-1", "Indikator": "Unge i job"}],
        "Målinger": [
            {"Indikator-ID": "I-1", "Dato": date(2026, 1, 5), "Værdi": 40, "Kilde": "DST"},
            {"Indikator-ID": "i-1 ", "Dato": "5-3-2026", "Værdi": "41,5"},
            {"Indikator-ID": "I-9", "Dato": "5-3-2026", "Værdi": 1},
            {"Indikator-ID": "I-1", "Dato": "31-02-2026", "Værdi": 1},
            {"Indikator-ID": "I-1", "Dato": "5-3-2026", "Værdi": "cirka 40"},
            {"Indikator-ID": "I-1", "Dato": "6-3-2026"},
        ],
    })
    assert result.measurements == [
        Measurement(2, "I-1", date(2026, 1, 5), 40.0, "DST"),
        Measurement(3, "I-1", date(2026, 3, 5), 41.5, ""),
    ]
    found = [(p.ref, p.message) for p in result.problems if p.tab_key == "measurements"]
    skipped = "; rækken springes over, til det er rettet"
    assert found == [
        ("Målinger!A4", 'Indikator-ID: "I-9" findes ikke på fanen Indikatorer' + skipped),
        ("Målinger!B5", 'Dato: "31-02-2026" er ikke en dato; skriv fx 4-12-2026 eller '
                        "2026-12-04" + skipped),
        ("Målinger!C6", 'Værdi: "cirka 40" er ikke et tal' + skipped),
        ("Målinger!C7", "Værdi mangler" + skipped),
    ]


def test_a_workbook_without_the_tab_works_with_a_warning_and_appends_nothing():
    from tests.sheetdata import settings, snapshot

    snap = snapshot({"Indikatorer": INDICATORS[:1]})
    del snap.tables["Målinger"]
    from automation.core.parse import parse

    result = parse(snap, settings())
    [warning] = [p for p in result.problems if p.tab_key == "measurements"]
    assert (warning.ref, warning.severity) == ("Målinger", "warning")
    assert "tilføj den med `rygrad init-sheet`" in warning.message
    assert [i.id for i in result.indicators] == ["I-1"]
    assert measurement_rows(result, "da") == []
    assert measurement_writes(result, [Measurement(0, "I-1", date(2026, 1, 1), 1)], "da") == []


# -- what is appended ---------------------------------------------------------------------

D = date(2026, 11, 20)


@pytest.mark.parametrize(("held", "wanted"), [
    ([], [("I-1", D, 42.5, "regneark")]),  # a value the tab does not have
    ([("I-1", D, 42.5)], []),  # already there
    ([("i-1", D, 42.50000000000001)], []),  # the same, as a partner would see it
    ([("I-1", date(2026, 8, 1), 42.5)], [("I-1", D, 42.5, "regneark")]),  # another date
    ([("I-1", D, 41)], [("I-1", D, 42.5, "regneark")]),  # corrected on the same day
    ([("I-1", D, 42.5), ("I-1", D, 41)], [("I-1", D, 42.5, "regneark")]),  # last row counts
    ([("I-1", D, 41), ("I-1", D, 42.5)], []),
])
def test_the_current_value_is_appended_unless_the_last_row_of_its_date_has_it(held, wanted):
    result = initiative({
        "Indikatorer": INDICATORS,
        "Målinger": [{"Indikator-ID": i, "Dato": day, "Værdi": value} for i, day, value in held],
    })
    rows = measurement_rows(result, "da")
    # I-2's value is not held in any of these cases; I-3 has no value
    assert [(m.indicator_id, m.date, m.value, m.source) for m in rows] == [
        *wanted, ("I-2", date(2026, 10, 1), 12.0, "regneark")]
    assert {m.row for m in rows} == {0}


def test_values_from_mail_carry_their_sender_and_are_not_doubled():
    result = initiative({"Indikatorer": INDICATORS[:1], "Målinger": []}, language="en")
    extra = [Measurement(0, "I-1", D, 42.5, mail_source("Anne Holm", "en")),
             Measurement(0, "I-1", date(2026, 12, 1), 44, mail_source("Anne Holm", "en"))]
    rows = measurement_rows(result, "en", extra)
    assert [(m.date, m.value, m.source) for m in rows] == [
        (D, 42.5, "sheet"), (date(2026, 12, 1), 44.0, "mail from Anne Holm")]
    assert mail_source("Sofie Holm", "da") == "mail fra Sofie Holm"


def test_the_cells_go_below_the_last_row_in_the_tabs_own_columns():
    result = initiative({
        "Indikatorer": INDICATORS[:1],
        # columns in another order, without Kilde; row 3 is empty, row 4 the last
        "Målinger": table("Målinger", [
            {"Dato": date(2026, 1, 5), "Værdi": 40, "Indikator-ID": "I-1"}, None,
            {"Dato": date(2026, 2, 5), "Værdi": 41, "Indikator-ID": "I-1"}],
            ["Dato", "Værdi", "Indikator-ID", "Bemærkning"]),
    })
    rows = measurement_rows(result, "da")
    writes = measurement_writes(result, rows, "da")
    assert [(w.tab, w.row, w.column, w.value, w.number, w.appended) for w in writes] == [
        ("Målinger", 5, 3, "I-1", None, True), ("Målinger", 5, 1, "2026-11-20", None, True),
        ("Målinger", 5, 2, "42.5", 42.5, True)]


def test_history_is_one_value_per_date_the_last_row_counting():
    result = initiative({
        "Indikatorer": INDICATORS[:2],
        "Målinger": [
            {"Indikator-ID": "I-1", "Dato": date(2026, 5, 1), "Værdi": 41},
            {"Indikator-ID": "I-2", "Dato": date(2026, 1, 1), "Værdi": 3},
            {"Indikator-ID": "I-1", "Dato": date(2026, 2, 1), "Værdi": 39},
            {"Indikator-ID": "I-1", "Dato": date(2026, 5, 1), "Værdi": 40.5},
        ],
    })
    pending = measurement_rows(result, "da")
    assert [(m.date, m.value) for m in history(result, "I-1", pending)] == [
        (date(2026, 2, 1), 39.0), (date(2026, 5, 1), 40.5), (D, 42.5)]
    assert [(m.date, m.value) for m in history(result, "I-2")] == [(date(2026, 1, 1), 3.0)]


# -- a cycle, on both backends --------------------------------------------------------------


def build(folder, sheet, measurements=()):
    tabs = {"Personer": PEOPLE, "Indikatorer": INDICATORS,
            "Målinger": [dict(zip(MEASUREMENT_HEADER, row, strict=False))
                         for row in measurements]}
    headers = {**HEADERS, "Målinger": MEASUREMENT_HEADER}
    workbook = write_workbook(folder / "source.xlsx", tabs, headers)
    return write_config(folder, workbook, sheet=sheet.sheet_settings(workbook))


def history_rows(sheet):
    def day(value):  # openpyxl reads a date cell as a datetime at midnight
        return value.date() if isinstance(value, datetime) else value

    return [(r["Indikator-ID"], day(r["Dato"]), r["Værdi"], r["Kilde"])
            for r in cells(sheet, "Målinger")]


def run(capsys, config, now):
    result = rygrad(capsys, "run", "--once", "--config", str(config), "--now", now)
    assert result.status == 0, result.out + result.err
    return result


def test_a_cycle_appends_each_new_value_once(tmp_path, capsys, sheet):
    from tests.backends import edit

    config = build(tmp_path, sheet, [("I-1", date(2026, 8, 1), 40, "DST")])
    run(capsys, config, "2026-12-01T09:00")
    first = [("I-1", date(2026, 8, 1), 40, "DST"),
             ("I-1", "2026-11-20", 42.5, "regneark"),
             ("I-2", "2026-10-01", 12, "regneark")]
    assert history_rows(sheet) == first
    second = run(capsys, config, "2026-12-01T10:00")
    assert history_rows(sheet) == first  # read back: nothing twice
    assert " 0 cells written" in second.out
    # a partner reports a new value, then corrects it on the same day
    edit(sheet, "Indikatorer", "I-1", "Aktuel værdi", 43)
    edit(sheet, "Indikatorer", "I-1", "Opdateret", date(2026, 12, 1))
    run(capsys, config, "2026-12-01T11:00")
    edit(sheet, "Indikatorer", "I-1", "Aktuel værdi", 44)
    run(capsys, config, "2026-12-01T12:00")
    run(capsys, config, "2026-12-01T13:00")
    assert history_rows(sheet) == [*first, ("I-1", "2026-12-01", 43, "regneark"),
                                   ("I-1", "2026-12-01", 44, "regneark")]


def test_a_row_a_partner_adds_while_rygrad_writes_is_kept(tmp_path, capsys, sheet,
                                                           monkeypatch):
    """The partner's row lands between rygrad's read and its write: xlsx refuses the stale
    workbook and the cycle recomputes; Google re-finds the tab's last row."""
    config = build(tmp_path, sheet, [("I-1", date(2026, 8, 1), 40, "DST")])
    backend = XlsxWorkbook if sheet.kind == "xlsx" else GoogleSheet
    write = backend.write
    calls = []

    def partner_first(self, writes, version):
        if not calls:
            book = sheet.load()
            book["Målinger"].append(["I-2", date(2026, 9, 1), 11, "Bo"])
            sheet.save(book)
        calls.append(len(writes))
        return write(self, writes, version)

    monkeypatch.setattr(backend, "write", partner_first)
    run(capsys, config, "2026-12-01T09:00")
    assert len(calls) == (2 if sheet.kind == "xlsx" else 1)
    assert history_rows(sheet) == [
        ("I-1", date(2026, 8, 1), 40, "DST"), ("I-2", date(2026, 9, 1), 11, "Bo"),
        ("I-1", "2026-11-20", 42.5, "regneark"), ("I-2", "2026-10-01", 12, "regneark")]


def test_a_workbook_without_the_tab_runs_as_before_and_init_sheet_adds_it(
        tmp_path, capsys, sheet):
    tabs = {"Personer": PEOPLE, "Indikatorer": INDICATORS}
    without = {title: header for title, header in HEADERS.items() if title != "Målinger"}
    workbook = write_workbook(tmp_path / "source.xlsx", tabs, without)
    config = write_config(tmp_path, workbook, sheet=sheet.sheet_settings(workbook))
    check = rygrad(capsys, "check", "--config", str(config))
    assert "Regnearket har ingen fane \"Målinger\"" in check.out + check.err
    run(capsys, config, "2026-12-01T09:00")
    assert "Målinger" not in sheet.load().sheetnames
    digest = by_key(read_outbox(tmp_path / "outbox"))[
        ("digest:2026-W49", "sekretariat@ungeloeftet.example")]
    assert "Regnearket har ingen fane \"Målinger\"" in digest.get_body(("plain",)).get_content()
    init = rygrad(capsys, "init-sheet", "--config", str(config))
    assert init.status == 0, init.out + init.err
    assert "added the tab Målinger" in init.out
    run(capsys, config, "2026-12-01T10:00")
    assert history_rows(sheet) == [("I-1", "2026-11-20", 42.5, "regneark"),
                                   ("I-2", "2026-10-01", 12, "regneark")]


def test_appending_costs_the_cycle_no_google_call(tmp_path, capsys, sheets_emulator):
    """One read of every tab, one read before writing, one write: with rows to append as
    without (README, "Google Sheets")."""
    from tests.backends import GoogleSheetOnEmulator

    counts = []
    for name, indicators in (("without", [dict(INDICATORS[0], **{"Aktuel værdi": None})]),
                             ("with", INDICATORS)):
        folder = tmp_path / name
        folder.mkdir()
        sheet = GoogleSheetOnEmulator(folder, sheets_emulator)
        tabs = {"Personer": PEOPLE, "Indikatorer": indicators, "Målinger": []}
        workbook = write_workbook(folder / "source.xlsx", tabs,
                                  {**HEADERS, "Målinger": MEASUREMENT_HEADER})
        config = write_config(folder, workbook, sheet=sheet.sheet_settings(workbook))
        requests.post(f"{sheets_emulator}/_emulator/stats/reset", timeout=10)
        run(capsys, config, "2026-12-01T09:00")
        counts.append(requests.get(f"{sheets_emulator}/_emulator/stats", timeout=10).json())
        appended = history_rows(sheet)
        assert len(appended) == (2 if name == "with" else 0)
    assert counts == [{"reads": 2, "writes": 1}, {"reads": 2, "writes": 1}]


def test_a_full_google_tab_gets_more_rows_first(tmp_path, sheets_emulator):
    """A tab's grid has a fixed number of rows (1,000 for a new one): appending below the
    last means asking for more first, the one case that costs a call more."""
    from automation.config import SheetSettings
    from automation.core.model import CellWrite
    from tests.backends import GoogleSheetOnEmulator

    target = GoogleSheetOnEmulator(tmp_path, sheets_emulator)
    history = [{"Indikator-ID": "I-1", "Dato": date(2020, 1, 1), "Værdi": n}
               for n in range(999)]  # rows 2–1000: the grid is full
    workbook = write_workbook(tmp_path / "full.xlsx", {"Målinger": history},
                              {"Målinger": MEASUREMENT_HEADER})
    backend = GoogleSheet(SheetSettings(**target.sheet_settings(workbook)))
    snapshot = backend.read()
    assert snapshot.tables["Målinger"].rows[-1][0] == 1000
    requests.post(f"{sheets_emulator}/_emulator/stats/reset", timeout=10)
    written = backend.write([CellWrite("Målinger", 1001, 1, "I-1", appended=True),
                             CellWrite("Målinger", 1001, 3, "7", appended=True, number=7.0),
                             CellWrite("Målinger", 1002, 1, "I-1", appended=True)], "")
    assert written == 3
    stats = requests.get(f"{sheets_emulator}/_emulator/stats", timeout=10).json()
    assert stats == {"reads": 1, "writes": 2}
    rows = cells(target, "Målinger")
    assert len(rows) == 1001
    assert [(r["Indikator-ID"], r["Værdi"]) for r in rows[-2:]] == [("I-1", 7), ("I-1", None)]


def test_an_excel_table_on_the_tab_takes_the_appended_rows_in(tmp_path, capsys):
    """A partner who made Målinger an Excel table (Insert > Table) sees rygrad's rows in it:
    the table's range and its filter grow over them, and nothing else in the file moves."""
    from openpyxl import load_workbook
    from openpyxl.worksheet.table import Table, TableStyleInfo

    workbook = write_workbook(
        tmp_path / "initiative.xlsx",
        {"Personer": PEOPLE, "Indikatorer": INDICATORS,
         "Målinger": [dict(zip(MEASUREMENT_HEADER, ("I-1", date(2026, 8, 1), 40, "DST"),
                               strict=False))]},
        {**HEADERS, "Målinger": MEASUREMENT_HEADER})
    book = load_workbook(workbook)
    table = Table(displayName="Historik", ref="A1:E2")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    book["Målinger"].add_table(table)
    book.save(workbook)
    config = write_config(tmp_path, workbook)
    run(capsys, config, "2026-12-01T09:00")
    sheet = load_workbook(workbook)["Målinger"]
    assert sheet.tables["Historik"].ref == "A1:E4"
    assert sheet.tables["Historik"].autoFilter.ref == "A1:E4"
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "I-1", "I-1", "I-2"]
    run(capsys, config, "2026-12-01T10:00")  # nothing appended: the table stays
    assert load_workbook(workbook)["Målinger"].tables["Historik"].ref == "A1:E4"
