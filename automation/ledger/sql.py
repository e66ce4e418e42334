"""The ledger's SQL, written once for SQLite and PostgreSQL (as huey's ``BaseSqlStorage``).

`SqlLedger` holds every statement a cycle, `serve` and `status` run: the states of a
delivery (README, "Delivery"), record-only, what is uncertain or failed, and the cycles.
A dialect is a thin subclass (`automation.ledger.sqlite.Ledger`,
`automation.ledger.pg.PgLedger`) that opens the connection, creates its tables, holds
the cycle lock, and says what differs: its tables' names, its parameter marker, the
columns that set one initiative's rows apart in a shared database (none in SQLite: one
file per initiative), and how a time or a JSON value is stored.

The statements are templates: ``{deliveries}`` and ``{cycles}`` are the tables,
``{mine}`` selects this initiative's rows, ``{scope}``/``{scope_values}`` insert its
columns, and ``?`` is the dialect's parameter marker. The parameters of ``{mine}`` and
``{scope_values}`` are ``*self.scope_values`` at the same place.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from functools import cache, lru_cache
from typing import Any, ClassVar

from automation.core.model import (
    HISTORY_PAYLOAD_KINDS,
    Change,
    LedgerEntry,
    Message,
    ReplyRecord,
    SentMail,
)
from automation.errors import LedgerError

# columns added since the first release: (table, column, definition), added to an
# older ledger when it is opened; each dialect names the table its own way
MIGRATIONS = (("cycles", "reason", "TEXT NOT NULL DEFAULT ''"),
              ("deliveries", "message_id", "TEXT NOT NULL DEFAULT ''"),
              # past state.keep_messages_days: bytes, error and most of the payload erased
              ("deliveries", "trimmed", "BOOLEAN NOT NULL DEFAULT false"))
# what a delivery's payload keeps past state.keep_messages_days: the fields the planner
# reads back (a meeting's calendar history: its SEQUENCE, time and place, which an update
# or a cancellation is compared with) and the due date a reply to a reminder is checked
# against; none of them names a person
KEPT_PAYLOAD = ("seq", "date", "start", "end", "location", "link", "update", "reinstated",
                "due")
# what a reply's payload keeps: the meeting answers the sheet's answer columns are
# rebuilt from (meeting, attendee's address, answer, SEQUENCE, time)
KEPT_REPLY_PAYLOAD = ("meeting_answers",)
ERASED = "[slettet]"  # what `forget` leaves where a name or address stood
SECRET_NAME = "initiative"  # the per-initiative secret's row in the secrets table
SECRET_BYTES = 32
BATCH = 500  # ids in one IN list: well under every driver's parameter limit


@dataclass(frozen=True)
class Uncertain:
    key: str
    recipient: str
    kind: str
    message: bytes


@dataclass(frozen=True)
class StoredDelivery:
    """A delivery's whole row, for `export` and `forget` (README, "Personal data")."""

    key: str
    recipient: str
    kind: str
    subject_id: str
    state: str
    at: str
    payload: dict[str, Any]
    message: bytes | None
    message_id: str
    error: str


@dataclass(frozen=True)
class CycleRecord:
    id: int
    now: str
    started: str
    finished: str | None
    exit_status: int | None
    summary: dict[str, Any]
    reason: str = ""  # why it could not run (exit status 2), in one sentence


_KINDS_READ_BACK = sorted(HISTORY_PAYLOAD_KINDS)
_ENTRIES = ("SELECT key, recipient, kind, subject_id, state, at, CASE WHEN kind IN ("
            + ", ".join("?" * len(_KINDS_READ_BACK))
            + ") THEN payload END, error FROM {deliveries} WHERE {mine}")
_BEGIN = """INSERT INTO {deliveries} ({scope}key, recipient, kind, subject_id, state, at,
              real_at, payload, message, message_id, attempts)
            VALUES ({scope_values}?, ?, ?, ?, 'sending', ?, ?, ?, ?, ?, 1)
            ON CONFLICT ({scope}key, recipient) DO UPDATE SET
              state = 'sending', at = excluded.at, real_at = excluded.real_at,
              payload = excluded.payload, message = excluded.message,
              message_id = excluded.message_id, error = '', trimmed = false,
              attempts = {deliveries}.attempts + 1"""
