"""Faults from outside, each through the CLI: SMTP faults from the test server, and a
partner's edit between the worker's read and its write (README, "Command line",
"Delivery" and "Connecting a Google Sheet").

Each SMTP scenario (tests/faultkit.py, shared with bench/reliability.py) runs a cycle of
11 partner mails and the digest, then `status`, then a cycle against a healthy server,
then `--resend-uncertain` when something is uncertain. The transport's backoff is
shortened (10 ms, 20 ms instead of 1 s, 2 s); the number of tries is not.
"""

from __future__ import annotations

import logging
from collections import Counter

import openpyxl
import pytest

from automation.core.values import parse_date
from tests.faultkit import (
    EDITS,
    SHEET_SCENARIOS,
    SMTP_SCENARIOS,
    TODAY,
    duplicates,
    play_partner_edit,
    play_sheet_scenario,
    play_smtp_scenario,
    rygrad,
    worker_column,
)
from tests.smtpserver import make_certificates

BY_NAME = {scenario.name: scenario for scenario in SMTP_SCENARIOS}

# scenario → exit status, ledger states after it, what `status` shows, the next cycle's
# exit status and how many it delivers, copies delivered twice in the end (only an
# explicit resend of a message the server had kept)
EXPECTED = {
    "no fault": (0, {"sent": 11}, "", 0, 0, 0),
    "421 at greeting": (2, {}, "(exit 2)", 0, 11, 0),
    "stall at greeting past timeout": (2, {}, "(exit 2)", 0, 11, 0),
    "421 mid-cycle, once": (0, {"sent": 11}, "", 0, 0, 0),
    "421 mid-cycle, for the rest of the cycle": (1, {"sent": 4, "retry": 7},
                                                 "will retry: ", 0, 7, 0),
    "451 for one recipient": (1, {"sent": 8, "retry": 3},
                              "will retry: agenda:AGU-1 → bo@ngo.example: 451 4.7.1", 0, 3, 0),
    "452 for one recipient, once": (0, {"sent": 11}, "", 0, 0, 0),
    "550 for one recipient": (1, {"sent": 8, "failed": 3},
                              "failed: agenda:AGU-1 → bo@ngo.example: 550 5.1.1", 0, 0, 0),
    "553 for one recipient": (1, {"sent": 8, "failed": 3},
                              "failed: agenda:AGU-1 → bo@ngo.example: 553 5.1.3", 0, 0, 0),
    "552 message too big (SIZE at MAIL FROM)": (1, {"sent": 7, "failed": 4},
                                                "failed: invitation:AGU-1:0 → ", 0, 0, 0),
    "552 message too big (after DATA)": (1, {"sent": 10, "failed": 1},
                                         "failed: invitation:AGU-1:0 → ", 0, 0, 0),
    "connection dropped at the DATA command": (0, {"sent": 11}, "", 0, 0, 0),
    "connection dropped after the content, not kept": (1, {"sent": 10, "sending": 1},
                                                       "UNCERTAIN: ", 1, 0, 0),
    "connection dropped after the content, kept": (1, {"sent": 10, "sending": 1},
                                                   "UNCERTAIN: ", 1, 0, 1),
    "stall past timeout at MAIL FROM": (0, {"sent": 11}, "", 0, 0, 0),
    "stall past timeout after the content": (1, {"sent": 10, "sending": 1},
                                             "UNCERTAIN: ", 1, 0, 0),
    "TLS handshake failure (untrusted certificate)": (2, {}, "(exit 2)", 0, 11, 0),
    "TLS handshake failure (ssl against a STARTTLS port)": (2, {}, "(exit 2)", 0, 11, 0),
    "AUTH failure (wrong password)": (2, {}, "(exit 2)", 0, 11, 0),
}


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("certs"))


