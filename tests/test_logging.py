"""The log (issue 11, point 19): one line per cycle with a timestamp and a level; nothing
more on an idle cycle; under systemd (JOURNAL_STREAM names our stderr) no timestamp of
our own, since the journal adds one, and the level as the journal's "<N>" priority.

These run rygrad as a real process with stderr in a file, so that JOURNAL_STREAM can
name that file's device and inode as systemd does."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.processes import cycles, run_process, serve_until
from tests.test_cli import small_initiative
from tests.workbook import write_config, write_workbook

AT = "2026-12-02T09:00"
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"


def journal_stream(path: Path) -> str:
    """What systemd puts in JOURNAL_STREAM for a stream: its device and inode."""
    path.touch()
    found = os.stat(path)
    return f"{found.st_dev}:{found.st_ino}"


@pytest.fixture
def initiative(tmp_path: Path) -> tuple[Path, Path]:
    workbook = write_workbook(tmp_path / "w.xlsx", small_initiative())
    return tmp_path, workbook


def held_by_the_cap(folder: Path, workbook: Path, stderr: Path) -> list[str]:
    """A `run --once` that leaves problems (exit 1): its log lines."""
    config = write_config(folder, workbook, mail={"max_per_cycle": 1})
    result = run_process("run", "--once", "--config", str(config), "--now", AT,
                         stderr_path=stderr)
    assert result.status == 1, result.err
    assert "held: more than mail.max_per_cycle" in result.out  # the report, on stdout
    return result.err.splitlines()


def test_a_cycle_line_has_a_timestamp_and_a_level(initiative, monkeypatch):
    folder, workbook = initiative
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    [line] = held_by_the_cap(folder, workbook, folder / "stderr")
    assert re.fullmatch(
        STAMP + r" WARNING rygrad: Ungeløftet Test: cycle at 2026-12-02 09:00: 12 due, "
        r"2 sent, 11 held by mail\.max_per_cycle; \d+ cells written; see `rygrad status`",
        line), line


def test_under_systemd_the_journal_keeps_the_time(initiative, monkeypatch):
    folder, workbook = initiative
    stderr = folder / "stderr"
    monkeypatch.setenv("JOURNAL_STREAM", journal_stream(stderr))
    [line] = held_by_the_cap(folder, workbook, stderr)
    assert line.startswith("<4>WARNING rygrad: Ungeløftet Test: cycle at 2026-12-02 09:00: ")
    assert not re.search(STAMP, line)


def test_journal_stream_inherited_by_a_redirected_child_is_not_the_journal(initiative,
                                                                          monkeypatch):
    # systemd.exec(5): a process started by a service, its stderr sent elsewhere, still
    # has the variable; its stream is not the journal, so the time stays
    folder, workbook = initiative
    monkeypatch.setenv("JOURNAL_STREAM", journal_stream(folder / "elsewhere"))
    [line] = held_by_the_cap(folder, workbook, folder / "stderr")
    assert re.match(STAMP + " WARNING rygrad: ", line), line


def test_a_good_run_once_logs_nothing(initiative, monkeypatch):
    # cron mails what a job writes: nothing on a good cycle
    folder, workbook = initiative
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    config = write_config(folder, workbook)
    result = run_process("run", "--once", "--config", str(config), "--now", AT,
                         stderr_path=folder / "stderr")
    assert result.status == 0 and "sent to" in result.out
    assert result.err == ""


@pytest.mark.parametrize("journal", [False, True])
def test_serve_logs_one_line_per_idle_cycle(initiative, monkeypatch, journal):
    folder, workbook = initiative
    stderr = folder / "stderr"
    if journal:
        monkeypatch.setenv("JOURNAL_STREAM", journal_stream(stderr))
    else:
        monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    config = write_config(folder, workbook, schedule={"every_minutes": 0.05})
    ledger = folder / "state" / "ledger.sqlite3"
    stopped = serve_until(config, lambda: cycles(ledger) >= 3, stderr_path=stderr)
    assert stopped.status == 0 and stopped.out == "", stopped.err
    prefix = "<6>INFO" if journal else STAMP + " INFO"
    lines = stopped.err.splitlines()
    cycle_lines = [i for i, line in enumerate(lines) if ": cycle at " in line]
    assert len(cycle_lines) >= 3
    first = cycle_lines[0]
    assert re.match(prefix + r" rygrad: Ungeløftet Test: cycle at .*: \d+ due, \d+ sent",
                    lines[first]), lines[first]
    # after the first cycle, which sent what was due: one line per cycle, and the signal
    for line in lines[first + 1:]:
        if "signal" in line:
            assert "WARNING" in line and "finishing the current message" in line
            continue
        assert re.fullmatch(prefix + r" rygrad: Ungeløftet Test: cycle at \S+ \S+: 0 due, "
                            r"0 sent; 0 cells written", line), line
    assert (re.search(STAMP, stopped.err) is None) == journal
