"""Scenarios that try to break rygrad, shared by the fault tests and bench/reliability.py.

    with crash_site(folder, owners=200) as site:      # a workbook, a config, a slow server
        run = site.run_killed(after=0.8)              # `python -m automation run --once`
        ...                                           # SIGKILLed 0.8 s in
        site.delivered()                              # (key, recipient) the server accepted
        site.states()                                 # (key, recipient) → ledger state

Everything real: the CLI as a subprocess (for kills) or in-process (for faults), a
real workbook, the real SQLite ledger, aiosmtpd on 127.0.0.1 (tests/smtpserver.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from automation import cli
from automation.core.measurements import SHEET_SOURCE
from automation.transports.smtp import SmtpTransport
from tests.smtpserver import Certificates, Fault, SmtpServer, make_certificates
from tests.workbook import GROUPS, PEOPLE, write_config, write_workbook

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-12-02T09:00"  # a Wednesday, inside every window
TODAY = date(2026, 12, 2)
SECRETARIAT = "sekretariat@ungeloeftet.example"
USER = "sekretariat@ungeloeftet.example"
PASSWORD = "Hemmeligt-Bl\u00e5b\u00e6r-4711"  # the secret the logs must never show
PASSWORD_ENV = "RYGRAD_FAULT_SMTP_PASSWORD"
# the xlsx write-back of 1,500 indicators takes about 0.2–0.4 s here from its temporary
# file to the rename: kills spread over this window land on both sides of the rename
WRITE_KILL_WINDOW = 0.3
FAST_BACKOFF = (0.01, 0.02)  # the transport's 1 s and 2 s, shortened; tries unchanged
KILL_WHEN_LIMIT = 120.0  # seconds a killed run may take to reach the moment of its kill

Pair = tuple[str, str]  # (X-Rygrad-Key, recipient)


# -- workbooks ------------------------------------------------------------------------


def owners_workbook(path: Path, owners: int) -> Path:
    """One working group; `owners` people, each owning one action five days overdue.

    A cycle at NOW sends one overdue notice per owner and the weekly digest."""
    people = [{"Navn": f"Ejer {i:03}", "E-mail": f"ejer{i:03}@partner.example",
               "Grupper": "AG Data"} for i in range(owners)]
    people.append({"Navn": "Formand Fie", "E-mail": "fie@partner.example",
                   "Grupper": "AG Data"})
    actions = [{"Handling-ID": f"H-{i:03}", "Gruppe": "AG Data",
                "Handling": f"Indsaml tal fra skole {i}", "Ansvarlig": f"Ejer {i:03}",
                "Frist": TODAY - timedelta(days=5), "Status": "I gang"}
               for i in range(owners)]
    groups = [{"Gruppe": "AG Data", "Type": "Arbejdsgruppe", "Formand": "Formand Fie"}]
    return write_workbook(path, {"Personer": people, "Grupper": groups,
                                 "Handlinger": actions})


def indicators_workbook(path: Path, indicators: int, padding: int = 0) -> Path:
    """Many indicators that need no mail but two W cells each, so the write-back is big;
    `padding` rows of partner text on Personer make the package larger still."""
    people = [*PEOPLE, *({"Navn": f"Partner {i}", "E-mail": f"p{i}@partner.example",
                          "Organisation": "Forening " + "x" * 80} for i in range(padding))]
    rows = [{"Indikator-ID": f"I-{i:05}", "Gruppe": "Styregruppe", "Indikator": f"Mål {i}",
             "Enhed": "%", "Basislinje": 10, "Startdato": date(2026, 1, 1), "Mål": 50,
             "Måldato": date(2027, 12, 31), "Aktuel værdi": 20 + i % 30,
             "Opdateret": date(2026, 11, 1), "Ansvarlig": "Anne Holm", "Frekvens": "årlig"}
            for i in range(indicators)]
    return write_workbook(path, {"Personer": people, "Grupper": GROUPS, "Indikatorer": rows})


def small_workbook(path: Path) -> Path:
    """test_cli's initiative: 11 partner mails and a digest at NOW."""
    tabs = {
        "Personer": PEOPLE,
        "Grupper": GROUPS,
        "Møder": [{"Møde-ID": "AGU-1", "Gruppe": "AG Uddannelse", "Dato": date(2026, 12, 4),
                   "Start": "14.00", "Slut": "16:00", "Sted": "Rådhuset",
                   "Dagsorden": "Velkomst\nStatus på handlinger"},
                  {"Møde-ID": "SG-1", "Gruppe": "Styregruppe", "Dato": date(2026, 11, 30),
                   "Start": "9", "Referat": "Vi gik videre med UU."}],
        "Handlinger": [{"Handling-ID": "H-1", "Gruppe": "AG Uddannelse",
                        "Handling": "Kortlæg tilbud", "Ansvarlig": "Bo Berg",
                        "Frist": "4-12-2026", "Status": "I gang"},
                       {"Handling-ID": "H-2", "Gruppe": "AG Uddannelse",
                        "Handling": "Aftal datadeling", "Ansvarlig": "clara@partner.example",
                        "Frist": date(2026, 11, 20), "Status": "Ikke startet"}],
    }
    return write_workbook(path, tabs)