def test_every_scenario_has_an_expectation():
    assert set(EXPECTED) == set(BY_NAME)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_smtp_fault(name, tmp_path, certificates):
    exit_status, ledger, status_text, next_exit, next_delivered, twice = EXPECTED[name]
    result = play_smtp_scenario(BY_NAME[name], tmp_path, certificates)
    run = result.run
    assert run.status == exit_status, run.out + run.err
    assert dict(Counter(result.states.values())) == ledger
    assert "Traceback" not in run.out + run.err
    if exit_status == 2:
        # one sentence naming host:port; nothing sent and nothing written
        assert len(run.err.strip().splitlines()) == 1 and "127.0.0.1:" in run.err
        assert result.delivered == []
    # never twice within the fault, and what arrived is what the ledger calls sent …
    assert not duplicates(result.delivered)
    sent = {pair for pair, state in result.states.items() if state == "sent"}
    assert sent <= set(result.delivered)
    # … or uncertain (the server may or may not have it)
    assert set(result.delivered) <= sent | {p for p, s in result.states.items()
                                            if s == "sending"}
    assert status_text in result.status_out
    # failed, uncertain and retried messages are in the digest of the same cycle
    digest_failed = {(f["key"], f["recipient"]) for f in result.digest.get("failed", [])}
    digest_uncertain = {(u["key"], u["recipient"]) for u in result.digest.get("uncertain", [])}
    digest_retrying = {(r["key"], r["recipient"]) for r in result.digest.get("retrying", [])}
    digest_sent = any(k.startswith("digest:") and s == "sent" for (k, _), s in
                      result.states.items())
    if digest_sent:
        assert digest_failed == {p for p, s in result.states.items() if s == "failed"}
        assert digest_uncertain == {p for p, s in result.states.items() if s == "sending"}
        assert digest_retrying == {p for p, s in result.states.items() if s == "retry"}
        assert all(r["error"][:3].isdigit() or r["error"].startswith("127.0.0.1:")
                   for r in result.digest.get("retrying", []))
    for pair, error in result.errors.items():
        if result.states[pair] == "sending":  # uncertain: why the connection was lost
            assert error.startswith("127.0.0.1:"), error
        else:  # refused or deferred: the server's reply
            assert result.states[pair] in ("failed", "retry") and error[:3].isdigit()
    # the fault gone: the next cycle catches up, uncertain ones wait for --resend-uncertain
    assert result.next_run.status == next_exit, result.next_run.out
    assert len(result.next_delivered) == next_delivered
    if result.resend is not None:
        assert result.resend.status == 0 and "1 uncertain message resent" in result.resend.out
    permanent = {p for p, s in result.states.items() if s == "failed"}
    assert {p for p, s in result.final_states.items() if s != "sent"} == permanent
    assert set(result.final_delivered) == result.planned - permanent
    assert len(duplicates(result.final_delivered)) == twice


# a partner saves the workbook between the worker's read and its write


@pytest.mark.parametrize("name", list(EDITS))
def test_partner_edit_between_read_and_write(name, tmp_path, monkeypatch):
    _edit, expected = EDITS[name]
    run, found, edited = play_partner_edit(name, tmp_path)
    workbook = tmp_path / "initiative.xlsx"
    config = tmp_path / "rygrad.toml"
    assert run.status == 0, run.out + run.err
    assert edited and "write-back skipped" not in run.out
    assert found == {i: v for i, v in expected.items() if v is not None}
    book = openpyxl.load_workbook(workbook)
    sheet = book["Handlinger"]
    header = [c.value for c in sheet[1]]
    if name == "rename a W column":
        # the renamed column is the partner's now: untouched; the flag gets a new column
        old = header.index("Forsinket (gammel)") + 1
        assert all(sheet.cell(r, old).value is None for r in range(2, sheet.max_row + 1))
        assert header[-1] == "Forsinket"
    if name == "clear the ID cell":
        # the row without an ID is named by cell, never guessed to be H-2
        notes = worker_column(workbook, "Handlinger", "Handling", "Bemærkning")
        assert notes["Aftal datadeling"]
        check = rygrad("check", "--config", str(config))
        assert "Handlinger!A3" in check.out or "Handlinger!A2" in check.out
    # whatever happened, the flag is never on a row whose own due date is not overdue:
    # each flag counts the days from its own row's Frist to today
    flagged = 0
    for row in range(2, sheet.max_row + 1):
        flag = sheet.cell(row, header.index("Forsinket") + 1).value
        if flag:
            due = parse_date(sheet.cell(row, header.index("Frist") + 1).value)
            assert due is not None and due < TODAY, (row, flag, due)
            assert flag == f"FORSINKET ({(TODAY - due).days} dage)", (row, flag, due)
            flagged += 1
    assert flagged == sum(1 for v in expected.values() if v is not None and v[0])


