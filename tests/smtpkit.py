"""What the SMTP transport tests share: the test account, a message, a monotonic clock
that moves only when told, and a transport pointed at a test server.

The fixtures that start the servers (certificates, fake_time, serve) are in
conftest.py; these are the plain parts they and the tests use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from automation.config import MailSettings
from automation.transports.smtp import SmtpTransport
from tests.smtpserver import Certificates, SmtpServer, mail_settings

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


Serve = Callable[..., SmtpServer]


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