_RECORD_ONLY = """INSERT INTO {deliveries} ({scope}key, recipient, kind, subject_id, state,
                    at, real_at, payload, record_only)
                  VALUES ({scope_values}?, ?, ?, ?, 'sent', ?, ?, ?, true)
                  ON CONFLICT ({scope}key, recipient) DO UPDATE SET state = 'sent',
                    at = excluded.at, real_at = excluded.real_at,
                    payload = excluded.payload, record_only = true, trimmed = false"""


class SqlLedger:
    """One initiative's deliveries and cycles, in SQL both databases speak."""

    deliveries: ClassVar[str] = "deliveries"
    cycles: ClassVar[str] = "cycles"
    replies_table: ClassVar[str] = "replies"
    secrets: ClassVar[str] = "secrets"
    forgotten_table: ClassVar[str] = "forgotten"
    param: ClassVar[str] = "?"
    # the columns that key one initiative's rows in tables many share, and those a
    # cycle's row also carries; their values are `scope_values` and `cycle_values`
    scope: ClassVar[tuple[str, ...]] = ()
    cycle_scope: ClassVar[tuple[str, ...]] = ()
    # what the driver raises; turned into a LedgerError that names the ledger
    errors: ClassVar[tuple[type[Exception], ...]] = ()
    scope_values: tuple[Any, ...] = ()
    cycle_values: tuple[Any, ...] = ()
    # opened for reading only (`status`, `plan`): creates nothing, not even the secret
    read_only: bool = False
    _secret: bytes | None = None

    # -- what a dialect provides -------------------------------------------------------

    def _execute(self, sql: str, parameters: Sequence[Any]) -> Any:
        """Run one statement, committed at once; the driver's cursor."""
        raise NotImplementedError

    def _execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for every row, all in one transaction."""
        raise NotImplementedError

    def _insert_id(self, sql: str, parameters: Sequence[Any]) -> int:
        """Insert one row; the id the database gave it."""
        raise NotImplementedError

    def _failure(self, err: Exception, verb: str) -> str:
        """One sentence for a driver error while doing ``verb`` ("read", "write")."""
        raise NotImplementedError

    def _damaged(self, err: Exception) -> str:
        """One sentence for a stored value that is not what rygrad wrote."""
        raise NotImplementedError

    def _time(self, moment: datetime) -> Any:
        """A real-clock time as the database stores it: ISO 8601 text in UTC (text in
        one offset sorts as time does)."""
        return moment.astimezone(UTC).isoformat()

    def _time_text(self, stored: Any) -> str:
        """A stored real-clock time as ISO 8601 text in UTC."""
        return str(stored)

    def _json(self, value: Any) -> Any:
        """A payload or summary as the database stores it."""
        raise NotImplementedError

    def _from_json(self, stored: Any) -> Any:
        """A stored payload or summary as Python values."""
        raise NotImplementedError

    # -- deliveries ----------------------------------------------------------------------

    def entries(self) -> list[LedgerEntry]:
        """Every row of this initiative, in no particular order. A payload is read back
        only for the kinds whose history the rules compare (HISTORY_PAYLOAD_KINDS)."""
        rows = self._rows(_ENTRIES, (*_KINDS_READ_BACK, *self.scope_values))
        moment = lru_cache(maxsize=1024)(datetime.fromisoformat)  # a cycle's rows share it
        intern, loads = sys.intern, self._from_json
        try:
            return [
                LedgerEntry(key, intern(recipient), intern(kind), intern(subject_id),
                            intern(state), moment(at), loads(payload) if payload else {},
                            error)
                for key, recipient, kind, subject_id, state, at, payload, error in rows
            ]
        except (ValueError, TypeError) as err:
            # damage the database cannot see: a value that is no longer what was written
            raise LedgerError(self._damaged(err)) from err

    def begin(self, message: Message, data: bytes, now: datetime, real: datetime,
              message_id: str = "") -> None:
        """Record the message as ``sending``: from here a crash leaves it uncertain.
        ``message_id`` is its Message-ID header ("<…@…>"), by which a reply finds it."""
        self._write(_BEGIN, (*self.scope_values, message.key, message.recipient.email,
                             message.kind, message.subject_id, now.isoformat(),
                             self._time(real), self._json(message.payload), data,
                             message_id))

    def sent(self, key: str, recipient: str, now: datetime, real: datetime) -> None:
        self._write("UPDATE {deliveries} SET state = 'sent', at = ?, real_at = ?, error = '' "
                    "WHERE {mine} AND key = ? AND recipient = ?",
                    (now.isoformat(), self._time(real), *self.scope_values, key, recipient))

    def failed(self, key: str, recipient: str, error: str) -> None:
        """Refused for good (a 5xx): never tried again."""
        self._set_state("failed", key, recipient, error)

    def retry(self, key: str, recipient: str, error: str) -> None:
        """Not accepted this time (a 4xx, an unusable transport): due again next cycle."""
        self._set_state("retry", key, recipient, error)

    def lost(self, key: str, recipient: str, error: str) -> None:
        """Handed over, then the connection was lost before the server's answer: it may
        or may not have left, so it is uncertain (``sending``), with the reason —
        reported by `status` and the digest, resent only on request, whatever state
        the row was in."""
        self._set_state("sending", key, recipient, error)

    def _set_state(self, state: str, key: str, recipient: str, error: str) -> None:
        self._write("UPDATE {deliveries} SET state = ?, error = ? "
                    "WHERE {mine} AND key = ? AND recipient = ?",
                    (state, error, *self.scope_values, key, recipient))

    def record_only(self, messages: Sequence[Message], now: datetime, real: datetime) -> None:
        """Mark as sent without sending (going live on a sheet with history), all of them
        in one transaction: one commit, not one per message (a sheet with 100,000 rows)."""
        scope, at, real_at = self.scope_values, now.isoformat(), self._time(real)
        rows = [(*scope, m.key, m.recipient.email, m.kind, m.subject_id, at, real_at,
                 self._json(m.payload)) for m in messages]
        try:
            self._execute_many(self._sql(_RECORD_ONLY), rows)
        except self.errors as err:
            raise LedgerError(self._failure(err, "write")) from err

    def uncertain(self) -> list[Uncertain]:
        """The rows left ``sending``, oldest first (then by key and recipient)."""
        rows = self._rows("SELECT real_at, key, recipient, kind, message FROM {deliveries} "
                          "WHERE {mine} AND state = 'sending'", self.scope_values)
        # sorted here, not by ORDER BY: the same order whatever the database's collation
        ordered = sorted((self._time_text(real_at), key, recipient, kind, data)
                         for real_at, key, recipient, kind, data in rows)
        return [Uncertain(key, recipient, kind, bytes(data or b""))
                for _, key, recipient, kind, data in ordered]

    def problems(self) -> Iterator[tuple[str, str, str, str]]:
        """(state, key, recipient, error) of every failed, retry or uncertain delivery,
        by state, key and recipient."""
        yield from sorted(self._rows(
            "SELECT state, key, recipient, error FROM {deliveries} "
            "WHERE {mine} AND state IN ('failed', 'retry', 'sending')", self.scope_values))

    def counts(self) -> dict[str, int]:
        """How many rows are in each state, by state."""
        return dict(sorted(self._rows(
            "SELECT state, COUNT(*) FROM {deliveries} WHERE {mine} GROUP BY state",
            self.scope_values)))

    def has_key(self, key: str) -> bool:
        return any(self._rows("SELECT 1 FROM {deliveries} WHERE {mine} AND key = ? LIMIT 1",
                              (*self.scope_values, key)))

    def sent_mail(self, message_ids: Sequence[str]) -> dict[str, SentMail]:
        """The mails sent (or uncertain: the partner may have them) under these
        Message-IDs, by Message-ID in its header form "<…@…>" (an id given without its
        angle brackets is looked up with them). Ids the ledger does not hold are absent."""
        wanted = sorted({_header_id(i) for i in message_ids if i.strip()})
        found: dict[str, SentMail] = {}
        loads = self._from_json
        for batch in _batches(wanted):
            rows = self._rows(
                "SELECT message_id, key, recipient, kind, subject_id, payload, at "
                "FROM {deliveries} WHERE {mine} AND state IN ('sent', 'sending') "
                f"AND message_id IN ({', '.join('?' * len(batch))})",
                (*self.scope_values, *batch))
            for message_id, key, recipient, kind, subject_id, payload, at in rows:
                found[message_id] = SentMail(message_id, key, recipient, kind, subject_id,
                                             loads(payload) if payload else {}, at)
        return found

    # -- the per-initiative secret -----------------------------------------------------

    def secret(self) -> bytes:
        """The initiative's secret: 32 random bytes made on first use and kept here,
        the key of its Message-IDs' HMAC (and of a forgotten address's). Every worker
        of the initiative reads the same one: two racing to make it both keep the
        first written. A ledger opened for reading only makes none."""
        if self._secret is None:
            if not self.read_only:
                self._write("INSERT INTO {secrets} ({scope}name, value) "
                            "VALUES ({scope_values}?, ?) ON CONFLICT DO NOTHING",
                            (*self.scope_values, SECRET_NAME, os.urandom(SECRET_BYTES)))
            rows = list(self._rows("SELECT value FROM {secrets} WHERE {mine} AND name = ?",
                                   (*self.scope_values, SECRET_NAME)))
            if not rows:
                raise LedgerError(f"{self.where}: the ledger has no secret yet (the first "
                                  "cycle makes it); run `rygrad run --once` first")
            self._secret = bytes(rows[0][0])
        return self._secret

    @property
    def where(self) -> str:
        raise NotImplementedError

    # -- replies -------------------------------------------------------------------------

    def record_reply(self, record: ReplyRecord) -> bool:
        """Keep one handled reply (the audit trail). A reply is recorded once: a second
        record of the same Message-ID changes nothing and answers False."""
        changes = [[c.tab, c.row_id, c.column, c.old, c.new] for c in record.changes]
        cursor = self._write(
            "INSERT INTO {replies} ({scope}message_id, sender, answered_key, kind, "
            "subject_id, decision, reason, changes, at, payload) "
            "VALUES ({scope_values}?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (*self.scope_values, record.message_id, record.sender, record.answered_key,
             record.kind, record.subject_id, record.decision, record.reason,
             self._json(changes), self._time(record.at), self._json(record.payload)))
        return bool(cursor.rowcount == 1)

    def replies_known(self, message_ids: Sequence[str]) -> set[str]:
        """Which of these replies' Message-IDs are recorded already."""
        known: set[str] = set()
        for batch in _batches(sorted(set(message_ids))):
            known.update(row[0] for row in self._rows(
                "SELECT message_id FROM {replies} WHERE {mine} "
                f"AND message_id IN ({', '.join('?' * len(batch))})",
                (*self.scope_values, *batch)))
        return known

    def replies(self, since: datetime | None = None) -> list[ReplyRecord]:
        """The replies handled (at or after ``since``), oldest first."""
        sql = ("SELECT message_id, sender, answered_key, kind, subject_id, decision, reason, "
               "changes, at, payload FROM {replies} WHERE {mine}")
        parameters: tuple[Any, ...] = self.scope_values
        if since is not None:
            sql += " AND at >= ?"
            parameters = (*parameters, self._time(since))
        loads = self._from_json
        try:
            records = [
                ReplyRecord(message_id, sender, answered_key, kind, subject_id, decision,
                            reason, tuple(Change(*map(str, c)) for c in loads(changes)),
                            datetime.fromisoformat(self._time_text(at)), loads(payload))
                for message_id, sender, answered_key, kind, subject_id, decision, reason,
                changes, at, payload in self._rows(sql, parameters)]
        except (ValueError, TypeError) as err:
            raise LedgerError(self._damaged(err)) from err
        return sorted(records, key=lambda r: (r.at, r.message_id))

    def _backfill_message_ids(self) -> None:
        """An older ledger's rows get the Message-ID their stored mail carries, so that
        replies to mail sent before the column existed are recognised too: every
        initiative's rows, when the column was just added to a shared table."""
        rows = list(self._rows("SELECT {scope}key, recipient, message FROM {deliveries} "
                               "WHERE message_id = '' AND message IS NOT NULL", ()))
        width = len(self.scope)
        found = [(i, *row[:width + 2]) for row in rows
                 if (i := header_message_id(bytes(row[width + 2])))]
        if found:
            try:
                self._execute_many(self._sql(
                    "UPDATE {deliveries} SET message_id = ? WHERE "
                    + "".join(f"{name} = ? AND " for name in self.scope)
                    + "key = ? AND recipient = ?"), found)
            except self.errors as err:
                raise LedgerError(self._failure(err, "write")) from err

    # -- personal data (README, "Personal data (GDPR)") -------------------------------

    def expire(self, before: datetime) -> int:
        """Erase what a delivery or reply older than ``before`` no longer needs: a sent,
        failed or retried delivery keeps its key, recipient, state, times, Message-ID and
        the payload fields of KEPT_PAYLOAD, and loses its bytes and error text (a retry is
        rendered anew when it is sent); an uncertain one keeps its bytes until it is
        resolved. A reply keeps its Message-ID, sender,
        what it answered, the decision, time and the cells it changed, and loses its
        reason (which may quote the mail) and all its payload but the meeting answers.
        How many rows were trimmed; the dialect then frees the space (`reclaim`)."""
        cutoff = before.isoformat()
        rows = list(self._rows(
            "SELECT key, recipient, payload FROM {deliveries} WHERE {mine} AND NOT trimmed "
            "AND state IN ('sent', 'failed', 'retry') AND at < ?",
            (*self.scope_values, cutoff)))
        loads, dumps = self._from_json, self._json
        trimmed = [(dumps(_kept(loads(payload) if payload else {}, KEPT_PAYLOAD)),
                    *self.scope_values, key, recipient) for key, recipient, payload in rows]
        replies = [
            (dumps(_kept(record.payload, KEPT_REPLY_PAYLOAD)), *self.scope_values,
             record.message_id)
            for record in self.replies()
            if record.at < before and (record.reason or set(record.payload)
                                       - set(KEPT_REPLY_PAYLOAD))]
        try:
            if trimmed:
                self._execute_many(self._sql(
                    "UPDATE {deliveries} SET payload = ?, message = NULL, error = '', "
                    "trimmed = true WHERE {mine} AND key = ? AND recipient = ?"), trimmed)
            if replies:
                self._execute_many(self._sql(
                    "UPDATE {replies} SET payload = ?, reason = '' "
                    "WHERE {mine} AND message_id = ?"), replies)
        except self.errors as err:
            raise LedgerError(self._failure(err, "write")) from err
        if trimmed or replies:
            self.reclaim()
        return len(trimmed) + len(replies)

    def reclaim(self, thorough: bool = False) -> None:
        """Make erased data really gone from the database's files (the dialect's way);
        ``thorough`` after `forget`."""

    def stored(self) -> Iterator[StoredDelivery]:
        """Every delivery of this initiative, whole (for `export` and `forget`)."""
        loads = self._from_json
        for key, recipient, kind, subject_id, state, at, payload, message, message_id, \
                error in self._rows(
                    "SELECT key, recipient, kind, subject_id, state, at, payload, message, "
                    "message_id, error FROM {deliveries} WHERE {mine}", self.scope_values):
            yield StoredDelivery(key, recipient, kind, subject_id, state, at,
                                 loads(payload) if payload else {},
                                 None if message is None else bytes(message), message_id,
                                 error)

    def rewrite(self, old: StoredDelivery, new: StoredDelivery) -> None:
        """Replace what a delivery holds (`forget`); its key stays, its recipient may
        become an HMAC."""
        self._write("UPDATE {deliveries} SET recipient = ?, payload = ?, message = ?, "
                    "error = ? WHERE {mine} AND key = ? AND recipient = ?",
                    (new.recipient, self._json(new.payload), new.message, new.error,
                     *self.scope_values, old.key, old.recipient))

    def rewrite_reply(self, old: ReplyRecord, new: ReplyRecord) -> None:
        changes = [[c.tab, c.row_id, c.column, c.old, c.new] for c in new.changes]
        self._write("UPDATE {replies} SET sender = ?, reason = ?, changes = ?, payload = ? "
                    "WHERE {mine} AND message_id = ?",
                    (new.sender, new.reason, self._json(changes), self._json(new.payload),
                     *self.scope_values, old.message_id))

    def cycle_texts(self) -> list[tuple[int, dict[str, Any], str]]:
        """(id, summary, reason) of every cycle: `forget` looks for an address in them."""
        return [(int(i), self._from_json(summary), reason) for i, summary, reason in
                self._rows("SELECT id, summary, reason FROM {cycles} WHERE {mine}",
                           self.scope_values)]

    def rewrite_cycle(self, cycle: int, summary: dict[str, Any], reason: str) -> None:
        self._write("UPDATE {cycles} SET summary = ?, reason = ? WHERE id = ?",
                    (self._json(summary), reason, cycle))

    def remember_forgotten(self, digest: str) -> None:
        """Note an address's HMAC, so a cycle that finds it in People again re-links
        its deliveries (`relink`)."""
        self._write("INSERT INTO {forgotten} ({scope}digest) VALUES ({scope_values}?) "
                    "ON CONFLICT DO NOTHING", (*self.scope_values, digest))

    def forgotten(self) -> set[str]:
        return {row[0] for row in self._rows("SELECT digest FROM {forgotten} WHERE {mine}",
                                             self.scope_values)}

    def relink(self, digest: str, address: str) -> int:
        """A forgotten person is back in People: their old deliveries (keys, states,
        times; nothing else was kept) are theirs again, so nothing old is sent twice."""
        cursor = self._write("UPDATE {deliveries} SET recipient = ? "
                             "WHERE {mine} AND recipient = ? AND key NOT IN ("
                             "SELECT key FROM {deliveries} WHERE {mine} AND recipient = ?)",
                             (address, *self.scope_values, digest, *self.scope_values,
                              address))
        # a key the address has a row of its own for already: that row tells the planner
        self._write("DELETE FROM {deliveries} WHERE {mine} AND recipient = ?",
                    (*self.scope_values, digest))
        self._write("UPDATE {replies} SET sender = ? WHERE {mine} AND sender = ?",
                    (address, *self.scope_values, digest))
        self._write("DELETE FROM {forgotten} WHERE {mine} AND digest = ?",
                    (*self.scope_values, digest))
        return int(cursor.rowcount or 0)

    # -- cycles ----------------------------------------------------------------

    def start_cycle(self, now: datetime, real: datetime) -> int:
        sql = self._sql("INSERT INTO {cycles} ({cycle_scope}now, started) "
                        "VALUES ({cycle_values}?, ?)")
        try:
            return self._insert_id(sql, (*self.cycle_values, now.isoformat(),
                                         self._time(real)))
        except self.errors as err:
            raise LedgerError(self._failure(err, "write")) from err

    def finish_cycle(self, cycle: int, real: datetime, status: int,
                     summary: dict[str, Any], reason: str = "") -> None:
        self._write("UPDATE {cycles} SET finished = ?, exit_status = ?, summary = ?, "
                    "reason = ? WHERE id = ?",
                    (self._time(real), status, self._json(summary), reason, cycle))

    def last_cycles(self, limit: int = 10) -> list[CycleRecord]:
        """This initiative's last ``limit`` cycles, newest first."""
        rows = self._rows(
            "SELECT id, now, started, finished, exit_status, summary, reason FROM {cycles} "
            "WHERE {mine} ORDER BY id DESC LIMIT ?", (*self.scope_values, limit))
        return [CycleRecord(int(i), n, self._time_text(s),
                            None if f is None else self._time_text(f), e,
                            self._from_json(summary), reason)
                for i, n, s, f, e, summary, reason in rows]

    # -- running statements ------------------------------------------------------------

    def _sql(self, template: str) -> str:
        return _render(template, (self.deliveries, self.cycles, self.replies_table,
                                  self.secrets, self.forgotten_table), self.param,
                       self.scope, self.cycle_scope)

    def _write(self, template: str, parameters: Sequence[Any]) -> Any:
        try:
            return self._execute(self._sql(template), parameters)
        except self.errors as err:
            raise LedgerError(self._failure(err, "write")) from err

    def _rows(self, template: str, parameters: Sequence[Any]) -> Iterator[Any]:
        """The rows of a query, as they come (a long history is not held twice)."""
        try:
            yield from self._execute(self._sql(template), parameters)
        except self.errors as err:
            raise LedgerError(self._failure(err, "read")) from err