# Google Sheets faults through the emulator (sheet.backend = "google", the CLI in-process)

SHEET_BY_NAME = {scenario.name: scenario for scenario in SHEET_SCENARIOS}
# scenario → exit status, messages sent, W cells written in that cycle, and how many
# times the API client waited to try again (four retries: five tries, four waits)
SHEET_EXPECTED = {
    "no fault": (0, 11, True, 0),
    "429 ×2 at the read (within the 4 retries)": (0, 11, True, 2),
    "429 ×5 at the read (beyond the retries)": (2, 0, False, 4),
    "500 ×2 at the read": (0, 11, True, 2),
    "503 ×5 at the read": (2, 0, False, 4),
    "403 at the read (not shared)": (2, 0, False, 0),
    "429 with Retry-After 7 s at the read": (0, 11, True, 1),
    # not waited out: the cycle ends at once and says so
    "429 with Retry-After 1 hour at the read": (2, 0, False, 0),
    # the client gives up after sheet.timeout and tries again
    "timeout ×1 at the read": (0, 11, True, 1),
    "connection dropped ×2 at the read": (0, 11, True, 2),
    "truncated JSON ×1 at the read": (0, 11, True, 1),
    "truncated JSON ×5 at the read": (2, 0, False, 4),
    "429 ×2 at the write-back": (0, 11, True, 2),
    "503 ×5 at the write-back": (0, 11, False, 4),
    "403 at the write-back (unshared mid-cycle)": (0, 11, False, 0),
    # the re-read of the ID columns times out five times: nothing is written this cycle
    "timeout ×5 at the write-back": (0, 11, False, 4),
    "truncated JSON ×5 at the write-back": (0, 11, False, 4),
}
# what the faulty cycle says: its one sentence on stderr, or the warning it logs
SHEET_SAYS = {"429 with Retry-After 1 hour at the read":
              "rygrad: Google asks us to wait 60 minutes; the next cycle tries again"}
SHEET_WARNS = {"429 with Retry-After 7 s at the read":
               "spreadsheets.get: Google Sheets answered 429; try 2 of 5 in 7.0 s"}


def test_every_sheet_scenario_has_an_expectation():
    assert set(SHEET_EXPECTED) == set(SHEET_BY_NAME)


@pytest.mark.parametrize("name", list(SHEET_EXPECTED))
def test_sheets_fault(name, tmp_path, caplog):
    exit_status, sent, written, waits = SHEET_EXPECTED[name]
    result = play_sheet_scenario(SHEET_BY_NAME[name], tmp_path)
    run = result.run
    assert "Traceback" not in run.out + run.err
    assert run.status == exit_status, run.out + run.err
    assert result.sent == sent and result.duplicates == 0
    assert result.w_cells_written == written
    # the retries happened (a timeout really timed out), and nothing was slept
    assert len(result.waits) == waits, result.waits
    assert all(0 <= wait <= 60 for wait in result.waits)
    if name in SHEET_SAYS:
        assert run.err.strip() == SHEET_SAYS[name]
    # every wait over 5 s is a warning (backoff is random: up to 1, 2, 4, 8 s)
    warnings = [m for logger, level, m in caplog.record_tuples
                if logger == "automation.sheets.google_api" and level >= logging.WARNING]
    assert len(warnings) == sum(wait > 5 for wait in result.waits), warnings
    if name in SHEET_WARNS:
        assert warnings == [SHEET_WARNS[name]]
    if exit_status == 2:  # one sentence; nothing sent, nothing written, no cycle begun
        assert len(run.err.strip().splitlines()) == 1
        assert "running or crashed" not in result.status_out
    elif not written:
        assert "write-back skipped" in run.out
    # the next cycle sends what is due (nothing twice) and writes the W cells
    assert result.next_run.status == 0
    assert result.w_cells_after_next
