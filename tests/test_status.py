"""`rygrad status` tells an operator when something is wrong (issue 11, points 16–17).

Cycles that could not run are recorded with their reason, by `run --once` and by
`serve`, in SQLite and in PostgreSQL; `status` exits 1 when the last cycle could not
run, a message is uncertain or failed, or the last cycle is older than three intervals,
and `status --json` says the same for monitoring tools.
"""

from __future__ import annotations

import json
import socket
from datetime import datetime
from typing import Any

import pytest

from automation.core.model import Message, Recipient
from automation.ledger import Ledger
from tests.pg import pg_url, unique_name  # noqa: F401  (the fixture)
from tests.processes import cycles, serve_until
from tests.test_cli import small_initiative
from tests.workbook import HEADERS, rygrad, write_config, write_workbook

AT = "2026-12-02T09:00"
# Handlinger without its required Ansvarlig column: the cycle cannot run
NO_OWNER = {**HEADERS, "Handlinger": [h for h in HEADERS["Handlinger"] if h != "Ansvarlig"]}


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Config sections for the ledger: SQLite in the state folder, or PostgreSQL."""
    if request.param == "sqlite":
        return {}
    return {"state": {"url": request.getfixturevalue("pg_url")},
            "initiative": {"name": unique_name("Status")}}


def status_json(capsys, config, now: str) -> tuple[int, dict[str, Any]]:
    result = rygrad(capsys, "status", "--json", "--config", str(config), "--now", now)
    return result.status, json.loads(result.out)


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_cycle_that_could_not_run_is_recorded_and_status_exits_1(tmp_path, capsys, store):
    workbook = write_workbook(tmp_path / "w.xlsx", small_initiative(), headers=NO_OWNER)
    config = write_config(tmp_path, workbook, **store)
    failed = rygrad(capsys, "run", "--once", "--config", str(config), "--now", AT)
    assert failed.status == 2 and "Ansvarlig" in failed.err
    reason = failed.err.strip().removeprefix("rygrad: ")

    status = rygrad(capsys, "status", "--config", str(config), "--now", "2026-12-02T09:10")
    assert status.status == 1, status.out + status.err
    assert f"(exit 2): could not run: {reason}" in status.out
    assert f"NOT OK: the last cycle, at 2026-12-02 09:00, could not run: {reason}" \
        in status.out
    code, report = status_json(capsys, config, "2026-12-02T09:10")
    [initiative] = report["initiatives"]
    assert (code, report["ok"], initiative["ok"], initiative["stale"]) == (1, False, False,
                                                                           False)
    cycle = initiative["last_cycle"]
    assert (cycle["status"], cycle["exit_status"], cycle["reason"]) == (
        "could_not_run", 2, reason)
    assert cycle["at"].startswith("2026-12-02T09:00")

    # fixed in the sheet: the next cycle runs and all is well again
    write_workbook(workbook, small_initiative())
    assert rygrad(capsys, "run", "--once", "--config", str(config),
                  "--now", "2026-12-02T09:15").status == 0
    well = rygrad(capsys, "status", "--config", str(config), "--now", "2026-12-02T09:20")
    assert well.status == 0 and well.out.rstrip().endswith("OK"), well.out
    code, report = status_json(capsys, config, "2026-12-02T09:20")
    assert code == 0 and report["ok"] and report["initiatives"][0]["last_cycle"]["status"] \
        == "ok"


@pytest.mark.parametrize("fault", ["no SMTP password", "mail server unreachable"])
def test_a_cycle_stopped_by_its_mail_settings_is_recorded(tmp_path, capsys, monkeypatch,
                                                          fault):
    # the config loads; building the transport fails, or opening its connection does
    mail = {"transport": "smtp", "host": "127.0.0.1", "port": closed_port(),
            "security": "none", "timeout": 5}
    if fault == "no SMTP password":
        monkeypatch.delenv("RYGRAD_TEST_NO_PASSWORD", raising=False)
        mail.update(security="starttls", username="sekretariat",
                    password_env="RYGRAD_TEST_NO_PASSWORD")
    workbook = write_workbook(tmp_path / "w.xlsx", small_initiative())
    config = write_config(tmp_path, workbook, mail=mail)
    failed = rygrad(capsys, "run", "--once", "--config", str(config), "--now", AT)
    assert failed.status == 2
    reason = failed.err.strip().removeprefix("rygrad: ")
    code, report = status_json(capsys, config, AT)
    cycle = report["initiatives"][0]["last_cycle"]
    assert (code, cycle["status"], cycle["reason"]) == (1, "could_not_run", reason)


def test_uncertain_and_failed_messages_make_status_exit_1(tmp_path, capsys):
    workbook = write_workbook(tmp_path / "w.xlsx", small_initiative())
    config = write_config(tmp_path, workbook)
    assert rygrad(capsys, "run", "--once", "--config", str(config), "--now", AT).status == 0
    assert status_json(capsys, config, AT)[0] == 0

    ledger = Ledger(tmp_path / "state" / "ledger.sqlite3")
    now = datetime.fromisoformat(AT + "+01:00")
    anne = Recipient("Anne Holm", "anne@kommune.example", "da")
    ledger.begin(Message("agenda", "agenda:X-1", anne, "X-1"), b"data", now, now)  # a crash
    code, report = status_json(capsys, config, AT)
    initiative = report["initiatives"][0]
    assert (code, initiative["ok"]) == (1, False)
    assert initiative["uncertain"] == [
        {"key": "agenda:X-1", "recipient": "anne@kommune.example", "error": ""}]
    text = rygrad(capsys, "status", "--config", str(config), "--now", AT)
    assert text.status == 1 and "NOT OK: 1 uncertain messages" in text.out

    ledger.failed("agenda:X-1", "anne@kommune.example", "550 5.1.1 no such user")
    ledger.close()
    code, report = status_json(capsys, config, AT)
    initiative = report["initiatives"][0]
    assert (code, initiative["uncertain"], initiative["counts"]["failed"]) == (1, [], 1)
    assert initiative["failed"][0]["error"] == "550 5.1.1 no such user"


def test_a_last_cycle_older_than_three_intervals_is_stale(tmp_path, capsys):
    workbook = write_workbook(tmp_path / "w.xlsx", small_initiative())
    config = write_config(tmp_path, workbook, schedule={"every_minutes": 15})
    assert rygrad(capsys, "run", "--once", "--config", str(config), "--now", AT).status == 0
    code, report = status_json(capsys, config, "2026-12-02T09:45")  # three intervals
    assert (code, report["initiatives"][0]["stale"]) == (0, False)
    code, report = status_json(capsys, config, "2026-12-02T09:46")
    assert (code, report["ok"], report["initiatives"][0]["stale"]) == (1, False, True)
    text = rygrad(capsys, "status", "--config", str(config), "--now", "2026-12-02T09:46")
    assert text.status == 1
    assert ("NOT OK: no cycle since 2026-12-02 09:00, more than three intervals (45 min) "
            "ago; is the worker running?") in text.out


def test_several_initiatives_one_not_well(tmp_path, capsys):
    configs = []
    for name, headers in (("Vel", None), ("Ikke vel", NO_OWNER)):
        folder = tmp_path / name.replace(" ", "-")
        folder.mkdir()
        workbook = write_workbook(folder / "w.xlsx", small_initiative(), headers=headers)
        configs.append(write_config(folder, workbook, initiative={"name": name}))
        rygrad(capsys, "run", "--once", "--config", str(configs[-1]), "--now", AT)
    never = tmp_path / "never"
    never.mkdir()
    configs.append(write_config(never, never / "w.xlsx", initiative={"name": "Aldrig"}))
    arguments = [part for config in configs for part in ("--config", str(config))]
    result = rygrad(capsys, "status", "--json", *arguments, "--now", AT)
    report = json.loads(result.out)
    assert result.status == 1 and report["ok"] is False
    assert [(i["name"], i["ok"]) for i in report["initiatives"]] == [
        ("Vel", True), ("Ikke vel", False), ("Aldrig", True)]
    assert report["initiatives"][2]["last_cycle"] is None  # no cycle has run yet
    assert report["checked_at"].startswith("2026-12-02T09:00:00")


@pytest.mark.parametrize("fault", ["missing column", "no SMTP password"])
def test_serve_records_cycles_that_could_not_run(tmp_path, capsys, monkeypatch, fault):
    # the cycle fails reading the sheet, or before it, building the SMTP transport
    headers, mail = NO_OWNER, {}
    if fault == "no SMTP password":
        monkeypatch.delenv("RYGRAD_TEST_NO_PASSWORD", raising=False)
        headers, mail = None, {"transport": "smtp", "host": "127.0.0.1",
                               "port": closed_port(), "username": "sekretariat",
                               "password_env": "RYGRAD_TEST_NO_PASSWORD"}
    workbook = write_workbook(tmp_path / "w.xlsx", small_initiative(), headers=headers)
    config = write_config(tmp_path, workbook, schedule={"every_minutes": 0.05}, mail=mail)
    ledger = tmp_path / "state" / "ledger.sqlite3"
    stopped = serve_until(config, lambda: cycles(ledger, "exit_status = 2") >= 1)
    assert stopped.status == 0, stopped.err
    assert " ERROR " in stopped.err and "could not run" in stopped.err
    status = rygrad(capsys, "status", "--config", str(config))
    assert status.status == 1
    expected = "Ansvarlig" if fault == "missing column" else "RYGRAD_TEST_NO_PASSWORD"
    [line] = [line for line in status.out.splitlines() if "NOT OK: the last cycle" in line]
    assert "could not run: " in line and expected in line
