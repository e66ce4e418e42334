"""The SMTP transport against a real aiosmtpd server on 127.0.0.1 (tests/smtpserver.py).

Backoff and pacing sleeps go to a recorded fake clock; the only real waiting is the
stall test's 0.3 s socket timeout.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from automation.config import MailSettings
from automation.errors import ConfigError, DeliveryError
from automation.transports import PermanentFailure, TemporaryFailure, UncertainDelivery
from automation.transports.smtp import SmtpTransport
from automation.transports.smtp_connect import smtp_password
from tests.smtpserver import Certificates, Fault, SmtpServer, mail_settings, make_certificates
from tests.workbook import GROUPS, PEOPLE, rygrad, write_config, write_workbook

USER = "sekretariat@rygrad.example"
PASSWORD = "Bl\u00e5b\u00e6r-gr\u00f8d-7291"  # non-ASCII on purpose: Blåbær-grød
SENDER = "sekretariat@rygrad.example"
MESSAGE = b"Subject: M\xc3\xb8de\nFrom: sekretariat@rygrad.example\n\nHej.\n.punktum\n"


class FakeTime:
    """A monotonic clock that moves only when the transport sleeps or a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


Serve = Callable[..., SmtpServer]


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


def settings_for(server: SmtpServer, certificates: Certificates,
                 **overrides: Any) -> MailSettings:
    if server.security != "none":
        overrides = {"username": USER, "ca_file": certificates.ca, **overrides}
    return mail_settings(server, **overrides)


def transport_for(server: SmtpServer, certificates: Certificates, fake_time: FakeTime,
                  password: str | None = PASSWORD, **overrides: Any) -> SmtpTransport:
    settings = settings_for(server, certificates, **overrides)
    if settings.security == "none" and not settings.username:
        password = None
    return SmtpTransport(settings, password, sleep=fake_time.sleep, clock=fake_time.monotonic)


def send(transport: SmtpTransport, to: str = "anna@partner.example", name: str = "m") -> None:
    transport.send(MESSAGE, SENDER, [to], name)


# sessions: TLS, login, one connection


@pytest.mark.parametrize(("security", "auth_exclude", "mechanism"), [
    ("starttls", (), "PLAIN"),
    ("starttls", ("PLAIN",), "LOGIN"),
    ("ssl", (), "PLAIN"),
    ("ssl", ("PLAIN",), "LOGIN"),
])
def test_logs_in_over_tls_and_delivers(serve: Serve, certificates: Certificates,
                                       fake_time: FakeTime, security: str,
                                       auth_exclude: tuple[str, ...], mechanism: str) -> None:
    server = serve(security, auth_exclude=auth_exclude)
    transport = transport_for(server, certificates, fake_time)
    transport.open()
    send(transport)
    transport.close()
    assert server.logins == [(mechanism, USER, True)]
    [received] = server.messages
    assert received.mail_from == SENDER
    assert received.rcpt_tos == ("anna@partner.example",)
    # bare LF became CRLF on the wire, and the line starting with a dot survived
    assert received.data == MESSAGE.replace(b"\n", b"\r\n")


def test_plain_relay_without_login(serve: Serve, certificates: Certificates,
                                   fake_time: FakeTime) -> None:
    server = serve("none")
    transport = transport_for(server, certificates, fake_time)
    transport.open()
    send(transport)
    transport.close()
    assert len(server.messages) == 1
    assert server.logins == []


def test_hundred_messages_over_exactly_one_connection(serve: Serve, certificates: Certificates,
                                                      fake_time: FakeTime) -> None:
    server = serve("starttls")
    transport = transport_for(server, certificates, fake_time, helo="rygrad.example")
    transport.open()
    for number in range(100):
        send(transport, f"person{number}@partner.example", f"invite:{number}")
    transport.close()
    assert server.connections == 1
    assert len(server.logins) == 1
    assert [m.rcpt_tos[0] for m in server.messages] == [
        f"person{n}@partner.example" for n in range(100)]
    assert {m.connection for m in server.messages} == {1}
    assert fake_time.sleeps == []


