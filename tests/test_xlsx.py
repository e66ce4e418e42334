"""The xlsx backend on real workbook files: openpyxl-built ones and one saved by LibreOffice."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from openpyxl.styles import Font

from automation.core.model import CellWrite
from automation.errors import SheetError, SheetLockedError, StaleSheetError
from automation.sheets import SheetBackend
from automation.sheets.xlsx import XlsxWorkbook

FIXTURE = Path(__file__).parent / "fixtures" / "libreoffice.xlsx"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
ACTIONS_PART = "xl/worksheets/sheet4.xml"  # Handlinger in the fixture


# -- helpers ----------------------------------------------------------------------------


def members(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as package:
        return [(info.filename, package.read(info)) for info in package.infolist()]


def cells(sheet_xml: bytes) -> dict[str, tuple[str | None, ...]]:
    """Every <c> of a worksheet: ref → (type, style, value, formula, inline text)."""
    found = {}
    for cell in ElementTree.fromstring(sheet_xml).iter(f"{MAIN}c"):
        inline = cell.find(f"{MAIN}is")
        found[cell.get("r", "")] = (
            cell.get("t"),
            cell.get("s"),
            cell.findtext(f"{MAIN}v"),
            cell.findtext(f"{MAIN}f"),
            "".join(inline.itertext()) if inline is not None else None,
        )
    return found


def replace_member(path: Path, name: str, edit) -> None:
    """Rewrite one member of the package with ``edit(text) -> text`` (test set-up only)."""
    with zipfile.ZipFile(path) as package:
        contents = [(info, package.read(info)) for info in package.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for info, data in contents:
            if info.filename == name:
                data = edit(data.decode()).encode()
            package.writestr(info, data)


def sheet_xml(path: Path, name: str = "xl/worksheets/sheet1.xml") -> str:
    with zipfile.ZipFile(path) as package:
        return package.read(name).decode()


@pytest.fixture
def fixture_copy(tmp_path: Path) -> Path:
    path = tmp_path / "initiative.xlsx"
    shutil.copyfile(FIXTURE, path)
    return path


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """A workbook openpyxl builds: one tab with a bold header, an unstyled body."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Handlinger"
    sheet.append(["Handling-ID", "Handling", "Forsinket"])
    sheet.append(["H1", "Skriv referat", "FORSINKET (2 dage)"])
    sheet.append(["H2", "Book lokale"])
    sheet["A5"] = "H5"
    sheet["C5"] = "gammel"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    path = tmp_path / "small.xlsx"
    workbook.save(path)
    return path


# -- reading ----------------------------------------------------------------------------


def test_reads_every_tab_of_a_workbook_saved_by_libreoffice(fixture_copy: Path) -> None:
    snapshot = XlsxWorkbook(fixture_copy).read()

    assert list(snapshot.tables) == ["Personer", "Grupper", "Møder", "Handlinger", "Indikatorer"]
    actions = snapshot.tables["Handlinger"]
    assert actions.header == (
        "Handling-ID",
        "Gruppe",
        "Handling",
        "Ansvarlig",
        "Frist",
        "Status",
        "Møde-ID",
        "Forsinket",
        "Sidste påmindelse",
    )
    assert [number for number, _ in actions.rows] == [2, 3, 4]
    due = {values[0]: values[4] for _, values in actions.rows}
    # Formula deadlines read as their cached values, as dates.
    assert due == {"H1": date(2026, 11, 20), "H2": date(2026, 12, 4), "H3": date(2027, 1, 7)}
    meeting = dict(snapshot.tables["Møder"].rows)[2]
    assert meeting[2:5] == (date(2026, 12, 3), time(14, 0), time(16, 0))
    assert meeting[6] == "Velkomst\nStatus på indikatorer"
    assert meeting[8] is False
    assert dict(snapshot.tables["Møder"].rows)[3][8] is True
    # The fully empty row 4 is skipped; Anna keeps her real row number.
    assert [number for number, _ in snapshot.tables["Personer"].rows] == [2, 3, 5]
    assert dict(snapshot.tables["Indikatorer"].rows)[2][8] == 76.5
    assert snapshot.version == hashlib.sha256(fixture_copy.read_bytes()).hexdigest()


