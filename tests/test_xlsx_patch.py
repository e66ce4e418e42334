"""The streaming worksheet patch: the same bytes whatever the chunk size, in bounded memory."""

from __future__ import annotations

import functools
import hashlib
import io
import re
import shutil
import tracemalloc
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from automation.core.model import CellWrite
from automation.errors import SheetError
from automation.sheets import xlsx
from automation.sheets.xlsx import XlsxWorkbook
from automation.sheets.xlsx_cells import MAIN_NS, SharedStrings
from automation.sheets.xlsx_patch import patch_worksheet

FIXTURE = Path(__file__).parent / "fixtures" / "libreoffice.xlsx"
MAIN = f"{{{MAIN_NS}}}"

SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<worksheet xmlns="{MAIN_NS}"><dimension ref="A1:C4"/>'
    '<cols><col min="3" max="3" width="20" style="2" customWidth="1"/></cols>'
    "<sheetData>\n"
    '<row r="1" spans="1:3"><c r="A1" t="inlineStr"><is><t>Handling-ID</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>Forsinket</t></is></c></row>\n'
    '<row r="2" spans="1:3"><c r="A2" t="inlineStr"><is><t>H1 Søren Østergaard 😀</t></is></c>'
    '<c r="B2"><f t="shared" ref="B2:B4" si="0">A2&amp;"x"</f><v>1</v></c>'
    '<c r="C2" t="s"><v>0</v></c></row>\n'
    '<row r="3" spans="1:3"><c r="A3" t="inlineStr"><is><t>H2 Bæredygtig</t></is></c>'
    '<c r="B3"><f t="shared" si="0"/><v>2</v></c></row>\n'
    '<row r="4" spans="1:3"><c r="A4"><v>4</v></c><c r="B4"><f t="shared" si="0"/><v>3</v></c>'
    "</row>\n"
    '</sheetData><mergeCells count="1"><mergeCell ref="D1:E1"/></mergeCells>'
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
    "</worksheet>"
)
WRITES = {
    (1, 4): "Bemærkning",  # a new cell in the header
    (2, 2): "tekst",  # over the first cell of a shared formula
    (2, 3): "FORSINKET (1 dag)",  # over a shared string
    (3, 3): "ny – æøå",  # a new cell in a column with a style
    (6, 1): "sidst 😀",  # a new row after the last one
}
RAW = SHEET.encode()
# chunk boundaries that fall inside a row, inside "æ" (two bytes) and inside "😀" (four)
INSIDE_AE = RAW.index("æ".encode()) + 1
INSIDE_EMOJI = RAW.index("😀".encode()) + 2
CHUNKS = [1, 2, 3, 7, 64, INSIDE_AE, INSIDE_EMOJI, len(RAW) // 2, 1 << 20]


def shared_strings(*texts: str) -> SharedStrings:
    items = "".join(f"<si><t>{text}</t></si>" for text in texts)
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN_NS}">{items}</sst>')
    return SharedStrings(zipfile.ZipFile(package), "xl/sharedStrings.xml")


def patch(
    xml: bytes, cells: dict[tuple[int, int], str], chunk_size: int
) -> tuple[bytes, int, bool]:
    target = io.BytesIO()
    count, removed = patch_worksheet(
        io.BytesIO(xml), target, cells, shared_strings("gammel"), chunk_size
    )
    return target.getvalue(), count, removed


def cell_values(xml: bytes) -> dict[str, tuple[str | None, ...]]:
    """ref → (style, inline text or value, formula) of every cell."""
    found = {}
    for cell in ElementTree.fromstring(xml).iter(f"{MAIN}c"):
        inline = cell.find(f"{MAIN}is")
        text = "".join(inline.itertext()) if inline is not None else cell.findtext(f"{MAIN}v")
        found[cell.get("r", "")] = (cell.get("s"), text, cell.findtext(f"{MAIN}f"))
    return found


@pytest.mark.parametrize("chunk_size", CHUNKS)
def test_any_chunk_size_gives_the_same_part(chunk_size: int) -> None:
    whole = patch(RAW, WRITES, 1 << 20)

    assert patch(RAW, WRITES, chunk_size) == whole


