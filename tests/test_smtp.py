"""The SMTP transport against a real aiosmtpd server on 127.0.0.1 (tests/smtpserver.py):
keep-alive and pacing, recipients and copies, and whole `rygrad run` cycles over SMTP
with the ledger and exit status each outcome leaves.

The session set-up is tested in test_smtp_connect.py, failures of one message in
test_smtp_faults.py. Pacing sleeps go to a recorded fake clock (tests/smtpkit.py).
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from automation.transports import TemporaryFailure
from tests.smtpkit import MESSAGE, PASSWORD, SENDER, USER, FakeTime, Serve, send, transport_for
from tests.smtpserver import Certificates, Fault, SmtpServer
from tests.workbook import GROUPS, PEOPLE, rygrad, write_config, write_workbook

# keep-alive and pacing


@pytest.mark.parametrize(("noop_fault", "connections"), [
    (None, 1),
    (Fault("NOOP", "421 4.4.2 Idle too long", close=True), 2),
])
def test_idle_session_is_checked_with_noop(serve: Serve, certificates: Certificates,
                                           fake_time: FakeTime, noop_fault: Fault | None,
                                           connections: int) -> None:
    server = serve("starttls", faults=[noop_fault] if noop_fault else [])
    transport = transport_for(server, certificates, fake_time)
    transport.open()
    send(transport)
    fake_time.now += 30
    send(transport)
    assert "NOOP" not in server.handler.commands
    fake_time.now += 61
    send(transport)
    transport.close()
    assert server.handler.commands.count("NOOP") == 1
    assert len(server.messages) == 3
    assert server.connections == connections
    assert fake_time.sleeps == []


def test_per_minute_paces_a_rolling_minute(serve: Serve, certificates: Certificates,
                                           fake_time: FakeTime) -> None:
    server = serve("starttls")
    transport = transport_for(server, certificates, fake_time, per_minute=3)
    transport.open()
    sent_at = []
    for number in range(7):
        send(transport, f"person{number}@partner.example")
        sent_at.append(fake_time.now - 1000.0)
        fake_time.now += 5
    transport.close()
    # 0, 5, 10 fill the minute; the 4th waits until 60, the 5th until 65 …
    assert sent_at == [0, 5, 10, 60, 65, 70, 120]
    assert len(server.messages) == 7


# recipients


def test_refused_copy_does_not_fail_the_message(serve: Serve, certificates: Certificates,
                                                fake_time: FakeTime,
                                                caplog: pytest.LogCaptureFixture) -> None:
    server = serve("starttls", faults=[Fault("RCPT", "550 5.1.1 no such user",
                                             address="leader@partner.example")])
    transport = transport_for(server, certificates, fake_time)
    transport.open()
    with caplog.at_level(logging.WARNING, logger="automation"):
        transport.send(MESSAGE, SENDER, ["anna@partner.example", "leader@partner.example"], "m")
    transport.close()
    assert [m.rcpt_tos for m in server.messages] == [("anna@partner.example",)]
    assert "the copy to leader@partner.example was refused: 550 5.1.1 no such user" \
        in caplog.text


def test_refused_recipient_with_a_delivered_copy_fails_without_retrying(
        serve: Serve, certificates: Certificates, fake_time: FakeTime) -> None:
    server = serve("starttls", faults=[Fault("RCPT", "451 4.7.1 try later",
                                             address="anna@partner.example", times=0)])
    transport = transport_for(server, certificates, fake_time)
    transport.open()
    with pytest.raises(TemporaryFailure, match=r"^451 4\.7\.1 try later$"):
        transport.send(MESSAGE, SENDER, ["anna@partner.example", "leader@partner.example"], "m")
    transport.close()
    # a retry now would send the leader a second copy
    assert [m.rcpt_tos for m in server.messages] == [("leader@partner.example",)]
    assert fake_time.sleeps == []


def test_non_ascii_address_goes_out_with_smtputf8(serve: Serve, certificates: Certificates,
                                                  fake_time: FakeTime) -> None:
    server = serve("starttls")
    transport = transport_for(server, certificates, fake_time)
    transport.open()
    send(transport, "søren@partner.example")
    transport.close()
    assert server.messages[0].rcpt_tos == ("søren@partner.example",)


# a whole cycle over SMTP: the ledger and exit status each outcome leaves


@pytest.fixture
def smtp_initiative(tmp_path: Path) -> Path:
    """AG Uddannelse meets on 4 December 2026: an invitation and an agenda per member."""
    tabs = {"Personer": PEOPLE, "Grupper": GROUPS, "Møder": [
        {"Møde-ID": "AGU-1", "Gruppe": "AG Uddannelse", "Dato": date(2026, 12, 4),
         "Start": "14.00", "Slut": "16:00", "Sted": "Rådhuset", "Dagsorden": "Velkomst"}],
        "Handlinger": [], "Indikatorer": []}
    return write_workbook(tmp_path / "initiative.xlsx", tabs)


def cycle_config(tmp_path: Path, workbook: Path, server: SmtpServer,
                 certificates: Certificates) -> Path:
    return write_config(tmp_path, workbook, mail={
        "transport": "smtp", "host": server.host, "port": server.port, "security": "starttls",
        "username": USER, "password_env": "RYGRAD_TEST_SMTP_PASSWORD",
        "ca_file": str(certificates.ca), "per_minute": 1000})


def test_cycle_over_smtp_one_session_and_a_refused_address(
        serve: Serve, certificates: Certificates, smtp_initiative: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    refusal = "550 5.1.1 <bo@ngo.example>: no such user"
    server = serve("starttls", faults=[Fault("RCPT", refusal, address="bo@ngo.example",
                                             times=0)])
    config = cycle_config(tmp_path, smtp_initiative, server, certificates)
    monkeypatch.setenv("RYGRAD_TEST_SMTP_PASSWORD", PASSWORD)
    run = rygrad(capsys, "run", "--once", "--config", str(config), "--now", "2026-12-02T09:00")
    assert run.status == 1, run.out + run.err  # a failed message: exit 1, not 2
    delivered = {(m.rcpt_tos[0], m.data.split(b"X-Rygrad-Key: ")[1].split(b"\r\n")[0].decode())
                 for m in server.messages}
    others = ("anne@kommune.example", "clara@partner.example")
    assert {("anne@kommune.example", "invitation:AGU-1:0"),
            ("clara@partner.example", "agenda:AGU-1")} <= delivered
    assert {address for address, _ in delivered} == {*others,
                                                    "sekretariat@ungeloeftet.example"}
    assert server.connections == 1
    status = rygrad(capsys, "status", "--config", str(config))
    assert f"failed: invitation:AGU-1:0 → bo@ngo.example: {refusal}" in status.out
    assert f"failed: agenda:AGU-1 → bo@ngo.example: {refusal}" in status.out
    again = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                   "2026-12-02T09:15")
    # a refused address is not tried again by itself, and with nothing due no session opens
    assert "0 due" in again.out
    assert server.connections == 1


def test_cycle_with_a_wrong_password_stops_and_sends_nothing(
        serve: Serve, certificates: Certificates, smtp_initiative: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    server = serve("starttls")
    config = cycle_config(tmp_path, smtp_initiative, server, certificates)
    monkeypatch.setenv("RYGRAD_TEST_SMTP_PASSWORD", "forkert-kodeord")
    run = rygrad(capsys, "run", "--once", "--config", str(config), "--now", "2026-12-02T09:00")
    assert run.status == 2
    assert f"127.0.0.1:{server.port} refused the login of {USER}" in run.err
    assert "forkert-kodeord" not in run.out + run.err
    assert server.messages == []
    status = rygrad(capsys, "status", "--config", str(config))
    assert " 0 sent" in status.out and "UNCERTAIN" not in status.out


def delivered_keys(server: SmtpServer) -> list[tuple[str, str]]:
    """(X-Rygrad-Key, recipient) of every message that arrived, in order."""
    return [(m.data.split(b"X-Rygrad-Key: ")[1].split(b"\r\n")[0].decode(), m.rcpt_tos[0])
            for m in server.messages]


def test_cycle_with_a_reply_lost_after_the_content_leaves_it_uncertain_until_asked(
        serve: Serve, certificates: Certificates, smtp_initiative: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    server = serve("starttls", faults=[Fault("DATA", close=True, accept=True)])
    config = cycle_config(tmp_path, smtp_initiative, server, certificates)
    monkeypatch.setenv("RYGRAD_TEST_SMTP_PASSWORD", PASSWORD)
    run = rygrad(capsys, "run", "--once", "--config", str(config), "--now", "2026-12-02T09:00")
    assert run.status == 1, run.out + run.err
    first, *rest = delivered_keys(server)
    key, recipient = first
    assert f"uncertain (connection lost before the server answered): {key} → {recipient}: " \
           f"127.0.0.1:{server.port}: connection lost" in run.out
    # every message arrived exactly once; the one after the loss went over a new session
    assert len(set(delivered_keys(server))) == len(server.messages) == 7
    assert [m.connection for m in server.messages] == [1] + [2] * len(rest)
    status = rygrad(capsys, "status", "--config", str(config))
    assert f"UNCERTAIN: {key} → {recipient}: 127.0.0.1:{server.port}: connection lost" \
        in status.out  # with the reason
    assert "--resend-uncertain" in status.out

    later = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                   "2026-12-02T09:15")
    assert later.status == 1  # still uncertain, still not sent again by itself
    assert len(server.messages) == 7 and server.connections == 2

    resend = rygrad(capsys, "run", "--once", "--resend-uncertain", "--config", str(config),
                    "--now", "2026-12-02T09:30")
    assert resend.status == 0, resend.out + resend.err
    assert "1 uncertain message resent" in resend.out
    # the explicit resend is the one extra copy, over the cycle's one session
    assert delivered_keys(server)[7:] == [first]
    assert server.messages[7].connection == 3
    after = rygrad(capsys, "status", "--config", str(config))
    assert "UNCERTAIN" not in after.out
