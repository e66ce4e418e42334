"""What replies (README, "Replies") need of the ledger, on SQLite and PostgreSQL alike:
the initiative's secret, the Message-ID each mail went out with and the mail it finds,
and the audit trail of replies handled."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from automation.core.model import Change, Message, Recipient, ReplyRecord, SentMail
from automation.errors import LedgerError
from automation.ledger import DeliveryLedger, Ledger, find_ledger, open_ledger
from automation.mail.render import message_id
from tests.pg import pg_url, unique_name  # noqa: F401  (the fixture)
from tests.test_cli import small_initiative
from tests.workbook import read_outbox, rygrad, write_config, write_workbook

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=timezone(timedelta(hours=1)))
REAL = datetime(2026, 12, 2, 9, 0, 1, tzinfo=UTC)
ANNE = Recipient("Anne Holm", "anne@example.dk", "da")
BO = Recipient("Bo Berg", "bo@example.dk", "da")

Opener = Callable[[], DeliveryLedger]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The ledger URL of one store: a SQLite file, or the shared test database."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'state' / 'ledger.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def opener(store: str, tmp_path: Path) -> Iterator[Opener]:
    """Opens (and reopens, as a second worker would) one initiative's ledger."""
    initiative = unique_name()
    opened: list[DeliveryLedger] = []

    def open_one() -> DeliveryLedger:
        ledger = open_ledger(store, initiative, tmp_path / "state")
        opened.append(ledger)
        return ledger

    yield open_one
    for ledger in opened:
        ledger.close()


def mail(key: str, recipient: Recipient = ANNE, **payload: object) -> Message:
    return Message(key.partition(":")[0], key, recipient, key.split(":")[1], payload=payload)


def mid(key: str, recipient: Recipient, secret: bytes) -> str:
    """The Message-ID rule, written out: HMAC-SHA256 of key and address."""
    digest = hmac.new(secret, f"{key}\n{recipient.email}".encode(), hashlib.sha256)
    return f"<{digest.hexdigest()[:32]}@ungeloeftet.example>"


# -- the secret ------------------------------------------------------------------------


def test_the_secret_is_made_once_and_kept(opener: Opener) -> None:
    first = opener().secret()
    assert len(first) == 32
    assert opener().secret() == first  # reopened, another worker: the same
    assert first != open_other(opener).secret()


def open_other(opener: Opener) -> DeliveryLedger:
    """Another initiative in the same store."""
    ledger = opener()
    if isinstance(ledger, Ledger):  # SQLite: one file per initiative
        return Ledger(ledger.path.with_name("other.sqlite3"))
    from automation.ledger.pg import PgLedger

    assert isinstance(ledger, PgLedger)
    return PgLedger(ledger.url, unique_name("Other"))


def test_workers_racing_for_the_secret_get_the_same_one(store: str, tmp_path: Path) -> None:
    name = unique_name()
    start = threading.Barrier(4)
    secrets: list[bytes] = []

    def take() -> None:
        ledger = open_ledger(store, name, tmp_path / "state")  # each its own connection
        try:
            start.wait()
            secrets.append(ledger.secret())
        finally:
            ledger.close()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(secrets) == 4 and len(set(secrets)) == 1


def test_a_read_only_open_makes_no_secret(store: str, tmp_path: Path) -> None:
    name = unique_name()
    writer = open_ledger(store, name, tmp_path / "state")
    writer.begin(mail("agenda:M1"), b"bytes", NOW, REAL)  # the ledger exists, no secret yet
    reader = find_ledger(store, name, tmp_path / "state")
    assert reader is not None
    with pytest.raises(LedgerError, match="no secret yet"):
        reader.secret()
    made = writer.secret()
    reader.close()
    reader = find_ledger(store, name, tmp_path / "state")
    assert reader is not None and reader.secret() == made
    reader.close()
    writer.close()


# -- Message-IDs -----------------------------------------------------------------------


def test_a_message_id_is_an_hmac_of_key_and_address() -> None:
    secret = bytes(range(32))
    given = message_id("reminder:H-1", ANNE, "sekretariat@ungeloeftet.example", secret)
    assert given == mid("reminder:H-1", ANNE, secret)
    assert given == message_id("reminder:H-1", ANNE, "s@ungeloeftet.example", secret)
    assert given != message_id("reminder:H-1", BO, "s@ungeloeftet.example", secret)
    # without the secret no one can make it: the old rule (a plain hash) gives another
    plain = hashlib.sha256(b"reminder:H-1\nanne@example.dk").hexdigest()[:32]
    assert plain not in given
    assert given != message_id("reminder:H-1", ANNE, "s@ungeloeftet.example", bytes(32))


# -- the mail a reply answers ----------------------------------------------------------