def test_reads_values_as_their_python_types(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Møder"
    sheet.append(["Møde-ID", "Dato", "Start", "Sendt", "Antal", "Andel", "Aflyst", None, None])
    sheet.append(["M1", date(2026, 12, 3), time(14, 0), datetime(2026, 11, 1, 9, 15), 3, 0.5, True])
    sheet.append([None, None, "   "])  # only blanks: skipped like an empty row
    sheet.append([None, None, None, None, "  sted  "])
    path = tmp_path / "types.xlsx"
    workbook.save(path)

    table = XlsxWorkbook(path).read().tables["Møder"]

    assert table.header == ("Møde-ID", "Dato", "Start", "Sendt", "Antal", "Andel", "Aflyst")
    assert table.rows == (
        (2, ("M1", date(2026, 12, 3), time(14, 0), datetime(2026, 11, 1, 9, 15), 3, 0.5, True)),
        (4, (None, None, None, None, "  sted  ")),
    )
    assert type(table.rows[0][1][1]) is date


def test_equal_values_of_other_types_stay_apart(tmp_path: Path) -> None:
    # the read keeps one object per repeated text or date; 1 == True must not merge
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Indikatorer"
    sheet.append(["A", "B", "C", "D", "E"])
    sheet.append([1, True, "1", date(2026, 12, 3), datetime(2026, 12, 3, 9, 0)])
    sheet.append([True, 1, "1", datetime(2026, 12, 3, 9, 0), date(2026, 12, 3)])
    path = tmp_path / "types.xlsx"
    workbook.save(path)

    rows = XlsxWorkbook(path).read().tables["Indikatorer"].rows

    assert [[type(v) for v in values] for _, values in rows] == [
        [int, bool, str, date, datetime],
        [bool, int, str, datetime, date],
    ]
    assert rows[0][1][2] is rows[1][1][2]  # the same text, one object


def test_reads_rows_beyond_a_wrong_dimension(small: Path) -> None:
    replace_member(
        small,
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1"', xml),
    )

    table = XlsxWorkbook(small).read().tables["Handlinger"]

    assert table.header == ("Handling-ID", "Handling", "Forsinket")
    assert table.rows == (
        (2, ("H1", "Skriv referat", "FORSINKET (2 dage)")),
        (3, ("H2", "Book lokale")),
        (5, ("H5", None, "gammel")),
    )


def make_zip_without_workbook(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("hello.txt", "not a workbook")


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.write_bytes(os.urandom(2048)), "not an Excel workbook (.xlsx)"),
        (
            lambda p: p.write_text("Navn;E-mail\nMette;mette@kommune.example\n"),
            "not an Excel workbook (.xlsx)",
        ),
        (
            lambda p: p.write_bytes(FIXTURE.read_bytes()[: FIXTURE.stat().st_size // 2]),
            "damaged or incomplete",
        ),
        (make_zip_without_workbook, "cannot be read as an Excel workbook"),
        (lambda p: None, "no such file"),
    ],
    ids=["random-bytes", "csv-renamed", "truncated", "zip-not-xlsx", "missing"],
)
def test_a_file_that_is_no_workbook_is_one_clear_sentence(tmp_path: Path, make, words) -> None:
    path = tmp_path / "initiative.xlsx"
    make(path)

    with pytest.raises(SheetError) as read_error:
        XlsxWorkbook(path).read()
    version = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""
    with pytest.raises(SheetError) as write_error:
        XlsxWorkbook(path).write([CellWrite("Handlinger", 2, 8, "x")], version)

    assert words in str(read_error.value)
    for error in (read_error, write_error):
        assert type(error.value) is SheetError
        assert str(error.value).startswith(f"{path}: ")
        assert "\n" not in str(error.value)


# -- writing: the LibreOffice workbook survives -----------------------------------------


def test_write_changes_only_the_written_cells(fixture_copy: Path) -> None:
    workbook = XlsxWorkbook(fixture_copy)
    snapshot = workbook.read()
    original = members(fixture_copy)

    changed = workbook.write(
        [
            CellWrite("Handlinger", 1, 10, "Bemærkning"),  # the missing W column's header
            CellWrite("Handlinger", 2, 8, "FORSINKET (4 dage)"),
            CellWrite("Handlinger", 3, 9, ""),  # Sidste påmindelse cleared
            CellWrite("Handlinger", 4, 10, '=HYPERLINK("x") & <b>'),
            CellWrite("Handlinger", 4, 8, ""),  # already empty: no change
        ],
        snapshot.version,
    )

    assert changed == 4
    after = members(fixture_copy)
    assert [name for name, _ in after] == [name for name, _ in original]
    for (name, old), (_, new) in zip(original, after, strict=True):
        if name != ACTIONS_PART:
            assert new == old, name
    old_cells, new_cells = cells(dict(original)[ACTIONS_PART]), cells(dict(after)[ACTIONS_PART])
    differing = {
        ref
        for ref in old_cells.keys() | new_cells.keys()
        if old_cells.get(ref) != new_cells.get(ref)
    }
    assert differing == {"J1", "H2", "I3", "J4"}
    assert new_cells["H2"] == ("inlineStr", "5", None, None, "FORSINKET (4 dage)")
    assert new_cells["J1"] == ("inlineStr", "1", None, None, "Bemærkning")  # header's style
    assert "I3" not in new_cells  # unstyled (s="0"): no cell left
    assert new_cells["H4"] == old_cells["H4"] == (None, "5", None, None, None)
    assert re.search(r'<dimension ref="A1:J4"/>', sheet_xml(fixture_copy, ACTIONS_PART))

    # openpyxl still reads the formula deadline's cached value, and the new text.
    values = openpyxl.load_workbook(fixture_copy, data_only=True)["Handlinger"]
    assert values["E3"].value == datetime(2026, 12, 4)
    assert values["J4"].value == '=HYPERLINK("x") & <b>'
    formulas = openpyxl.load_workbook(fixture_copy)["Handlinger"]
    assert formulas["E3"].value == "=E2+14"
    assert formulas["J4"].data_type == "s"  # text, not a formula
    names = [name for name, _ in after]
    assert "xl/media/image1.png" in names and "xl/charts/chart1.xml" in names
    assert any(name.startswith("xl/comments") for name in names)
    assert formulas["E3"].comment.text.startswith("Frist: to uger efter H1")

    again = workbook.read()
    assert dict(again.tables["Handlinger"].rows)[2][7:] == (
        "FORSINKET (4 dage)",
        "2026-11-23 08:00",
    )
    assert again.tables["Handlinger"].header[-1] == "Bemærkning"


def test_write_keeps_the_file_mode(fixture_copy: Path) -> None:
    os.chmod(fixture_copy, 0o640)
    workbook = XlsxWorkbook(fixture_copy)

    workbook.write([CellWrite("Personer", 2, 6, "Mangler sprog")], workbook.read().version)

    assert stat.S_IMODE(fixture_copy.stat().st_mode) == 0o640
    assert not [p for p in fixture_copy.parent.iterdir() if p.name != fixture_copy.name]


def test_unchanged_values_leave_the_file_untouched(fixture_copy: Path) -> None:
    os.utime(fixture_copy, ns=(1_000_000_000, 1_000_000_000))
    workbook = XlsxWorkbook(fixture_copy)

    changed = workbook.write(
        [
            CellWrite("Handlinger", 2, 8, "FORSINKET (3 dage)"),  # a shared string now
            CellWrite("Handlinger", 3, 8, ""),  # styled, empty
            CellWrite("Møder", 2, 10, "2026-11-12 08:00"),
            CellWrite("Personer", 4, 6, ""),  # no row at all
        ],
        workbook.read().version,
    )

    assert changed == 0
    assert fixture_copy.stat().st_mtime_ns == 1_000_000_000


@pytest.mark.parametrize(
    "lock", ["~$initiative.xlsx", "~$itiative.xlsx", ".~lock.initiative.xlsx#"]
)
def test_an_open_workbook_is_not_written(fixture_copy: Path, lock: str) -> None:
    workbook = XlsxWorkbook(fixture_copy)
    version = workbook.read().version
    (fixture_copy.parent / lock).write_text("someone")
    before = fixture_copy.read_bytes()

    with pytest.raises(SheetLockedError, match=re.escape(f"(lock file {lock})")):
        workbook.write([CellWrite("Handlinger", 2, 8, "FORSINKET (4 dage)")], version)

    assert fixture_copy.read_bytes() == before


def test_a_workbook_changed_since_the_read_is_not_written(fixture_copy: Path, small: Path) -> None:
    workbook = XlsxWorkbook(fixture_copy)
    version = workbook.read().version
    shutil.copyfile(small, fixture_copy)  # a partner saved in between

    with pytest.raises(StaleSheetError):
        workbook.write([CellWrite("Handlinger", 2, 3, "FORSINKET (4 dage)")], version)

    assert fixture_copy.read_bytes() == small.read_bytes()


def test_an_unknown_tab_is_a_sheet_error(fixture_copy: Path) -> None:
    workbook = XlsxWorkbook(fixture_copy)

    with pytest.raises(SheetError, match="no tab named 'Actions'"):
        workbook.write([CellWrite("Actions", 2, 8, "x")], workbook.read().version)


# -- writing: the XML details -----------------------------------------------------------


def test_new_cells_and_rows_go_in_order(small: Path) -> None:
    workbook = XlsxWorkbook(small)

    changed = workbook.write(
        [
            CellWrite("Handlinger", 3, 3, "FORSINKET (1 dag)"),  # after B3
            CellWrite("Handlinger", 5, 2, "midt i"),  # between A5 and C5
            CellWrite("Handlinger", 4, 4, "ny række"),  # a row between 3 and 5
            CellWrite("Handlinger", 9, 1, "sidst"),
            CellWrite("Handlinger", 1, 4, "Bemærkning"),
        ],
        workbook.read().version,
    )

    assert changed == 5
    xml = sheet_xml(small)
    assert re.findall(r'<row r="(\d+)"', xml) == ["1", "2", "3", "4", "5", "9"]
    refs = re.findall(r'<c r="([A-Z]+\d+)"', xml)
    assert refs == [
        "A1",
        "B1",
        "C1",
        "D1",
        "A2",
        "B2",
        "C2",
        "A3",
        "B3",
        "C3",
        "D4",
        "A5",
        "B5",
        "C5",
        "A9",
    ]
    assert re.search(r'<dimension ref="A1:D9"\s*/>', xml)
    sheet = openpyxl.load_workbook(small)["Handlinger"]
    assert [sheet[ref].value for ref in ("C3", "B5", "D4", "A9", "D1")] == [
        "FORSINKET (1 dag)",
        "midt i",
        "ny række",
        "sidst",
        "Bemærkning",
    ]
    assert sheet["D1"].font.bold  # styled like the header cell before it


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("=1+1", "=1+1"),
        ("A & B <c> \"d\" 'e'", "A & B <c> \"d\" 'e'"),
        ("linje 1\r\nlinje 2", "linje 1\nlinje 2"),
        ("bip\x07 og\x00 \x1b slut", "bip og  slut"),
        ("  mellemrum  ", "  mellemrum  "),
        ("Æble, ø og å — 😀", "Æble, ø og å — 😀"),
    ],
)
def test_text_is_stored_as_text(small: Path, typed: str, stored: str) -> None:
    workbook = XlsxWorkbook(small)

    workbook.write([CellWrite("Handlinger", 2, 3, typed)], workbook.read().version)

    cell = openpyxl.load_workbook(small)["Handlinger"]["C2"]
    assert (cell.value, cell.data_type) == (stored, "s")
    # Written again, the same text is no change.
    assert workbook.write([CellWrite("Handlinger", 2, 3, typed)], workbook.read().version) == 0


