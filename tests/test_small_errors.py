"""Small things people run into (issue 11, point 12): each is one clear sentence, or
simply works — counts in the singular, no doubled ")", help that explains itself, a
missing tab that names `rygrad init-sheet`, an outbox link to nowhere, a state folder
this user may only read, and an emulator that starts without a warning."""

from __future__ import annotations

import ctypes
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from automation.errors import error_text
from tests.test_cli import small_initiative
from tests.workbook import HEADERS, rygrad, write_config, write_workbook

NOW = "2026-12-02T09:00"


@pytest.fixture
def initiative(tmp_path):
    workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative())
    return tmp_path, write_config(tmp_path, workbook)


def one_sentence(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# -- a missing tab names init-sheet ---------------------------------------------------------


@pytest.mark.parametrize(("language", "words"), [
    ("da", "Tilføj den med `rygrad init-sheet`"), ("en", "Add it with `rygrad init-sheet`")])
def test_a_missing_tab_says_init_sheet_adds_it(tmp_path, capsys, language, words):
    headers = {tab: columns for tab, columns in HEADERS.items() if tab != "Indikatorer"}
    workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative(), headers)
    config = write_config(tmp_path, workbook, initiative={"language": language})
    result = rygrad(capsys, "check", "--config", str(config))
    assert result.status == 2
    assert words in one_sentence(result.err)


# -- no doubled ")" -------------------------------------------------------------------------


@pytest.mark.parametrize(("said", "shown"), [
    ("Invalid value (at line 3, column 5)", "Invalid value, at line 3, column 5"),
    ("[X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate or crl found (_ssl.c:4149)",
     "[X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate or crl found"),
    ("EOF occurred in violation of protocol (_ssl.c:2427)",
     "EOF occurred in violation of protocol"),
    ("[Errno 111] Connection refused", "[Errno 111] Connection refused"),
    ("two\nlines", "two lines"),
])
def test_error_text_never_ends_in_a_parenthesis(said, shown):
    assert error_text(said) == shown
    assert not f"({error_text(said)})".endswith("))")


def test_error_text_of_an_exception_without_words_is_its_kind():
    assert error_text(TimeoutError()) == "TimeoutError"


def test_a_bad_ca_file_is_one_sentence_without_doubled_parentheses(initiative, capsys):
    folder, _ = initiative
    ca = folder / "company-ca.pem"
    ca.write_text("not a certificate\n")
    config = write_config(folder, folder / "initiative.xlsx", mail={
        "transport": "smtp", "host": "127.0.0.1", "port": 1, "ca_file": str(ca)})
    result = rygrad(capsys, "send-test", "--to", "you@example.dk", "--config", str(config))
    assert result.status == 2
    line = one_sentence(result.err)
    assert f"mail.ca_file: cannot load {ca} as PEM certificates" in line
    assert "))" not in line and "_ssl.c" not in line


# -- an outbox link to nowhere --------------------------------------------------------------


def test_an_outbox_that_links_to_a_missing_folder_says_so(initiative, capsys):
    folder, _ = initiative
    target = folder / "unmounted" / "outbox"
    (folder / "outbox").symlink_to(target)
    result = rygrad(capsys, "run", "--once", "--config", str(folder / "rygrad.toml"),
                    "--now", NOW)
    assert result.status == 2
    line = one_sentence(result.err)
    assert f"{folder / 'outbox'} (mail.outbox_dir) is a symbolic link to {target}" in line
    assert "does not exist" in line
    assert not target.exists() and not (folder / "unmounted").exists()


# -- a state folder this user may only read --------------------------------------------------


def _without_root_powers() -> None:
    """In the child: root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH minds file
    modes as any user does (the bounding set caps what exec gives)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def rygrad_as_a_reader(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m automation ARGS` as a user who may not write what is read-only."""
    return subprocess.run(
        [sys.executable, "-m", "automation", *args], capture_output=True, text=True,
        check=False, preexec_fn=_without_root_powers if os.geteuid() == 0 else None)


