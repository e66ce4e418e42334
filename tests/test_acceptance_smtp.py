"""Acceptance over SMTP: the CLI on a real workbook for a week, delivered to a real server.

STARTTLS with a certificate from a CA the test makes (trusted through `ca_file`),
AUTH with the password from `password_env`, and partners editing the workbook
between cycles: the meeting moves, an action is done, the meeting is cancelled.
Every mail must arrive exactly once, over exactly one connection per cycle that
sends mail, and none for a cycle with nothing due.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from icalendar import Calendar

from tests.smtpserver import Certificates, Received, SmtpServer, make_certificates
from tests.test_cli import small_initiative
from tests.workbook import rygrad, write_config, write_workbook

USER = "sekretariat@ungeloeftet.example"
PASSWORD = "Rødgrød-med-fløde-42"
SECRETARIAT = "sekretariat@ungeloeftet.example"
AGU = ["anne@kommune.example", "bo@ngo.example", "clara@partner.example"]


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path / "certs")


@pytest.fixture
def server(certificates: Certificates) -> Iterator[SmtpServer]:
    with SmtpServer("starttls", certificates, users={USER: PASSWORD}) as started:
        yield started


@pytest.fixture
def setup(tmp_path: Path, server: SmtpServer, certificates: Certificates,
          monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """tests/test_cli.py's small initiative, and a config for the server."""
    tabs = small_initiative()
    workbook = write_workbook(tmp_path / "initiative.xlsx", tabs)
    config = write_config(tmp_path, workbook, mail={
        "transport": "smtp", "host": server.host, "port": server.port,
        "security": "starttls", "username": USER,
        "password_env": "RYGRAD_ACCEPTANCE_SMTP_PASSWORD",
        "ca_file": str(certificates.ca), "per_minute": 1000})
    monkeypatch.setenv("RYGRAD_ACCEPTANCE_SMTP_PASSWORD", PASSWORD)
    return workbook, config


def partner_edits(workbook: Path, tab: str, row_id: str, **values: Any) -> None:
    """What a partner does in Excel: change P cells of the row with this ID."""
    book = openpyxl.load_workbook(workbook)
    sheet = book[tab]
    header = [cell.value for cell in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == row_id)
    for column, value in values.items():
        row[header.index(column)].value = value
    book.save(workbook)


def key_and_recipient(received: Received) -> tuple[str, str]:
    mail = email.message_from_bytes(received.data, policy=email.policy.default)
    return str(mail["X-Rygrad-Key"]), received.rcpt_tos[0]


def calendar_in(received: Received) -> Calendar:
    mail = email.message_from_bytes(received.data, policy=email.policy.default)
    part = next(p for p in mail.walk() if p.get_content_type() == "text/calendar")
    return Calendar.from_ical(part.get_payload(decode=True))


class Week:
    """Runs cycles and checks each one's delivery against its summary line."""

    def __init__(self, server: SmtpServer, config: Path, capsys: Any) -> None:
        self.server, self.config, self.capsys = server, config, capsys

    def cycle(self, now: str) -> set[tuple[str, str]]:
        before_messages = len(self.server.messages)
        before_connections = self.server.connections
        run = rygrad(self.capsys, "run", "--once", "--config", str(self.config), "--now", now)
        assert run.status == 0, run.out + run.err
        new = self.server.messages[before_messages:]
        sent = int(re.search(r"(\d+) sent via", run.out)[1])  # type: ignore[index]
        assert len(new) == sent, run.out
        # one session for a cycle that sends, none for a cycle with nothing to send
        assert self.server.connections - before_connections == (1 if sent else 0)
        assert {m.connection for m in new} <= {self.server.connections}
        return {key_and_recipient(m) for m in new}


def test_a_week_over_smtp_every_mail_exactly_once(
        setup: tuple[Path, Path], server: SmtpServer, capsys: pytest.CaptureFixture[str]) -> None:
    workbook, config = setup
    week = Week(server, config, capsys)

    # Wednesday: everything due goes out in one session
    first = week.cycle("2026-12-02T09:00")
    expected = {("invitation:AGU-1:0", r) for r in AGU}
    expected |= {("agenda:AGU-1", r) for r in AGU}
    expected |= {("followup:SG-1", r) for r in ("anne@kommune.example", "dorte@fond.example")}
    expected |= {("reminder:H-1:2026-12-04", "bo@ngo.example"),
                 ("overdue:H-2:2026-11-20:1", "clara@partner.example"),
                 ("indicator:I-1:2026-12-01:1", "anne@kommune.example"),
                 ("digest:2026-W49", SECRETARIAT)}
    assert first == expected
    assert server.logins == [("PLAIN", USER, True)]

    # a quarter of an hour later nothing is due: no connection at all
    assert week.cycle("2026-12-02T09:15") == set()

    # the meeting moves to Monday at 15.00, and Clara's action is done
    partner_edits(workbook, "Møder", "AGU-1", Dato=datetime(2026, 12, 7), Start="15.00",
                  Slut="17.00")
    partner_edits(workbook, "Handlinger", "H-2", Status="Færdig")
    moved = week.cycle("2026-12-03T09:00")
    assert moved == {("invitation:AGU-1:1", r) for r in AGU}
    update = next(m for m in server.messages if key_and_recipient(m)[0] == "invitation:AGU-1:1")
    event = calendar_in(update).walk("VEVENT")[0]
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART").replace(tzinfo=None) == datetime(2026, 12, 7, 15, 0)

    # the meeting is cancelled
    partner_edits(workbook, "Møder", "AGU-1", Aflyst="ja")
    cancelled = week.cycle("2026-12-04T09:00")
    assert cancelled == {("cancel:AGU-1", r) for r in AGU}
    cancel = next(m for m in server.messages if key_and_recipient(m)[0] == "cancel:AGU-1")
    calendar = calendar_in(cancel)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert calendar.walk("VEVENT")[0]["SEQUENCE"] == 2
    assert week.cycle("2026-12-04T12:00") == set()

    # next Wednesday: Bo's action is overdue, the indicator is asked for again, a
    # new week's digest; nothing about the done action or the cancelled meeting
    later = week.cycle("2026-12-09T09:00")
    assert {("overdue:H-1:2026-12-04:1", "bo@ngo.example"),
            ("indicator:I-1:2026-12-01:2", "anne@kommune.example"),
            ("digest:2026-W50", SECRETARIAT)} <= later
    assert not {key for key, _ in later if key.startswith(("overdue:H-2", "invitation:AGU-1",
                                                           "cancel:AGU-1", "agenda:AGU-1"))}

    # over the whole week: every mail arrived exactly once, and the ledger agrees
    delivered = Counter(key_and_recipient(m) for m in server.messages)
    assert max(delivered.values()) == 1
    assert all(m.mail_from == SECRETARIAT for m in server.messages)
    status = rygrad(capsys, "status", "--config", str(config))
    assert f"{len(delivered)} sent, 0 failed, 0 retry, 0 sending" in status.out
    assert server.connections == 4
    assert len(server.logins) == 4
