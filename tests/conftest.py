"""Shared fixtures: the sheet backends every end-to-end test runs on, and the test SMTP
servers and fake clock of the three test_smtp*.py files (their helpers: smtpkit.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.backends import GoogleSheetOnEmulator, Sheet, XlsxSheet
from tests.emulators import start_emulator
from tests.imapserver import (  # noqa: F401
    imap_certificates,
    imap_google,
    imap_identity,
    imap_server,
)
from tests.smtpkit import PASSWORD, USER, FakeTime, Serve
from tests.smtpserver import Certificates, SmtpServer, make_certificates


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


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def serve(certificates: Certificates) -> Iterator[Serve]:
    """Start a STARTTLS + AUTH server (unless told otherwise); stopped after the test."""
    servers: list[SmtpServer] = []

    def start(security: str = "starttls", **kwargs: Any) -> SmtpServer:
        users = kwargs.pop("users", {USER: PASSWORD} if security != "none" else None)
        server = SmtpServer(security, certificates, users=users, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
