"""The ledger: one row per (message key, recipient) — the truth of what was sent.

States (README, "Delivery"): ``sending`` is written before the transport gets the message
and ``sent`` after the server accepted it, each committed at once. A row still
``sending`` when no cycle is running is uncertain: the worker died between the
two, and the message may or may not have left. ``failed`` is permanent (the
server refused it); ``retry`` is a temporary failure, due again next cycle.

Two stores keep these semantics behind one protocol, `DeliveryLedger`: SQLite in
the state folder (one worker; this module) and PostgreSQL (several workers sharing
initiatives; `automation.ledger_pg`). Each also holds the initiative's cycle lock:
a cycle runs only while its worker holds it, so no two workers ever run the same
initiative's cycle at once, and a worker that dies releases it with its process.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Protocol

from automation.errors import LedgerError, error_text
from automation.model import HISTORY_PAYLOAD_KINDS, LedgerEntry, Message

LEDGER_FILE = "ledger.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    key TEXT NOT NULL,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject_id TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed', 'retry')),
    at TEXT NOT NULL,           -- the cycle's "now" (what --now says), ISO 8601 with offset
    real_at TEXT NOT NULL,      -- the real clock, for audit
    payload TEXT NOT NULL DEFAULT '{}',
    message BLOB,               -- the exact bytes handed to the transport, for a resend
    error TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    record_only INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key, recipient)
);
CREATE TABLE IF NOT EXISTS cycles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    now TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    exit_status INTEGER,
    summary TEXT NOT NULL DEFAULT '{}',
    reason TEXT NOT NULL DEFAULT ''     -- why a cycle could not run (exit status 2)
);
"""
# columns added since the first release: (table, column, definition), added to an
# older ledger file when it is opened
MIGRATIONS = (("cycles", "reason", "TEXT NOT NULL DEFAULT ''"),)


@dataclass(frozen=True)
class Uncertain:
    key: str
    recipient: str
    kind: str
    message: bytes


@dataclass(frozen=True)
class CycleRecord:
    id: int
    now: str
    started: str
    finished: str | None
    exit_status: int | None
    summary: dict[str, Any]
    reason: str = ""  # why it could not run (exit status 2), in one sentence


class DeliveryLedger(Protocol):
    """What a cycle, `serve` and `status` need of a ledger, whichever database holds it."""

    @property
    def where(self) -> str:
        """The ledger's location for people: a file, or the database and initiative."""
        ...

    def try_lock(self) -> bool:
        """Take this initiative's cycle lock if no other worker holds it; never waits."""
        ...

    def unlock(self) -> None: ...
    def close(self) -> None: ...
    def entries(self) -> list[LedgerEntry]: ...
    def begin(self, message: Message, data: bytes, now: datetime, real: datetime) -> None: ...
    def sent(self, key: str, recipient: str, now: datetime, real: datetime) -> None: ...
    def failed(self, key: str, recipient: str, error: str) -> None: ...
    def retry(self, key: str, recipient: str, error: str) -> None: ...
    def lost(self, key: str, recipient: str, error: str) -> None: ...
    def record_only(self, messages: Sequence[Message], now: datetime, real: datetime
                    ) -> None: ...
    def uncertain(self) -> list[Uncertain]: ...
    def problems(self) -> Iterator[tuple[str, str, str, str]]: ...
    def counts(self) -> dict[str, int]: ...
    def has_key(self, key: str) -> bool: ...
    def start_cycle(self, now: datetime, real: datetime) -> int: ...
    def finish_cycle(self, cycle: int, real: datetime, status: int,
                     summary: dict[str, Any], reason: str = "") -> None: ...
    def last_cycles(self, limit: int = 10) -> list[CycleRecord]: ...


