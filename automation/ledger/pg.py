"""The ledger in PostgreSQL, for several workers sharing many initiatives.

The statements are `automation.ledger.sql`'s, as in SQLite, with one more column:
`initiative`, so that many initiatives share one database. Every write is committed at
once (autocommit), as in SQLite.

The cycle lock is a session-level advisory lock on this ledger's own connection:
taken at the start of a cycle, released at its end. A worker that is killed loses
its connection, the server drops the lock with it, and the next worker to try the
initiative (within one interval) runs it. A lost connection is replaced only when
the next cycle asks for the lock, never in the middle of a cycle, which would run
on without holding it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from automation.errors import LedgerError, error_text
from automation.ledger.sql import MIGRATIONS, SqlLedger

log = logging.getLogger(__name__)

# the first key of rygrad's advisory locks, so that they cannot meet another
# application's one-key locks in a shared database
LOCK_SPACE = 0x52594752  # "RYGR"
SCHEMA = """
CREATE TABLE IF NOT EXISTS rygrad_deliveries (
    initiative TEXT NOT NULL,
    key TEXT NOT NULL,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject_id TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed', 'retry')),
    at TEXT NOT NULL,           -- the cycle's "now", ISO 8601 with its offset, as given
    real_at TIMESTAMPTZ NOT NULL,
    payload JSONB NOT NULL DEFAULT '{}',
    message BYTEA,
    error TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    record_only BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (initiative, key, recipient)
);
CREATE TABLE IF NOT EXISTS rygrad_cycles (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    initiative TEXT NOT NULL,
    worker TEXT NOT NULL DEFAULT '',
    now TEXT NOT NULL,
    started TIMESTAMPTZ NOT NULL,
    finished TIMESTAMPTZ,
    exit_status INTEGER,
    summary JSONB NOT NULL DEFAULT '{}',
    reason TEXT NOT NULL DEFAULT ''     -- why a cycle could not run (exit status 2)
);
CREATE INDEX IF NOT EXISTS rygrad_cycles_initiative ON rygrad_cycles (initiative, id);
CREATE TABLE IF NOT EXISTS rygrad_replies (
    initiative TEXT NOT NULL,
    message_id TEXT NOT NULL,           -- the reply's own Message-ID
    sender TEXT NOT NULL,
    answered_key TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    subject_id TEXT NOT NULL DEFAULT '',
    decision TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    changes JSONB NOT NULL DEFAULT '[]',  -- [[tab, row id, column, old, new], ...]
    at TIMESTAMPTZ NOT NULL,
    payload JSONB NOT NULL DEFAULT '{}',
    PRIMARY KEY (initiative, message_id)
);
CREATE TABLE IF NOT EXISTS rygrad_secrets (
    initiative TEXT NOT NULL,
    name TEXT NOT NULL,
    value BYTEA NOT NULL,
    PRIMARY KEY (initiative, name)
);
CREATE TABLE IF NOT EXISTS rygrad_forgotten (
    initiative TEXT NOT NULL,
    digest TEXT NOT NULL,               -- "hmac:…" of an address `rygrad forget` erased
    PRIMARY KEY (initiative, digest)
);
""" + "".join(  # the columns added since the first release, for an older rygrad's tables
    f"ALTER TABLE rygrad_{table} ADD COLUMN IF NOT EXISTS {column} {definition};\n"
    for table, column, definition in MIGRATIONS) + """
CREATE INDEX IF NOT EXISTS rygrad_deliveries_message_id
    ON rygrad_deliveries (initiative, message_id);
CREATE INDEX IF NOT EXISTS rygrad_deliveries_untrimmed
    ON rygrad_deliveries (initiative, at) WHERE NOT trimmed;
