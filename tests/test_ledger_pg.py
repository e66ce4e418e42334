"""The ledger contract on both stores: SQLite (a real file) and PostgreSQL (a real server).

The same test body runs against each, so the two cannot drift apart: states,
uncertainty with the exact bytes, retry back to sending, record-only, cycles, the
cycle lock held by one connection at a time, and initiatives kept apart in one database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from automation.config import parse as parse_config
from automation.core.model import Message, Recipient
from automation.errors import ConfigError
from automation.ledger import DeliveryLedger, Ledger, open_ledger
from tests.pg import pg_url, unique_name  # noqa: F401  (the fixture)

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
ANNE = Recipient("Anne", "anne@example.dk", "da")
BO = Recipient("Bo", "bo@example.dk", "da")

Opener = Callable[[], DeliveryLedger]


def message(key: str = "agenda:M1", recipient: Recipient = ANNE) -> Message:
    return Message("agenda", key, recipient, "M1", payload={"x": 1, "navn": "Søren"})


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens (and reopens, as a second worker or after a crash) one initiative's ledger."""
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'state' / 'ledger.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_url")
    initiative = unique_name()
    opened: list[DeliveryLedger] = []

    def open_one() -> DeliveryLedger:
        ledger = open_ledger(url, initiative, tmp_path / "state")
        opened.append(ledger)
        return ledger

    yield open_one
    for ledger in opened:
        ledger.close()


def test_sending_then_sent_survives_reopen(opener: Opener) -> None:
    ledger = opener()
    ledger.begin(message(), b"data", NOW, NOW)
    ledger.sent("agenda:M1", "anne@example.dk", NOW + timedelta(minutes=1), NOW)
    ledger.close()
    [entry] = opener().entries()
    assert (entry.key, entry.recipient, entry.kind, entry.subject_id, entry.state,
            entry.at, entry.payload, entry.error) == (
        "agenda:M1", "anne@example.dk", "agenda", "M1", "sent", NOW + timedelta(minutes=1),
        {}, "")  # an agenda's payload is kept, but the planner never reads it back
    assert opener().uncertain() == []


def test_calendar_payloads_are_read_back(opener: Opener) -> None:
    ledger = opener()
    invitation = Message("invitation", "invitation:M1", ANNE, "M1",
                         payload={"seq": 2, "sted": "Rådhuset"})
    ledger.begin(invitation, b"data", NOW, NOW)
    ledger.sent("invitation:M1", "anne@example.dk", NOW, NOW)
    ledger.begin(message(), b"data", NOW, NOW)
    assert {e.key: e.payload for e in opener().entries()} == {
        "invitation:M1": {"seq": 2, "sted": "Rådhuset"}, "agenda:M1": {}}


def test_a_crash_between_sending_and_sent_leaves_it_uncertain_with_the_exact_bytes(
        opener: Opener) -> None:
    ledger = opener()
    ledger.begin(message(), b"the exact message \xff", NOW, NOW)
    ledger.close()  # the worker dies here
    again = opener()
    [item] = again.uncertain()
    assert (item.key, item.recipient, item.kind, item.message) == (
        "agenda:M1", "anne@example.dk", "agenda", b"the exact message \xff")
    assert list(again.problems()) == [("sending", "agenda:M1", "anne@example.dk", "")]


def test_failed_retry_record_only_and_counts(opener: Opener) -> None:
    ledger = opener()
    ledger.begin(message("a"), b"", NOW, NOW)
    ledger.failed("a", "anne@example.dk", "550 no such user")
    ledger.begin(message("b"), b"", NOW, NOW)
    ledger.retry("b", "anne@example.dk", "451 try later")
    ledger.record_only([message("c")], NOW, NOW)
    ledger.begin(message("d", BO), b"", NOW, NOW)
    states = {e.key: (e.state, e.error) for e in ledger.entries()}
    assert states == {"a": ("failed", "550 no such user"), "b": ("retry", "451 try later"),
                      "c": ("sent", ""), "d": ("sending", "")}
    assert ledger.counts() == {"failed": 1, "retry": 1, "sent": 1, "sending": 1}
    assert list(ledger.problems()) == [
        ("failed", "a", "anne@example.dk", "550 no such user"),
        ("retry", "b", "anne@example.dk", "451 try later"),
        ("sending", "d", "bo@example.dk", "")]
    assert (ledger.has_key("c"), ledger.has_key("zzz")) == (True, False)
    # a retry is attempted again: begin moves it back to sending and clears the error
    ledger.begin(message("b"), b"", NOW, NOW)
    assert {e.key: (e.state, e.error) for e in ledger.entries()}["b"] == ("sending", "")


def test_one_key_to_two_recipients_is_two_rows(opener: Opener) -> None:
    ledger = opener()
    ledger.begin(message("k", ANNE), b"", NOW, NOW)
    ledger.begin(message("k", BO), b"", NOW, NOW)
    ledger.sent("k", "bo@example.dk", NOW, NOW)
    assert sorted((e.recipient, e.state) for e in ledger.entries()) == [
        ("anne@example.dk", "sending"), ("bo@example.dk", "sent")]