@pytest.fixture
def read_only_state(initiative, capsys):
    """The small initiative after one cycle, its state folder and ledger made read-only."""
    folder, config = initiative
    first = rygrad(capsys, "run", "--once", "--config", str(config), "--now", NOW)
    assert first.status == 0, first.err
    state = folder / "state"
    for path in state.iterdir():
        path.chmod(0o444)
    state.chmod(0o555)
    yield folder, config
    state.chmod(0o755)


def test_status_and_plan_read_a_read_only_ledger(read_only_state):
    folder, config = read_only_state
    before = sorted(p.name for p in (folder / "state").iterdir())
    status = rygrad_as_a_reader("status", "--config", str(config), "--now", NOW)
    assert status.returncode == 0, status.stderr
    assert status.stderr == ""
    assert "cycle 1 at 2026-12-02T09:00 (exit 0)" in status.stdout
    plan = rygrad_as_a_reader("plan", "--config", str(config), "--now", NOW)
    assert plan.returncode == 0, plan.stderr
    assert plan.stderr == ""
    assert "0 messages due" in plan.stdout  # the ledger was read: all of them went out
    assert sorted(p.name for p in (folder / "state").iterdir()) == before


def test_status_reads_an_older_read_only_ledger(initiative, capsys):
    """A ledger from before the cycles' reason column, in a folder this user may not
    write: status cannot add the column, and reads it as empty."""
    folder, config = initiative
    assert rygrad(capsys, "run", "--once", "--config", str(config), "--now", NOW).status == 0
    ledger = folder / "state" / "ledger.sqlite3"
    with sqlite3.connect(ledger) as db:
        db.execute("ALTER TABLE cycles DROP COLUMN reason")
    db.close()
    ledger.chmod(0o444)
    (folder / "state").chmod(0o555)
    try:
        status = rygrad_as_a_reader("status", "--config", str(config), "--now", NOW)
    finally:
        (folder / "state").chmod(0o755)
    assert status.returncode == 0, status.stderr
    assert "cycle 1 at 2026-12-02T09:00 (exit 0)" in status.stdout


def test_a_run_on_a_read_only_state_folder_says_so(read_only_state):
    folder, config = read_only_state
    sent = sorted((folder / "outbox").iterdir())
    run = rygrad_as_a_reader("run", "--once", "--config", str(config), "--now",
                             "2026-12-09T09:00")
    assert run.returncode == 2
    line = one_sentence(run.stderr)
    assert line.startswith(f"rygrad: {folder / 'state'}: the state folder is read-only")
    assert "state.dir" in line
    assert sorted((folder / "outbox").iterdir()) == sent  # nothing sent


def test_a_run_whose_ledger_file_is_read_only_says_so(initiative, capsys):
    folder, config = initiative
    assert rygrad(capsys, "run", "--once", "--config", str(config), "--now", NOW).status == 0
    ledger = folder / "state" / "ledger.sqlite3"
    ledger.chmod(0o444)
    run = rygrad_as_a_reader("run", "--once", "--config", str(config), "--now",
                             "2026-12-09T09:00")
    assert run.returncode == 2
    assert f"{ledger}: the ledger is read-only for this user" in one_sentence(run.stderr)


def test_a_state_folder_that_cannot_be_created_says_where(initiative, capsys):
    folder, _ = initiative
    locked = folder / "locked"
    locked.mkdir(mode=0o555)
    config = write_config(folder, folder / "initiative.xlsx",
                          state={"dir": str(locked / "state")})
    run = rygrad_as_a_reader("run", "--once", "--config", str(config), "--now", NOW)
    assert run.returncode == 2
    line = one_sentence(run.stderr)
    assert f"{locked}: the state folder {locked / 'state'} (state.dir) cannot be created" \
        in line


# -- the Sheets emulator starts without a warning ---------------------------------------------