"""
# whether the deliveries table predates its message_id column (then filled from the mails)
WITHOUT_MESSAGE_ID = """SELECT 1 FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'rygrad_deliveries'
    GROUP BY table_name HAVING bool_and(column_name <> 'message_id')"""


class PgLedger(SqlLedger):
    """One initiative's rows in a shared PostgreSQL database."""

    deliveries = "rygrad_deliveries"
    cycles = "rygrad_cycles"
    replies_table = "rygrad_replies"
    secrets = "rygrad_secrets"
    forgotten_table = "rygrad_forgotten"
    param = "%s"
    scope = ("initiative",)
    cycle_scope = ("initiative", "worker")
    errors = (psycopg.Error,)

    def __init__(self, url: str, initiative: str, read_only: bool = False) -> None:
        """``read_only``: for `status` and `plan`; the tables are still created (they
        are shared), but not this initiative's secret."""
        self.url = url
        self.initiative = initiative
        self.read_only = read_only
        self.worker = f"{os.uname().nodename}:{os.getpid()}"
        self.scope_values = (initiative,)
        self.cycle_values = (initiative, self.worker)
        self._locked = False
        self.db = self._connect()
        try:
            with self.db.transaction():
                # workers starting together would race on CREATE TABLE IF NOT EXISTS
                self.db.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_SPACE,))
                older = self.db.execute(WITHOUT_MESSAGE_ID).fetchone() is not None
                self.db.execute(SCHEMA)
        except psycopg.Error as err:
            raise LedgerError(f"{self.where}: cannot create the ledger tables ({err})") from err
        if older:
            self._backfill_message_ids()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            # the application name lets an operator (and the tests) see in
            # pg_stat_activity which worker holds which initiative
            return psycopg.connect(self.url, autocommit=True, connect_timeout=10,
                                   application_name=f"rygrad {self.worker}")
        except psycopg.Error as err:
            raise LedgerError(f"{self.where}: cannot connect to the ledger database "
                              f"({_first_line(err)})") from err

    @property
    def where(self) -> str:
        return f"{_without_password(self.url)} (initiative {self.initiative!r})"

    # -- the cycle lock ------------------------------------------------------------

    def try_lock(self) -> bool:
        if self._locked:
            return True
        try:
            row = self._take_lock()
        except LedgerError:
            # the session died since the last cycle (a server restart, a dropped idle
            # connection); holding nothing, a new one is safe to take
            self.db.close()
            self.db = self._connect()
            row = self._take_lock()
        self._locked = bool(row and row[0])
        return self._locked

    def _take_lock(self) -> tuple[Any, ...] | None:
        return self._lock_query("SELECT pg_try_advisory_lock(%s, hashtext(%s))").fetchone()

    def unlock(self) -> None:
        if not self._locked:
            return
        self._locked = False
        if not (self.db.closed or self.db.broken):
            self._lock_query("SELECT pg_advisory_unlock(%s, hashtext(%s))")

    def _lock_query(self, sql: str) -> psycopg.Cursor[Any]:
        try:
            return self.db.execute(sql, (LOCK_SPACE, self.initiative))
        except psycopg.Error as err:
            raise LedgerError(self._failure(err, "lock")) from err

    def close(self) -> None:
        # the server drops the lock with the session anyway, but only once its backend
        # has noticed; unlocking first frees it for the next worker at once
        try:
            self.unlock()
        finally:
            self.db.close()

    def reclaim(self, thorough: bool = False) -> None:
        """An UPDATE leaves the old version of a row in the table's file as a dead tuple
        until VACUUM makes its space free for reuse (which may not overwrite it at once);
        VACUUM FULL (``thorough``, after `forget`) writes the tables anew and deletes the
        old files. Both need the tables' owner; a role that is not is logged, and
        autovacuum still frees the space in time."""
        verb = "VACUUM FULL" if thorough else "VACUUM"
        for table in (self.deliveries, self.replies_table, self.cycles):
            try:
                self.db.execute(f"{verb} {table}")
            except psycopg.Error as err:
                log.warning("%s: %s %s was refused (%s)", self.where, verb, table,
                            _first_line(err))
                return

    # -- the dialect ---------------------------------------------------------------

    def _execute(self, sql: str, parameters: Sequence[Any]) -> psycopg.Cursor[Any]:
        return self.db.execute(sql, parameters)

    def _execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.db.transaction(), self.db.cursor() as cursor:
            cursor.executemany(sql, rows)

    def _insert_id(self, sql: str, parameters: Sequence[Any]) -> int:
        row = self.db.execute(sql + " RETURNING id", parameters).fetchone()
        assert row is not None
        return int(row[0])

    def _failure(self, err: Exception, verb: str) -> str:
        return f"{self.where}: the ledger database failed ({_first_line(err)})"

    def _damaged(self, err: Exception) -> str:
        return (f"{self.where}: the ledger holds a value rygrad did not write ({err}), so "
                "nothing was sent; restore the tables from a backup (see the README, "
                "\"Running it for real\")")

    def _time(self, moment: datetime) -> datetime:
        return moment

    def _time_text(self, stored: Any) -> str:
        # as SQLite keeps it: the real clock is UTC, whatever the server's time zone
        moment: datetime = stored
        return moment.astimezone(UTC).isoformat()

    def _json(self, value: Any) -> Jsonb:
        return Jsonb(value)

    def _from_json(self, stored: Any) -> Any:
        return stored  # psycopg reads JSONB as Python values


def _first_line(err: Exception) -> str:
    # as error_text makes it: never "…))" in a message
    return error_text((str(err).strip().splitlines() or [type(err).__name__])[0])


def _without_password(url: str) -> str:
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"