def test_an_escape_lookalike_is_kept_literally_for_excel(small: Path) -> None:
    workbook = XlsxWorkbook(small)

    workbook.write([CellWrite("Handlinger", 2, 3, "kode _x0041_")], workbook.read().version)

    # Excel reads _xHHHH_ as an escaped character; _x005F_ escapes the underscore.
    assert "kode _x005F_x0041_</t>" in sheet_xml(small)


def test_clearing_keeps_a_styled_cell_and_drops_a_plain_one(small: Path) -> None:
    workbook = XlsxWorkbook(small)

    changed = workbook.write(
        [CellWrite("Handlinger", 1, 3, ""), CellWrite("Handlinger", 2, 3, "")],
        workbook.read().version,
    )

    assert changed == 2
    xml = sheet_xml(small)
    assert re.search(r'<c r="C1" s="\d+"/>', xml)
    assert 'r="C2"' not in xml


def test_overwriting_the_first_cell_of_a_shared_formula_keeps_the_others(small: Path) -> None:
    shared = (
        '<row r="2"><c r="A2"><v>1</v></c>'
        '<c r="B2"><f t="shared" ref="B2:B4" si="0">A2*2</f><v>2</v></c></row>'
        '<row r="3"><c r="A3"><v>2</v></c><c r="B3"><f t="shared" si="0"/><v>4</v></c></row>'
        '<row r="4"><c r="A4"><v>3</v></c><c r="B4"><f t="shared" si="0"/><v>6</v></c></row>'
    )
    replace_member(
        small,
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(
            r"<sheetData>.*</sheetData>", f"<sheetData>{shared}</sheetData>", xml, flags=re.S
        ),
    )
    workbook = XlsxWorkbook(small)

    workbook.write([CellWrite("Handlinger", 2, 2, "tekst")], workbook.read().version)

    sheet = openpyxl.load_workbook(small)["Handlinger"]
    assert [sheet[ref].value for ref in ("B2", "B3", "B4")] == ["tekst", "=A3*2", "=A4*2"]
    values = openpyxl.load_workbook(small, data_only=True)["Handlinger"]
    assert [values[ref].value for ref in ("B3", "B4")] == [4, 6]