# -- running the CLI ------------------------------------------------------------------


@dataclass
class Run:
    status: int
    out: str
    err: str
    killed: bool = False
    seconds: float = 0.0


def rygrad(*args: str) -> Run:
    """The CLI in this process (stdout and stderr captured), as a user would call it."""
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.main(list(args))
        except Exception:  # what the interpreter would do: a traceback and exit 1
            traceback.print_exc()
            status = 1
    return Run(status, out.getvalue(), err.getvalue(), seconds=time.monotonic() - started)


def rygrad_process(config: Path, *args: str, kill_after: float | None = None,
                   kill_when: Callable[[], bool] | None = None,
                   env: dict[str, str] | None = None) -> Run:
    """`python -m automation …` as a subprocess; SIGKILLed `kill_after` seconds in (or
    once `kill_when()` holds, then `kill_after` seconds later) unless it ended first."""
    command = [sys.executable, "-m", "automation", *args, "--config", str(config)]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    killed = False
    if kill_after is not None:
        if kill_when is not None:
            # the deadline bounds a run that never reaches the moment; it measures nothing
            deadline = time.monotonic() + KILL_WHEN_LIMIT
            while process.poll() is None and not kill_when():
                if time.monotonic() > deadline:
                    process.kill()
                    process.communicate(timeout=60)
                    raise AssertionError(f"the moment to kill never came within "
                                         f"{KILL_WHEN_LIMIT:g} s: {' '.join(args)}")
                time.sleep(0.0005)
        try:
            process.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            process.kill()  # SIGKILL: no handler, no finally, no flush
            killed = True
    out, err = process.communicate(timeout=300)
    return Run(process.returncode, out.decode(), err.decode(), killed,
               time.monotonic() - started)


@contextlib.contextmanager
def fast_backoff() -> Iterator[None]:
    """The SMTP transport's backoff shortened for the run (same number of tries)."""
    defaults = SmtpTransport.__init__.__kwdefaults__
    assert defaults is not None
    saved = defaults["backoff"]
    defaults["backoff"] = FAST_BACKOFF
    try:
        yield
    finally:
        defaults["backoff"] = saved


# -- what arrived and what the ledger says -----------------------------------------------


def key_of(data: bytes) -> str:
    head = data.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"x-rygrad-key:"):
            return line.split(b":", 1)[1].strip().decode()
    return ""


def delivered(server: SmtpServer) -> list[Pair]:
    """(key, recipient) of every message the server accepted, in order (To only)."""
    return [(key_of(m.data), m.rcpt_tos[0]) for m in list(server.messages)]


def ledger_rows(state_dir: Path) -> dict[Pair, dict[str, Any]]:
    path = state_dir / "ledger.sqlite3"
    if not path.exists():
        return {}
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT key, recipient, state, error, payload FROM deliveries")
        return {(k, r): {"state": s, "error": e, "payload": json.loads(p)}
                for k, r, s, e, p in rows}
    finally:
        db.close()


def states(state_dir: Path) -> dict[Pair, str]:
    return {pair: row["state"] for pair, row in ledger_rows(state_dir).items()}


def digest_payload(state_dir: Path) -> dict[str, Any]:
    rows = [row for (key, _), row in ledger_rows(state_dir).items()
            if key.startswith("digest:")]
    return rows[0]["payload"] if rows else {}


def planned(config: Path) -> set[Pair]:
    """What a cycle at NOW would send on an empty ledger (read through the CLI's plan)."""
    run = rygrad("plan", "--config", str(config), "--now", NOW)
    assert run.status == 0, run.err
    pairs = set()
    for line in run.out.splitlines():
        if line.startswith("  send "):
            key, _, recipient = line[len("  send "):].partition(" → ")
            pairs.add((key, recipient.split(" (cc")[0]))
    return pairs


def duplicates(pairs: list[Pair]) -> dict[Pair, int]:
    return {pair: n for pair, n in Counter(pairs).items() if n > 1}


# -- servers --------------------------------------------------------------------------


def smtp_config(folder: Path, workbook: Path, server_host: str, server_port: int,
                certificates: Certificates | None, **mail: Any) -> Path:
    settings: dict[str, Any] = {"transport": "smtp", "host": server_host, "port": server_port,
                                "security": "none", "per_minute": 100_000,
                                "max_per_cycle": 10_000, "timeout": 5}
    if certificates is not None:
        settings.update(security="starttls", username=USER, password_env=PASSWORD_ENV,
                        ca_file=str(certificates.ca))
    settings.update(mail)
    return write_config(folder, workbook, mail=settings)


