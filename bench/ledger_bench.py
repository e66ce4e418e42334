"""The ledger's own cost, on SQLite and PostgreSQL: record-only, reading it back, and
one message at a time (begin, sent) as a cycle records it.

    .venv/bin/python bench/ledger_bench.py [--count 10000] [--repeat 5] [--pg URL]

Times `record_only` of --count messages (one transaction), `entries()` of them, and
`begin` + `sent` of --count / 10 messages (two commits each), each the best of --repeat
runs on a fresh ledger. PostgreSQL runs when --pg (or $RYGRAD_TEST_PG) names a server;
its rows go under an initiative of their own and are deleted afterwards. Prints a table.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from automation.core.model import Message, Recipient
from automation.ledger import DeliveryLedger, open_ledger

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
KINDS = ("invitation", "agenda", "reminder", "overdue", "followup")  # invitation: read back


def messages(count: int) -> list[Message]:
    people = [Recipient(f"Person {i}", f"person{i}@example.dk", "da") for i in range(200)]
    return [Message(KINDS[i % len(KINDS)], f"{KINDS[i % len(KINDS)]}:A{i}", people[i % 200],
                    f"A{i}", payload={"seq": 1, "sted": "Rådhuset", "n": i})
            for i in range(count)]


def best(repeat: int, fresh: Callable[[], DeliveryLedger],
         work: Callable[[DeliveryLedger], object],
         prepare: Callable[[DeliveryLedger], object] = lambda ledger: None) -> float:
    times = []
    for _ in range(repeat):
        ledger = fresh()
        try:
            prepare(ledger)
            start = time.perf_counter()
            work(ledger)
            times.append(time.perf_counter() - start)
        finally:
            ledger.close()
    return min(times)


def one_by_one(ledger: DeliveryLedger, batch: list[Message]) -> None:
    for message in batch:
        ledger.begin(message, b"x" * 2000, NOW, NOW)
        ledger.sent(message.key, message.recipient.email, NOW, NOW)


def run(store: str, url: str, count: int, repeat: int, folder: Path) -> dict[str, float]:
    batch = messages(count)
    names: list[str] = []

    def fresh() -> DeliveryLedger:
        name = f"Bench {uuid.uuid4().hex[:10]}"
        names.append(name)
        state = folder / name
        return open_ledger(url if store == "postgresql" else "", name, state)

    try:
        return {
            "record_only": best(repeat, fresh, lambda ledger: ledger.record_only(batch, NOW, NOW)),
            "entries": best(repeat, fresh, lambda ledger: ledger.entries(),
                            lambda ledger: ledger.record_only(batch, NOW, NOW)),
            "begin+sent": best(repeat, fresh,
                               lambda ledger: one_by_one(ledger, batch[:count // 10])),
        }
    finally:
        if store == "postgresql":
            import psycopg

            with psycopg.connect(url, autocommit=True) as db:
                for table in ("rygrad_deliveries", "rygrad_cycles"):
                    db.execute(f"DELETE FROM {table} WHERE initiative = ANY(%s)", (names,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg", default=os.environ.get("RYGRAD_TEST_PG", ""))
    args = parser.parse_args()
    stores = ["sqlite"] + (["postgresql"] if args.pg else [])
    with tempfile.TemporaryDirectory() as folder:
        print(f"{'store':<12}{'record_only':>14}{'entries':>10}{'begin+sent':>13}"
              f"   ({args.count:,} messages; begin+sent of {args.count // 10:,}; seconds)")
        for store in stores:
            result = run(store, args.pg, args.count, args.repeat, Path(folder))
            print(f"{store:<12}{result['record_only']:>14.3f}{result['entries']:>10.3f}"
                  f"{result['begin+sent']:>13.3f}")


if __name__ == "__main__":
    main()
