"""Many initiatives in one worker, and several workers sharing them through PostgreSQL.

The fast tests run `serve` and `status` with several configs (one broken) and the
backoff and lock rules of the loop on real ledgers. The slow one is the promise of
README, "Delivery" under failure: 3 worker processes × 5 initiatives over a real SMTP
server and a real PostgreSQL ledger; one worker is SIGKILLed in the middle of a
cycle; every (key, recipient) then reached the server exactly once or is reported
uncertain, none twice, and another worker took the initiative over.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import logging
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from automation import config
from automation.core.parse import parse
from automation.core.plan import plan
from automation.cycle import Cycle, Outcome
from automation.errors import SheetError
from automation.ledger import DeliveryLedger, open_ledger
from automation.ledger.pg import LOCK_SPACE
from automation.service import MAX_BACKOFF, Job, run_one, serve
from automation.sheets.xlsx import XlsxWorkbook
from tests.pg import pg_url, unique_name  # noqa: F401  (the fixture)
from tests.smtpserver import SmtpServer
from tests.test_cli import initiative  # noqa: F401  (the fixture)
from tests.workbook import by_key, read_outbox, rygrad, write_config, write_workbook

# -- many initiatives, one worker ---------------------------------------------------


def small_initiative(folder: Path, name: str, **sections: dict[str, Any]) -> Path:
    """An initiative with one overdue action per person, due relative to today."""
    folder.mkdir(parents=True, exist_ok=True)
    domain = name.lower().replace(" ", "-") + ".example"
    people = [{"Navn": f"Person {i}", "E-mail": f"p{i}@{domain}", "Grupper": "AG"}
              for i in range(1, 9)]
    actions = [{"Handling-ID": f"H-{i}", "Gruppe": "AG", "Handling": f"Opgave {i}",
                "Ansvarlig": f"Person {i}", "Frist": date.today() - timedelta(days=2),
                "Status": "I gang"} for i in range(1, 9)]
    workbook = write_workbook(folder / "initiative.xlsx", {
        "Personer": people, "Grupper": [{"Gruppe": "AG", "Formand": "Person 1"}],
        "Handlinger": actions})
    sections.setdefault("initiative", {}).update(
        {"name": name, "secretariat": f"Sekretariatet <sekretariat@{domain}>"})
    return write_config(folder, workbook, **sections)


def start_serve(*configs: Path, debug: bool = False) -> subprocess.Popen[str]:
    arguments = [a for c in configs for a in ("--config", str(c))]
    return subprocess.Popen(
        [sys.executable, "-m", "automation", "serve", *arguments,
         *(["--debug"] if debug else [])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition: Any, seconds: float = 30) -> bool:
    """Poll until `condition()` holds; the deadline bounds a hang, it measures nothing."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_one_worker_serves_two_initiatives_while_a_broken_one_is_reported(tmp_path):
    good = [small_initiative(tmp_path / n, f"Gode {n}") for n in ("a", "b")]
    broken = small_initiative(tmp_path / "c", "Brudt")
    (tmp_path / "c" / "initiative.xlsx").write_bytes(b"not a workbook")
    process = start_serve(good[0], broken, good[1])
    try:
        assert wait_for(lambda: all(len(read_outbox(c.parent / "outbox")) >= 8
                                    for c in good)), "the good initiatives sent nothing"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    # the log, on stderr: a line per cycle, with its time and level; nothing on stdout
    assert out == ""
    assert "INFO rygrad: Gode a: cycle at" in err and "INFO rygrad: Gode b: cycle at" in err
    [error_line] = [line for line in err.splitlines() if " ERROR " in line]
    assert "Brudt: cycle could not run:" in error_line and "initiative.xlsx" in error_line
    assert "next try in 900 s" in error_line or "next try in 15 min" in error_line


def test_config_folder_and_status_show_every_initiative(tmp_path, capsys):
    folder = tmp_path / "configs"
    for n in ("a", "b"):
        config_file = small_initiative(tmp_path / n, f"Initiativ {n}")
        folder.mkdir(exist_ok=True)
        # the paths in it are absolute, so the copy works from the folder of configs
        (folder / f"{n}.toml").write_text(config_file.read_text(encoding="utf-8"),
                                          encoding="utf-8")
    a, b = folder / "a.toml", folder / "b.toml"
    assert rygrad(capsys, "run", "--once", "--config", str(a)).status == 0
    status = rygrad(capsys, "status", "--config", str(folder))
    assert status.status == 0, status.err
    assert "Initiativ a: ledger" in status.out and "cycle 1 at" in status.out
    assert "Initiativ b: no cycle has run yet" in status.out
    both = rygrad(capsys, "status", "--config", str(a), "--config", str(b))
    assert both.out == status.out