# refused before any mail: the cycle stops with one sentence naming host:port


def test_wrong_password_stops_naming_host_and_port(serve: Serve, certificates: Certificates,
                                                   fake_time: FakeTime) -> None:
    server = serve("starttls")
    transport = transport_for(server, certificates, fake_time, password="forkert-kodeord")
    with pytest.raises(DeliveryError) as caught:
        transport.open()
    message = str(caught.value)
    assert message.startswith(f"127.0.0.1:{server.port} refused the login of {USER} (535")
    assert "check mail.username and the password" in message
    assert "forkert-kodeord" not in message
    assert caught.value.__cause__ is None and caught.value.__context__ is not None
    assert server.logins and all(not accepted for _, _, accepted in server.logins)
    assert server.messages == []


@pytest.mark.parametrize(("security", "rogue", "trust_ca"), [
    ("starttls", True, True),  # a certificate the company CA did not sign
    ("starttls", False, False),  # the CA is not in mail.ca_file nor in the system store
    ("ssl", True, True),
])
def test_untrusted_certificate_stops(serve: Serve, certificates: Certificates,
                                     fake_time: FakeTime, security: str, rogue: bool,
                                     trust_ca: bool) -> None:
    server = serve(security, rogue=rogue)
    overrides = {} if trust_ca else {"ca_file": None}
    transport = transport_for(server, certificates, fake_time, **overrides)
    with pytest.raises(DeliveryError, match=rf"^127\.0\.0\.1:{server.port}: the server's "
                                            r"certificate is not trusted \(.+\); check"):
        transport.open()
    assert server.logins == []


def test_tls_to_a_plain_port_stops(serve: Serve, certificates: Certificates,
                                   fake_time: FakeTime) -> None:
    server = serve("starttls")
    transport = transport_for(server, certificates, fake_time, security="ssl")
    with pytest.raises(DeliveryError, match=rf"^127\.0\.0\.1:{server.port}: the TLS handshake "
                                            r"failed .*check mail.security and mail.port"):
        transport.open()


def test_server_without_starttls_stops(serve: Serve, certificates: Certificates,
                                       fake_time: FakeTime) -> None:
    server = serve("none")
    settings = mail_settings(server, security="starttls", ca_file=certificates.ca)
    transport = SmtpTransport(settings, None, sleep=fake_time.sleep, clock=fake_time.monotonic)
    with pytest.raises(DeliveryError, match=rf"^127\.0\.0\.1:{server.port} does not offer "
                                            r"STARTTLS"):
        transport.open()


def test_nothing_listening_stops(fake_time: FakeTime) -> None:
    with socket.socket() as bound:  # bound but not listening: the port refuses
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        settings = MailSettings(transport="smtp", host="127.0.0.1", port=port,
                                security="none", timeout=2)
        with pytest.raises(DeliveryError, match=rf"^127\.0\.0\.1:{port}: cannot connect "
                                                r"\(Connection refused\); check mail.host"):
            SmtpTransport(settings, None, sleep=fake_time.sleep).open()


def test_unknown_host_stops(fake_time: FakeTime) -> None:
    settings = MailSettings(transport="smtp", host="smtp.nowhere.invalid", port=587, timeout=2)
    with pytest.raises(DeliveryError, match=r"^smtp\.nowhere\.invalid:587: the host name cannot "
                                            r"be resolved; check mail.host$"):
        SmtpTransport(settings, None, sleep=fake_time.sleep).open()


def test_unreadable_ca_file_is_a_config_error(serve: Serve, certificates: Certificates,
                                              fake_time: FakeTime, tmp_path: Path) -> None:
    server = serve("starttls")
    (tmp_path / "ca.pem").write_text("not a certificate")
    transport = transport_for(server, certificates, fake_time, ca_file=tmp_path / "ca.pem")
    with pytest.raises(ConfigError, match=r"^mail.ca_file: cannot load .*ca\.pem"):
        transport.open()


