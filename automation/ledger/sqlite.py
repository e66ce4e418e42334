"""The ledger in SQLite: one file per initiative in its state folder, for one worker.

The statements are `automation.ledger.sql`'s; this dialect opens the file (created
private, or read-only for the commands that only read), checks it is intact, adds the
columns an older file lacks, and holds the cycle lock in a file beside it. Every write
is committed at once (autocommit), ``synchronous=FULL``: a message recorded ``sending``
is on disk before the transport gets it.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from automation.errors import LedgerError, error_text
from automation.ledger.sql import MIGRATIONS, SqlLedger

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
CREATE TABLE IF NOT EXISTS replies (
    message_id TEXT PRIMARY KEY,        -- the reply's own Message-ID
    sender TEXT NOT NULL,
    answered_key TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    subject_id TEXT NOT NULL DEFAULT '',
    decision TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    changes TEXT NOT NULL DEFAULT '[]', -- [[tab, row id, column, old, new], ...]
    at TEXT NOT NULL,                   -- the real clock, UTC
    payload TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS forgotten (
    digest TEXT PRIMARY KEY             -- "hmac:…" of an address `rygrad forget` erased
);
"""
TABLES = ("deliveries", "cycles", "replies", "secrets", "forgotten")
VACUUM_FREE_BYTES = 8 * 1024 * 1024  # retention rebuilds the file past this much free space
# made once the columns they cover exist (an older file gets them in _migrate)
INDEXES = """
CREATE INDEX IF NOT EXISTS deliveries_message_id ON deliveries (message_id);
CREATE INDEX IF NOT EXISTS deliveries_untrimmed ON deliveries (at) WHERE NOT trimmed;
"""


class Ledger(SqlLedger):
    """The SQLite ledger: one file per initiative, for one worker."""

    errors = (sqlite3.Error,)

    def __init__(self, path: Path, read_only: bool = False) -> None:
        """``read_only``: for the commands that only read (plan, status), which then
        create and change nothing and work on a ledger this user may only read."""
        self.path = path
        self.read_only = read_only
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
            # erased data is overwritten with zeros, not left in free pages (README,
            # "Personal data (GDPR)")
            self.db.execute("PRAGMA secure_delete=ON")
            self.db.executescript(SCHEMA)
            self._migrate()
            self.db.executescript(INDEXES)
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
            added = self._missing_columns()
            for table, column, definition in added:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        if ("deliveries", "message_id") in {(table, column) for table, column, _ in added}:
            self._backfill_message_ids()

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

    def reclaim(self, thorough: bool = False) -> None:
        """secure_delete has zeroed what was erased in the file's pages; the write-ahead
        log still holds the pages as they were, so it is checkpointed and truncated.
        ``thorough`` (after `forget`) also rebuilds the file (VACUUM), and so does
        retention once more than half the file is free pages (after a month of large
        mails, say): SQLite reuses free pages but never gives them back to the disk."""
        try:
            if thorough or self._mostly_free():
                self.db.execute("VACUUM")
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError as err:  # a reader holds it (status): next time
            if thorough:
                raise LedgerError(self._failure(err, "write")) from err
        except sqlite3.Error as err:
            raise LedgerError(self._failure(err, "write")) from err

    def _mostly_free(self) -> bool:
        (free,), (pages,), (size,) = (self.db.execute(f"PRAGMA {name}").fetchone()
                                      for name in ("freelist_count", "page_count",
                                                   "page_size"))
        return bool(free * 2 > pages and free * size > VACUUM_FREE_BYTES)

    # -- the dialect ---------------------------------------------------------------

    def _execute(self, sql: str, parameters: Sequence[Any]) -> sqlite3.Cursor:
        return self.db.execute(sql, parameters)

    def _execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.db:  # COMMIT, or ROLLBACK on an error
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(sql, rows)

    def _insert_id(self, sql: str, parameters: Sequence[Any]) -> int:
        # lastrowid rather than RETURNING, which needs SQLite 3.35
        return int(self.db.execute(sql, parameters).lastrowid or 0)

    def _failure(self, err: Exception, verb: str) -> str:
        if _is_damage(err):
            return _damaged(self.path, err)
        return f"{self.path}: cannot {verb} the ledger ({error_text(err)})"

    def _damaged(self, err: Exception) -> str:
        return _damaged(self.path, err)

    def _json(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    def _from_json(self, stored: Any) -> Any:
        return json.loads(stored)


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
        # a file a crash left before its tables, or an older rygrad's: the tables it
        # lacks read as empty
        for table, statement in zip(TABLES, SCHEMA.split(";"), strict=False):
            if table not in present:
                db.execute(statement.replace("CREATE TABLE", "CREATE TEMP TABLE"))
        # an older ledger, read by a newer rygrad: the columns it lacks read as their default
        lacking: dict[str, list[str]] = {}
        for table, column, definition in MIGRATIONS:
            columns = {row[1] for row in db.execute(f"PRAGMA main.table_info({table})")}
            default = definition.partition(" DEFAULT ")[2] or "NULL"
            if columns and column not in columns:
                lacking.setdefault(table, []).append(f"{default} AS {column}")
        for table, added in lacking.items():
            db.execute(f"CREATE TEMP VIEW {table} AS "
                       f"SELECT *, {', '.join(added)} FROM main.{table}")
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
