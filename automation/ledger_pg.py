"""The ledger in PostgreSQL, for several workers sharing many initiatives.

The same rows and states as the SQLite ledger (automation/ledger.py), with one more
column: `initiative`, so that many initiatives share one database. Every write is
committed at once (autocommit), as in SQLite.

The cycle lock is a session-level advisory lock on this ledger's own connection:
taken at the start of a cycle, released at its end. A worker that is killed loses
its connection, the server drops the lock with it, and the next worker to try the
initiative (within one interval) runs it. A lost connection is replaced only when
the next cycle asks for the lock, never in the middle of a cycle, which would run
on without holding it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from automation.errors import LedgerError, error_text
from automation.ledger import CycleRecord, Uncertain
from automation.model import HISTORY_PAYLOAD_KINDS, LedgerEntry, Message

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
-- columns added since the first release, for tables an older rygrad created
ALTER TABLE rygrad_cycles ADD COLUMN IF NOT EXISTS reason TEXT NOT NULL DEFAULT '';
"""


class PgLedger:
    """One initiative's rows in a shared PostgreSQL database."""

    def __init__(self, url: str, initiative: str) -> None:
        self.url = url
        self.initiative = initiative
        self.worker = f"{os.uname().nodename}:{os.getpid()}"
        self._locked = False
        self.db = self._connect()
        try:
            with self.db.transaction():
                # workers starting together would race on CREATE TABLE IF NOT EXISTS
                self.db.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_SPACE,))
                self.db.execute(SCHEMA)
        except psycopg.Error as err:
            raise LedgerError(f"{self.where}: cannot create the ledger tables ({err})") from err

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
        return self._query("SELECT pg_try_advisory_lock(%s, hashtext(%s))",
                           (LOCK_SPACE, self.initiative)).fetchone()

    def unlock(self) -> None:
        if not self._locked:
            return
        self._locked = False
        if not (self.db.closed or self.db.broken):
            self._query("SELECT pg_advisory_unlock(%s, hashtext(%s))",
                        (LOCK_SPACE, self.initiative))

    def close(self) -> None:
        # the server drops the lock with the session anyway, but only once its backend
        # has noticed; unlocking first frees it for the next worker at once
        try:
            self.unlock()
        finally:
            self.db.close()

    # -- deliveries ----------------------------------------------------------------

    def entries(self) -> list[LedgerEntry]:
        rows = self._query(
            "SELECT key, recipient, kind, subject_id, state, at, "
            "CASE WHEN kind = ANY(%s) THEN payload END, error "
            "FROM rygrad_deliveries WHERE initiative = %s",
            (sorted(HISTORY_PAYLOAD_KINDS), self.initiative))
        moment = lru_cache(maxsize=1024)(datetime.fromisoformat)  # a cycle's rows share it
        return [
            LedgerEntry(key, sys.intern(recipient), sys.intern(kind), sys.intern(subject_id),
                        sys.intern(state),
                        moment(at), payload or {}, error)
            for key, recipient, kind, subject_id, state, at, payload, error in rows
        ]

    def begin(self, message: Message, data: bytes, now: datetime, real: datetime) -> None:
        """Record the message as ``sending``: from here a crash leaves it uncertain."""
        self._query(
            """INSERT INTO rygrad_deliveries (initiative, key, recipient, kind, subject_id,
                 state, at, real_at, payload, message, attempts)
               VALUES (%s, %s, %s, %s, %s, 'sending', %s, %s, %s, %s, 1)
               ON CONFLICT (initiative, key, recipient) DO UPDATE SET
                 state = 'sending', at = excluded.at, real_at = excluded.real_at,
                 payload = excluded.payload, message = excluded.message, error = '',
                 attempts = rygrad_deliveries.attempts + 1""",
            (self.initiative, message.key, message.recipient.email, message.kind,
             message.subject_id, now.isoformat(), real, Jsonb(message.payload), data))

    def sent(self, key: str, recipient: str, now: datetime, real: datetime) -> None:
        self._query(
            "UPDATE rygrad_deliveries SET state = 'sent', at = %s, real_at = %s, error = '' "
            "WHERE initiative = %s AND key = %s AND recipient = %s",
            (now.isoformat(), real, self.initiative, key, recipient))

    def failed(self, key: str, recipient: str, error: str) -> None:
        self._set_state("failed", key, recipient, error)

    def retry(self, key: str, recipient: str, error: str) -> None:
        self._set_state("retry", key, recipient, error)

    def lost(self, key: str, recipient: str, error: str) -> None:
        self._set_state("sending", key, recipient, error)

    def _set_state(self, state: str, key: str, recipient: str, error: str) -> None:
        self._query(
            "UPDATE rygrad_deliveries SET state = %s, error = %s "
            "WHERE initiative = %s AND key = %s AND recipient = %s",
            (state, error, self.initiative, key, recipient))

    def record_only(self, messages: Sequence[Message], now: datetime, real: datetime) -> None:
        """Mark as sent without sending, all of them in one transaction."""
        rows = [(self.initiative, m.key, m.recipient.email, m.kind, m.subject_id,
                 now.isoformat(), real, Jsonb(m.payload)) for m in messages]
        try:
            with self.db.transaction(), self.db.cursor() as cursor:
                cursor.executemany(
                    """INSERT INTO rygrad_deliveries (initiative, key, recipient, kind,
                         subject_id, state, at, real_at, payload, record_only)
                       VALUES (%s, %s, %s, %s, %s, 'sent', %s, %s, %s, true)
                       ON CONFLICT (initiative, key, recipient) DO UPDATE SET state = 'sent',
                         at = excluded.at, real_at = excluded.real_at,
                         payload = excluded.payload, record_only = true""", rows)
        except psycopg.Error as err:
            raise LedgerError(f"{self.where}: the ledger database failed "
                              f"({_first_line(err)})") from err

    def uncertain(self) -> list[Uncertain]:
        rows = self._query(
            "SELECT key, recipient, kind, message FROM rygrad_deliveries "
            "WHERE initiative = %s AND state = 'sending' ORDER BY real_at", (self.initiative,))
        return [Uncertain(key, recipient, kind, bytes(data or b""))
                for key, recipient, kind, data in rows]

    def problems(self) -> Iterator[tuple[str, str, str, str]]:
        """(state, key, recipient, error) of every failed, retry or uncertain delivery."""
        yield from self._query(
            "SELECT state, key, recipient, error FROM rygrad_deliveries "
            "WHERE initiative = %s AND state IN ('failed', 'retry', 'sending') "
            "ORDER BY state, key", (self.initiative,))

    def counts(self) -> dict[str, int]:
        return dict(self._query(
            "SELECT state, COUNT(*) FROM rygrad_deliveries WHERE initiative = %s "
            "GROUP BY state", (self.initiative,)))

    def has_key(self, key: str) -> bool:
        return self._query(
            "SELECT 1 FROM rygrad_deliveries WHERE initiative = %s AND key = %s",
            (self.initiative, key)).fetchone() is not None

    # -- cycles ----------------------------------------------------------------

    def start_cycle(self, now: datetime, real: datetime) -> int:
        row = self._query(
            "INSERT INTO rygrad_cycles (initiative, worker, now, started) "
            "VALUES (%s, %s, %s, %s) RETURNING id",
            (self.initiative, self.worker, now.isoformat(), real)).fetchone()
        assert row is not None
        return int(row[0])

    def finish_cycle(self, cycle: int, real: datetime, status: int,
                     summary: dict[str, Any], reason: str = "") -> None:
        self._query(
            "UPDATE rygrad_cycles SET finished = %s, exit_status = %s, summary = %s, "
            "reason = %s WHERE id = %s", (real, status, Jsonb(summary), reason, cycle))

    def last_cycles(self, limit: int = 10) -> list[CycleRecord]:
        rows = self._query(
            "SELECT id, now, started, finished, exit_status, summary, reason "
            "FROM rygrad_cycles WHERE initiative = %s ORDER BY id DESC LIMIT %s",
            (self.initiative, limit))
        return [CycleRecord(i, n, s.isoformat(), f.isoformat() if f else None, e, summary,
                            reason)
                for i, n, s, f, e, summary, reason in rows]

    def _query(self, sql: str, parameters: tuple[Any, ...]) -> psycopg.Cursor[Any]:
        try:
            return self.db.execute(sql, parameters)
        except psycopg.Error as err:
            raise LedgerError(f"{self.where}: the ledger database failed "
                              f"({_first_line(err)})") from err


def _first_line(err: Exception) -> str:
    # as error_text makes it: never "…))" in a message
    return error_text((str(err).strip().splitlines() or [type(err).__name__])[0])


def _without_password(url: str) -> str:
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"