class GreetingServer:
    """A server that greets with `reply` and hangs up (or says nothing for `stall` s):
    the greeting is the one moment tests/smtpserver.py cannot fault."""

    def __init__(self, reply: str = "421 4.3.2 Service not available, closing channel",
                 stall: float = 0.0) -> None:
        self.reply, self.stall = reply, stall
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.host = "127.0.0.1"
        self.connections = 0
        self.messages: list[Any] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.listener.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with conn:
                if self.stall:
                    self._stop.wait(self.stall)
                else:
                    conn.sendall(self.reply.encode() + b"\r\n")

    def __enter__(self) -> GreetingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.listener.close()


# -- SMTP fault scenarios --------------------------------------------------------------

BO = "bo@ngo.example"  # gets an invitation, an agenda and a reminder at NOW


@dataclass(frozen=True)
class SmtpScenario:
    """One fault, played during a cycle of small_workbook at NOW through the CLI."""

    name: str
    faults: Callable[[], list[Fault]] = list
    server: dict[str, Any] = field(default_factory=dict)  # SmtpServer keyword arguments
    mail: dict[str, Any] = field(default_factory=dict)  # [mail] overrides
    password: str = PASSWORD
    greeting: str = ""  # a GreetingServer instead: its reply, or "stall"


SMTP_SCENARIOS = [
    SmtpScenario("no fault"),
    SmtpScenario("421 at greeting", greeting="421 4.3.2 Service not available"),
    SmtpScenario("stall at greeting past timeout", greeting="stall", mail={"timeout": 0.5}),
    SmtpScenario("421 mid-cycle, once", lambda: [
        Fault("MAIL", "421 4.7.0 Too many messages, closing", close=True, skip=4)]),
    SmtpScenario("421 mid-cycle, for the rest of the cycle", lambda: [
        Fault("MAIL", "421 4.7.0 Try again later, closing", close=True, skip=4, times=0)]),
    SmtpScenario("451 for one recipient", lambda: [
        Fault("RCPT", "451 4.7.1 Greylisted, try again later", address=BO, times=0)]),
    SmtpScenario("452 for one recipient, once", lambda: [
        Fault("RCPT", "452 4.2.2 Mailbox full", address=BO, times=1)]),
    SmtpScenario("550 for one recipient", lambda: [
        Fault("RCPT", "550 5.1.1 <bo@ngo.example>: no such user", address=BO, times=0)]),
    SmtpScenario("553 for one recipient", lambda: [
        Fault("RCPT", "553 5.1.3 Bad recipient address syntax", address=BO, times=0)]),
    # over the agendas (11.3 kB), under the invitations (12.8 kB) and the digest (16 kB)
    SmtpScenario("552 message too big (SIZE at MAIL FROM)", server={"data_size_limit": 12000}),
    SmtpScenario("552 message too big (after DATA)", lambda: [
        Fault("DATA", "552 5.3.4 Message size exceeds fixed limit", skip=2)]),
    SmtpScenario("connection dropped at the DATA command", lambda: [
        Fault("DATA-COMMAND", close=True, skip=2)]),
    SmtpScenario("connection dropped after the content, not kept", lambda: [
        Fault("DATA", close=True, skip=2)]),
    SmtpScenario("connection dropped after the content, kept", lambda: [
        Fault("DATA", close=True, accept=True, skip=2)]),
    SmtpScenario("stall past timeout at MAIL FROM", lambda: [
        Fault("MAIL", stall=1.5, skip=3)], mail={"timeout": 0.5}),
    SmtpScenario("stall past timeout after the content", lambda: [
        Fault("DATA", stall=1.5, skip=3)], mail={"timeout": 0.5}),
    SmtpScenario("TLS handshake failure (untrusted certificate)", server={"rogue": True}),
    SmtpScenario("TLS handshake failure (ssl against a STARTTLS port)",
                 mail={"security": "ssl"}),
    SmtpScenario("AUTH failure (wrong password)", password="forkert-kodeord"),
]


@dataclass
class FaultResult:
    """What one scenario left: the run, the server's mail, the ledger, status, a rerun."""

    scenario: str
    run: Run
    planned: set[Pair]
    delivered: list[Pair]
    states: dict[Pair, str]
    errors: dict[Pair, str]
    digest: dict[str, Any]
    status_out: str
    next_run: Run
    next_delivered: list[Pair]
    resend: Run | None
    final_delivered: list[Pair]
    final_states: dict[Pair, str]


