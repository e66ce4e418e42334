"""Every kind of calendar the worker sends, stored in a real CalDAV server and read back.

Radicale (PyPI) is a complete CalDAV server; the fixture runs its WSGI application
behind the standard library's HTTP server on 127.0.0.1 and a free port, so the
port is known when the fixture returns and no polling is needed. Radicale
parses each PUT with vobject and refuses what it cannot read with 400: a
stricter reader than icalendar, which wrote the calendars.

Radicale stores METHOD as it comes; servers that refuse METHOD in a stored
object would need it stripped for the PUT, Radicale does not.
"""

from __future__ import annotations

import base64
import http.client
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from icalendar import Calendar

from tests.test_ics import KINDS, calendar_of


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class CalDav:
    server: WSGIServer
    calendars: int = 0

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.server_port,
                                                timeout=10)
        # [auth] type = none takes any user; the rights need one to own /u/
        headers = {"Authorization": "Basic " + base64.b64encode(b"u:-").decode(),
                   "Content-Type": "text/calendar; charset=utf-8"}
        try:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def new_calendar(self) -> str:
        """A fresh calendar: one UID may live only once in a calendar (RFC 4791 §5.3.2.1)."""
        self.calendars += 1
        path = f"/u/cal{self.calendars}/"
        assert self.request("MKCALENDAR", path)[0] == 201
        return path


@pytest.fixture(scope="module")
def caldav(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CalDav]:
    radicale = pytest.importorskip("radicale")
    from radicale import config

    folder: Path = tmp_path_factory.mktemp("radicale")
    configuration = config.load()
    configuration.update({
        "auth": {"type": "none"},
        "rights": {"type": "authenticated"},  # there is no rights type "none"
        "storage": {"filesystem_folder": str(folder), "_filesystem_fsync": "False"},
    }, "rygrad tests", privileged=True)
    # Radicale warns on every start that auth none is insecure; it is, on purpose
    logging.getLogger("radicale").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, radicale.Application(configuration),
                         handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield CalDav(server)
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.mark.parametrize("kind", KINDS)
def test_every_invitation_kind_is_stored_and_read_back(caldav: CalDav, kind: str) -> None:
    data = calendar_of(kind)
    sent = Calendar.from_ical(data).walk("VEVENT")[0]
    path = caldav.new_calendar() + "meeting.ics"
    status, _ = caldav.request("PUT", path, data)
    assert status == 201
    status, stored = caldav.request("GET", path)
    assert status == 200
    event = Calendar.from_ical(stored).walk("VEVENT")[0]
    assert str(event["UID"]) == str(sent["UID"])
    assert event["SEQUENCE"] == sent["SEQUENCE"]
    assert event.decoded("DTSTART") == sent.decoded("DTSTART")
    assert event.get("DESCRIPTION") == sent.get("DESCRIPTION")


def test_an_update_and_a_cancel_replace_the_stored_event(caldav: CalDav) -> None:
    # the same UID at the same place, as a calendar client files them
    path = caldav.new_calendar() + "meeting.ics"
    for kind, sequence, status_wanted in (("request", 0, 201), ("update", 2, 204),
                                          ("cancel", 3, 204)):
        status, _ = caldav.request("PUT", path, calendar_of(kind))
        assert status == status_wanted
        stored = Calendar.from_ical(caldav.request("GET", path)[1])
        assert stored.walk("VEVENT")[0]["SEQUENCE"] == sequence
    assert str(stored.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"


@pytest.mark.parametrize(("breakage", "spoil"), [
    ("cut off before END:VEVENT", lambda data: data[: data.index(b"END:VEVENT")]),
    ("a line without a colon", lambda data: data.replace(b"SEQUENCE:0", b"SEQUENCE 0")),
    ("a start that is not a date", lambda data: data.replace(b":20261203T140000",
                                                             b":2026-12-03T14", 1)),
    ("no UID", lambda data: data.replace(b"\r\nUID:", b"\r\nX-NOT-UID:")),
])
def test_a_broken_calendar_is_refused(caldav: CalDav, breakage: str,
                                      spoil: Callable[[bytes], bytes]) -> None:
    broken = spoil(calendar_of("request"))
    assert broken != calendar_of("request")
    status, _ = caldav.request("PUT", caldav.new_calendar() + "meeting.ics", broken)
    assert status == 400, breakage