@pytest.mark.parametrize("command", [["run", "--once"], ["plan"], ["check"]])
def test_a_second_config_is_refused_outside_serve_and_status(tmp_path, capsys, command):
    with pytest.raises(SystemExit) as exited:
        rygrad(capsys, *command, "--config", "a.toml", "--config", "b.toml")
    assert exited.value.code == 2
    assert "--config was given 2 times" in capsys.readouterr().err


def test_two_configs_naming_one_initiative_are_refused(tmp_path, capsys):
    a = small_initiative(tmp_path / "a", "Samme")
    b = small_initiative(tmp_path / "b", "Samme")
    result = rygrad(capsys, "status", "--config", str(a), "--config", str(b))
    assert result.status == 2 and "two configs name the initiative 'Samme'" in result.err


@pytest.mark.parametrize(("failures", "every", "expected"), [
    (1, 900, 900), (2, 900, 1800), (3, 900, 3600), (9, 900, MAX_BACKOFF),
    (1, 3, 3), (4, 3, 24), (30, 3, MAX_BACKOFF), (2, 7200, 7200),
])
def test_backoff_doubles_from_one_interval_up_to_an_hour(failures, every, expected):
    job = Job("X", every, build=None, clock=None, report=None,  # type: ignore[arg-type]
              failures=failures)
    assert job.backoff() == expected


def test_a_failing_initiative_backs_off_and_recovers(tmp_path, caplog):
    attempts: list[int] = []

    def build(stop: Any) -> tuple[DeliveryLedger, Cycle]:
        attempts.append(1)
        raise SheetError("initiative.xlsx: the tab Handlinger is missing")

    job = Job("Brudt", 60, build, clock=lambda: datetime.now(UTC), report=lambda *a: None)
    with caplog.at_level(logging.INFO):
        delays = [run_one(job, lambda: False) for _ in range(3)]
    assert delays == [60, 120, 240] and len(attempts) == 3
    assert next(r.getMessage() for r in caplog.records if r.levelno == logging.ERROR) == (
        "Brudt: cycle could not run: initiative.xlsx: the tab Handlinger is missing "
        "(next try in 60 s)")


class SteppedClock:
    """`serve`'s monotonic clock and sleep in a test: a sleep moves the clock at once,
    and a cycle takes no time on it. Past ``until`` it sends this process SIGTERM, as
    systemd would."""

    def __init__(self, until: float) -> None:
        self.now, self.until = 0.0, until

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.now > self.until:
            signal.raise_signal(signal.SIGTERM)


class StandInCycle:
    """A cycle that has nothing to do: what is tested here is when it runs."""

    def run(self, now: datetime) -> Outcome:
        return Outcome()


def timed_jobs(tmp_path: Path, clock: SteppedClock, ran: list[tuple[int, str]],
               on_cycle: Any = None) -> list[Job]:
    """Aarhus every 0.05 minutes (3 s), well; Odense every 6 s, its sheet missing a tab."""

    def well(stop: Any) -> tuple[DeliveryLedger, Cycle]:
        ledger = open_ledger("", "Aarhus", tmp_path / "aarhus")
        return ledger, StandInCycle()  # type: ignore[return-value]

    def broken(stop: Any) -> tuple[DeliveryLedger, Cycle]:
        ran.append((round(clock.now), "Odense"))
        raise SheetError("odense.xlsx: the tab Handlinger is missing")

    def report(now: datetime, outcome: Outcome) -> None:
        ran.append((round(clock.now), "Aarhus"))
        if on_cycle:
            on_cycle()

    return [Job("Aarhus", 0.05 * 60, well, lambda: datetime.now(UTC), report),
            Job("Odense", 6, broken, lambda: datetime.now(UTC), lambda *a: None)]


