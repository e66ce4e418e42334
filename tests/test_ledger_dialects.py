"""SQLite and PostgreSQL run the same SQL (automation/ledger/sql.py), so one scenario
that calls every method of the ledger gives the same answers on both: entries, counts,
what is uncertain, the problems and the cycles, down to the order and the time text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from automation.core.model import Message, Recipient
from automation.ledger import DeliveryLedger, open_ledger
from tests.pg import pg_url, unique_name  # noqa: F401  (the fixture)

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=timezone(timedelta(hours=1)))  # Copenhagen
REAL = datetime(2026, 12, 2, 9, 0, 1, 250_000, tzinfo=UTC)
ANNE = Recipient("Anne", "anne@example.dk", "da")
BO = Recipient("Bo", "Bo@example.dk", "da")  # upper case: sorts before every lower-case key


def real(seconds: int) -> datetime:
    return REAL + timedelta(seconds=seconds)


def scenario(ledger: DeliveryLedger) -> dict[str, Any]:
    """Every method once or more; what each store answers, without its own ids."""
    invitation = Message("invitation", "invitation:M1", ANNE, "M1",
                         payload={"seq": 2, "sted": "Rådhuset", "tider": [1, 2]})
    ledger.begin(invitation, b"invitation bytes", NOW, real(1))
    ledger.sent(invitation.key, ANNE.email, NOW, real(2))
    for n, (key, recipient) in enumerate([("agenda:M1", ANNE), ("agenda:M1", BO),
                                          ("reminder:A-2", ANNE), ("overdue:A-1", ANNE),
                                          ("escalation:A 3", BO)]):
        ledger.begin(Message(key.partition(":")[0], key, recipient, "X", payload={"n": n}),
                     f"bytes of {key} → {recipient.email}".encode(), NOW, real(10 - n))
    ledger.failed("agenda:M1", BO.email, "550 5.1.1 no such user")
    ledger.retry("reminder:A-2", ANNE.email, "451 4.7.1 try later")
    ledger.lost("overdue:A-1", ANNE.email, "connection lost after DATA")
    # a retry whose resend lost its connection: uncertain, not due again by itself
    ledger.lost("reminder:A-2", ANNE.email, "connection lost after DATA")
    ledger.record_only([Message("cancel", "cancel:M2", ANNE, "M2", payload={"seq": 3}),
                        Message("agenda", "agenda:M2", BO, "M2")], NOW, real(20))
    first = ledger.start_cycle(NOW, real(0))
    ledger.finish_cycle(first, real(30), 1, {"sent": 1, "navn": "Århus", "failed": ["x"]})
    second = ledger.start_cycle(NOW + timedelta(minutes=15), real(900))
    ledger.finish_cycle(second, real(905), 2, {}, reason="Handlinger: the column is missing.")
    ledger.start_cycle(NOW + timedelta(minutes=30), real(1800))  # still running
    cycles = ledger.last_cycles()
    assert [c.id for c in cycles] == sorted((c.id for c in cycles), reverse=True)
    assert len(ledger.last_cycles(2)) == 2
    return {
        "entries": sorted((e.key, e.recipient, e.kind, e.subject_id, e.state, e.at.isoformat(),
                           e.payload, e.error) for e in ledger.entries()),
        "counts": list(ledger.counts().items()),
        "uncertain": ledger.uncertain(),
        "problems": list(ledger.problems()),
        "has_key": [ledger.has_key(k) for k in ("cancel:M2", "agenda:M1", "agenda", "")],
        "cycles": [(c.now, c.started, c.finished, c.exit_status, c.summary, c.reason)
                   for c in cycles],
    }


def test_sqlite_and_postgresql_answer_the_same(tmp_path: Path, pg_url: str) -> None:  # noqa: F811
    answers = {}
    for url in (f"sqlite://{tmp_path / 'ledger.sqlite3'}", pg_url):
        ledger = open_ledger(url, unique_name(), tmp_path)
        try:
            answers[url] = scenario(ledger)
        finally:
            ledger.close()
    sqlite, postgresql = answers.values()
    assert sqlite == postgresql
    # and what they agree on is what the README promises
    assert [(item.key, item.recipient, item.message) for item in sqlite["uncertain"]] == [
        (key, recipient, f"bytes of {key} → {recipient}".encode()) for key, recipient in [
            ("escalation:A 3", "Bo@example.dk"), ("overdue:A-1", "anne@example.dk"),
            ("reminder:A-2", "anne@example.dk"), ("agenda:M1", "anne@example.dk")]]
    assert sqlite["counts"] == [("failed", 1), ("sending", 4), ("sent", 3)]
    assert sqlite["has_key"] == [True, True, False, False]
    assert sqlite["cycles"][0] == ((NOW + timedelta(minutes=30)).isoformat(),
                                   "2026-12-02T09:30:01.250000+00:00", None, None, {}, "")
    assert sqlite["cycles"][2][1:3] == ("2026-12-02T09:00:01.250000+00:00",
                                        "2026-12-02T09:00:31.250000+00:00")


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_lost_connection_leaves_the_message_uncertain_whatever_its_state(
        store: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """README, "One worker or several": a message handed to the server whose answer never
    came is uncertain — reported by status, never resent by itself. `lost` makes the row
    `sending` even when it was not (a retry being resent), so it is not due again."""
    url = "" if store == "sqlite" else request.getfixturevalue("pg_url")
    ledger = open_ledger(url, unique_name(), tmp_path / "state")
    try:
        message = Message("reminder", "reminder:A-1", ANNE, "A-1")
        ledger.begin(message, b"the exact bytes", NOW, REAL)
        ledger.retry(message.key, ANNE.email, "451 try later")
        ledger.lost(message.key, ANNE.email, "connection lost after DATA")
        [entry] = ledger.entries()
        assert (entry.state, entry.error) == ("sending", "connection lost after DATA")
        [item] = ledger.uncertain()
        assert (item.key, item.message) == ("reminder:A-1", b"the exact bytes")
        assert list(ledger.problems()) == [
            ("sending", "reminder:A-1", "anne@example.dk", "connection lost after DATA")]
    finally:
        ledger.close()


def test_the_ledger_modules_import_one_way() -> None:
    """The shared SQL knows no dialect, a dialect knows the shared SQL only, and only
    `automation.ledger` (the protocol and `open_ledger`) knows both dialects: no cycle."""
    import ast

    folder = Path(__file__).resolve().parent.parent / "automation" / "ledger"

    def ledger_imports(module: str) -> set[str]:
        tree = ast.parse((folder / f"{module}.py").read_text(encoding="utf-8"))
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith("automation.ledger."):
                    found.add(node.module.removeprefix("automation.ledger."))
                elif node.module == "automation.ledger":
                    found.add("__init__")
        return found

    assert ledger_imports("sql") == set()
    assert ledger_imports("sqlite") == {"sql"}
    assert ledger_imports("pg") == {"sql"}
    assert ledger_imports("__init__") == {"sql", "sqlite", "pg"}
