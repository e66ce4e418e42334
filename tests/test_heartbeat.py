"""`schedule.heartbeat_url` (issue 11, point 18): a GET after every cycle that ran, from
`run --once` and `serve`; none after a cycle that could not run; a monitor that fails or
cannot be reached is logged and never fails the cycle. The monitor is a real HTTP
server on 127.0.0.1 that counts the requests it gets."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from automation.heartbeat import ping
from tests.processes import serve_until
from tests.test_cli import small_initiative
from tests.workbook import HEADERS, rygrad, write_config, write_workbook

AT = "2026-12-02T09:00"


class Monitor:
    """A push monitor: counts the GETs of its path and answers `status`."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.status = 200
        self.release = threading.Event()  # for a monitor that hangs until released
        self.hang = False
        monitor = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                monitor.hits.append(self.path)
                if monitor.hang:
                    monitor.release.wait(30)
                self.send_response(monitor.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/ping/check-uuid"


@pytest.fixture
def monitor() -> Iterator[Monitor]:
    started = Monitor()
    started.thread.start()
    yield started
    started.release.set()
    started.server.shutdown()
    started.server.server_close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def configured(tmp_path, url: str, headers=None, mail=None, **schedule):
    workbook = write_workbook(tmp_path / "w.xlsx", small_initiative(), headers=headers)
    return write_config(tmp_path, workbook, mail=mail or {},
                        schedule={"heartbeat_url": url, **schedule})


def test_every_cycle_that_ran_requests_the_heartbeat(tmp_path, capsys, monitor):
    config = configured(tmp_path, monitor.url)
    first = rygrad(capsys, "run", "--once", "--config", str(config), "--now", AT)
    assert first.status == 0, first.err
    assert monitor.hits == ["/ping/check-uuid"]
    idle = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                  "2026-12-02T09:15")
    assert idle.status == 0 and "0 sent" in idle.out
    assert len(monitor.hits) == 2


def test_a_cycle_with_problems_still_ran_and_requests_it(tmp_path, capsys, monitor):
    # held by the cap: exit 1, but the worker is alive and the cycle ran
    config = configured(tmp_path, monitor.url, mail={"max_per_cycle": 1})
    held = rygrad(capsys, "run", "--once", "--config", str(config), "--now", AT)
    assert held.status == 1 and len(monitor.hits) == 1


def test_a_cycle_that_could_not_run_sends_no_heartbeat(tmp_path, capsys, monitor):
    no_owner = {**HEADERS, "Handlinger": [h for h in HEADERS["Handlinger"] if h != "Ansvarlig"]}
    config = configured(tmp_path, monitor.url, headers=no_owner)
    failed = rygrad(capsys, "run", "--once", "--config", str(config), "--now", AT)
    assert failed.status == 2
    assert monitor.hits == []


@pytest.mark.parametrize("trouble", ["HTTP 500", "nothing listening"])
def test_a_failing_heartbeat_is_only_logged(tmp_path, capsys, caplog, monitor, trouble):
    url = monitor.url
    if trouble == "HTTP 500":
        monitor.status = 500
    else:
        url = f"http://127.0.0.1:{closed_port()}/ping/check-uuid"
    config = configured(tmp_path, url)
    with caplog.at_level(logging.WARNING, logger="automation.heartbeat"):
        result = rygrad(capsys, "run", "--once", "--config", str(config), "--now", AT)
    assert result.status == 0 and "Traceback" not in result.out + result.err
    [warning] = [r for r in caplog.records if r.name == "automation.heartbeat"]
    assert warning.levelno == logging.WARNING
    message = warning.getMessage()
    assert message.startswith(f"heartbeat to 127.0.0.1:{url.split(':')[2].split('/')[0]} "
                              "failed: ")
    assert "check-uuid" not in message  # the path is the monitor's secret
    assert ("HTTP 500" in message) == (trouble == "HTTP 500")


def test_a_monitor_that_hangs_is_given_up_on(monitor, caplog):
    monitor.hang = True
    with caplog.at_level(logging.WARNING, logger="automation.heartbeat"):
        assert ping(monitor.url, timeout=0.2) is False
    assert "timed out" in caplog.text
    monitor.release.set()


def test_serve_requests_the_heartbeat_after_each_cycle(tmp_path, monitor):
    config = configured(tmp_path, monitor.url, every_minutes=0.05)
    stopped = serve_until(config, lambda: len(monitor.hits) >= 2)
    assert stopped.status == 0, stopped.err
    assert len(monitor.hits) >= 2


def test_serve_sends_none_for_cycles_that_could_not_run(tmp_path, monitor):
    no_owner = {**HEADERS, "Handlinger": [h for h in HEADERS["Handlinger"] if h != "Ansvarlig"]}
    config = configured(tmp_path, monitor.url, headers=no_owner, every_minutes=0.05)
    stopped = serve_until(config, lambda: "could not run" in
                          config.with_name("serve.stderr").read_text(encoding="utf-8"))
    assert stopped.status == 0 and "could not run" in stopped.err
    assert monitor.hits == []


@pytest.mark.parametrize("url", ["ftp://hc-ping.com/x", "hc-ping.com/x", "https://",
                                 "http://host:port/x"])
def test_the_heartbeat_url_must_be_http(tmp_path, capsys, url):
    config = configured(tmp_path, url)
    result = rygrad(capsys, "check", "--config", str(config))
    assert result.status == 2
    assert result.err.strip() == (
        f"rygrad: {config}: schedule.heartbeat_url: {url!r} is not an http:// or https:// "
        "address; write e.g. \"https://hc-ping.com/your-check-uuid\"")
