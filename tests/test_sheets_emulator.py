"""The Sheets API emulator: the real gspread + google-auth client over HTTP against it
(tokens, stats, faults, sharing). Its fidelity to Google's recorded answers is
tests/test_cassettes.py."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from typing import Any

import gspread
import openpyxl
import pytest
import requests
from google.auth import crypt, jwt

from tests.emulators import start_emulator
from tests.emulators.sheets_a1 import Box, a1, parse_range, quote_title
from tests.emulators.sheets_cells import formatted, user_entered
from tests.emulators.sheets_emulator import Emulator

GOOGLE_ORIGINS = ("https://sheets.googleapis.com", "https://www.googleapis.com")
SHEET_ID = "1RygradEmulatorTestSheet000000000000000000"


class OriginAdapter(requests.adapters.HTTPAdapter):
    """Send requests for Google's API origins to the emulator instead."""

    def __init__(self, base: str):
        super().__init__()
        self.base = base.rstrip("/")

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        for origin in GOOGLE_ORIGINS:
            if request.url and request.url.startswith(origin):
                request.url = self.base + request.url[len(origin) :]
        return super().send(request, **kwargs)


# -- the real gspread client (fidelity to the recordings: tests/test_cassettes.py) ---------


@pytest.fixture
def emulator() -> Any:
    with start_emulator() as running:
        yield running


@pytest.fixture
def key(emulator: Emulator) -> dict[str, Any]:
    return requests.get(f"{emulator.base_url}/_emulator/service-account.json", timeout=10).json()


@pytest.fixture
def client(emulator: Emulator, key: dict[str, Any]) -> gspread.Client:
    gc = gspread.service_account_from_dict(key)
    for origin in GOOGLE_ORIGINS:
        gc.http_client.session.mount(origin + "/", OriginAdapter(emulator.base_url))
    gc.http_client.set_timeout(10)
    return gc


