"""A ledger made by an older rygrad (no `reason` on its cycles) is brought up to date
when it is opened, on both stores, keeping its rows; a cycle that could not run is then
recorded with its reason."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime

from automation.ledger import Ledger, open_ledger
from tests.pg import pg_url, unique_name  # noqa: F401  (the fixture)

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

# the cycles table as the first release created it
OLD_SQLITE_CYCLES = """
CREATE TABLE cycles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    now TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    exit_status INTEGER,
    summary TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO cycles (now, started, finished, exit_status, summary)
VALUES ('2026-12-01T09:00:00+01:00', '2026-12-01T08:00:00+00:00',
        '2026-12-01T08:00:05+00:00', 0, '{"sent": 4}');
"""
OLD_PG_CYCLES = """
CREATE TABLE rygrad_cycles (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    initiative TEXT NOT NULL,
    worker TEXT NOT NULL DEFAULT '',
    now TEXT NOT NULL,
    started TIMESTAMPTZ NOT NULL,
    finished TIMESTAMPTZ,
    exit_status INTEGER,
    summary JSONB NOT NULL DEFAULT '{}'
);
"""


def test_an_old_sqlite_ledger_gains_the_reason_column(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SQLITE_CYCLES)
    ledger = Ledger(path)
    [old] = ledger.last_cycles()
    assert (old.exit_status, old.summary, old.reason) == (0, {"sent": 4}, "")
    cycle = ledger.start_cycle(NOW, NOW)
    ledger.finish_cycle(cycle, NOW, 2, {}, reason="Handlinger: the column is missing.")
    ledger.close()
    newest, _ = Ledger(path).last_cycles()  # opening it again changes nothing
    assert (newest.exit_status, newest.reason) == (2, "Handlinger: the column is missing.")


def test_an_old_postgresql_table_gains_the_reason_column(pg_url, tmp_path):  # noqa: F811
    import psycopg

    # a schema of its own, so that the tables the other tests share are left alone
    schema = f"rygrad_migrate_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
        db.execute(f"SET search_path TO {schema}")
        db.execute(OLD_PG_CYCLES)
        db.execute("INSERT INTO rygrad_cycles (initiative, now, started, finished, "
                   "exit_status) VALUES ('Old', '2026-12-01T09:00:00+01:00', now(), now(), 0)")
    separator = "&" if "?" in pg_url else "?"
    url = f"{pg_url}{separator}options=-csearch_path%3D{schema}"
    try:
        name = unique_name()
        ledger = open_ledger(url, name, tmp_path)
        cycle = ledger.start_cycle(NOW, NOW)
        ledger.finish_cycle(cycle, NOW, 2, {}, reason="the sheet is not shared.")
        [record] = ledger.last_cycles()
        assert (record.exit_status, record.reason) == (2, "the sheet is not shared.")
        ledger.close()
        old = open_ledger(url, "Old", tmp_path)
        [kept] = old.last_cycles()
        assert (kept.exit_status, kept.reason) == (0, "")
        old.close()
    finally:
        with psycopg.connect(pg_url, autocommit=True) as db:
            db.execute(f"DROP SCHEMA {schema} CASCADE")
