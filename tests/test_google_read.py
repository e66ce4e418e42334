"""The google backend's lean read: each cell object of the ``spreadsheets.get`` answer
becomes its value as soon as it is decoded. It must give exactly the Snapshot that
decoding the whole answer into dicts first gave (the read before commit 2f3a7c8, kept
here as ``tree_tables``), in far less memory."""

from __future__ import annotations

import datetime as dt
import io
import json
import tracemalloc
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from automation.config import SheetSettings
from automation.core.model import CellValue, Table
from automation.sheets.google import (
    READ_FIELDS,
    ROWS,
    GoogleSheet,
    _compact,
    _row,
    _table,
    _value,
)
from automation.sheets.google_api import decode
from tests.emulators import start_emulator
from tests.emulators.sheets_emulator import Emulator

SHEET = "1RygradGoogleLeanReadTest000000000000000"


# -- the reference: the whole answer as dicts, then rows (the read as it was) ------------


def tree_tables(answer: dict[str, Any]) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for sheet in answer.get("sheets", []):
        title = str(sheet.get("properties", {}).get("title", ""))
        data = sheet.get("data") or [{}]
        header: tuple[CellValue, ...] = ()
        rows: list[tuple[int, tuple[CellValue, ...]]] = []
        grid = data[0] if data else {}
        first = int(grid.get("startRow", 0)) + 1
        for number, row in enumerate(grid.get("rowData", []), start=first):
            values = tuple(_value(cell) for cell in row.get("values", []))
            end = len(values)
            while end and values[end - 1] is None:
                end -= 1
            values = values[:end]
            if number == 1:
                header = values
            elif any(v is not None and not (isinstance(v, str) and not v.strip())
                     for v in values):
                rows.append((number, values))
        tables[title] = Table(title, header, tuple(rows))
    return tables


def lean_tables(body: bytes, chunk: int = 0) -> dict[str, Table]:
    """The read's path on a body: streamed, a row at a time (_compact, _row), each tab by
    _table."""
    answer = decode(response(body, chunk), _compact, ROWS, _row)
    return {str(s["properties"]["title"]): _table(str(s["properties"]["title"]),
                                                  s.get("data") or [{}])
            for s in answer.get("sheets", [])}


class Trickle(io.BytesIO):
    """A body that arrives a few bytes at a time, cutting characters in two."""

    def __init__(self, body: bytes, size: int) -> None:
        super().__init__(body)
        self.size = size

    def read(self, size: int | None = -1) -> bytes:
        return super().read(self.size)


def response(body: bytes, chunk: int = 0) -> requests.Response:
    reply = requests.Response()
    reply.status_code = 200
    reply.encoding = "UTF-8"
    reply.raw = Trickle(body, chunk) if chunk else io.BytesIO(body)
    return reply


def typed(tables: dict[str, Table]) -> list[Any]:
    """Tables with each value's type beside it: 1 == 1.0 == True must not pass for equal."""
    def kinds(values: tuple[CellValue, ...]) -> list[tuple[str, CellValue]]:
        return [(type(v).__name__, v) for v in values]
    return [(title, kinds(t.header), [(n, kinds(r)) for n, r in t.rows])
            for title, t in tables.items()]


# -- a varied answer, as Google sends it ------------------------------------------------


def text(value: str) -> dict[str, Any]:
    return {"effectiveValue": {"stringValue": value}, "effectiveFormat": {}}


def number(value: float, kind: str = "") -> dict[str, Any]:
    form = {"numberFormat": {"type": kind}} if kind else {}
    return {"effectiveValue": {"numberValue": value}, "effectiveFormat": form}


def error(kind: str | None) -> dict[str, Any]:
    found = {"type": kind, "message": "…"} if kind else {"message": "…"}
    return {"effectiveValue": {"errorValue": found}, "effectiveFormat": {}}