def _workbook() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Handlinger"
    ws.append(["ID", "Titel", "Frist", "Antal"])
    ws.append(["H-1", "Skriv referat", dt.date(2027, 3, 10), 3])
    ws.append(["H-2", "Book lokale", dt.date(2027, 3, 15), 1.5])
    wb.create_sheet("Personer").append(["Navn", "E-mail"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture
def uploaded(emulator: Emulator) -> str:
    r = requests.put(
        f"{emulator.base_url}/_emulator/spreadsheets/{SHEET_ID}", data=_workbook(), timeout=10
    )
    assert r.status_code == 200
    return SHEET_ID


def _stats(emulator: Emulator) -> dict[str, int]:
    return requests.get(f"{emulator.base_url}/_emulator/stats", timeout=10).json()


def _post(emulator: Emulator, path: str, body: dict[str, Any]) -> None:
    r = requests.post(f"{emulator.base_url}/_emulator/{path}", json=body, timeout=10)
    assert r.status_code == 200


def test_uploaded_workbook_reads_back_unformatted_with_serial_dates(
    client: gspread.Client, uploaded: str
) -> None:
    sheet = client.open_by_key(uploaded)
    assert [ws.title for ws in sheet.worksheets()] == ["Handlinger", "Personer"]
    got = sheet.values_batch_get(
        ["Handlinger", "Personer"],
        params={"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"},
    )
    first, second = got["valueRanges"]
    assert first["range"] == "Handlinger!A1:Z1000"
    assert first["values"] == [
        ["ID", "Titel", "Frist", "Antal"],
        ["H-1", "Skriv referat", 46456, 3],
        ["H-2", "Book lokale", 46461, 1.5],
    ]
    assert second["values"] == [["Navn", "E-mail"]]
    shown = sheet.values_get("Handlinger!C2:D3")
    assert shown["values"] == [["2027-03-10", "3"], ["2027-03-15", "1.5"]]


def test_raw_batch_update_stores_text_and_exports_dates_as_dates(
    emulator: Emulator, client: gspread.Client, uploaded: str
) -> None:
    sheet = client.open_by_key(uploaded)
    result = sheet.values_batch_update(
        {
            "valueInputOption": "RAW",
            "data": [
                {"range": "Handlinger!E1:E2", "values": [["Status"], ["=1+1"]]},
                {"range": "Handlinger!E3", "values": [["Sendt"]]},
            ],
        }
    )
    assert result["totalUpdatedCells"] == 3
    assert result["responses"][0]["updatedRange"] == "Handlinger!E1:E2"
    got = sheet.values_get("Handlinger!E2", params={"valueRenderOption": "FORMULA"})
    assert got["values"] == [["=1+1"]]
    xlsx = requests.get(f"{emulator.base_url}/_emulator/spreadsheets/{uploaded}.xlsx", timeout=10)
    ws = openpyxl.load_workbook(io.BytesIO(xlsx.content))["Handlinger"]
    assert ws["E2"].value == "=1+1" and ws["E2"].data_type == "s"
    assert ws["C2"].value == dt.datetime(2027, 3, 10)


def test_stats_count_requests_as_google_quota_does(
    emulator: Emulator, client: gspread.Client, uploaded: str
) -> None:
    sheet = client.open_by_key(uploaded)  # spreadsheets.get: one read
    sheet.values_batch_get(["Handlinger", "Personer"])  # one batch: one read
    sheet.values_batch_update(
        {
            "valueInputOption": "RAW",
            "data": [
                {"range": "Handlinger!E1", "values": [["x"]]},
                {"range": "Personer!C1", "values": [["y"]]},
            ],
        }
    )  # one batch: one write
    assert _stats(emulator) == {"reads": 2, "writes": 1}
    _post(emulator, "stats/reset", {})
    assert _stats(emulator) == {"reads": 0, "writes": 0}


def test_three_429_faults_then_success(
    emulator: Emulator, client: gspread.Client, uploaded: str
) -> None:
    sheet = client.open_by_key(uploaded)
    _post(emulator, "faults", {"status": 429, "count": 3})
    for _ in range(3):
        with pytest.raises(gspread.exceptions.APIError) as failed:
            sheet.values_get("Handlinger!A1")
        assert failed.value.response.status_code == 429
        assert failed.value.error["status"] == "RESOURCE_EXHAUSTED"
        assert "Quota exceeded" in failed.value.error["message"]
    assert sheet.values_get("Handlinger!A1")["values"] == [["ID"]]


def test_unshared_spreadsheet_is_forbidden(
    emulator: Emulator, client: gspread.Client, uploaded: str
) -> None:
    _post(emulator, "share", {"spreadsheet": uploaded, "shared": False})
    with pytest.raises(PermissionError):
        client.open_by_key(uploaded)
    r = requests.get(
        f"{emulator.base_url}/v4/spreadsheets/{uploaded}",
        headers={"Authorization": f"Bearer {client.http_client.auth.token}"},
        timeout=10,
    )
    assert r.status_code == 403
    assert r.json() == {
        "error": {
            "code": 403,
            "message": "The caller does not have permission",
            "status": "PERMISSION_DENIED",
        }
    }


def test_delay_fault_trips_the_client_timeout(
    emulator: Emulator, client: gspread.Client, uploaded: str
) -> None:
    sheet = client.open_by_key(uploaded)
    client.http_client.set_timeout(0.3)
    _post(emulator, "faults", {"delay": 5, "count": 1})
    with pytest.raises(requests.exceptions.Timeout):
        sheet.values_get("Handlinger!A1")


def test_truncate_fault_sends_half_a_json_body(
    emulator: Emulator, key: dict[str, Any], uploaded: str
) -> None:
    token = _token(emulator, key)
    _post(emulator, "faults", {"truncate": True, "count": 1})
    url = f"{emulator.base_url}/v4/spreadsheets/{uploaded}/values/Handlinger!A1"
    r = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    with pytest.raises(ValueError):
        r.json()
    r = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.json()["values"] == [["ID"]]


def _assertion(key: dict[str, Any], signer: crypt.Signer) -> bytes:
    now = int(time.time())
    claims = {
        "iss": key["client_email"],
        "aud": key["token_uri"],
        "iat": now,
        "exp": now + 600,
        "scope": "https://www.googleapis.com/auth/spreadsheets",
    }
    return jwt.encode(signer, claims)


def _token(emulator: Emulator, key: dict[str, Any]) -> str:
    signer = crypt.RSASigner.from_service_account_info(key)
    r = requests.post(
        key["token_uri"],
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": _assertion(key, signer),
        },
        timeout=10,
    )
    assert r.status_code == 200
    assert r.json()["token_type"] == "Bearer"
    return str(r.json()["access_token"])


def test_token_endpoint_rejects_a_jwt_signed_by_another_key(
    emulator: Emulator, key: dict[str, Any]
) -> None:
    stranger = requests.get(f"{emulator.base_url}/_emulator/service-account.json", timeout=10)
    forged_key = dict(key, private_key=stranger.json()["private_key"])
    signer = crypt.RSASigner.from_service_account_info(forged_key)
    r = requests.post(
        key["token_uri"],
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": _assertion(key, signer),
        },
        timeout=10,
    )
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}