def play_smtp_scenario(scenario: SmtpScenario, folder: Path,
                       certificates: Certificates | None = None) -> FaultResult:
    """The cycle with the fault; `status`; a second cycle with the fault gone; then
    `--resend-uncertain` if anything is uncertain."""
    folder.mkdir(parents=True, exist_ok=True)
    certificates = certificates or make_certificates(folder / "certs")
    workbook = small_workbook(folder / "initiative.xlsx")
    # the password for this scenario only (bench/reliability.py runs without pytest's
    # monkeypatch); as before afterwards
    with mock.patch.dict(os.environ, {PASSWORD_ENV: scenario.password}):
        if scenario.greeting:
            stall = 3.0 if scenario.greeting == "stall" else 0.0
            with GreetingServer(scenario.greeting, stall=stall) as bad:
                config = smtp_config(folder, workbook, bad.host, bad.port, certificates,
                                     **scenario.mail)
                wanted = planned(config)
                with fast_backoff():
                    run = rygrad("run", "--once", "--config", str(config), "--now", NOW)
            first: list[Pair] = []
        else:
            server = SmtpServer("starttls", certificates, users={USER: PASSWORD},
                                faults=scenario.faults(), **scenario.server).start()
            try:
                config = smtp_config(folder, workbook, server.host, server.port, certificates,
                                     **scenario.mail)
                wanted = planned(config)
                with fast_backoff():
                    run = rygrad("run", "--once", "--config", str(config), "--now", NOW)
                first = delivered(server)
            finally:
                server.stop()
    state_dir = folder / "state"
    rows = ledger_rows(state_dir)
    status = rygrad("status", "--config", str(config))
    # the fault is gone: a healthy server, the same sheet, fifteen minutes later
    with mock.patch.dict(os.environ, {PASSWORD_ENV: PASSWORD}):
        healthy = SmtpServer("starttls", certificates, users={USER: PASSWORD}).start()
        try:
            config = smtp_config(folder, workbook, healthy.host, healthy.port, certificates)
            with fast_backoff():
                next_run = rygrad("run", "--once", "--config", str(config), "--now",
                                  "2026-12-02T09:15")
                after = delivered(healthy)
                resend = None
                if any(s == "sending" for s in states(state_dir).values()):
                    resend = rygrad("run", "--once", "--resend-uncertain", "--config",
                                    str(config), "--now", "2026-12-02T09:30")
            final = delivered(healthy)
        finally:
            healthy.stop()
    return FaultResult(scenario.name, run, wanted, first,
                       {p: r["state"] for p, r in rows.items()},
                       {p: r["error"] for p, r in rows.items() if r["error"]},
                       digest_payload(state_dir), status.out, next_run, after, resend,
                       first + final, states(state_dir))


# -- crashes: SIGKILL at random moments ----------------------------------------------------


@dataclass(frozen=True)
class Kill:
    """When to SIGKILL a run: `at` seconds after start ("start"), `at` seconds after the
    server has accepted `mails` messages in all ("mail"; at once if it already has), or
    `at` seconds after the write-back's temporary file appeared ("write")."""

    moment: str
    at: float
    mails: int = 0


def kill_plan(rng: Any, kills: int, messages: int) -> list[Kill]:
    """One kill during start-up, one during the write-back, the rest spread over the
    messages (sorted, so each restart gets further), each with sub-message jitter."""
    counts = sorted(rng.randrange(1, messages) for _ in range(max(kills - 2, 0)))
    plan = [Kill("start", rng.uniform(0.0, 0.6))]
    plan += [Kill("mail", rng.uniform(0.0, 0.03), count) for count in counts]
    plan.append(Kill("write", rng.uniform(0.0, 0.08)))
    return plan[:kills]


def temp_files(workbook: Path) -> list[Path]:
    return sorted(workbook.parent.glob(f".{workbook.name}.*.tmp"))


def _appended(row: tuple[Any, ...]) -> bool:
    source = str(row[3] if len(row) > 3 else "")
    return source in SHEET_SOURCE.values() or source.startswith(("mail fra ", "mail from "))