def test_sent_mail_finds_what_was_or_may_have_been_sent(opener: Opener) -> None:
    ledger = opener()
    secret = ledger.secret()
    states = {"reminder:H-1": "sent", "overdue:H-2": "sending", "agenda:M1": "failed",
              "followup:M2": "retry"}
    for key, state in states.items():
        ledger.begin(mail(key, n=1, navn="Søren"), b"bytes", NOW, REAL,
                     message_id=mid(key, ANNE, secret))
        if state == "sent":
            ledger.sent(key, ANNE.email, NOW, REAL)
        elif state == "failed":
            ledger.failed(key, ANNE.email, "550 no such user")
        elif state == "retry":
            ledger.retry(key, ANNE.email, "451 later")
    ledger.record_only([mail("cancel:M3")], NOW, REAL)
    asked = [mid(key, ANNE, secret) for key in states] + ["<nobody@example.dk>", ""]
    found = opener().sent_mail(asked)
    assert set(found) == {mid("reminder:H-1", ANNE, secret), mid("overdue:H-2", ANNE, secret)}
    assert found[mid("reminder:H-1", ANNE, secret)] == SentMail(
        mid("reminder:H-1", ANNE, secret), "reminder:H-1", ANNE.email, "reminder", "H-1",
        {"n": 1, "navn": "Søren"}, NOW.isoformat())
    # as In-Reply-To may be read without its angle brackets
    bare = mid("reminder:H-1", ANNE, secret).strip("<>")
    assert set(ledger.sent_mail([bare])) == {mid("reminder:H-1", ANNE, secret)}


def test_sent_mail_looks_up_many_ids_in_batches(opener: Opener) -> None:
    ledger = opener()
    messages = [mail(f"reminder:H-{n}") for n in range(1200)]
    ledger.record_only(messages, NOW, REAL)  # the rows, then a Message-ID for each third
    for message in messages[::3]:
        ledger.begin(message, b"x", NOW, REAL, message_id=f"<{message.key}@x>")
        ledger.sent(message.key, ANNE.email, NOW, REAL)
    asked = [f"<reminder:H-{n}@x>" for n in range(1200)]
    found = ledger.sent_mail(asked)
    assert sorted(found) == sorted(f"<reminder:H-{n}@x>" for n in range(0, 1200, 3))
    assert all(found[i].key == i.strip("<>").removesuffix("@x") for i in found)


def test_a_cycle_keeps_the_message_id_of_every_mail(store: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative())
    name = unique_name("Ungeløftet")
    # SQLite: the store's file is the state folder's ledger
    shared = {"state": {"url": store}} if store.startswith("postgresql") else {}
    config = write_config(tmp_path, workbook, initiative={"name": name}, **shared)
    run = rygrad(capsys, "run", "--once", "--config", str(config), "--now", "2026-12-02T09:00")
    assert run.status == 0, run.out + run.err
    sent = read_outbox(tmp_path / "outbox")
    assert len(sent) > 5
    ledger = open_ledger(store, name, tmp_path / "state")
    try:
        secret = ledger.secret()
        found = ledger.sent_mail([str(m["Message-ID"]) for m in sent])
        for message in sent:
            key = str(message["X-Rygrad-Key"])
            recipient = message["To"].addresses[0].addr_spec
            assert str(message["Message-ID"]) == message_id(
                key, Recipient("", recipient, "da"), "sekretariat@ungeloeftet.example", secret)
            assert (found[str(message["Message-ID"])].key,
                    found[str(message["Message-ID"])].recipient) == (key, recipient)
    finally:
        ledger.close()


OLD_SQLITE_DELIVERIES = """
CREATE TABLE deliveries (
    key TEXT NOT NULL, recipient TEXT NOT NULL, kind TEXT NOT NULL,
    subject_id TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed', 'retry')),
    at TEXT NOT NULL, real_at TEXT NOT NULL, payload TEXT NOT NULL DEFAULT '{}',
    message BLOB, error TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,
    record_only INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (key, recipient));
"""
OLD_MAIL = (b"From: s@ungeloeftet.example\r\nTo: anne@example.dk\r\n"
            b"Message-ID:\r\n <0123abcd@ungeloeftet.example>\r\nSubject: x\r\n\r\nbody\r\n")