def test_the_patched_part_holds_the_writes_and_keeps_the_rest() -> None:
    xml, count, formulas_removed = patch(RAW, WRITES, 5)

    assert (count, formulas_removed) == (5, True)
    values = cell_values(xml)
    assert values["D1"][1] == "Bemærkning"
    assert values["B2"] == (None, "tekst", None)
    assert values["C2"] == (None, "FORSINKET (1 dag)", None)
    assert values["C3"] == ("2", "ny – æøå", None)  # the column's style
    assert values["A6"] == (None, "sidst 😀", None)
    # B3 is the shared formula's first cell now, translated to its own row
    assert values["B3"] == (None, "2", 'A3&"x"')
    assert values["A2"][1] == "H1 Søren Østergaard 😀"
    text = xml.decode()
    assert re.findall(r'<row r="(\d+)"', text) == ["1", "2", "3", "4", "6"]
    assert '<dimension ref="A1:D6"/>' in text
    assert text.endswith(SHEET[SHEET.index("\n</sheetData>") :])  # the new row before it
    assert '<row r="3" spans="1:3"><c r="A3" t="inlineStr"><is><t>H2 Bæredygtig</t>' in text


@pytest.mark.parametrize("chunk_size", [1, 3, 1 << 20])
def test_writes_that_change_nothing_leave_a_copy(chunk_size: int) -> None:
    same = {(1, 1): "Handling-ID", (2, 3): "gammel", (3, 1): "H2 Bæredygtig", (9, 2): ""}

    assert patch(RAW, same, chunk_size) == (RAW, 0, False)


@pytest.mark.parametrize("chunk_size", [1, 4, 1 << 20])
def test_an_empty_sheet_data_gets_its_rows(chunk_size: int) -> None:
    empty = re.sub(r"<sheetData>.*</sheetData>", "<sheetData/>", SHEET, flags=re.S).encode()

    xml, count, _ = patch(empty, {(2, 1): "H1", (1, 1): "ID"}, chunk_size)

    assert count == 2
    assert '<sheetData><row r="1"><c r="A1" t="inlineStr">' in xml.decode()
    assert {ref: value[1] for ref, value in cell_values(xml).items()} == {"A1": "ID", "A2": "H1"}


@pytest.mark.parametrize(
    ("xml", "words"),
    [
        (RAW[: RAW.index(b'<row r="3"') + 20], "rows end before </sheetData>"),
        (RAW.replace(b'<row r="3" ', b"<row "), "without a reference"),
        (re.sub(rb"<sheetData>.*</sheetData>", b"", RAW, flags=re.S), "no sheetData"),
        (b"<html/>", "no worksheet element"),
    ],
    ids=["cut-off", "row-without-r", "no-sheet-data", "not-a-worksheet"],
)
def test_a_broken_part_is_a_sheet_error(xml: bytes, words: str) -> None:
    with pytest.raises(SheetError, match=words):
        patch(xml, {(5, 1): "x"}, 16)


class Digest(io.RawIOBase):
    """A target that keeps only a checksum of what it was given, not the bytes."""

    def __init__(self) -> None:
        self.sha = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[no-untyped-def, override]
        self.sha.update(data)
        return len(data)


def test_a_large_part_is_patched_in_memory_of_a_few_chunks() -> None:
    rows = "".join(
        f'<row r="{n}" spans="1:3"><c r="A{n}" t="inlineStr"><is><t>H{n} Kortlæg '
        f'fritidstilbud i Gellerup</t></is></c><c r="B{n}"><v>{n}</v></c></row>'
        for n in range(1, 40_001)
    )
    xml = SHEET.replace(
        SHEET[SHEET.index("<sheetData>") : SHEET.index("</sheetData>")], f"<sheetData>{rows}"
    ).encode()
    assert len(xml) > 4_000_000
    every_other = {(n, 3): f"FORSINKET ({n} dage)" for n in range(2, 40_001, 2)}
    source, target = io.BytesIO(xml), Digest()

    tracemalloc.start()
    try:
        count, _ = patch_worksheet(source, target, every_other, shared_strings(), 64 * 1024)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert count == 20_000
    # the writes themselves (20,000 texts in a dict) are most of it; the part is not there
    assert peak < 1_500_000 + len(xml) // 10


@pytest.mark.parametrize("chunk_size", [3, 100])
def test_a_libreoffice_workbook_patched_in_small_chunks_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_size: int
) -> None:
    writes = [
        CellWrite("Handlinger", 3, 8, "FORSINKET (3 dage)"),
        CellWrite("Handlinger", 9, 2, "ny række"),
        CellWrite("Personer", 2, 7, "Ugyldig"),
    ]

    def written(name: str) -> dict[str, bytes]:
        path = tmp_path / name
        shutil.copyfile(FIXTURE, path)
        backend = XlsxWorkbook(path)
        assert backend.write(writes, backend.read().version) == 3
        with zipfile.ZipFile(path) as package:
            return {info.filename: package.read(info) for info in package.infolist()}

    whole = written("whole.xlsx")
    monkeypatch.setattr(
        xlsx, "patch_worksheet", functools.partial(patch_worksheet, chunk_size=chunk_size)
    )

    assert written("chunks.xlsx") == whole