def test_a_worksheet_with_prefixed_elements_is_patched(small: Path) -> None:
    def prefix(xml: str) -> str:
        xml = re.sub(r"<(/?)(?!\?)([A-Za-z]+)\b", r"<\1x:\2", xml)
        return xml.replace('xmlns="', 'xmlns:x="', 1)

    replace_member(small, "xl/worksheets/sheet1.xml", prefix)
    workbook = XlsxWorkbook(small)

    workbook.write([CellWrite("Handlinger", 3, 3, "FORSINKET (1 dag)")], workbook.read().version)

    assert '<x:c r="C3" t="inlineStr"><x:is><x:t' in sheet_xml(small)
    assert dict(workbook.read().tables["Handlinger"].rows)[3] == (
        "H2",
        "Book lokale",
        "FORSINKET (1 dag)",
    )


def test_an_inline_string_cell_with_the_same_text_is_no_change(tmp_path: Path) -> None:
    # openpyxl writes text as inline strings (LibreOffice and Excel: shared strings).
    workbook = openpyxl.Workbook()
    workbook.active.title = "Personer"
    workbook.active.append(["Navn", "Bemærkning"])
    workbook.active.append(["Mette", "Ugyldig e-mail"])
    path = tmp_path / "people.xlsx"
    workbook.save(path)
    assert 't="inlineStr"' in sheet_xml(path)
    backend: SheetBackend = XlsxWorkbook(path)
    before = path.read_bytes()

    assert (
        backend.write([CellWrite("Personer", 2, 2, "Ugyldig e-mail")], backend.read().version) == 0
    )
    assert path.read_bytes() == before
    assert backend.write([CellWrite("Personer", 2, 2, "Ny note")], backend.read().version) == 1