@pytest.mark.parametrize(("overrides", "password", "expected"), [
    ({"security": "none", "username": USER}, PASSWORD, 'mail.security: "none" would send'),
    ({"security": "none"}, PASSWORD, 'mail.security: "none" would send'),
    ({"security": "starttls", "username": USER}, None, "mail.username is set but no password"),
])
def test_refuses_settings_that_would_leak_or_fail_the_login(
        overrides: dict[str, Any], password: str | None, expected: str) -> None:
    settings = MailSettings(transport="smtp", host="127.0.0.1", port=25, **overrides)
    with pytest.raises(ConfigError, match=f"^{expected}") as caught:
        SmtpTransport(settings, password)
    assert PASSWORD not in str(caught.value)


# one message: temporary and permanent failures


def test_421_mid_cycle_reconnects_and_goes_on(serve: Serve, certificates: Certificates,
                                              fake_time: FakeTime) -> None:
    server = serve("starttls", faults=[Fault("MAIL", "421 4.3.2 Service shutting down",
                                             close=True, skip=5)])
    transport = transport_for(server, certificates, fake_time)
    transport.open()
    for number in range(10):
        send(transport, f"person{number}@partner.example")
    transport.close()
    assert [m.connection for m in server.messages] == [1] * 5 + [2] * 5
    assert len(server.messages) == 10
    assert fake_time.sleeps == [1.0]
    assert transport.connections == 2


@pytest.mark.parametrize(("times", "delivered", "sleeps"), [
    (1, True, [1.0]),  # greylisting: the second try gets through
    (0, False, [1.0, 2.0]),  # still refused after three tries: due next cycle
])
def test_451_for_one_recipient_is_tried_again(serve: Serve, certificates: Certificates,
                                              fake_time: FakeTime, times: int, delivered: bool,
                                              sleeps: list[float]) -> None:
    reply = "451 4.7.1 <anna@partner.example>: greylisted, try again later"
    server = serve("starttls", faults=[Fault("RCPT", reply, address="anna@partner.example",
                                             times=times)])
    transport = transport_for(server, certificates, fake_time)
    transport.open()
    if delivered:
        send(transport)
    else:
        with pytest.raises(TemporaryFailure) as caught:
            send(transport)
        assert str(caught.value) == f"{reply} (after 3 tries)"
    send(transport, "bo@partner.example")
    transport.close()
    expected = ["anna@partner.example"] * delivered + ["bo@partner.example"]
    assert [m.rcpt_tos[0] for m in server.messages] == expected
    assert fake_time.sleeps == sleeps
    assert server.connections == 1


@pytest.mark.parametrize(("verb", "reply"), [
    ("RCPT", "550 5.1.1 <anna@partner.example>: no such user"),
    ("RCPT", "553 5.1.3 <anna@partner.example>: bad address syntax"),
    ("DATA", "552 5.3.4 Message too big for system"),
    ("DATA", "554 5.7.1 Message rejected as spam"),
])
def test_permanent_refusal_fails_that_message_and_the_next_goes_on(
        serve: Serve, certificates: Certificates, fake_time: FakeTime, verb: str,
        reply: str) -> None:
    server = serve("starttls", faults=[Fault(verb, reply)])
    transport = transport_for(server, certificates, fake_time)
    transport.open()
    with pytest.raises(PermanentFailure) as caught:
        send(transport, "anna@partner.example")
    assert str(caught.value) == reply
    send(transport, "bo@partner.example")
    transport.close()
    assert [m.rcpt_tos for m in server.messages] == [("bo@partner.example",)]
    assert server.connections == 1
    assert fake_time.sleeps == []
    # smtplib's RSET clears the refused transaction before the next MAIL
    assert server.handler.commands[server.handler.commands.index(verb) + 1] == "RSET"