def partner_cells(workbook: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every tab's partner columns, row by row (the worker may change only W columns)."""
    import openpyxl

    from automation.core.schema import TABS, normalise_header

    worker = {normalise_header(title) for tab in TABS for c in tab.columns if c.worker
              for title in (c.da, c.en)}
    book = openpyxl.load_workbook(workbook, read_only=True, data_only=True)
    try:
        found = {}
        for sheet in book.worksheets:
            rows = list(sheet.iter_rows(values_only=True))
            keep = [i for i, h in enumerate(rows[0] if rows else ())
                    if normalise_header(str(h or "")) not in worker]
            cells = [tuple(row[i] if i < len(row) else None for i in keep) for row in rows]
            if sheet.title in ("Målinger", "Measurements"):
                # rygrad appends rows there (Kilde »regneark« or »mail fra …«); the rows a
                # partner typed are what must not change
                cells = [row for row in cells if not _appended(row)]
            found[sheet.title] = cells
        return found
    finally:
        book.close()


def worker_column(workbook: Path, tab: str, id_title: str, title: str) -> dict[str, Any]:
    import openpyxl

    book = openpyxl.load_workbook(workbook, read_only=True, data_only=True)
    try:
        rows = list(book[tab].iter_rows(values_only=True))
    finally:
        book.close()
    header = list(rows[0])
    id_at, at = header.index(id_title), header.index(title)
    return {row[id_at]: row[at] if at < len(row) else None for row in rows[1:]}


@dataclass
class CrashTrial:
    """What one series of killed runs, the completing run and the resend left."""

    kills: int = 0  # runs that were really killed (not finished before the moment)
    kills_by_moment: Counter[str] = field(default_factory=Counter)
    planned: int = 0
    delivered_before_resend: int = 0
    duplicates_before_resend: int = 0
    lost: int = 0  # delivered but neither sent nor sending in the ledger (must be 0)
    uncertain: int = 0  # sending after the completing run
    uncertain_delivered: int = 0  # …of which the server had a copy (resend duplicates it)
    uncertain_not_in_status: int = 0
    uncertain_not_in_digest: int = 0
    completing_status: int = -1
    resend_status: int = -1
    not_sent_at_end: int = 0
    duplicates_after_resend: int = 0
    corrupt_workbooks: int = 0  # openpyxl could not open it, or partner cells changed
    temp_files_left: int = 0
    wrong_w_cells: int = 0
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            self.failures.append(what)


def crash_trial(folder: Path, rng: Any, owners: int = 200, kills: int = 10,
                delay: float = 0.005) -> CrashTrial:
    """SIGKILL `kills` runs of one cycle at NOW, then let one finish, then resend.

    The server waits `delay` before every reply (about 20 ms a message), so that a kill
    0–30 ms after the n-th acceptance lands within a message or two of it rather than
    after the run has ended."""
    folder.mkdir(parents=True, exist_ok=True)
    workbook = owners_workbook(folder / "initiative.xlsx", owners)
    state = folder / "state"
    trial = CrashTrial()
    with SmtpServer(delay=delay) as server:
        config = smtp_config(folder, workbook, server.host, server.port, None)
        wanted = planned(config)
        trial.planned = len(wanted)
        partner_before = partner_cells(workbook)
        for kill in kill_plan(rng, kills, len(wanted)):
            condition: Callable[[], bool] | None = None
            if kill.moment == "mail":
                def condition(kill: Kill = kill) -> bool:
                    return len(server.messages) >= kill.mails
            elif kill.moment == "write":
                def condition() -> bool:
                    return bool(temp_files(workbook))
            run = rygrad_process(config, "run", "--once", "--now", NOW, kill_after=kill.at,
                                 kill_when=condition)
            if run.killed:
                trial.kills += 1
                trial.kills_by_moment[kill.moment] += 1
            else:
                trial.check(run.status in (0, 1), f"unkilled run exited {run.status}: "
                            f"{run.err[-300:]}")
            got = delivered(server)
            trial.check(not duplicates(got), f"delivered twice after a kill: "
                        f"{duplicates(got)}")
            try:
                trial.check(partner_cells(workbook) == partner_before,
                            "partner cells changed")
            except Exception as err:
                trial.corrupt_workbooks += 1
                trial.failures.append(f"workbook unreadable after a kill: {err}")
        trial.temp_files_left = len(temp_files(workbook))
        completing = rygrad_process(config, "run", "--once", "--now", NOW)
        trial.completing_status = completing.status
        got = delivered(server)
        before_resend = set(got)
        ledger = states(state)
        trial.delivered_before_resend = len(got)
        trial.duplicates_before_resend = len(duplicates(got))
        trial.lost = sum(ledger.get(pair) not in ("sent", "sending") for pair in set(got))
        uncertain = {pair for pair, s in ledger.items() if s == "sending"}
        trial.uncertain = len(uncertain)
        trial.uncertain_delivered = len(uncertain & set(got))
        trial.check(all(ledger.get(p) in ("sent", "sending") for p in wanted),
                    "a planned message is neither sent nor uncertain after a full cycle")
        trial.check(completing.status == (1 if uncertain else 0),
                    f"completing run exited {completing.status} with {len(uncertain)} "
                    f"uncertain: {completing.out[-300:]} {completing.err[-300:]}")
        status = rygrad("status", "--config", str(config)).out
        trial.uncertain_not_in_status = sum(f"UNCERTAIN: {k} → {r}" not in status
                                            for k, r in uncertain)
        in_digest = {(u["key"], u["recipient"])
                     for u in digest_payload(state).get("uncertain", [])}
        trial.uncertain_not_in_digest = len({p for p in uncertain
                                             if not p[0].startswith("digest:")} - in_digest)
        if uncertain:
            resend = rygrad_process(config, "run", "--once", "--resend-uncertain", "--now",
                                    NOW)
            trial.resend_status = resend.status
        final = states(state)
        trial.not_sent_at_end = sum(final.get(p) != "sent" for p in wanted)
        got = delivered(server)
        trial.duplicates_after_resend = len(duplicates(got))
        trial.check(set(duplicates(got)) <= uncertain & before_resend,
                    "a duplicate that was not an explicit resend of an uncertain message")
    try:
        trial.check(partner_cells(workbook) == partner_before, "partner cells changed")
    except Exception as err:
        trial.corrupt_workbooks += 1
        trial.failures.append(f"workbook unreadable at the end: {err}")
    overdue = worker_column(workbook, "Handlinger", "Handling-ID", "Forsinket")
    reminded = worker_column(workbook, "Handlinger", "Handling-ID", "Sidste påmindelse")
    trial.wrong_w_cells = sum(v != "FORSINKET (5 dage)" for v in overdue.values()) + sum(
        v != "2026-12-02 09:00" for v in reminded.values())
    return trial



@dataclass
class WriteCrash:
    """SIGKILLs during (or just after) the xlsx write-back of a big workbook."""

    kills: int = 0
    finished: int = 0  # the run ended before its moment came
    old_file: int = 0  # killed before the rename: the workbook as it was
    new_file: int = 0  # killed after it: every W cell written
    half_written: int = 0  # anything else (must be 0)
    corrupt: int = 0
    temp_files_left: int = 0
    temp_files_after_repair: int = 0  # left over for more than a minute, then a write
    repaired: bool = False
    failures: list[str] = field(default_factory=list)


def write_crash_trial(folder: Path, rng: Any, kills: int = 15,
                      indicators: int = 1500) -> WriteCrash:
    """Each run writes 2 × `indicators` W cells; kill it 0–300 ms after its temporary file
    appears, check the file is the old one or the whole new one, put the old one back."""
    folder.mkdir(parents=True, exist_ok=True)
    workbook = indicators_workbook(folder / "indicators.xlsx", indicators)
    original = workbook.read_bytes()
    config = write_config(folder, workbook)
    partner_before = partner_cells(workbook)
    result = WriteCrash()
    for _ in range(kills):
        run = rygrad_process(config, "run", "--once", "--now", NOW,
                             kill_after=rng.uniform(0.0, WRITE_KILL_WINDOW),
                             kill_when=lambda: bool(temp_files(workbook)))
        result.kills += run.killed
        if not run.killed and run.status != 0:
            result.failures.append(f"exit {run.status}: {run.out[-200:]} {run.err[-200:]}")
        result.finished += not run.killed
        try:
            assert partner_cells(workbook) == partner_before
            written = worker_column(workbook, "Indikatorer", "Indikator-ID",
                                    "Næste opdatering")
        except Exception as err:
            result.corrupt += 1
            result.failures.append(f"workbook unreadable or partner cells changed: {err!r}")
            workbook.write_bytes(original)
            continue
        if workbook.read_bytes() == original:
            result.old_file += 1
        elif all(v == "2027-11-01" for v in written.values()):
            result.new_file += 1
        else:
            result.half_written += 1
        result.temp_files_left += len(temp_files(workbook))
        workbook.write_bytes(original)  # so that the next run has the same write to do
    for temp in temp_files(workbook):  # as if the repair came a few minutes later
        os.utime(temp, (time.time() - 300, time.time() - 300))
    repair = rygrad_process(config, "run", "--once", "--now", NOW)
    result.temp_files_after_repair = len(temp_files(workbook))
    written = worker_column(workbook, "Indikatorer", "Indikator-ID", "Næste opdatering")
    assessed = worker_column(workbook, "Indikatorer", "Indikator-ID", "Vurdering")
    result.repaired = (repair.status == 0 and len(written) == indicators
                       and all(v == "2027-11-01" for v in written.values())
                       and all(assessed.values()))
    return result


# -- a partner saves between the worker's read and its write (xlsx) ------------------------


def insert_two_rows_above(sheet):
    sheet.insert_rows(2, amount=2)
    for row, action_id in ((2, "H-8"), (3, "H-9")):
        sheet.cell(row, 1, action_id)
        sheet.cell(row, 3, "Ny handling")
        sheet.cell(row, 4, "Bo Berg")


def delete_overdue_row(sheet):
    sheet.delete_rows(row_of(sheet, "H-2"))


def sort_descending(sheet):
    rows = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
    rows.sort(key=lambda r: str(r[0]), reverse=True)
    for number, values in enumerate(rows, start=2):
        for column, value in enumerate(values, start=1):
            sheet.cell(number, column, value)


def clear_id(sheet):
    sheet.cell(row_of(sheet, "H-2"), 1).value = None


def change_id(sheet):
    sheet.cell(row_of(sheet, "H-2"), 1, "H-2b")


def rename_worker_column(sheet):
    sheet.cell(1, column_of(sheet, "Forsinket"), "Forsinket (gammel)")


def row_of(sheet, action_id):
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == action_id)


