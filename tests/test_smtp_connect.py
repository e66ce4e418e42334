"""Opening an SMTP session against a real aiosmtpd server on 127.0.0.1: TLS, the login,
one connection for many messages; what stops the cycle before any mail; and the
password, which never shows in a log, an error or a repr.

Sleeps go to a recorded fake clock (tests/smtpkit.py); nothing here waits for real.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import pytest

from automation.config import MailSettings
from automation.errors import ConfigError, DeliveryError
from automation.transports import PermanentFailure
from automation.transports.smtp import SmtpTransport
from automation.transports.smtp_connect import smtp_password
from tests.smtpkit import MESSAGE, PASSWORD, SENDER, USER, FakeTime, Serve, send, transport_for
from tests.smtpserver import Certificates, Fault, mail_settings

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