def test_message_over_the_servers_size_limit_fails(serve: Serve, certificates: Certificates,
                                                   fake_time: FakeTime) -> None:
    server = serve("starttls", data_size_limit=len(MESSAGE) + 100)
    transport = transport_for(server, certificates, fake_time)
    transport.open()
    with pytest.raises(PermanentFailure, match=r"^552 "):
        transport.send(MESSAGE + b"x" * 500, SENDER, ["anna@partner.example"], "big")
    send(transport, "bo@partner.example")
    transport.close()
    assert [m.rcpt_tos for m in server.messages] == [("bo@partner.example",)]


def test_sender_refused_for_good_stops_the_cycle(serve: Serve, certificates: Certificates,
                                                 fake_time: FakeTime) -> None:
    server = serve("starttls", faults=[Fault("MAIL", "553 5.7.1 Sender address rejected: "
                                                     "not owned by user")])
    transport = transport_for(server, certificates, fake_time)
    transport.open()
    with pytest.raises(DeliveryError, match=rf"^127\.0\.0\.1:{server.port} refused the sender "
                                            rf"{SENDER} \(553 5\.7\.1 Sender address rejected"):
        send(transport)
    transport.close()


@pytest.mark.parametrize(("fault", "reason"), [
    (Fault("DATA-COMMAND", close=True), r"connection lost \(.+\)"),
    (Fault("DATA-COMMAND", "354 Go ahead", stall=5.0), r"no reply within 0\.3 s"),
])
@pytest.mark.parametrize(("times", "delivered"), [(1, True), (0, False)])
def test_lost_before_the_content_was_handed_over_is_tried_again(
        serve: Serve, certificates: Certificates, fake_time: FakeTime, fault: Fault,
        reason: str, times: int, delivered: bool) -> None:
    # nothing of the message reached the server, so sending it again cannot double it
    server = serve("starttls", faults=[replace(fault, times=times)])
    transport = transport_for(server, certificates, fake_time, timeout=0.3)
    transport.open()
    started = time.monotonic()
    if delivered:
        send(transport)
        assert [m.connection for m in server.messages] == [2]
        assert fake_time.sleeps == [1.0]
    else:
        with pytest.raises(TemporaryFailure, match=rf"^{reason} \(after 3 tries\)$"):
            send(transport)
        assert server.messages == []
        assert server.connections == 3
        assert fake_time.sleeps == [1.0, 2.0]
    assert time.monotonic() - started < 3.0  # three timeouts at most, not the 5 s stall
    transport.close()


@pytest.mark.parametrize(("fault", "what"), [
    # the server kept the message and hung up before its 250: the reply is lost
    (Fault("DATA", close=True, accept=True), r"connection lost \(.+\)"),
    # the server kept it but answers only after the client stopped waiting
    (Fault("DATA", "250 2.0.0 Too late", stall=5.0, accept=True), r"no reply within 0\.3 s"),
])
def test_lost_after_the_content_was_handed_over_is_uncertain_and_not_retried(
        serve: Serve, certificates: Certificates, fake_time: FakeTime, fault: Fault,
        what: str) -> None:
    server = serve("starttls", faults=[fault])
    transport = transport_for(server, certificates, fake_time, timeout=0.3)
    transport.open()
    started = time.monotonic()
    with pytest.raises(UncertainDelivery, match=rf"^127\.0\.0\.1:{server.port}: {what} after "
                                                r"the whole message was handed over; it may "
                                                r"have been delivered"):
        send(transport, "anna@partner.example")
    assert time.monotonic() - started < 1.5  # one timeout, no retry
    assert fake_time.sleeps == []
    # delivered exactly once: a retry here would have been a second copy
    assert [m.rcpt_tos for m in server.messages] == [("anna@partner.example",)]
    send(transport, "bo@partner.example")  # the next message reconnects
    transport.close()
    assert [(m.rcpt_tos[0], m.connection) for m in server.messages] == [
        ("anna@partner.example", 1), ("bo@partner.example", 2)]
    assert server.handler.commands.count("DATA") == 2


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