@pytest.mark.parametrize("authorization", [None, "Bearer replay", "Bearer ya29.made-up"])
def test_api_refuses_requests_without_an_issued_token(
    emulator: Emulator, uploaded: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    r = requests.get(f"{emulator.base_url}/v4/spreadsheets/{uploaded}", headers=headers, timeout=10)
    assert r.status_code == 401
    assert r.json()["error"]["status"] == "UNAUTHENTICATED"


def test_batch_update_is_all_or_nothing(client: gspread.Client, uploaded: str) -> None:
    sheet = client.open_by_key(uploaded)
    with pytest.raises(gspread.exceptions.APIError) as failed:
        sheet.batch_update(
            {
                "requests": [
                    {"addSheet": {"properties": {"title": "Ny"}}},
                    {"deleteSheet": {"sheetId": 12345}},
                ]
            }
        )
    message = "Invalid requests[1].deleteSheet: No grid with id: 12345"
    assert failed.value.error["message"] == message
    assert [ws.title for ws in sheet.worksheets()] == ["Handlinger", "Personer"]


def test_writing_past_the_grid_is_googles_400(client: gspread.Client, uploaded: str) -> None:
    sheet = client.open_by_key(uploaded)
    with pytest.raises(gspread.exceptions.APIError) as failed:
        sheet.values_update(
            "Handlinger!A1001", params={"valueInputOption": "RAW"}, body={"values": [["x"]]}
        )
    assert failed.value.error["message"] == (
        "Range (Handlinger!A1001) exceeds grid limits. Max rows: 1000, max columns: 26"
    )


def test_sort_and_row_moves_keep_rows_whole(client: gspread.Client, uploaded: str) -> None:
    sheet = client.open_by_key(uploaded)
    ws = sheet.worksheet("Handlinger")
    ws.sort((4, "asc"), range="A2:D3")
    ws.insert_row(["H-0", "Ny"], index=2, value_input_option="RAW")
    ws.delete_rows(4)
    assert ws.get_values("A1:B3") == [["ID", "Titel"], ["H-0", "Ny"], ["H-2", "Book lokale"]]


# -- A1 ranges and typed input ------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("Sheet1", "Sheet1"),
        ("Handlinger", "Handlinger"),
        ("My Sheet", "'My Sheet'"),
        ("D3", "'D3'"),
        ("Møder", "'Møder'"),
        ("It's", "'It''s'"),
        ("R1C1", "'R1C1'"),
    ],
)
def test_titles_are_quoted_only_when_needed(title: str, shown: str) -> None:
    assert quote_title(title) == shown


@pytest.mark.parametrize(
    ("text", "box"),
    [
        ("'My Sheet'!A1:B2", (0, 2, 0, 2)),
        ("Sheet1!B2:A1", (0, 2, 0, 2)),
        ("Sheet1!A:A", (None, None, 0, 1)),
        ("Sheet1!3:4", (2, 4, None, None)),
        ("Sheet1!A2:C", (1, None, 0, 3)),
        ("Sheet1", (None, None, None, None)),
    ],
)
def test_ranges_parse(text: str, box: tuple[int | None, ...]) -> None:
    span = parse_range(text, {"Sheet1", "My Sheet"})
    assert (span.row0, span.row1, span.col0, span.col1) == box


def test_canonical_range_drops_the_colon_of_a_single_cell() -> None:
    assert a1("My Sheet", Box(0, 1, 0, 1)) == "'My Sheet'!A1"
    assert a1("Sheet1", Box(0, 1000, 0, 26)) == "Sheet1!A1:Z1000"


@pytest.mark.parametrize(
    ("typed", "value", "shown"),
    [
        ("2020-01-01", 43831, "2020-01-01"),
        ("1/2/2020", 43832, "1/2/2020"),
        ("12%", 0.12, "12%"),
        ("2,000,000.01", 2000000.01, "2,000,000.01"),
        ("0042", 42, "42"),
        ("TRUE", True, "TRUE"),
        ("= 1 / 1024", 0.0009765625, "0.0009765625"),
        ("=4/2", 2, "2"),
        ("'=1+1", "=1+1", "=1+1"),
        ("tekst", "tekst", "tekst"),
    ],
)
def test_user_entered_values(typed: str, value: Any, shown: str) -> None:
    cell = user_entered(typed, lambda row, col: None)
    assert cell is not None
    assert cell.value == value
    assert formatted(cell) == shown


def test_service_account_key_is_a_google_key_file(emulator: Emulator, key: dict[str, Any]) -> None:
    assert key["type"] == "service_account"
    assert key["client_email"] == "rygrad@emulator.iam.gserviceaccount.com"
    assert key["token_uri"] == f"{emulator.base_url}/token"
    assert key["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    json.dumps(key)