def column_of(sheet, title):
    return next(c for c in range(1, sheet.max_column + 1) if sheet.cell(1, c).value == title)


# edit → the flags by Handling-ID afterwards (H-2 is 12 days overdue and got its notice;
# H-1 got a reminder); None: the ID is not in the sheet
FLAG = "FORSINKET (12 dage)"
SENT = "2026-12-02 09:00"
EDITS = {
    "insert rows above": (insert_two_rows_above, {"H-1": ("", SENT), "H-2": (FLAG, SENT),
                                                  "H-8": ("", ""), "H-9": ("", "")}),
    "delete the row": (delete_overdue_row, {"H-1": ("", SENT), "H-2": None}),
    "sort the tab": (sort_descending, {"H-1": ("", SENT), "H-2": (FLAG, SENT)}),
    "clear the ID cell": (clear_id, {"H-1": ("", SENT), "H-2": None}),
    # a new ID is a new action: overdue by its own date, but its reminders were H-2's
    "change the ID cell": (change_id, {"H-1": ("", SENT), "H-2": None, "H-2b": (FLAG, "")}),
    "rename a W column": (rename_worker_column, {"H-1": ("", SENT), "H-2": (FLAG, SENT)}),
}




def play_partner_edit(name: str, folder: Path) -> tuple[Run, dict[str, tuple[str, str]], bool]:
    """A cycle of small_workbook at NOW whose write-back meets the partner's edit first;
    (the run, Handling-ID → (Forsinket, Sidste påmindelse), whether the edit happened)."""
    import openpyxl

    from automation.sheets.xlsx import XlsxWorkbook

    edit, _ = EDITS[name]
    folder.mkdir(parents=True, exist_ok=True)
    workbook = small_workbook(folder / "initiative.xlsx")
    config = write_config(folder, workbook)
    original_write = XlsxWorkbook.write
    edits: list[str] = []

    def partner_saves_first(self: XlsxWorkbook, writes: Any, version: str) -> int:
        if not edits:
            book = openpyxl.load_workbook(workbook)
            edit(book["Handlinger"])
            book.save(workbook)
            edits.append(name)
        return original_write(self, writes, version)

    XlsxWorkbook.write = partner_saves_first  # type: ignore[method-assign]
    try:
        run = rygrad("run", "--once", "--config", str(config), "--now", NOW)
    finally:
        XlsxWorkbook.write = original_write  # type: ignore[method-assign]
    flags = worker_column(workbook, "Handlinger", "Handling-ID", "Forsinket")
    reminded = worker_column(workbook, "Handlinger", "Handling-ID", "Sidste påmindelse")
    found = {i: (flags[i] or "", reminded[i] or "") for i in flags if i is not None}
    return run, found, bool(edits)


