"""A PostgreSQL server for tests: $RYGRAD_TEST_PG, else the local socket.

    def test_x(pg_url): ...            # a postgresql:// URL that answers

Locally, the tests that need it are skipped when no server answers. CI sets
RYGRAD_TEST_PG_REQUIRED=1 (.ci/run installs and starts PostgreSQL), and then an
unreachable server fails them instead: a skip there would hide a broken set-up.
Tests share the database; each names its initiatives uniquely (`unique_name`).
"""

from __future__ import annotations

import os
import uuid

import pytest

CANDIDATES = ("postgresql:///rygrad_test", "postgresql:///postgres")


def reachable_url() -> tuple[str | None, str]:
    """The first URL that answers, or None and why the last one did not."""
    try:
        import psycopg
    except ImportError as err:
        return None, f"psycopg is not installed ({err})"
    given = os.environ.get("RYGRAD_TEST_PG")
    reason = ""
    for url in (given,) if given else CANDIDATES:
        try:
            with psycopg.connect(url, connect_timeout=3) as connection:
                connection.execute("SELECT 1")
            return url, ""
        except psycopg.Error as err:
            reason = f"{url}: {str(err).strip().splitlines()[0] if str(err) else err!r}"
    return None, reason


@pytest.fixture(scope="session")
def pg_url() -> str:
    url, reason = reachable_url()
    if url is None:
        if os.environ.get("RYGRAD_TEST_PG_REQUIRED") == "1":
            pytest.fail(f"no PostgreSQL server for the tests ({reason}); "
                        "RYGRAD_TEST_PG_REQUIRED=1 forbids skipping them")
        pytest.skip(f"no PostgreSQL server ({reason}); set RYGRAD_TEST_PG to run these")
    return url


def unique_name(prefix: str = "Test") -> str:
    return f"{prefix} {uuid.uuid4().hex[:10]}"