# secrets


def test_password_never_in_logs_or_errors(serve: Serve, certificates: Certificates,
                                          fake_time: FakeTime,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server = serve("starttls", faults=[Fault("RCPT", "550 5.1.1 no such user", times=1),
                                       Fault("MAIL", "421 4.3.2 bye", close=True, skip=2)])
    texts = []
    transport = transport_for(server, certificates, fake_time)
    texts.append(repr(transport))
    transport.open()
    for number in range(4):
        try:
            send(transport, f"person{number}@partner.example")
        except PermanentFailure as err:
            texts.append(str(err))
    transport.close()
    wrong = transport_for(server, certificates, fake_time, password=PASSWORD + "x")
    with pytest.raises(DeliveryError) as caught:
        wrong.open()
    texts += [str(caught.value), repr(caught.value.__context__)]
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("automation"))
    assert "accepted by" in ours and "refused" in " ".join(texts)
    for text in [*texts, ours, caplog.text]:
        assert PASSWORD not in text
        assert PASSWORD.encode("utf-8").hex() not in text


@pytest.mark.parametrize(("setting", "environ", "file_text", "expected"), [
    ({"password_env": "RYGRAD_SMTP_PASSWORD"}, {"RYGRAD_SMTP_PASSWORD": PASSWORD}, None,
     PASSWORD),
    ({"password_file": "pw"}, {}, PASSWORD + "\n", PASSWORD),
    ({"password_file": "pw"}, {}, " med mellemrum \r\n", " med mellemrum "),
    ({}, {}, None, None),
])
def test_smtp_password_from_env_or_file(tmp_path: Path, setting: dict[str, str],
                                        environ: dict[str, str], file_text: str | None,
                                        expected: str | None) -> None:
    if file_text is not None:
        (tmp_path / "pw").write_text(file_text, encoding="utf-8")
    values: dict[str, Any] = dict(setting)
    if "password_file" in values:
        values["password_file"] = tmp_path / values["password_file"]
    assert smtp_password(MailSettings(**values), environ) == expected


@pytest.mark.parametrize(("setting", "environ", "file_text", "expected"), [
    ({"password_env": "RYGRAD_SMTP_PASSWORD"}, {}, None,
     "mail.password_env: the environment variable RYGRAD_SMTP_PASSWORD is not set or empty"),
    ({"password_env": "RYGRAD_SMTP_PASSWORD"}, {"RYGRAD_SMTP_PASSWORD": ""}, None,
     "mail.password_env: the environment variable RYGRAD_SMTP_PASSWORD is not set or empty"),
    ({"password_file": "missing"}, {}, None, "mail.password_file: cannot read "),
    ({"password_file": "pw"}, {}, "\n", "mail.password_file: "),
])
def test_smtp_password_missing_names_the_key(tmp_path: Path, setting: dict[str, str],
                                             environ: dict[str, str], file_text: str | None,
                                             expected: str) -> None:
    if file_text is not None:
        (tmp_path / "pw").write_text(file_text, encoding="utf-8")
    values: dict[str, Any] = dict(setting)
    if "password_file" in values:
        values["password_file"] = tmp_path / values["password_file"]
    with pytest.raises(ConfigError) as caught:
        smtp_password(MailSettings(**values), environ)
    assert str(caught.value).startswith(expected)


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
    assert "1 uncertain messages resent" in resend.out
    # the explicit resend is the one extra copy, over the cycle's one session
    assert delivered_keys(server)[7:] == [first]
    assert server.messages[7].connection == 3
    after = rygrad(capsys, "status", "--config", str(config))
    assert "UNCERTAIN" not in after.out