# -- Google Sheets faults through the emulator ---------------------------------------------

SPREADSHEET = "1RygradFaultTest000000000000000000000000000"


# The google backend's timeout in these scenarios (sheet.timeout in their config), and
# how long a timeout fault holds its reply: well past the timeout, so the client gives up.
SHEET_TIMEOUT = 1.0
HELD = 3 * SHEET_TIMEOUT


@dataclass(frozen=True)
class SheetScenario:
    """A fault the emulator plays on the next `count` API requests, starting at the
    cycle's read or at its write-back (injected the moment the worker starts writing)."""

    name: str
    when: str  # read | write
    status: int | None = None
    count: int = 1
    delay: float = 0.0
    truncate: bool = False
    retry_after: int | None = None
    drop: bool = False


SHEET_SCENARIOS = [
    SheetScenario("no fault", "read", count=0),
    SheetScenario("429 ×2 at the read (within the 4 retries)", "read", 429, 2),
    SheetScenario("429 ×5 at the read (beyond the retries)", "read", 429, 5),
    SheetScenario("500 ×2 at the read", "read", 500, 2),
    SheetScenario("503 ×5 at the read", "read", 503, 5),
    SheetScenario("403 at the read (not shared)", "read", 403, 1),
    SheetScenario("429 with Retry-After 7 s at the read", "read", 429, 1, retry_after=7),
    SheetScenario("429 with Retry-After 1 hour at the read", "read", 429, 1,
                  retry_after=3600),
    SheetScenario("timeout ×1 at the read", "read", None, 1, delay=HELD),
    SheetScenario("connection dropped ×2 at the read", "read", None, 2, drop=True),
    SheetScenario("truncated JSON ×1 at the read", "read", None, 1, truncate=True),
    SheetScenario("truncated JSON ×5 at the read", "read", None, 5, truncate=True),
    SheetScenario("429 ×2 at the write-back", "write", 429, 2),
    SheetScenario("503 ×5 at the write-back", "write", 503, 5),
    SheetScenario("403 at the write-back (unshared mid-cycle)", "write", 403, 1),
    SheetScenario("timeout ×5 at the write-back", "write", None, 5, delay=HELD),
    SheetScenario("truncated JSON ×5 at the write-back", "write", None, 5, truncate=True),
]