def test_an_older_sqlite_ledger_learns_its_mails_message_ids(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SQLITE_DELIVERIES)
        db.execute("INSERT INTO deliveries (key, recipient, kind, state, at, real_at, message) "
                   "VALUES ('reminder:H-1', 'anne@example.dk', 'reminder', 'sent', ?, ?, ?)",
                   (NOW.isoformat(), REAL.isoformat(), OLD_MAIL))
    db.close()
    # read as it stands, then opened for writing: the column, filled from the mail
    reader = find_ledger("", "x", tmp_path)
    assert reader is not None and reader.sent_mail(["<0123abcd@ungeloeftet.example>"]) == {}
    reader.close()
    ledger = Ledger(path)
    [found] = ledger.sent_mail(["<0123abcd@ungeloeftet.example>"]).values()
    assert (found.key, found.recipient) == ("reminder:H-1", "anne@example.dk")
    ledger.close()


def test_an_older_postgresql_table_learns_its_mails_message_ids(pg_url: str,  # noqa: F811
                                                                tmp_path: Path) -> None:
    import psycopg

    schema = f"rygrad_replies_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
        db.execute(f"SET search_path TO {schema}")
        db.execute("""CREATE TABLE rygrad_deliveries (
            initiative TEXT NOT NULL, key TEXT NOT NULL, recipient TEXT NOT NULL,
            kind TEXT NOT NULL, subject_id TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL, at TEXT NOT NULL, real_at TIMESTAMPTZ NOT NULL,
            payload JSONB NOT NULL DEFAULT '{}', message BYTEA,
            error TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,
            record_only BOOLEAN NOT NULL DEFAULT false,
            PRIMARY KEY (initiative, key, recipient))""")
        for initiative in ("A", "B"):
            db.execute("INSERT INTO rygrad_deliveries (initiative, key, recipient, kind, "
                       "state, at, real_at, message) VALUES (%s, 'reminder:H-1', "
                       "'anne@example.dk', 'reminder', 'sent', %s, now(), %s)",
                       (initiative, NOW.isoformat(), OLD_MAIL))
    url = f"{pg_url}{'&' if '?' in pg_url else '?'}options=-csearch_path%3D{schema}"
    try:
        first = open_ledger(url, "A", tmp_path)
        first.close()
        # B's rows were filled when A's worker added the column to the shared table
        other = open_ledger(url, "B", tmp_path)
        [found] = other.sent_mail(["<0123abcd@ungeloeftet.example>"]).values()
        assert (found.key, found.recipient) == ("reminder:H-1", "anne@example.dk")
        other.close()
    finally:
        with psycopg.connect(pg_url, autocommit=True) as db:
            db.execute(f"DROP SCHEMA {schema} CASCADE")


# -- the audit trail -------------------------------------------------------------------


def reply(n: int, decision: str = "applied", at: datetime = REAL, **fields: object
          ) -> ReplyRecord:
    values: dict[str, object] = dict(
        message_id=f"<reply-{n}@mail.example>", sender=ANNE.email,
        answered_key="reminder:H-1", kind="action", subject_id="H-1", decision=decision,
        reason="", changes=(), at=at, payload={})
    values.update(fields)
    return ReplyRecord(**values)  # type: ignore[arg-type]


def test_a_reply_is_recorded_once_and_read_back_whole(opener: Opener) -> None:
    ledger = opener()
    record = reply(1, changes=(Change("actions", "H-1", "status", "I gang", "Færdig"),
                               Change("actions", "H-1", "due", "", "15-03-2027")),
                   reason="»færdig« fra Anne", payload={"words": ["færdig"], "n": 2},
                   at=datetime(2026, 12, 2, 10, 30, 5, 120_000, tzinfo=UTC))
    assert ledger.record_reply(record) is True
    assert ledger.record_reply(reply(1, decision="conflict")) is False  # the first stays
    assert opener().replies() == [record]


def test_replies_known_and_replies_since(opener: Opener) -> None:
    ledger = opener()
    later = reply(2, "not_understood", at=REAL + timedelta(hours=2), kind="", subject_id="",
                  answered_key="")
    earlier = reply(3, "calendar", at=REAL + timedelta(hours=1), kind="meeting")
    first = reply(4, "untrusted", at=REAL)
    for record in (later, earlier, first):
        ledger.record_reply(record)
    assert ledger.replies() == [first, earlier, later]  # oldest first
    assert ledger.replies(since=REAL + timedelta(hours=1)) == [earlier, later]
    assert ledger.replies(since=REAL + timedelta(hours=3)) == []
    asked = [f"<reply-{n}@mail.example>" for n in range(1, 1100)]
    assert ledger.replies_known(asked) == {r.message_id for r in (later, earlier, first)}
    assert ledger.replies_known([]) == set()


def test_replies_are_kept_per_initiative(opener: Opener) -> None:
    ledger = opener()
    ledger.record_reply(reply(1))
    other = open_other(opener)
    try:
        assert other.replies() == [] and other.replies_known(["<reply-1@mail.example>"]) == set()
        assert other.record_reply(reply(1)) is True  # the same reply, another initiative
    finally:
        other.close()