VARIED_ROWS: list[dict[str, Any]] = [
    {"values": [text("Handling-ID"), text("Frist"), text("Tid"), {}, {"effectiveFormat": {}}]},
    {"values": [text("H-1"), number(46358, "DATE"), number(0.5, "TIME"),
                number(46358.6041666667, "DATE_TIME"), number(46358, "DATE_TIME")]},
    {"values": [text("H-2"), number(46358.75, "DATE"), number(0.9999999, "TIME"),
                number(-1, "DATE"), number(-0.25, "TIME")]},
    {"values": [text("H-3"), number(42), number(-3.5), number(1e20), number(0),
                number(0.25, "PERCENT"), number(12.5, "CURRENCY"), number(7, "NUMBER")]},
    {"values": [text("H-4"), {"effectiveValue": {"boolValue": True}},
                {"effectiveValue": {"boolValue": False}}, text(""), text("  "),
                text("=1+1"), text("Æblegrød på Ærø — “citat”"), text("12/4/2026")]},
    {"values": [text("H-5"), error("DIVIDE_BY_ZERO"), error("N_A"), error("LOADING"),
                error("SOMETHING_NEW"), error(None)]},
    {"values": [text("H-6"), {"effectiveValue": {}}, {"effectiveValue": {"formulaValue": "x"}},
                {"effectiveFormat": {"numberFormat": {"type": "DATE"}}},
                {"effectiveValue": {"stringValue": "46358"},
                 "effectiveFormat": {"numberFormat": {"type": "DATE"}}},
                number(46358)]},
    {},  # an empty row
    {"values": []},
    {"values": [text("   "), {}, {"effectiveFormat": {}}]},  # only blanks: no row
    {"values": [{}, {}, number(3)]},  # no ID, but a value
    {"values": [{"effectiveValue": {"numberValue": 46358.5},
                 "effectiveFormat": {"numberFormat": {}}}, {}, {}, {}]},
]

VARIED = {"sheets": [
    {"properties": {"sheetId": 0, "title": "Handlinger", "index": 0,
                    "gridProperties": {"rowCount": 1000, "columnCount": 26}},
     "data": [{"rowData": VARIED_ROWS}]},
    {"properties": {"sheetId": 1, "title": "Tom", "index": 1}},  # no data at all
    {"properties": {"sheetId": 2, "title": "Tom grid", "index": 2}, "data": [{}]},
    {"properties": {"sheetId": 3, "title": "Forskudt", "index": 3},
     "data": [{"startRow": 2, "rowData": VARIED_ROWS[1:4]}]},
]}


@pytest.mark.parametrize("chunk", [0, 1, 2, 7, 100])
def test_the_lean_read_gives_exactly_the_tables_of_the_whole_tree(chunk: int) -> None:
    body = json.dumps(VARIED, ensure_ascii=False).encode()
    assert typed(lean_tables(body, chunk)) == typed(tree_tables(json.loads(body)))


@pytest.mark.parametrize(("row", "expected"), [
    (1, ("H-1", dt.date(2026, 12, 2), dt.time(12, 0), dt.datetime(2026, 12, 2, 14, 30),
         dt.date(2026, 12, 2))),
    (2, ("H-2", dt.date(2026, 12, 2), dt.time(0, 0), dt.date(1899, 12, 29), dt.time(18, 0))),
    (3, ("H-3", 42, -3.5, 100000000000000000000, 0, 0.25, 12.5, 7)),
    (4, ("H-4", True, False, "", "  ", "=1+1", "Æblegrød på Ærø — “citat”", "12/4/2026")),
    (5, ("H-5", "#DIV/0!", "#N/A", "Loading...", "#ERROR!", "#ERROR!")),
    (6, ("H-6", None, None, None, "46358", 46358)),
    (10, (None, None, 3)),
    (11, (46358.5,)),
])
def test_each_kind_of_cell_becomes_its_value(row: int, expected: tuple[CellValue, ...]) -> None:
    body = json.dumps(VARIED).encode()
    rows = dict(lean_tables(body)["Handlinger"].rows)
    assert [(type(v), v) for v in rows[row + 1]] == [(type(v), v) for v in expected]


def test_blank_rows_are_left_out_and_the_header_is_trimmed() -> None:
    tables = lean_tables(json.dumps(VARIED).encode())
    assert tables["Handlinger"].header == ("Handling-ID", "Frist", "Tid")
    assert [n for n, _ in tables["Handlinger"].rows] == [2, 3, 4, 5, 6, 7, 11, 12]
    assert tables["Tom"] == Table("Tom", (), ())
    assert tables["Tom grid"] == Table("Tom grid", (), ())
    assert tables["Forskudt"].header == ()  # rows 3 to 5: no header row in the answer
    assert [n for n, _ in tables["Forskudt"].rows] == [3, 4, 5]