class Ledger:
    """The SQLite ledger: one file per initiative, for one worker."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        """``read_only``: for the commands that only read (plan, status), which then
        create and change nothing and work on a ledger this user may only read."""
        self.path = path
        self._lock_file: IO[bytes] | None = None
        if read_only:
            self.db = _open_read_only(path)
            try:
                _check_intact(self.db, path)
            except sqlite3.Error as err:
                raise LedgerError(_damaged(path, err)) from err
            return
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not path.exists():
                path.touch(mode=0o600)
            elif not os.access(path, os.W_OK):  # SQLite would open it, and fail at a write
                raise PermissionError(path)
            self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
            self._migrate()
            _check_intact(self.db, path)
        except (OSError, sqlite3.Error) as err:
            if _is_damage(err):
                raise LedgerError(_damaged(path, err)) from err
            raise LedgerError(_cannot_open(path, err)) from err

    def _migrate(self) -> None:
        """Add the columns an older ledger file lacks. Checked again inside a write
        transaction, so that two processes opening it at once (serve and status) do not
        both add them."""
        if not self._missing_columns():
            return
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for table, column, definition in self._missing_columns():
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    def _missing_columns(self) -> list[tuple[str, str, str]]:
        return [(table, column, definition) for table, column, definition in MIGRATIONS
                if column not in {row[1] for row in
                                  self.db.execute(f"PRAGMA table_info({table})")}]

    @classmethod
    def in_dir(cls, state_dir: Path) -> Ledger:
        return cls(state_dir / LEDGER_FILE)

    @property
    def where(self) -> str:
        return str(self.path)

    def try_lock(self) -> bool:
        """An fcntl lock on a file beside the ledger: two processes on this machine
        never run one initiative's cycle at once; the kernel drops it when one dies."""
        if self._lock_file is not None:
            return True
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            handle = open(lock_path, "ab")  # noqa: SIM115 (held open while the lock is)
        except OSError as err:
            raise LedgerError(f"{lock_path}: cannot open the cycle lock "
                              f"({error_text(err)})") from err
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._lock_file = handle
        return True

    def unlock(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def close(self) -> None:
        self.unlock()
        self.db.close()

    def entries(self) -> list[LedgerEntry]:
        kinds = sorted(HISTORY_PAYLOAD_KINDS)
        rows = self.db.execute(
            "SELECT key, recipient, kind, subject_id, state, at, CASE WHEN kind IN "
            f"({', '.join('?' * len(kinds))}) THEN payload END, error FROM deliveries", kinds)
        moment = lru_cache(maxsize=1024)(datetime.fromisoformat)  # a cycle's rows share it
        try:
            return [
                LedgerEntry(key, sys.intern(recipient), sys.intern(kind),
                            sys.intern(subject_id), sys.intern(state),
                            moment(at), json.loads(payload) if payload else {}, error)
                for key, recipient, kind, subject_id, state, at, payload, error in rows
            ]
        except (sqlite3.DatabaseError, ValueError, TypeError) as err:
            # damage the page checks cannot see: a value that is no longer what was written
            raise LedgerError(_damaged(self.path, err)) from err

    def begin(self, message: Message, data: bytes, now: datetime, real: datetime) -> None:
        """Record the message as ``sending``: from here a crash leaves it uncertain."""
        self._write(
            """INSERT INTO deliveries
               (key, recipient, kind, subject_id, state, at, real_at, payload, message, attempts)
               VALUES (?, ?, ?, ?, 'sending', ?, ?, ?, ?, 1)
               ON CONFLICT (key, recipient) DO UPDATE SET
                 state = 'sending', at = excluded.at, real_at = excluded.real_at,
                 payload = excluded.payload, message = excluded.message, error = '',
                 attempts = attempts + 1""",
            (message.key, message.recipient.email, message.kind, message.subject_id,
             now.isoformat(), real.isoformat(), json.dumps(message.payload), data),
        )

    def sent(self, key: str, recipient: str, now: datetime, real: datetime) -> None:
        self._write(
            "UPDATE deliveries SET state = 'sent', at = ?, real_at = ?, error = '' "
            "WHERE key = ? AND recipient = ?",
            (now.isoformat(), real.isoformat(), key, recipient),
        )

    def failed(self, key: str, recipient: str, error: str) -> None:
        self._write("UPDATE deliveries SET state = 'failed', error = ? "
                    "WHERE key = ? AND recipient = ?", (error, key, recipient))

    def retry(self, key: str, recipient: str, error: str) -> None:
        self._write("UPDATE deliveries SET state = 'retry', error = ? "
                    "WHERE key = ? AND recipient = ?", (error, key, recipient))

    def lost(self, key: str, recipient: str, error: str) -> None:
        """Still uncertain (``sending``), now with the reason, for `status` and the digest."""
        self._write("UPDATE deliveries SET error = ? WHERE key = ? AND recipient = ?",
                    (error, key, recipient))

    def record_only(self, messages: Sequence[Message], now: datetime, real: datetime) -> None:
        """Mark as sent without sending (going live on a sheet with history), all of them
        in one transaction: one commit, not one per message (a sheet with 100,000 rows)."""
        rows = [(m.key, m.recipient.email, m.kind, m.subject_id, now.isoformat(),
                 real.isoformat(), json.dumps(m.payload)) for m in messages]
        try:
            with self.db:  # COMMIT, or ROLLBACK on an error
                self.db.execute("BEGIN IMMEDIATE")
                self.db.executemany(
                    """INSERT INTO deliveries (key, recipient, kind, subject_id, state, at,
                         real_at, payload, record_only)
                       VALUES (?, ?, ?, ?, 'sent', ?, ?, ?, 1)
                       ON CONFLICT (key, recipient) DO UPDATE SET state = 'sent',
                         at = excluded.at, real_at = excluded.real_at,
                         payload = excluded.payload, record_only = 1""", rows)
        except sqlite3.Error as err:
            raise LedgerError(f"{self.path}: cannot write the ledger ({error_text(err)})") from err

    def uncertain(self) -> list[Uncertain]:
        rows = self.db.execute(
            "SELECT key, recipient, kind, message FROM deliveries WHERE state = 'sending' "
            "ORDER BY real_at"
        )
        return [Uncertain(key, recipient, kind, bytes(data or b""))
                for key, recipient, kind, data in rows]

    def problems(self) -> Iterator[tuple[str, str, str, str]]:
        """(state, key, recipient, error) of every failed, retry or uncertain delivery."""
        yield from self.db.execute(
            "SELECT state, key, recipient, error FROM deliveries "
            "WHERE state IN ('failed', 'retry', 'sending') ORDER BY state, key"
        )

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state"))

    def has_key(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM deliveries WHERE key = ?", (key,)).fetchone() \
            is not None

    # -- cycles ----------------------------------------------------------------

    def start_cycle(self, now: datetime, real: datetime) -> int:
        cursor = self._write("INSERT INTO cycles (now, started) VALUES (?, ?)",
                             (now.isoformat(), real.isoformat()))
        return int(cursor.lastrowid or 0)

    def finish_cycle(self, cycle: int, real: datetime, status: int,
                     summary: dict[str, Any], reason: str = "") -> None:
        self._write("UPDATE cycles SET finished = ?, exit_status = ?, summary = ?, reason = ? "
                    "WHERE id = ?", (real.isoformat(), status,
                                     json.dumps(summary, ensure_ascii=False), reason, cycle))

    def last_cycles(self, limit: int = 10) -> list[CycleRecord]:
        rows = self.db.execute(
            "SELECT id, now, started, finished, exit_status, summary, reason FROM cycles "
            "ORDER BY id DESC LIMIT ?", (limit,))
        return [CycleRecord(i, n, s, f, e, json.loads(summary), reason)
                for i, n, s, f, e, summary, reason in rows]

    def _write(self, sql: str, parameters: tuple[Any, ...]) -> sqlite3.Cursor:
        try:
            return self.db.execute(sql, parameters)
        except sqlite3.Error as err:
            raise LedgerError(f"{self.path}: cannot write the ledger ({error_text(err)})") from err


def _open_read_only(path: Path) -> sqlite3.Connection:
    """The ledger opened read-only (``mode=ro``): nothing is created, migrated or locked.

    A ledger in WAL mode is read through a shared-memory file beside it, which SQLite
    cannot create in a folder this user may not write; with no writer running (no
    ``-wal`` file left), the file is then read as it stands (``immutable``).
    """
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        db = _connect(uri)
    except sqlite3.Error as err:
        if path.with_name(path.name + "-wal").exists():
            raise LedgerError(_cannot_open(path, err, reading=True)) from err
        try:
            db = _connect(uri + "&immutable=1")
        except sqlite3.Error as err:
            raise LedgerError(_cannot_open(path, err, reading=True)) from err
    try:
        present = {name for (name,) in db.execute("SELECT name FROM main.sqlite_master")}
        if not {"deliveries", "cycles"} <= present:  # a file a crash left before its tables
            db.executescript(SCHEMA.replace("CREATE TABLE", "CREATE TEMP TABLE"))
        # an older ledger, read by a newer rygrad: the columns it lacks read as their default
        for table, column, definition in MIGRATIONS:
            columns = {row[1] for row in db.execute(f"PRAGMA main.table_info({table})")}
            default = definition.partition(" DEFAULT ")[2] or "NULL"
            if columns and column not in columns:
                db.execute(f"CREATE TEMP VIEW {table} AS "
                           f"SELECT *, {default} AS {column} FROM main.{table}")
    except sqlite3.Error as err:
        db.close()
        raise LedgerError(_cannot_open(path, err, reading=True)) from err
    return db


def _connect(uri: str) -> sqlite3.Connection:
    db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
    try:
        db.execute("SELECT count(*) FROM main.sqlite_master").fetchone()
    except sqlite3.Error:
        db.close()
        raise
    return db


def _check_intact(db: sqlite3.Connection, path: Path) -> None:
    """SQLite's own check of the pages, and of each index against its table: a ledger
    damaged on disk must stop the run before it plans from half a history. (quick_check
    skips the index comparison and missed a damaged key; integrity_check took 0.9 s on
    a 416 MB ledger of 100,000 deliveries of 3 KB each, a few ms on the example's.)"""
    verdict = [row[0] for row in db.execute("PRAGMA integrity_check(1)")]
    if verdict != ["ok"]:
        first = verdict[0].replace("*** in database main ***", "") if verdict else ""
        raise sqlite3.DatabaseError(" ".join(first.split()) or "integrity_check gave no answer")


def _is_damage(err: Exception) -> bool:
    """"database disk image is malformed", "file is not a database": the file, not access."""
    return type(err) is sqlite3.DatabaseError


def _damaged(path: Path, err: Exception) -> str:
    return (f"{path}: the ledger is damaged ({err}), so nothing was sent; restore the state "
            "folder from a backup (see the README, \"Running it for real\"), or move the "
            "file aside and run `rygrad run --once --record-only` to take the sheet as it is")


def _cannot_open(path: Path, err: Exception, reading: bool = False) -> str:
    """Why the ledger cannot be opened, in one sentence: most often a folder or file
    this user may not write (a state folder copied as another user, a read-only mount)."""
    folder = path.parent
    existing = next((p for p in (folder, *folder.parents) if p.exists()), folder)
    if not reading and not os.access(existing, os.W_OK | os.X_OK):
        what = ("the state folder is read-only for this user, and rygrad keeps its ledger "
                "there (state.dir)" if existing == folder else
                f"the state folder {folder} (state.dir) cannot be created: this folder is "
                "read-only for this user")
        return (f"{existing}: {what}; make it writable (chmod u+w {existing}), run rygrad "
                "as the folder's owner, or set state.dir to another folder")
    if not reading and path.exists() and not os.access(path, os.W_OK):
        return (f"{path}: the ledger is read-only for this user; make it writable "
                f"(chmod u+w {path}) or run rygrad as its owner")
    if reading and not os.access(path, os.R_OK):
        return (f"{path}: this user may not read the ledger; run rygrad as its owner "
                "or let this user read it")
    verb = "read" if reading else "open"
    return f"{path}: cannot {verb} the ledger ({error_text(err)})"


def secure_dir(path: Path) -> None:
    """Create a folder readable by its owner only (ledger, outbox)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def sqlite_path(url: str) -> Path:
    """The file of a "sqlite://" + absolute path URL (config.py resolved relative ones)."""
    return Path(url.removeprefix("sqlite://"))


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def open_ledger(url: str, initiative: str, state_dir: Path) -> DeliveryLedger:
    """The ledger that `state.url` names ("" = SQLite in the state folder)."""
    if is_postgres(url):
        try:
            from automation.ledger_pg import PgLedger
        except ImportError as err:
            raise LedgerError(f"state.url is a PostgreSQL database but {err.name or 'psycopg'} "
                              "is not installed; install it with: pip install "
                              "'rygrad[postgres]'") from err
        return PgLedger(url, initiative)
    return Ledger(sqlite_path(url) if url else state_dir / LEDGER_FILE)


def find_ledger(url: str, initiative: str, state_dir: Path) -> DeliveryLedger | None:
    """The ledger if there is one, else None: `plan` and `status` create no SQLite file.
    (In PostgreSQL the tables are shared, so opening them creates nothing of note.)"""
    if is_postgres(url):
        return open_ledger(url, initiative, state_dir)
    path = sqlite_path(url) if url else state_dir / LEDGER_FILE
    return Ledger(path, read_only=True) if path.exists() else None