def test_serve_runs_each_initiative_on_its_schedule_and_backs_off_a_failing_one(tmp_path):
    """The schedule follows the loop's monotonic clock (here a test's), not the wall clock:
    no time passes in this test, yet 46 seconds of cycles run."""
    clock = SteppedClock(until=46.5)
    ran: list[tuple[int, str]] = []
    jobs = timed_jobs(tmp_path, clock, ran)
    assert serve(jobs, monotonic=clock.monotonic, sleep=clock.sleep) == 0
    assert [t for t, name in ran if name == "Aarhus"] == list(range(0, 46, 3))
    # first at once, then one interval, two, four
    assert [t for t, name in ran if name == "Odense"] == [0, 6, 18, 42]
    assert ran[:2] == [(0, "Aarhus"), (0, "Odense")]
    assert jobs[0].adapters is None  # the ledger closed on the way out


def test_a_signal_ends_serve_after_the_current_cycle(tmp_path, caplog):
    clock = SteppedClock(until=float("inf"))
    ran: list[tuple[int, str]] = []
    jobs = timed_jobs(tmp_path, clock, ran, on_cycle=lambda: signal.raise_signal(signal.SIGTERM))
    before = signal.getsignal(signal.SIGTERM)
    with caplog.at_level(logging.WARNING):
        assert serve(jobs, monotonic=clock.monotonic, sleep=clock.sleep) == 0
    assert ran == [(0, "Aarhus")]  # Odense, due at the same moment, is not started
    assert "finishing the current message, then stopping" in caplog.text
    assert signal.getsignal(signal.SIGTERM) == before  # serve's handler is gone again


def test_a_cycle_whose_lock_is_taken_is_skipped_quietly(initiative, caplog):  # noqa: F811
    _folder, _workbook, config_file = initiative
    settings = config.load(config_file)
    holder = open_ledger("", settings.initiative.name, settings.state_dir)
    assert holder.try_lock()
    ran: list[object] = []

    def build(stop: Any) -> tuple[DeliveryLedger, Cycle]:
        ledger = open_ledger("", settings.initiative.name, settings.state_dir)
        return ledger, None  # type: ignore[return-value]  (never run: the lock is taken)

    job = Job(settings.initiative.name, 60, build, clock=lambda: datetime.now(UTC),
              report=lambda *a: ran.append(a))
    with caplog.at_level(logging.INFO):
        assert run_one(job, lambda: False) == 60
    assert ran == [] and job.failures == 0
    assert "another worker is running this initiative" in caplog.text
    holder.close()


def test_run_once_refuses_while_another_worker_holds_the_lock(initiative, capsys):  # noqa: F811
    folder, _workbook, config_file = initiative
    settings = config.load(config_file)
    holder = open_ledger("", settings.initiative.name, settings.state_dir)
    assert holder.try_lock()
    busy = rygrad(capsys, "run", "--once", "--config", str(config_file))
    assert busy.status == 2 and "another worker is running" in busy.err
    assert not by_key(read_outbox(folder / "outbox"))
    holder.close()
    assert rygrad(capsys, "run", "--once", "--config", str(config_file)).status == 0


# -- several workers, PostgreSQL, a kill -------------------------------------------

WORKERS, INITIATIVES, EVERY_MINUTES = 3, 5, 0.05  # 3 s between cycles


