"""`rygrad serve` and `rygrad run` as real processes, for what only a process shows: its
log on stderr, signals, and what it records while it runs."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BOUND = 60.0  # seconds: a bound against hanging, never a measurement


@dataclass
class Stopped:
    status: int
    out: str
    err: str


def cycles(ledger: Path, where: str = "finished IS NOT NULL") -> int:
    """How many of the SQLite ledger's cycles match `where` (0 before it exists)."""
    if not ledger.exists():
        return 0
    db = sqlite3.connect(ledger)
    try:
        return int(db.execute(f"SELECT COUNT(*) FROM cycles WHERE {where}").fetchone()[0])
    except sqlite3.OperationalError:  # the worker is still creating the tables
        return 0
    finally:
        db.close()


def serve_until(config: Path, done: Callable[[], bool], stderr_path: Path | None = None
                ) -> Stopped:
    """Start `rygrad serve`, wait until `done()`, then SIGTERM it; its exit and output.
    stderr goes to a file, so that a test may point JOURNAL_STREAM at it beforehand."""
    err_path = stderr_path or config.with_name("serve.stderr")
    with err_path.open("wb") as err_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "automation", "serve", "--config", str(config)],
            stdout=subprocess.PIPE, stderr=err_file, text=True)
        try:
            deadline = time.monotonic() + BOUND
            while time.monotonic() < deadline and process.poll() is None and not done():
                time.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            out, _ = process.communicate(timeout=BOUND)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    return Stopped(process.returncode, out, err_path.read_text(encoding="utf-8"))


def run_process(*args: str, stderr_path: Path) -> Stopped:
    """`python -m automation ARGS` with stderr in a file (see serve_until)."""
    with stderr_path.open("wb") as err_file:
        done = subprocess.run([sys.executable, "-m", "automation", *args],
                              stdout=subprocess.PIPE, stderr=err_file, text=True,
                              timeout=BOUND, check=False)
    return Stopped(done.returncode, done.stdout, stderr_path.read_text(encoding="utf-8"))