def test_cycles_are_recorded_newest_first(opener: Opener) -> None:
    ledger = opener()
    first = ledger.start_cycle(NOW, NOW)
    ledger.finish_cycle(first, NOW + timedelta(seconds=5), 0, {"sent": 3, "navn": "Århus"})
    second = ledger.start_cycle(NOW + timedelta(minutes=15), NOW + timedelta(minutes=15))
    newest, oldest = opener().last_cycles()
    assert (newest.id, newest.finished, newest.exit_status) == (second, None, None)
    assert newest.now == (NOW + timedelta(minutes=15)).isoformat()
    assert (oldest.id, oldest.exit_status, oldest.summary) == (
        first, 0, {"sent": 3, "navn": "Århus"})
    assert oldest.finished is not None
    assert datetime.fromisoformat(oldest.finished) == NOW + timedelta(seconds=5)
    assert len(ledger.last_cycles(1)) == 1


def test_the_cycle_lock_is_held_by_one_worker_and_freed_by_unlock_or_death(
        opener: Opener) -> None:
    one, two = opener(), opener()
    assert one.try_lock()
    assert one.try_lock()  # the holder asking again keeps it
    assert not two.try_lock()
    one.unlock()
    assert two.try_lock()
    assert not one.try_lock()
    two.close()  # a worker that dies drops its lock with its connection or file
    # the server ends a closed session's backend a moment later; bounded, not timed
    deadline = time.monotonic() + 10
    while not one.try_lock() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert one.try_lock()


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_initiatives_sharing_a_store_are_kept_apart(store: str, tmp_path: Path,
                                                    request: pytest.FixtureRequest) -> None:
    if store == "sqlite":
        # one file per initiative, each in its own state folder
        a = open_ledger("", "A", tmp_path / "a")
        b = open_ledger("", "B", tmp_path / "b")
    else:
        url = request.getfixturevalue("pg_url")
        a, b = open_ledger(url, unique_name("A"), tmp_path), open_ledger(url, unique_name("B"),
                                                                          tmp_path)
    try:
        a.begin(message(), b"", NOW, NOW)
        a.start_cycle(NOW, NOW)
        assert b.entries() == [] and b.uncertain() == [] and b.last_cycles() == []
        assert a.try_lock() and b.try_lock()  # two initiatives never wait for each other
    finally:
        a.close()
        b.close()


def test_the_sqlite_ledger_is_the_default_in_the_state_folder(tmp_path: Path) -> None:
    ledger = open_ledger("", "A", tmp_path / "state")
    assert isinstance(ledger, Ledger)
    assert ledger.where == str(tmp_path / "state" / "ledger.sqlite3")
    ledger.close()


CONFIG = {"initiative": {"name": "X", "secretariat": "S <s@example.dk>"},
          "sheet": {"path": "x.xlsx"}}


@pytest.mark.parametrize(("url", "expected"), [
    (None, ""),
    ("sqlite:///state/other.sqlite3", "sqlite:///cfg/state/other.sqlite3"),
    ("sqlite:////var/lib/rygrad/l.sqlite3", "sqlite:///var/lib/rygrad/l.sqlite3"),
    ("postgresql://rygrad@db.example/rygrad", "postgresql://rygrad@db.example/rygrad"),
    ("postgres:///rygrad", "postgres:///rygrad"),
])
def test_state_url_is_read_from_the_config(url: str | None, expected: str) -> None:
    data = {**CONFIG, "state": {"url": url}} if url else CONFIG
    assert parse_config(data, Path("/cfg/rygrad.toml")).state_url == expected


@pytest.mark.parametrize(("url", "message_part"), [
    ("mysql://x@y/z", "is not a ledger address"),
    ("sqlite:///", "is not a ledger address"),
    ("postgresql://rygrad:hemmelig@db.example/rygrad", "must not hold a password"),
])
def test_a_bad_state_url_is_a_config_error_naming_the_key(url: str, message_part: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({**CONFIG, "state": {"url": url}}, Path("/cfg/rygrad.toml"))
    assert "state.url" in str(caught.value) and message_part in str(caught.value)
    assert "hemmelig" not in str(caught.value)


def test_a_session_lost_between_cycles_is_replaced_when_the_next_cycle_locks(
        pg_url: str) -> None:  # noqa: F811
    import psycopg

    from automation.ledger.pg import PgLedger

    ledger = PgLedger(pg_url, unique_name())
    try:
        ledger.begin(message(), b"", NOW, NOW)
        backend = ledger.db.info.backend_pid
        with psycopg.connect(pg_url, autocommit=True) as admin:  # a server restart, say
            admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
        assert ledger.try_lock()
        assert ledger.db.info.backend_pid != backend
        assert [e.state for e in ledger.entries()] == ["sending"]
    finally:
        ledger.close()
