"""The ledger on a real SQLite file: states, uncertainty, permissions."""

from __future__ import annotations

import stat
from datetime import UTC, datetime

from automation.core.model import Message, Recipient
from automation.ledger import Ledger

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
ANNE = Recipient("Anne", "anne@example.dk", "da")


def message(key: str = "agenda:M1") -> Message:
    return Message("agenda", key, ANNE, "M1", payload={"x": 1})


def test_sending_then_sent_survives_reopen(tmp_path):
    ledger = Ledger.in_dir(tmp_path / "state")
    ledger.begin(message(), b"data", NOW, NOW)
    ledger.sent("agenda:M1", "anne@example.dk", NOW, NOW)
    ledger.close()
    again = Ledger.in_dir(tmp_path / "state")
    [entry] = again.entries()
    assert (entry.key, entry.state, entry.subject_id) == ("agenda:M1", "sent", "M1")
    assert again.uncertain() == []


def test_crash_between_sending_and_sent_is_uncertain_with_exact_bytes(tmp_path):
    ledger = Ledger.in_dir(tmp_path)
    ledger.begin(message(), b"the exact message", NOW, NOW)
    ledger.close()  # the worker dies here
    [item] = Ledger.in_dir(tmp_path).uncertain()
    assert (item.key, item.recipient, item.message) == (
        "agenda:M1", "anne@example.dk", b"the exact message")


def test_failed_and_retry_and_record_only(tmp_path):
    ledger = Ledger.in_dir(tmp_path)
    ledger.begin(message("a"), b"", NOW, NOW)
    ledger.failed("a", "anne@example.dk", "550 no such user")
    ledger.begin(message("b"), b"", NOW, NOW)
    ledger.retry("b", "anne@example.dk", "451 try later")
    ledger.record_only([message("c")], NOW, NOW)
    states = {e.key: (e.state, e.error) for e in ledger.entries()}
    assert states == {"a": ("failed", "550 no such user"), "b": ("retry", "451 try later"),
                      "c": ("sent", "")}
    # a retry is attempted again: begin moves it back to sending
    ledger.begin(message("b"), b"", NOW, NOW)
    assert {e.key: e.state for e in ledger.entries()}["b"] == "sending"


def test_ledger_file_is_private(tmp_path):
    ledger = Ledger.in_dir(tmp_path / "state")
    assert stat.S_IMODE(ledger.path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700


def test_cycles_are_recorded(tmp_path):
    ledger = Ledger.in_dir(tmp_path)
    cycle = ledger.start_cycle(NOW, NOW)
    ledger.finish_cycle(cycle, NOW, 0, {"sent": 3})
    [record] = ledger.last_cycles()
    assert (record.exit_status, record.summary) == (0, {"sent": 3})
