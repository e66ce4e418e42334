"""A workbook whose parts inflate far beyond its file size is refused in one sentence
before openpyxl opens it — also when its zip headers understate what it holds."""

from __future__ import annotations

import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from automation.errors import SheetError
from automation.sheets.xlsx import MB, XlsxWorkbook
from tests.test_cli import small_initiative
from tests.workbook import rygrad, write_config, write_workbook

SHEET = "xl/worksheets/sheet4.xml"  # Handlinger, the fourth tab


def inflated(source: Path, target: Path, padding: int) -> Path:
    """``source`` with ``padding`` bytes of blank space inside one worksheet's rows:
    valid XML that openpyxl reads, and that compresses to almost nothing."""
    with zipfile.ZipFile(source) as package, zipfile.ZipFile(
            target, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in package.infolist():
            data = package.read(info)
            if info.filename != SHEET:
                copy.writestr(info, data)
                continue
            head, _, tail = data.partition(b"</sheetData>")
            with copy.open(SHEET, "w") as part:
                part.write(head)
                chunk = b" " * MB
                for start in range(0, padding, MB):
                    part.write(chunk[: min(MB, padding - start)])
                part.write(b"</sheetData>" + tail)
    return target


def understated(path: Path, name: str, claimed: int) -> None:
    """Make the zip's headers (central directory and local header) claim that ``name``
    unpacks to ``claimed`` bytes."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    patched = 0
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # central directory entries: size at +24, name length at +28
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46: at + 46 + length] == encoded:
            struct.pack_into("<I", data, at + 24, claimed)
            local = struct.unpack_from("<I", data, at + 42)[0]
            struct.pack_into("<I", data, local + 22, claimed)  # the local header's size
            patched += 1
        at = data.find(b"PK\x01\x02", at + 4)
    assert patched == 1
    path.write_bytes(bytes(data))


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    return write_workbook(tmp_path / "plain.xlsx", small_initiative())


def test_a_workbook_that_inflates_beyond_the_limit_is_refused(workbook, tmp_path):
    bomb = inflated(workbook, tmp_path / "bomb.xlsx", 3 * MB)
    assert bomb.stat().st_size < 100_000  # the file is small; its XML is not
    with pytest.raises(SheetError) as caught:
        XlsxWorkbook(bomb, max_xml_mb=1).read()
    message = str(caught.value)
    assert message.startswith(f"{bomb}: the workbook unpacks to 3 MB of XML, more than "
                              "sheet.max_xml_mb = 1 MB allows")
    assert "\n" not in message
    # the same workbook under a limit it keeps is read as any other (the padding is valid)
    tables = XlsxWorkbook(bomb, max_xml_mb=4).read().tables
    assert [row[1][0] for row in tables["Handlinger"].rows] == ["H-1", "H-2", "H-3"]


def test_the_default_limit_is_100_mb(workbook, tmp_path):
    bomb = inflated(workbook, tmp_path / "bomb.xlsx", 101 * MB)
    assert bomb.stat().st_size < 1 * MB
    with pytest.raises(SheetError, match=r"more than sheet\.max_xml_mb = 100 MB allows"):
        XlsxWorkbook(bomb).read()
    assert XlsxWorkbook(workbook).read().tables["Handlinger"].rows


def test_a_zip_that_understates_its_size_is_refused_while_inflating(workbook, tmp_path):
    bomb = inflated(workbook, tmp_path / "liar.xlsx", 3 * MB)
    understated(bomb, SHEET, 1000)
    with zipfile.ZipFile(bomb) as package:
        assert sum(info.file_size for info in package.infolist()) < 1 * MB
    tracemalloc.start()
    try:
        with pytest.raises(SheetError) as caught:
            XlsxWorkbook(bomb, max_xml_mb=1).read()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert message.startswith(f"{bomb}: the workbook unpacks to more than sheet.max_xml_mb = "
                              "1 MB of XML, though its zip headers claim ")
    assert message.split("claim ")[1].startswith(tuple(f"{n} KB" for n in range(1, 100)))
    assert peak < 8 * MB  # counted a chunk at a time, never held


def test_a_run_on_an_inflated_workbook_stops_in_one_sentence(workbook, tmp_path, capsys):
    bomb = inflated(workbook, tmp_path / "bomb.xlsx", 3 * MB)
    config = write_config(tmp_path, bomb, sheet={"path": str(bomb), "max_xml_mb": 1})
    before = bomb.read_bytes()
    for command in ("check", "run", "init-sheet"):
        result = rygrad(capsys, command, "--config", str(config))
        assert result.status == 2
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.err
        assert str(bomb) in lines[0] and "sheet.max_xml_mb = 1 MB" in lines[0]
    assert bomb.read_bytes() == before
    assert not (tmp_path / "outbox").exists()
    # raising the limit, as the sentence says, lets it run
    config = write_config(tmp_path, bomb, sheet={"path": str(bomb), "max_xml_mb": 4})
    assert rygrad(capsys, "check", "--config", str(config)).status in (0, 1)


@pytest.mark.parametrize("value", [0, -1, "lots"])
def test_max_xml_mb_must_be_a_positive_number(workbook, tmp_path, capsys, value):
    config = write_config(tmp_path, workbook, sheet={"path": str(workbook), "max_xml_mb": value})
    result = rygrad(capsys, "check", "--config", str(config))
    assert result.status == 2
    assert f"{config}: sheet.max_xml_mb:" in result.err