def test_writes_nothing_for_no_writes(small: Path) -> None:
    before = small.read_bytes()

    assert XlsxWorkbook(small).write([], XlsxWorkbook(small).read().version) == 0
    assert small.read_bytes() == before


def add_calc_chain(path: Path) -> None:
    """Give the workbook the calculation chain Excel keeps, naming cell C2's formula."""
    with zipfile.ZipFile(path) as package:
        contents = [(info, package.read(info)) for info in package.infolist()]
    chain = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<calcChain xmlns="{MAIN[1:-1]}"><c r="C2" i="1"/></calcChain>'
    )
    rel = (
        '<Relationship Id="rId99" Target="calcChain.xml" Type="http://schemas.openxmlformats'
        '.org/officeDocument/2006/relationships/calcChain"/>'
    )
    override = (
        '<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.calcChain+xml"/>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for info, data in contents:
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", rel.encode() + b"</Relationships>")
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", override.encode() + b"</Types>")
            package.writestr(info, data)
        package.writestr("xl/calcChain.xml", chain)


@pytest.mark.parametrize(
    ("cell", "chain_kept"),
    [((2, 3), False), ((3, 3), True)],
    ids=["formula-overwritten", "formula-untouched"],
)
def test_the_calculation_chain_goes_only_with_an_overwritten_formula(
    tmp_path: Path, cell: tuple[int, int], chain_kept: bool
) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Handlinger"
    workbook.active.append(["Handling-ID", "Frist", "Forsinket"])
    workbook.active.append(["H1", 3, "=B2*2"])  # a partner's formula in a W column
    path = tmp_path / "chain.xlsx"
    workbook.save(path)
    add_calc_chain(path)
    backend = XlsxWorkbook(path)
    original = dict(members(path))

    backend.write([CellWrite("Handlinger", *cell, "FORSINKET (1 dag)")], backend.read().version)

    after = dict(members(path))
    assert ("xl/calcChain.xml" in after) is chain_kept
    for name in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
        assert (b"calcChain" in after[name]) is chain_kept
    unchanged = set(original) - {"xl/worksheets/sheet1.xml", "xl/calcChain.xml"}
    if not chain_kept:
        unchanged -= {"xl/_rels/workbook.xml.rels", "[Content_Types].xml"}
    assert all(after[name] == original[name] for name in unchanged)
    assert openpyxl.load_workbook(path)["Handlinger"]["C3" if chain_kept else "C2"].value == (
        "FORSINKET (1 dag)"
    )


@pytest.mark.parametrize(("row", "column"), [(0, 1), (2, 0), (1_048_577, 1), (2, 16_385)])
def test_a_position_outside_a_worksheet_is_a_sheet_error(small: Path, row: int, column: int):
    backend = XlsxWorkbook(small)
    before = small.read_bytes()

    with pytest.raises(SheetError, match="outside a worksheet"):
        backend.write([CellWrite("Handlinger", row, column, "x")], backend.read().version)

    assert small.read_bytes() == before
