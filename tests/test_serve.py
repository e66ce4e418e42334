"""`rygrad serve` as a real process: a first cycle at once, SIGTERM ends it with 0."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_cli import initiative  # noqa: F401  (the fixture)
from tests.workbook import by_key, read_outbox, rygrad


def finished_cycles(ledger: Path) -> int:
    if not ledger.exists():
        return 0
    with sqlite3.connect(ledger) as db:
        try:
            return int(db.execute(
                "SELECT COUNT(*) FROM cycles WHERE finished IS NOT NULL").fetchone()[0])
        except sqlite3.OperationalError:  # the worker is still creating the tables
            return 0


def test_serve_runs_a_cycle_and_stops_cleanly_on_sigterm(initiative):  # noqa: F811
    folder, _workbook, config = initiative
    process = subprocess.Popen(
        [sys.executable, "-m", "automation", "serve", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60  # a bound against hanging, not a measurement
        while time.monotonic() < deadline and process.poll() is None:
            if finished_cycles(folder / "state" / "ledger.sqlite3"):
                break
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert out == "" and "sent" in err  # the log, on stderr: one line per cycle
    assert by_key(read_outbox(folder / "outbox"))


def test_send_test_writes_one_of_each_kind(initiative, capsys):  # noqa: F811
    folder, _workbook, config = initiative
    result = rygrad(capsys, "send-test", "--to", "test@ungeloeftet.example",
                    "--config", str(config))
    assert result.status == 0, result.err
    mails = by_key(read_outbox(folder / "outbox"))
    kinds = {key.split(":")[1] for key, _ in mails}
    assert kinds == {"invitation", "cancel", "agenda", "followup", "rsvp", "reminder",
                     "overdue", "escalation", "indicator", "report", "answer", "digest",
                     "burst"}
    assert {to for _, to in mails} == {"test@ungeloeftet.example"}
    assert not (folder / "state" / "ledger.sqlite3").exists()
    with pytest.raises(SystemExit) as refused:  # argparse: the kinds are its choices
        rygrad(capsys, "send-test", "--to", "x@ungeloeftet.example", "--kind", "nope",
               "--config", str(config))
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert "--kind" in err and "invitation" in err and "digest" in err
