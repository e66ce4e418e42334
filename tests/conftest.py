"""Shared fixtures: the sheet backends every end-to-end test runs on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from automation.testing import start_emulator
from tests.backends import GoogleSheetOnEmulator, Sheet, XlsxSheet


@pytest.fixture(scope="session")
def sheets_emulator() -> Iterator[str]:
    """One Sheets API emulator for the session; each test gets its own spreadsheet."""
    with start_emulator() as emulator:
        yield emulator.base_url


@pytest.fixture(params=["xlsx", "google"])
def sheet(request: pytest.FixtureRequest, tmp_path) -> Sheet:  # type: ignore[no-untyped-def]
    if request.param == "xlsx":
        return XlsxSheet(tmp_path)
    return GoogleSheetOnEmulator(tmp_path, request.getfixturevalue("sheets_emulator"))