def lock_holders(url: str, names: list[str]) -> dict[str, int]:
    """initiative → pid of the worker process holding its cycle lock, from the server."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        rows = db.execute(
            "SELECT n.name, a.application_name FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "JOIN unnest(%s::text[]) AS n(name) ON l.objid = hashtext(n.name)::oid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s",
            (names, LOCK_SPACE)).fetchall()
    return {name: int(application.rsplit(":", 1)[1]) for name, application in rows}


def cycles(url: str, name: str) -> list[tuple[str, datetime, datetime | None]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        return [(w, s, f) for w, s, f in db.execute(
            "SELECT worker, started, finished FROM rygrad_cycles WHERE initiative = %s "
            "ORDER BY id", (name,))]


@pytest.mark.slow
def test_three_workers_five_initiatives_a_worker_killed_mid_cycle(tmp_path, pg_url):  # noqa: F811
    run = unique_name("Multi")
    names = [f"{run} {n}" for n in range(1, INITIATIVES + 1)]
    domains = {name.lower().replace(" ", "-") + ".example": name for name in names}
    # a round trip of 50 ms per reply: about 0.2 s a message, so a cycle of 9 mails
    # lasts long enough to be killed in the middle of
    with SmtpServer(delay=0.05) as server:
        mail = {"transport": "smtp", "host": server.host, "port": server.port,
                "security": "none", "per_minute": 100_000}
        configs = [small_initiative(tmp_path / f"i{n}", name, mail=mail,
                                    state={"url": pg_url},
                                    schedule={"every_minutes": EVERY_MINUTES})
                   for n, name in enumerate(names, 1)]

        def delivered_to(name: str) -> int:
            return sum(domains.get(m.rcpt_tos[0].split("@")[1]) == name
                       for m in list(server.messages))

        workers = [start_serve(*configs, debug=True) for _ in range(WORKERS)]
        try:
            # kill the worker that holds an initiative whose cycle has begun to send
            victim: tuple[str, int] | None = None

            def mid_cycle() -> bool:
                nonlocal victim
                for name, pid in lock_holders(pg_url, names).items():
                    if 1 <= delivered_to(name) <= 4:
                        victim = (name, pid)
                        return True
                return False

            assert wait_for(mid_cycle, 30), "no worker was seen in the middle of a cycle"
            assert victim is not None
            killed_initiative, killed_pid = victim
            [killed] = [w for w in workers if w.pid == killed_pid]
            killed.send_signal(signal.SIGKILL)
            killed_at = datetime.now(UTC)
            killed.wait(timeout=30)

            def all_done_after_the_kill() -> bool:
                return all(any(f is not None and s > killed_at for _, s, f in cycles(pg_url, n))
                           for n in names)

            assert wait_for(all_done_after_the_kill, 40), "not every initiative ran again"
            survivors = [w for w in workers if w is not killed]
            for worker in survivors:
                worker.send_signal(signal.SIGTERM)
            for worker in survivors:
                _, err = worker.communicate(timeout=60)
                assert worker.returncode == 0, err
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
        received = [(str(email.message_from_bytes(m.data, policy=email.policy.default)
                         ["X-Rygrad-Key"]), rcpt) for m in server.messages
                    for rcpt in m.rcpt_tos]

    counts = Counter(received)
    assert [k for k, c in counts.items() if c > 1] == [], "a message arrived twice"
    now = datetime.now(UTC)
    uncertain_total = 0
    for name, config_file in zip(names, configs, strict=True):
        ledger = open_ledger(pg_url, name, tmp_path)
        entries = ledger.entries()
        ledger.close()
        states = Counter(e.state for e in entries)
        assert set(states) <= {"sent", "sending"}, states
        for entry in entries:
            arrived = counts[(entry.key, entry.recipient)]
            # sent: it arrived, once; sending (uncertain): the worker died in between
            assert arrived == 1 if entry.state == "sent" else arrived <= 1, entry
        assert {k for k in counts if k[1].split("@")[1] in domains
                and domains[k[1].split("@")[1]] == name} <= {
            (e.key, e.recipient) for e in entries}, "mail arrived that the ledger lacks"
        # nothing left due: every message went out once or is reported uncertain
        settings = config.load(config_file)
        parsed = parse(XlsxWorkbook(settings.sheet.path).read(), settings)
        assert plan(parsed, entries, now.astimezone(settings.initiative.zone),
                    settings).messages == []
        assert states["sent"] >= 8
        if name != killed_initiative:
            assert states["sending"] == 0, name
        uncertain_total += states["sending"]
        # no two cycles of one initiative overlapped, whichever workers ran them; the
        # one cycle left unfinished was the killed worker's, and it ended with it
        unfinished = [w for w, _, f in cycles(pg_url, name) if f is None]
        assert all(w.endswith(f":{killed_pid}") for w in unfinished), unfinished
        assert len(unfinished) <= (name == killed_initiative), unfinished
        spans = sorted((s, f or killed_at) for _, s, f in cycles(pg_url, name))
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), name
    assert uncertain_total <= 1
    # the killed worker's initiative went on elsewhere within one interval: a survivor
    # that found its lock taken tries again one interval later, and within one interval
    # it runs each of its other initiatives at most twice (one cycle at each end). So the
    # worker that took over ran no other initiative more than twice between the kill and
    # the takeover. (Counted in cycles, not seconds: how long a takeover takes depends on
    # the machine.)
    after = [(w, s) for w, s, _ in cycles(pg_url, killed_initiative) if s > killed_at]
    assert after and not after[0][0].endswith(f":{killed_pid}")
    taker, took_over = after[0]
    meanwhile = Counter(n for n in names if n != killed_initiative
                        for w, s, _ in cycles(pg_url, n)
                        if w == taker and killed_at < s < took_over)
    assert max(meanwhile.values(), default=0) <= 2, meanwhile