def test_a_body_cut_short_is_broken_json_which_the_api_retries() -> None:
    body = json.dumps(VARIED).encode()
    for cut in (1, len(body) // 2, len(body) - 1):
        with pytest.raises(json.JSONDecodeError):
            decode(response(body[:cut], 5), _compact, ROWS, _row)


@given(st.lists(st.text() | st.dictionaries(st.text(), st.text())), st.integers(1, 7))
def test_any_text_decodes_as_json_loads_decodes_it(value: list[Any], chunk: int) -> None:
    body = json.dumps(value, ensure_ascii=False).encode()
    assert decode(response(body, chunk)) == json.loads(body)


@pytest.mark.parametrize("word", [
    "Søren Østergaard", "en – tankestreg", "“citat”", "Godt gået 👍", "\\ø\\\\👍", "\u2028",
])
def test_characters_beyond_ascii_come_back_as_they_were(word: str) -> None:
    body = json.dumps(VARIED | {"note": word}, ensure_ascii=False).encode()
    assert decode(response(body, 3), _compact)["note"] == word


def big_answer(rows: int) -> bytes:
    """An Actions tab of `rows` rows shaped like bench/generate.py's."""
    row = {"values": [text("H-00001"), text("Start lektiecafé i Gellerup"), text("Gruppe 001"),
                      text("Anne Holm 17"), number(46358, "DATE"), text("I gang"), {},
                      number(46300, "DATE"), text("Bemærkning"), number(3)]}
    sheet = {"properties": {"sheetId": 0, "title": "Handlinger"},
             "data": [{"rowData": [row] * rows}]}
    return json.dumps({"sheets": [sheet]}, separators=(",", ":"), ensure_ascii=False).encode()


def test_the_lean_read_holds_a_fraction_of_the_whole_tree() -> None:
    body = big_answer(20_000)

    def traced(read: Any) -> tuple[int, int]:
        """(memory still held by what read() returned, peak while it ran)"""
        tracemalloc.start()
        try:
            kept = read()
            held, peak = tracemalloc.get_traced_memory()
            del kept
            return held, peak
        finally:
            tracemalloc.stop()

    _, whole = traced(lambda: tree_tables(response(body).json()))
    tables, lean = traced(lambda: lean_tables(body))
    assert lean * 3 < whole, (lean, whole)
    # read as it arrives: beside the tables, a few chunks (1 MiB each), never the whole
    # answer as one text
    assert lean - tables < 4 << 20 < len(body) // 3, (lean, tables, len(body))
    # one emoji would make a str of the whole answer take 4 bytes a character
    emoji = body.replace(b"Bem\xc3\xa6rkning", "Godt gået 👍".encode(), 1)
    assert emoji != body
    assert traced(lambda: lean_tables(emoji))[1] < lean * 1.1


# -- against the emulator: GoogleSheet.read() and the tree of the same answer -------------


@pytest.fixture
def emulator() -> Any:
    with start_emulator() as running:
        yield running


def varied_workbook() -> bytes:
    book = openpyxl.Workbook()
    actions = book.active
    actions.title = "Handlinger"
    for row in [
        ["Handling-ID", "Frist", "Start", "Tidspunkt", "Antal", "Andel", "Færdig", "Note", None],
        ["H-1", dt.date(2027, 3, 10), dt.time(9, 15), dt.datetime(2027, 3, 10, 14, 30),
         42, 2.5, True, "Æblegrød på Ærø"],
        ["H-2", dt.datetime(2027, 3, 15), dt.time(0, 0), dt.datetime(2027, 3, 15), -7, 1e-3,
         False, "  ", None, None],
        [None, None, None, None, None, None, None, None],
        ["", "   "],
        ["H-4", None, None, None, 0, None, None, "12/4/2026"],
        [None, None, None, None, 3],
    ]:
        actions.append(row)
    people = book.create_sheet("Personer")
    people.append(["Navn", "E-mail"])
    people.append(["Søren Østergaard", "soeren@example.dk"])
    book.create_sheet("Tom")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_read_equals_the_tree_of_the_same_answer_in_one_call(
    emulator: Emulator, tmp_path: Path
) -> None:
    base = emulator.base_url
    reply = requests.put(f"{base}/_emulator/spreadsheets/{SHEET}", data=varied_workbook(),
                         timeout=10)
    assert reply.status_code == 200
    key = tmp_path / "service-account.json"
    key.write_text(json.dumps(requests.get(f"{base}/_emulator/service-account.json",
                                           timeout=10).json()))
    sheet = GoogleSheet(SheetSettings(backend="google", spreadsheet=SHEET, credentials=key,
                                      api_base=base))
    requests.post(f"{base}/_emulator/stats/reset", timeout=10)
    snapshot = sheet.read()
    assert requests.get(f"{base}/_emulator/stats", timeout=10).json() == {
        "reads": 1, "writes": 0}
    whole = sheet.api.get({"fields": READ_FIELDS, "prettyPrint": "false"})
    assert typed(snapshot.tables) == typed(tree_tables(whole))
    actions = snapshot.tables["Handlinger"]
    assert dict(actions.rows)[2] == ("H-1", dt.date(2027, 3, 10), dt.time(9, 15),
                                     dt.datetime(2027, 3, 10, 14, 30), 42, 2.5, True,
                                     "Æblegrød på Ærø")
    assert [n for n, _ in actions.rows] == [2, 3, 6, 7]
    assert sheet._columns["Handlinger"] >= 9  # the grid width, for the write-back
    assert snapshot.tables["Tom"].rows == ()