def test_the_sheets_emulator_starts_without_a_runtime_warning():
    done = subprocess.run(
        [sys.executable, "-W", "error", "-m", "tests.emulators.sheets_emulator", "--help"],
        capture_output=True, text=True, check=False, cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "--port" in done.stdout


def test_the_testing_package_still_gives_start_emulator():
    from tests.emulators import Emulator, start_emulator

    assert callable(start_emulator) and Emulator.__name__ == "Emulator"


# -- counts: "1 cell", not "1 cells" ------------------------------------------------------------


def test_counts_of_one_are_singular(tmp_path, capsys):
    tabs = small_initiative()
    tabs["Handlinger"][0]["Frist"] = "31-02-2026"  # one error in the sheet
    workbook = write_workbook(tmp_path / "initiative.xlsx", tabs)
    config = str(write_config(tmp_path, workbook))
    check = rygrad(capsys, "check", "--config", config)
    assert f"1 error, 0 warnings in {workbook}" in check.out
    rygrad(capsys, "run", "--once", "--config", config, "--now", NOW)
    # the day after, only one overdue count moves on
    plan = rygrad(capsys, "plan", "--config", config, "--now", "2026-12-03T09:00")
    assert "\n1 cell would change\n" in plan.out
    run = rygrad(capsys, "run", "--once", "--config", config, "--now", "2026-12-03T09:00")
    assert f"  1 cell written to {workbook}" in run.out
    assert "  1 problem in the sheet; see `rygrad check`" in run.out
    status = rygrad(capsys, "status", "--config", config)
    assert "0 sent, 0 due, 1 cell written" in status.out
    for output in (check.out, plan.out, run.out, status.out):
        assert not any(f" 1 {noun}s" in output
                       for noun in ("cell", "error", "warning", "message", "problem"))


# -- help that explains itself ------------------------------------------------------------------


def test_init_help_explains_dir(capsys):
    with pytest.raises(SystemExit) as done:
        rygrad(capsys, "init", "--help")
    assert done.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "rygrad init [-h]" in shown and "[DIR]" in shown
    assert "DIR the folder to set up (default: the current folder)" in shown
    assert "config/rygrad.toml" in shown


def test_send_test_help_lists_the_kinds(capsys):
    from automation.scaffold.samples import KINDS

    with pytest.raises(SystemExit) as done:
        rygrad(capsys, "send-test", "--help")
    assert done.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "--kind KIND only this kind: " + ", ".join(KINDS) in shown


def test_send_test_refuses_a_kind_it_does_not_know(capsys, initiative):
    _, config = initiative
    with pytest.raises(SystemExit) as done:
        rygrad(capsys, "send-test", "--to", "you@example.dk", "--kind", "reminders",
               "--config", str(config))
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'reminders'" in err and "'reminder'" in err


def test_init_into_a_read_only_folder_says_so(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    done = rygrad_as_a_reader("init", str(locked / "initiative"))
    assert done.returncode == 2
    line = one_sentence(done.stderr)
    assert line.startswith(f"rygrad: {locked / 'initiative'}: cannot be created, as its "
                           "folder is read-only for this user")
    assert not (locked / "initiative").exists()


def test_a_refused_google_key_is_one_sentence_without_doubled_parentheses(
        tmp_path, capsys, sheets_emulator):
    import json

    import requests

    key = requests.get(f"{sheets_emulator}/_emulator/service-account.json", timeout=10).json()
    key["client_email"] = "stranger@rygrad-test.iam.gserviceaccount.com"
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(key))
    key_file.chmod(0o600)
    config = write_config(tmp_path, tmp_path / "unused.xlsx", sheet={
        "backend": "google", "spreadsheet": "1Rygrad" + "0" * 30, "path": "",
        "credentials": str(key_file), "api_base": sheets_emulator})
    result = rygrad(capsys, "check", "--config", str(config))
    assert result.status == 2
    line = one_sentence(result.err)
    assert f"Google refused the service account key {key_file} (invalid_grant: " in line
    assert "))" not in line and "{" not in line
