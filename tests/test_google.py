"""The google backend against the Sheets API emulator: real gspread + google-auth over HTTP,
tokens from the emulator's token endpoint, call counts from its quota stats."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import requests

from automation.config import SheetSettings
from automation.core.model import CellWrite
from automation.errors import SheetError, SheetLockedError, StaleSheetError
from automation.sheets.google import GoogleSheet
from automation.sheets.google_api import spreadsheet_id
from tests.emulators import start_emulator
from tests.emulators.sheets_emulator import Emulator

SHEET = "1RygradGoogleBackendTest00000000000000000"
HEADER = ["Handling-ID", "Handling", "Ansvarlig", "Frist", "Status", "Forsinket"]


@pytest.fixture
def emulator() -> Any:
    with start_emulator() as running:
        yield running


@pytest.fixture
def key_file(emulator: Emulator, tmp_path: Path) -> Path:
    key = requests.get(f"{emulator.base_url}/_emulator/service-account.json", timeout=10).json()
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(key))
    return path


def settings(emulator: Emulator, key_file: Path, spreadsheet: str = SHEET) -> SheetSettings:
    return SheetSettings(backend="google", spreadsheet=spreadsheet, credentials=key_file,
                         api_base=emulator.base_url)


def api_log(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "automation.sheets.google_api"]


class Sleeps(list[float]):
    """An injected sleep: remembers the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def workbook(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Handlinger"
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    people = book.create_sheet("Personer")
    people.append(["Navn", "E-mail"])
    people.append(["Anna", "anna@example.dk"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ACTIONS = [
    ["H-1", "Skriv referat", "Anna", dt.date(2027, 3, 10), "I gang"],
    ["H-2", "Book lokale", "Anna", dt.date(2027, 3, 15), "Ikke startet"],
    ["H-3", "Send budget", "Anna", dt.date(2027, 4, 1), "Færdig"],
]


def upload(emulator: Emulator, data: bytes, spreadsheet: str = SHEET) -> None:
    reply = requests.put(f"{emulator.base_url}/_emulator/spreadsheets/{spreadsheet}",
                         data=data, timeout=10)
    assert reply.status_code == 200


def download(emulator: Emulator) -> openpyxl.Workbook:
    reply = requests.get(f"{emulator.base_url}/_emulator/spreadsheets/{SHEET}.xlsx", timeout=10)
    return openpyxl.load_workbook(io.BytesIO(reply.content))


def stats(emulator: Emulator) -> dict[str, int]:
    return requests.get(f"{emulator.base_url}/_emulator/stats", timeout=10).json()


def reset_stats(emulator: Emulator) -> None:
    requests.post(f"{emulator.base_url}/_emulator/stats/reset", timeout=10)


def fault(emulator: Emulator, **spec: Any) -> None:
    requests.post(f"{emulator.base_url}/_emulator/faults", json=spec, timeout=10)


def partner(emulator: Emulator, key_file: Path, requests_: list[dict[str, Any]]) -> None:
    """Another client changes the sheet's structure (spreadsheets:batchUpdate)."""
    other = GoogleSheet(settings(emulator, key_file))
    other.api.batch_update({"requests": requests_})


def sheet_id(emulator: Emulator, title: str) -> int:
    book = emulator.state.books[SHEET]
    found = book.sheet_by_title(title)
    assert found is not None
    return found.sheet_id


def status_write(row: int, action_id: str, value: str) -> CellWrite:
    return CellWrite("Handlinger", row, 6, value, action_id, 1)


@pytest.fixture
def sheet(emulator: Emulator, key_file: Path) -> GoogleSheet:
    upload(emulator, workbook(ACTIONS))
    reset_stats(emulator)
    return GoogleSheet(settings(emulator, key_file), sleep=Sleeps())


# -- reading ---------------------------------------------------------------------------


def test_read_gives_every_tab_with_dates_as_dates_in_one_call(
    emulator: Emulator, sheet: GoogleSheet
) -> None:
    snapshot = sheet.read()
    assert list(snapshot.tables) == ["Handlinger", "Personer"]
    actions = snapshot.tables["Handlinger"]
    assert actions.header == tuple(HEADER)
    assert actions.rows[0] == (2, ("H-1", "Skriv referat", "Anna", dt.date(2027, 3, 10), "I gang"))
    assert [number for number, _ in actions.rows] == [2, 3, 4]
    assert snapshot.tables["Personer"].rows == ((2, ("Anna", "anna@example.dk")),)
    assert stats(emulator) == {"reads": 1, "writes": 0}


def test_numbers_times_and_date_times_keep_their_kind(
    emulator: Emulator, key_file: Path
) -> None:
    upload(emulator, workbook([
        ["H-1", 42, 2.5, dt.datetime(2027, 3, 10, 14, 30), dt.time(9, 15), True],
    ]))
    row = GoogleSheet(settings(emulator, key_file)).read().tables["Handlinger"].rows[0][1]
    assert row == ("H-1", 42, 2.5, dt.datetime(2027, 3, 10, 14, 30), dt.time(9, 15), True)


@pytest.mark.parametrize("text", [
    SHEET,
    f"https://docs.google.com/spreadsheets/d/{SHEET}/edit#gid=0",
    f"https://docs.google.com/spreadsheets/d/{SHEET}",
    f"  https://docs.google.com/spreadsheets/u/0/d/{SHEET}/edit?usp=sharing  ",
])
def test_the_id_is_taken_from_the_id_or_the_url(text: str) -> None:
    assert spreadsheet_id(text) == SHEET


@pytest.mark.parametrize("text", ["", "my sheet", "https://example.com/sheet"])
def test_a_value_that_is_neither_id_nor_url_is_refused(text: str) -> None:
    with pytest.raises(SheetError, match="neither a Google Sheet id nor its URL"):
        spreadsheet_id(text)


# -- writing ---------------------------------------------------------------------------


def test_write_is_raw_and_costs_one_read_and_one_write(
    emulator: Emulator, sheet: GoogleSheet
) -> None:
    snapshot = sheet.read()
    reset_stats(emulator)
    written = sheet.write([status_write(2, "H-1", "=1+1"),
                           status_write(3, "H-2", "FORSINKET (9 dage)")], snapshot.version)
    assert written == 2
    assert stats(emulator) == {"reads": 1, "writes": 1}
    cells = download(emulator)["Handlinger"]
    assert cells["F2"].value == "=1+1"  # text, not a formula
    assert cells["F3"].value == "FORSINKET (9 dage)"


def test_nothing_changed_means_no_write_call(emulator: Emulator, sheet: GoogleSheet) -> None:
    sheet.write([status_write(2, "H-1", "x")], "")
    reset_stats(emulator)
    assert sheet.write([], "") == 0
    assert stats(emulator) == {"reads": 0, "writes": 0}
    assert sheet.write([status_write(2, "H-1", "x")], "") == 0
    assert stats(emulator) == {"reads": 1, "writes": 0}


def test_a_missing_w_header_is_added_but_never_over_a_partners_header(
    emulator: Emulator, sheet: GoogleSheet
) -> None:
    sheet.read()
    writes = [CellWrite("Handlinger", 1, 7, "Sidste påmindelse"),
              CellWrite("Personer", 1, 2, "Bemærkning")]
    assert sheet.write(writes, "") == 1
    assert download(emulator)["Handlinger"]["G1"].value == "Sidste påmindelse"
    assert [str(s) for s in sheet.skipped] == [
        "Personer!B1: the header cell now holds 'E-mail'"]


@pytest.mark.parametrize("change, expected", [
    # two rows inserted above: H-1 is now on row 4, H-2 on row 5
    ({"insertDimension": {"range": {"dimension": "ROWS", "startIndex": 1, "endIndex": 3}}},
     {"F4": "A", "F5": "B", "F6": None}),
    # row 2 (H-1) deleted: H-2 moves up to row 2; H-1's status has nowhere to go
    ({"deleteDimension": {"range": {"dimension": "ROWS", "startIndex": 1, "endIndex": 2}}},
     {"F2": "B", "F3": None}),
    # sorted by due date, latest first: H-3, H-2, H-1
    ({"sortRange": {"range": {"startRowIndex": 1, "endRowIndex": 4},
                    "sortSpecs": [{"dimensionIndex": 3, "sortOrder": "DESCENDING"}]}},
     {"F2": None, "F3": "B", "F4": "A"}),
])
def test_statuses_follow_their_rows_by_id(
    emulator: Emulator, key_file: Path, sheet: GoogleSheet, change: dict[str, Any],
    expected: dict[str, str | None],
) -> None:
    sheet.read()
    kind = next(iter(change))
    target = change[kind]["range"]
    target["sheetId"] = sheet_id(emulator, "Handlinger")
    partner(emulator, key_file, [change])
    written = sheet.write([status_write(2, "H-1", "A"), status_write(3, "H-2", "B")], "")
    cells = download(emulator)["Handlinger"]
    assert {ref: cells[ref].value for ref in expected} == expected
    assert written == sum(v is not None for v in expected.values())
    if kind == "deleteDimension":
        assert [str(s) for s in sheet.skipped] == [
            "Handlinger!F2: no row has the ID 'H-1' any more"]


@pytest.mark.parametrize("inserted, doubled_at, written, skipped", [
    # H-1 is still on row 2 and now also on row 4: row 2 gets its cell
    (0, "A4", {"F2": "A", "F4": None}, []),
    # a row inserted above, then H-1 typed on row 6: row 2 no longer holds H-1, and
    # which of rows 3 and 6 was the row read cannot be told, so nothing is written
    (1, "A6", {"F2": None, "F3": None, "F6": None},
     ["Handlinger!F2: the ID 'H-1' is now on rows 3, 6"]),
])
def test_a_doubled_id_is_written_only_where_id_and_row_still_match(
    emulator: Emulator, key_file: Path, sheet: GoogleSheet, inserted: int, doubled_at: str,
    written: dict[str, str | None], skipped: list[str],
) -> None:
    sheet.read()
    if inserted:
        partner(emulator, key_file, [{"insertDimension": {"range": {
            "sheetId": sheet_id(emulator, "Handlinger"), "dimension": "ROWS",
            "startIndex": 1, "endIndex": 1 + inserted}}}])
    other = GoogleSheet(settings(emulator, key_file))
    other.api.values_batch_update({"valueInputOption": "RAW", "data": [
        {"range": f"'Handlinger'!{doubled_at}", "values": [[" h-1 "]]}]})
    count = sheet.write([status_write(2, "H-1", "A")], "")
    cells = download(emulator)["Handlinger"]
    assert {ref: cells[ref].value for ref in written} == written
    assert count == sum(v is not None for v in written.values())
    assert [str(s) for s in sheet.skipped] == skipped


def test_a_moved_column_means_read_again(
    emulator: Emulator, key_file: Path, sheet: GoogleSheet
) -> None:
    sheet.read()
    partner(emulator, key_file, [{"insertDimension": {"range": {
        "sheetId": sheet_id(emulator, "Handlinger"), "dimension": "COLUMNS",
        "startIndex": 0, "endIndex": 1}}}])
    with pytest.raises(StaleSheetError, match="column"):
        sheet.write([status_write(2, "H-1", "A")], "")


# -- failures --------------------------------------------------------------------------


# every status rygrad retries: dropping one from RETRY_STATUSES fails its case here
@pytest.mark.parametrize("status, count", [
    (408, 1), (429, 3), (500, 1), (502, 1), (503, 2), (504, 1),
])
def test_temporary_failures_are_retried(
    emulator: Emulator, key_file: Path, status: int, count: int
) -> None:
    upload(emulator, workbook(ACTIONS))
    sleeps = Sleeps()
    sheet = GoogleSheet(settings(emulator, key_file), sleep=sleeps)
    fault(emulator, status=status, count=count)
    assert "Handlinger" in sheet.read().tables
    assert len(sleeps) == count
    assert all(0 <= s <= 60 for s in sleeps)


# every broken answer rygrad retries, each reaching a different except clause of
# SheetsApi.call: dropping one of its classes fails its case here
BROKEN_ANSWERS = {
    # held past the client's timeout: requests.Timeout (ReadTimeout, no ConnectionError)
    "timeout": ({"delay": 3.0}, "ReadTimeout"),
    # the line closed without an answer: requests.ConnectionError
    "dropped": ({"drop": True}, "ConnectionError"),
    # a Content-Length longer than the body: requests' ChunkedEncodingError
    "cut short": ({"cut": True}, "ChunkedEncodingError"),
    # a whole answer of broken JSON: json.JSONDecodeError
    "truncated JSON": ({"truncate": True}, "JSONDecodeError"),
}


@pytest.mark.parametrize("name", list(BROKEN_ANSWERS))
def test_broken_answers_are_retried(
    emulator: Emulator, key_file: Path, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    spec, error = BROKEN_ANSWERS[name]
    upload(emulator, workbook(ACTIONS))
    sleeps = Sleeps()
    sheet = GoogleSheet(settings(emulator, key_file), sleep=sleeps, timeout=0.5)
    fault(emulator, count=1, **spec)
    with caplog.at_level(logging.INFO, logger="automation.sheets.google_api"):
        assert "Handlinger" in sheet.read().tables
    assert len(sleeps) == 1
    assert [r.getMessage().split(";")[0] for r in api_log(caplog)] == [
        f"spreadsheets.get: {error}"]


@pytest.mark.parametrize("name", list(BROKEN_ANSWERS))
def test_broken_answers_beyond_the_retries_give_up_in_one_sentence(
    emulator: Emulator, key_file: Path, name: str
) -> None:
    spec, error = BROKEN_ANSWERS[name]
    upload(emulator, workbook(ACTIONS))
    sleeps = Sleeps()
    sheet = GoogleSheet(settings(emulator, key_file), sleep=sleeps, timeout=0.5, retries=1)
    fault(emulator, count=2, **spec)
    with pytest.raises(SheetError) as caught:
        sheet.read()
    assert str(caught.value) == (
        f"cannot reach the Google Sheets API at {emulator.base_url} after 2 tries "
        f"({error}); the next cycle tries again")
    assert len(sleeps) == 1


def test_retry_after_is_honoured_and_a_long_wait_is_a_warning(
    emulator: Emulator, key_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    upload(emulator, workbook(ACTIONS))
    sleeps = Sleeps()
    fault(emulator, status=429, count=1, retry_after=7)
    with caplog.at_level(logging.INFO, logger="automation.sheets.google_api"):
        GoogleSheet(settings(emulator, key_file), sleep=sleeps).read()
    assert sleeps == [7.0]
    assert [(r.levelno, r.getMessage()) for r in api_log(caplog)] == [
        (logging.WARNING, "spreadsheets.get: Google Sheets answered 429; try 2 of 5 in 7.0 s")]


def test_a_short_wait_is_logged_as_info(
    emulator: Emulator, key_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    upload(emulator, workbook(ACTIONS))
    fault(emulator, status=503, count=1)
    with caplog.at_level(logging.INFO, logger="automation.sheets.google_api"):
        GoogleSheet(settings(emulator, key_file), sleep=Sleeps()).read()
    [record] = api_log(caplog)  # the first backoff is at most 1 s
    assert record.levelno == logging.INFO and "answered 503; try 2 of 5" in record.getMessage()


@pytest.mark.parametrize("retry_after, said", [
    (61, "61 seconds"), (3600, "60 minutes"), (86400, "24 hours"),
])
@pytest.mark.parametrize("status", [429, 503])
def test_a_retry_after_beyond_the_longest_wait_ends_the_cycle_at_once(
    emulator: Emulator, key_file: Path, status: int, retry_after: int, said: str
) -> None:
    upload(emulator, workbook(ACTIONS))
    sleeps = Sleeps()
    sheet = GoogleSheet(settings(emulator, key_file), sleep=sleeps)
    fault(emulator, status=status, count=1, retry_after=retry_after)
    with pytest.raises(SheetError) as caught:
        sheet.read()
    assert str(caught.value) == f"Google asks us to wait {said}; the next cycle tries again"
    assert sleeps == []  # not waited out in one-minute pieces, nor tried again
    assert stats(emulator)["reads"] == 0
    assert "Handlinger" in sheet.read().tables  # the next cycle


def test_a_retry_after_of_the_longest_wait_is_waited(
    emulator: Emulator, key_file: Path
) -> None:
    upload(emulator, workbook(ACTIONS))
    sleeps = Sleeps()
    fault(emulator, status=429, count=1, retry_after=60)
    GoogleSheet(settings(emulator, key_file), sleep=sleeps).read()
    assert sleeps == [60.0]


def test_quota_exhausted_beyond_the_retries(emulator: Emulator, key_file: Path) -> None:
    upload(emulator, workbook(ACTIONS))
    sleeps = Sleeps()
    sheet = GoogleSheet(settings(emulator, key_file), retries=2, sleep=sleeps)
    fault(emulator, status=429, count=5)
    with pytest.raises(SheetError, match="quota exhausted after 3 tries; the next cycle"):
        sheet.read()
    assert len(sleeps) == 2


def test_a_failing_write_is_left_for_the_next_cycle(
    emulator: Emulator, sheet: GoogleSheet
) -> None:
    sheet.read()
    fault(emulator, status=503, count=10)
    with pytest.raises(SheetLockedError, match="later cycle"):
        sheet.write([status_write(2, "H-1", "A")], "")


def test_a_sheet_not_shared_names_the_service_account(
    emulator: Emulator, key_file: Path, sheet: GoogleSheet
) -> None:
    requests.post(f"{emulator.base_url}/_emulator/share",
                  json={"spreadsheet": SHEET, "shared": False}, timeout=10)
    email = json.loads(key_file.read_text())["client_email"]
    with pytest.raises(SheetError) as caught:
        sheet.read()
    assert f"share the sheet with {email} as Editor" in str(caught.value)


def test_a_wrong_id_says_so(emulator: Emulator, key_file: Path) -> None:
    sheet = GoogleSheet(settings(emulator, key_file, "1NoSuchSheet0000000000000000000"))
    with pytest.raises(SheetError, match=r"no Google Sheet with id 1NoSuchSheet0+ — check"):
        sheet.read()


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("not json", "not a JSON file"),
    ('{"type": "authorized_user"}', "not a service account key"),
    ('{"type": "service_account", "client_email": "a@b.example", "private_key": "nope", '
     '"token_uri": "http://127.0.0.1:9/token"}', "damaged"),
])
def test_a_bad_key_file_is_named(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "key.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SheetError, match=message) as caught:
        GoogleSheet(SheetSettings(backend="google", spreadsheet=SHEET, credentials=path))
    assert str(path) in str(caught.value)


def test_no_key_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    with pytest.raises(SheetError, match=r"set sheet\.credentials"):
        GoogleSheet(SheetSettings(backend="google", spreadsheet=SHEET))


def test_the_key_may_come_from_the_environment(
    emulator: Emulator, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload(emulator, workbook(ACTIONS))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    sheet = GoogleSheet(SheetSettings(backend="google", spreadsheet=SHEET,
                                      api_base=emulator.base_url))
    assert "Personer" in sheet.read().tables


def test_an_unreachable_api_gives_up(key_file: Path) -> None:
    """Nothing listens at the API's origin (the token endpoint answers): requests'
    ConnectionError, retried, then one sentence."""
    sleeps = Sleeps()
    sheet = GoogleSheet(SheetSettings(backend="google", spreadsheet=SHEET, credentials=key_file,
                                      api_base="http://127.0.0.1:9"), retries=1, sleep=sleeps,
                        timeout=2)
    with pytest.raises(SheetError) as caught:
        sheet.read()
    assert str(caught.value) == ("cannot reach the Google Sheets API at http://127.0.0.1:9 "
                                 "after 2 tries (ConnectionError); the next cycle tries again")
    assert len(sleeps) == 1


def test_an_unreachable_token_endpoint_gives_up(emulator: Emulator, key_file: Path) -> None:
    """google-auth cannot fetch a token: its TransportError, retried, then one sentence."""
    key = json.loads(key_file.read_text())
    key_file.write_text(json.dumps({**key, "token_uri": "http://127.0.0.1:9/token"}))
    sleeps = Sleeps()
    sheet = GoogleSheet(settings(emulator, key_file), retries=1, sleep=sleeps, timeout=2)
    with pytest.raises(SheetError) as caught:
        sheet.read()
    assert str(caught.value) == (f"cannot reach the Google Sheets API at {emulator.base_url} "
                                 "after 2 tries (TransportError); the next cycle tries again")
    assert len(sleeps) == 1