@dataclass
class SheetResult:
    scenario: str
    run: Run
    sent: int
    states: dict[Pair, str]
    w_cells_written: bool
    status_out: str
    next_run: Run
    w_cells_after_next: bool
    duplicates: int
    waits: list[float]  # the backoff waits of the faulty cycle, recorded, not slept


def play_sheet_scenario(scenario: SheetScenario, folder: Path) -> SheetResult:
    """A cycle of small_workbook kept in the emulator, read and written by the google
    backend through the CLI (outbox transport), with the fault; then a cycle without.
    The config's sheet.timeout is SHEET_TIMEOUT; the API's backoff waits are recorded
    instead of slept, through the sheet that cli.build_sheet builds."""
    import functools

    import requests

    from automation.sheets.google import GoogleSheet
    from tests.emulators import start_emulator

    folder.mkdir(parents=True, exist_ok=True)
    workbook = small_workbook(folder / "initiative.xlsx")
    with start_emulator() as emulator:
        base = emulator.base_url
        key = requests.get(f"{base}/_emulator/service-account.json", timeout=10).json()
        (folder / "key.json").write_text(json.dumps(key), encoding="utf-8")
        reply = requests.put(f"{base}/_emulator/spreadsheets/{SPREADSHEET}",
                             data=workbook.read_bytes(), timeout=10)
        assert reply.status_code == 200, reply.text
        (folder / "key.json").chmod(0o600)
        config = write_config(folder, workbook, sheet={
            "backend": "google", "spreadsheet": SPREADSHEET,
            "credentials": str(folder / "key.json"), "api_base": base,
            "timeout": SHEET_TIMEOUT})

        def inject() -> None:
            spec: dict[str, Any] = {"count": scenario.count, "delay": scenario.delay,
                                    "truncate": scenario.truncate, "drop": scenario.drop}
            if scenario.status is not None:
                spec["status"] = scenario.status
            if scenario.retry_after is not None:
                spec["retry_after"] = scenario.retry_after
            requests.post(f"{base}/_emulator/faults", json=spec, timeout=10)

        def overdue_flag() -> bool:
            data = requests.get(f"{base}/_emulator/spreadsheets/{SPREADSHEET}.xlsx",
                                timeout=10).content
            (folder / "download.xlsx").write_bytes(data)
            flags = worker_column(folder / "download.xlsx", "Handlinger", "Handling-ID",
                                  "Forsinket")
            return flags.get("H-2") == "FORSINKET (12 dage)"

        original_build_sheet = cli.build_sheet
        waits: list[float] = []
        original_write = GoogleSheet.write
        injected: list[bool] = []

        def write_meets_the_fault(self: GoogleSheet, writes: Any, version: str) -> int:
            if not injected:
                inject()
                injected.append(True)
            return original_write(self, writes, version)

        # the faulty cycle's sheet, as the CLI builds it, records its waits instead
        cli.build_sheet = functools.partial(  # type: ignore[assignment]
            original_build_sheet, sleep=waits.append)
        try:
            if scenario.count and scenario.when == "read":
                inject()
            elif scenario.count:
                GoogleSheet.write = write_meets_the_fault  # type: ignore[method-assign]
            run = rygrad("run", "--once", "--config", str(config), "--now", NOW)
            GoogleSheet.write = original_write  # type: ignore[method-assign]
            cli.build_sheet = original_build_sheet  # type: ignore[assignment]
            requests.post(f"{base}/_emulator/faults", json={"clear": True}, timeout=10)
            written = overdue_flag()
            rows = states(folder / "state")
            status = rygrad("status", "--config", str(config)).out
            next_run = rygrad("run", "--once", "--config", str(config), "--now",
                              "2026-12-02T09:15")
            repaired = overdue_flag()
        finally:
            GoogleSheet.write = original_write  # type: ignore[method-assign]
            cli.build_sheet = original_build_sheet  # type: ignore[assignment]
    mails = [path.read_bytes() for path in (folder / "outbox").glob("*.eml")]
    pairs = [(key_of(m.replace(b"\n", b"\r\n")), _to(m)) for m in mails]
    return SheetResult(scenario.name, run, sum(s == "sent" for s in rows.values()), rows,
                       written, status, next_run, repaired, len(duplicates(pairs)), waits)


def _to(data: bytes) -> str:
    import email
    import email.policy

    message = email.message_from_bytes(data, policy=email.policy.default)
    return str(message["To"].addresses[0].addr_spec)
