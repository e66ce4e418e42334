"""The ledger: one row per (message key, recipient) — the truth of what was sent.

States (README, "Delivery"): ``sending`` is written before the transport gets the message
and ``sent`` after the server accepted it, each committed at once. A row still
``sending`` when no cycle is running is uncertain: the worker died between the
two, or the connection was lost after the message was handed over, and it may or may
not have left. ``failed`` is permanent (the server refused it); ``retry`` is a
temporary failure, due again next cycle.

Two stores keep these semantics behind one protocol, `DeliveryLedger`: SQLite in
the state folder (one worker; `automation.ledger.sqlite`) and PostgreSQL (several
workers sharing initiatives; `automation.ledger.pg`), both running the same statements
(`automation.ledger.sql`). Each also holds the initiative's cycle lock: a cycle runs
only while its worker holds it, so no two workers ever run the same initiative's cycle
at once, and a worker that dies releases it with its process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from automation.core.model import LedgerEntry, Message, ReplyRecord, SentMail
from automation.errors import LedgerError
from automation.ledger.sql import CycleRecord, StoredDelivery, Uncertain
from automation.ledger.sqlite import LEDGER_FILE, Ledger

__all__ = ["LEDGER_FILE", "CycleRecord", "DeliveryLedger", "Ledger", "LedgerEntry",
           "Uncertain", "find_ledger", "is_postgres", "open_ledger", "secure_dir",
           "sqlite_path"]


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
    def begin(self, message: Message, data: bytes, now: datetime, real: datetime,
              message_id: str = "") -> None: ...
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

    # replies (README, "Replies"): the mails they answer, and the audit trail
    def secret(self) -> bytes:
        """The initiative's secret (32 bytes, made on first use, shared by its workers)."""
        ...

    def sent_mail(self, message_ids: Sequence[str]) -> dict[str, SentMail]: ...
    def record_reply(self, record: ReplyRecord) -> bool: ...
    def replies_known(self, message_ids: Sequence[str]) -> set[str]: ...
    def replies(self, since: datetime | None = None) -> list[ReplyRecord]: ...

    # personal data (README, "Personal data (GDPR)"): retention, export and forget
    def expire(self, before: datetime) -> int: ...
    def reclaim(self, thorough: bool = False) -> None: ...
    def stored(self) -> Iterator[StoredDelivery]: ...
    def rewrite(self, old: StoredDelivery, new: StoredDelivery) -> None: ...
    def rewrite_reply(self, old: ReplyRecord, new: ReplyRecord) -> None: ...
    def cycle_texts(self) -> list[tuple[int, dict[str, Any], str]]: ...
    def rewrite_cycle(self, cycle: int, summary: dict[str, Any], reason: str) -> None: ...
    def remember_forgotten(self, digest: str) -> None: ...
    def forgotten(self) -> set[str]: ...
    def relink(self, digest: str, address: str) -> int: ...


def secure_dir(path: Path) -> None:
    """Create a folder readable by its owner only (ledger, outbox)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def sqlite_path(url: str) -> Path:
    """The file of a "sqlite://" + absolute path URL (config.py resolved relative ones)."""
    return Path(url.removeprefix("sqlite://"))


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def open_ledger(url: str, initiative: str, state_dir: Path, read_only: bool = False
                ) -> DeliveryLedger:
    """The ledger that `state.url` names ("" = SQLite in the state folder)."""
    if is_postgres(url):
        try:
            from automation.ledger.pg import PgLedger
        except ImportError as err:
            raise LedgerError(f"state.url is a PostgreSQL database but {err.name or 'psycopg'} "
                              "is not installed; install it with: pip install "
                              "'rygrad[postgres]'") from err
        return PgLedger(url, initiative, read_only=read_only)
    return Ledger(sqlite_path(url) if url else state_dir / LEDGER_FILE, read_only=read_only)


def find_ledger(url: str, initiative: str, state_dir: Path) -> DeliveryLedger | None:
    """The ledger if there is one, else None: `plan` and `status` create no SQLite file.
    (In PostgreSQL the tables are shared, so opening them creates nothing of note.)"""
    if is_postgres(url):
        return open_ledger(url, initiative, state_dir, read_only=True)
    path = sqlite_path(url) if url else state_dir / LEDGER_FILE
    return Ledger(path, read_only=True) if path.exists() else None