def header_message_id(data: bytes) -> str:
    """The Message-ID header of a stored mail ("<…@…>"), "" when it has none."""
    value = BytesHeaderParser(policy=compat32).parsebytes(data).get("Message-ID", "")
    return " ".join(str(value).split())


def _kept(payload: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    return {name: payload[name] for name in names if name in payload}


def _header_id(message_id: str) -> str:
    text = message_id.strip()
    return text if text.startswith("<") else f"<{text}>"


def _batches(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), BATCH):
        yield items[start:start + BATCH]


@cache
def _render(template: str, tables: tuple[str, str, str, str, str], param: str,
            scope: tuple[str, ...], cycle_scope: tuple[str, ...]) -> str:
    """A statement template in a dialect's terms (once per dialect and statement)."""
    def columns(names: tuple[str, ...]) -> str:
        return "".join(f"{name}, " for name in names)

    deliveries, cycles, replies, secrets, forgotten = tables
    return template.format(
        deliveries=deliveries, cycles=cycles, replies=replies, secrets=secrets,
        forgotten=forgotten,
        mine=" AND ".join(f"{name} = ?" for name in scope) or "true",
        scope=columns(scope), scope_values="?, " * len(scope),
        cycle_scope=columns(cycle_scope), cycle_values="?, " * len(cycle_scope),
    ).replace("?", param)
