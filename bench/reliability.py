"""Run the fault matrix and write docs/reliability.md.

    .venv/bin/python bench/reliability.py --out docs/reliability.md
    .venv/bin/python bench/reliability.py --trials 10 --kills 10 --repeat 3 > /tmp/r.md

Every scenario is the code the tests run (tests/faultkit.py, tests/test_hostile.py):
the CLI as a subprocess (for SIGKILL) or in-process, a real workbook, the real SQLite
ledger, aiosmtpd on 127.0.0.1. Seeds are fixed, so a rerun kills at the same moments
(as far as the machine's timing allows).
"""

from __future__ import annotations

import argparse
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import faultkit  # noqa: E402
from tests.google_crash import google_write_crash_trial  # noqa: E402
from tests.smtpserver import make_certificates  # noqa: E402


def crash_section(trials: int, kills: int, owners: int, work: Path) -> list[str]:
    rows, totals = [], Counter[str]()
    for seed in range(trials):
        trial = faultkit.crash_trial(work / f"crash-{seed}", random.Random(seed), owners,
                                     kills)
        moments = ", ".join(f"{n} {m}" for m, n in sorted(trial.kills_by_moment.items()))
        fine = "yes" if not trial.failures else "NO: " + "; ".join(trial.failures)[:200]
        rows.append(
            f"| {seed} | {trial.kills} ({moments}) | {trial.planned} | "
            f"{trial.delivered_before_resend} | {trial.duplicates_before_resend} | "
            f"{trial.lost} | {trial.uncertain} ({trial.uncertain_delivered} had arrived) | "
            f"{trial.completing_status} | {_status(trial.resend_status)} | "
            f"{trial.duplicates_after_resend} | {trial.not_sent_at_end} | "
            f"{trial.corrupt_workbooks} | {trial.wrong_w_cells} | {fine} |")
        totals.update(kills=trial.kills, planned=trial.planned,
                      duplicates=trial.duplicates_before_resend, lost=trial.lost,
                      uncertain=trial.uncertain, arrived=trial.uncertain_delivered,
                      resend_duplicates=trial.duplicates_after_resend,
                      not_sent=trial.not_sent_at_end, failures=len(trial.failures))
    return [
        "## 1. SIGKILL during a cycle over SMTP",
        "",
        f"Each trial: a workbook with {owners} actions five days overdue, each with its own "
        "owner (a cycle of one overdue notice each plus the digest), aiosmtpd on "
        "127.0.0.1 with 5 ms before every reply, and `python -m automation run --once` "
        f"killed with SIGKILL {kills} times in a row at the same `--now`: once during "
        "start-up, then right after the server accepted a random n-th message plus "
        "0–30 ms (so every step of a message gets hit: rendering, the `sending` commit, "
        "the SMTP dialogue, the `sent` commit), then once 0–80 ms after the write-back's "
        "temporary file appeared. Then one run that is not killed, `status`, and "
        "`run --once --resend-uncertain` if anything is uncertain.",
        "",
        "| seed | kills (where) | due | delivered | twice | lost | uncertain | exit | "
        "resend exit | twice after resend | not sent at end | bad workbook | wrong W "
        "cells | all checks |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"**Total: {totals['kills']} kills; {totals['duplicates']} messages delivered twice "
        f"by the worker itself; {totals['lost']} lost; {totals['uncertain']} left "
        f"uncertain, of which {totals['arrived']} had in fact arrived; "
        f"{totals['resend_duplicates']} second copies from the explicit resend; "
        f"{totals['not_sent']} not sent at the end; {totals['failures']} failed checks.**",
        "",
        "*twice*: a (key, recipient) the server accepted more than once before the resend. "
        "*lost*: accepted by the server but neither `sent` nor `sending` in the ledger. "
        "*uncertain*: left `sending` by a kill; every one is listed by `rygrad status` as "
        "UNCERTAIN and in the digest's uncertain list, and the run exits 1. "
        "*had arrived*: the kill came after the server accepted it and before `sent` "
        "was committed; `--resend-uncertain` delivers those a second time, by design "
        "(at most once by itself, never silently: the resend is the secretariat's "
        "explicit choice, and the copy carries the same Message-ID, so most clients "
        "show it once). *wrong W cells*: Forsinket and Sidste påmindelse of the "
        f"{owners} rows after the resend.",
        "",
    ]


def write_crash_section(kills: int, work: Path) -> list[str]:
    result = faultkit.write_crash_trial(work / "write", random.Random(11), kills)
    return [
        "## 2. SIGKILL during the xlsx write-back",
        "",
        "A workbook of 1,500 indicators (3,000 W cells to write, no mail); each run is "
        "killed 0–300 ms after its temporary file appears beside the workbook, the "
        "workbook is checked and put back, and the next run does the same write again.",
        "",
        "| runs | killed | finished first | old file | whole new file | half-written | "
        "unreadable | temp copies left | left after a later write | next cycle repairs |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {kills} | {result.kills} | {result.finished} | {result.old_file} | "
        f"{result.new_file} | {result.half_written} | {result.corrupt} | "
        f"{result.temp_files_left} | {result.temp_files_after_repair} | "
        f"{'yes' if result.repaired else 'NO'} |",
        "",
        "The workbook is replaced by one rename, so a kill leaves the old file or the "
        "whole new one. A kill before the rename leaves the temporary copy; the next "
        "successful write removes copies older than a minute (that fix is part of this "
        "work). The partner cells were compared after every kill.",
        "",
    ]


def google_write_crash_section(kills: int, work: Path) -> list[str]:
    result = google_write_crash_trial(work / "google-write", random.Random(5), kills)
    return [
        "### 2b. SIGKILL during the google write-back",
        "",
        "The same 1,500 indicators in the Sheets API emulator, written by the google backend "
        "(a `values:batchGet` of the IDs, then one `values:batchUpdate` of 3,000 cells); "
        "each run is killed 0–120 ms after the batchGet reached the emulator — before, "
        "during or after the update is sent — then the sheet is downloaded, checked and "
        "uploaded as it was.",
        "",
        "| runs | killed | finished first | old W cells | all new W cells | half-written | "
        "partner cells changed | next cycle repairs |",
        "|---|---|---|---|---|---|---|---|",
        f"| {kills} | {result.kills} | {result.finished} | {result.old_sheet} | "
        f"{result.new_sheet} | {result.half_written} | {result.partner_cells_changed} | "
        f"{'yes' if result.repaired else 'NO'} |",
        "",
        "A batchUpdate is applied whole or not at all (by Google, and by the emulator, "
        "which also refuses a body cut short by the kill), so there is nothing to repair "
        "but the cells not yet written, and the next cycle writes them.",
        "",
    ]


def smtp_section(repeat: int, work: Path) -> list[str]:
    certificates = make_certificates(work / "certs")
    rows = []
    timings = []  # what the tests no longer assert: how long a stalled server costs
    for scenario in faultkit.SMTP_SCENARIOS:
        outcomes = Counter[str]()
        seconds = []
        for attempt in range(repeat):
            folder = work / f"smtp-{faultkit.SMTP_SCENARIOS.index(scenario)}-{attempt}"
            result = faultkit.play_smtp_scenario(scenario, folder, certificates)
            seconds.append(result.run.seconds)
            states = Counter(result.states.values())
            state_text = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "none"
            shown = [line.strip().split(":")[0] for line in result.status_out.splitlines()
                     if line.strip().startswith(("failed", "will retry", "UNCERTAIN"))]
            cycle_line = next((x for x in result.status_out.splitlines()
                               if x.strip().startswith("cycle 1")), "")
            status_text = (", ".join(f"{n}× {k}" for k, n in Counter(shown).items())
                           or cycle_line.split("(")[-1].split(")")[0])
            digest = (f"{len(result.digest.get('failed', []))} failed, "
                      f"{len(result.digest.get('uncertain', []))} uncertain, "
                      f"{len(result.digest.get('retrying', []))} retrying"
                      if result.digest else "not sent")
            resend = (f"resend exit {result.resend.status}" if result.resend else "—")
            twice = len(faultkit.duplicates(result.final_delivered))
            outcomes[
                f"| {len(result.planned)} | {len(result.delivered)} | "
                f"{len(faultkit.duplicates(result.delivered))} | {state_text} | "
                f"{result.run.status} | {status_text} | {digest} | "
                f"exit {result.next_run.status}, {len(result.next_delivered)} delivered; "
                f"{resend} | {twice} |"] += 1
        for outcome, count in outcomes.items():
            rows.append(f"| {scenario.name} | {count} {outcome}")
        if "timeout" in scenario.mail:
            timings.append(f"| {scenario.name} | {scenario.mail['timeout']:g} s | "
                           f"{min(seconds):.2f}–{max(seconds):.2f} s |")
    return [
        "## 3. SMTP faults",
        "",
        "A cycle of 11 partner mails and the digest (tests/faultkit.py `small_workbook`) over "
        "STARTTLS with AUTH, through the CLI in-process, the fault injected by the test "
        "server; then `status`; then a cycle 15 minutes later against a healthy server; "
        "then `--resend-uncertain` when something is uncertain. The transport's backoff "
        "is shortened to 10 ms and 20 ms (the number of tries, three, is not).",
        "",
        "| fault | runs | due | delivered | twice | ledger after | exit | `status` shows | "
        "digest lists | next cycle | twice in the end |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Exit 2 (could not run) leaves nothing sent and nothing written; `status` shows "
        "the cycle as `exit 2` (it said `running or crashed` before a fix made here). "
        "A 552 at MAIL FROM refuses the digest too when it is larger than the limit: the "
        "digest is then `failed`, and the secretariat learns of it from `status`, the "
        "run's exit status 1 and the next week's digest, which lists it among the mails "
        "that could not be delivered. Temporary failures (`retry`) are listed in the "
        "digest as retrying, with the server's reply, and go out next cycle. The one copy "
        "delivered twice in the end is the explicit resend of a "
        "message the server had kept although the connection dropped before its reply.",
        "",
        "How long the faulty cycle took where the server stalls (the tests assert what "
        "happened, not how long it took): about one `mail.timeout` per lost reply, never "
        "the server's whole stall.",
        "",
        "| fault | mail.timeout | cycle (min–max) |",
        "|---|---|---|",
        *timings,
        "",
    ]


def edits_section(work: Path) -> list[str]:
    rows = []
    for name, (_edit, expected) in faultkit.EDITS.items():
        run, found, edited = faultkit.play_partner_edit(name, work / f"edit-{len(rows)}")
        wanted = {i: v for i, v in expected.items() if v is not None}
        rows.append(f"| {name} | {'yes' if edited else 'no'} | {run.status} | "
                    f"{'yes' if found == wanted else 'NO: ' + repr(found)} |")
    return [
        "## 4. A partner saves the workbook between the worker's read and its write",
        "",
        "The xlsx backend's write is wrapped so that the partner's edit (saved with "
        "openpyxl) lands first; the worker sees the file changed, re-reads and "
        "recomputes its writes by ID.",
        "",
        "| edit | happened | exit | every flag on the row of its own ID |",
        "|---|---|---|---|",
        *rows,
        "",
        "A vanished row (deleted, or its ID cleared or changed) gets nothing; its "
        "messages stay in the ledger. A changed ID is a new action: its overdue flag "
        "comes from its own date, its reminder history starts empty. A renamed W column "
        "becomes a partner column and is left alone; the worker adds the column anew.",
        "",
    ]


def sheets_section(work: Path) -> list[str]:
    rows = []
    for index, scenario in enumerate(faultkit.SHEET_SCENARIOS):
        result = faultkit.play_sheet_scenario(scenario, work / f"sheet-{index}")
        run = result.run
        said = ("traceback (" + run.err.strip().splitlines()[-1][:90] + ")"
                if "Traceback" in run.err else
                run.err.strip()[:110] or next((line.strip() for line in run.out.splitlines()
                                               if "write-back skipped" in line), "")[:110])
        cycle = next((x.split("(")[1].split(")")[0] for x in result.status_out.splitlines()
                      if x.strip().startswith("cycle 1")), "no cycle recorded")
        rows.append(f"| {scenario.name} | {run.status} | {result.sent} | "
                    f"{'yes' if result.w_cells_written else 'no'} | {len(result.waits)} | "
                    f"{run.seconds:.1f} s | {said or '—'} | {cycle} | "
                    f"exit {result.next_run.status}, W cells "
                    f"{'right' if result.w_cells_after_next else 'WRONG'} | "
                    f"{result.duplicates} |")
    return [
        "## 7. Google Sheets faults (emulator)",
        "",
        "The same 11-mail cycle with `sheet.backend = \"google\"`: real gspread and "
        "google-auth over HTTP against the Sheets API emulator on 127.0.0.1, the outbox "
        "transport, the CLI in-process. The emulator plays the fault on the next N API "
        "requests, from the cycle's read or from the moment its write-back starts. The "
        "API's backoff waits are counted (\"retries\"), not slept, through the sheet the "
        f"CLI builds; `sheet.timeout = {faultkit.SHEET_TIMEOUT:g}` (a timeout fault holds "
        f"the reply {faultkit.HELD:g} s); four retries, as configured.",
        "",
        "| fault | exit | sent | W cells written | retries | cycle | what it said | "
        "`status` | next cycle | twice |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "A truncated JSON body was a traceback (exit 1, the cycle left `running or "
        "crashed`) when this matrix first ran; google_api now retries it like a lost "
        "connection, then gives up with one sentence. A write the client gave up on "
        "after its timeout may still be applied by the server (the emulator does); RAW "
        "writes of the same values make "
"that harmless. SIGKILL during a Google write-back was not run.",
        "",
    ]


def hostile_section(examples: int) -> list[str]:
    from hypothesis import HealthCheck, given, settings

    from tests.test_hostile import check_one_sheet, hostile_snapshot

    count = [0]

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(hostile_snapshot())
    def run(sheet: tuple) -> None:
        count[0] += 1
        check_one_sheet(*sheet)

    started = time.monotonic()
    try:
        run()
        outcome = "every check held"
    except Exception as err:  # the bench reports; the test fails
        outcome = f"FAILED: {type(err).__name__}: {str(err)[:300]}"
    seconds = time.monotonic() - started
    return [
        "## 5. Hostile sheets (hypothesis)",
        "",
        "Every column of every tab: formulas, control characters, 1,000- and "
        "50,000-character cells, RTL and emoji, unicode and quoted local-part addresses, "
        "dates, datetimes, times, numbers, NaN and booleans anywhere, extra, empty and "
        "duplicate headers, rows of only spaces; beside them valid rows. Each sheet runs "
        "parse → plan → projection → render of every planned message.",
        "",
        "| sheets | seconds | outcome |",
        "|---|---|---|",
        f"| {count[0]} | {seconds:.0f} | {outcome} |",
        "",
        "Checked for every sheet: no exception but a RygradError naming the tab; every "
        "problem named `Tab!A1` with the cell's value; the valid row's reminder still "
        "planned; every recipient in People or the secretariat; no header line over 998 "
        "characters and no injected Bcc; only W cells (or new W headers) written.",
        "",
    ]


def pytest_section(path: str, title: str, note: str) -> list[str]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", path],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    last = next((line for line in reversed(done.stdout.splitlines())
                 if " passed" in line or " failed" in line), "no result")
    return [f"## {title}", "", note, "",
            f"`pytest {path}`: {last} ({time.monotonic() - started:.0f} s)", ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="write here instead of stdout")
    parser.add_argument("--trials", type=int, default=5, help="SIGKILL trials (seeds)")
    parser.add_argument("--kills", type=int, default=10, help="kills per trial")
    parser.add_argument("--owners", type=int, default=200, help="messages per cycle, less 1")
    parser.add_argument("--write-kills", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each SMTP fault")
    parser.add_argument("--sheets", type=int, default=10_000, help="hostile sheets")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rygrad-reliability-") as folder:
        work = Path(folder)
        lines = [
            "# Reliability: what rygrad does under faults",
            "",
            "Generated by `bench/reliability.py` — do not edit by hand; rerun it:",
            "`.venv/bin/python bench/reliability.py --out docs/reliability.md`. "
            f"Arguments: --trials {args.trials} --kills {args.kills} --owners {args.owners} "
            f"--write-kills {args.write_kills} --repeat {args.repeat} --sheets "
            f"{args.sheets}. Machine: {platform.machine()}, Python "
            f"{platform.python_version()}, {platform.system()}.",
            "",
            "The promise (README, \"Delivery\"): nothing lost, nothing delivered twice by the "
            "worker itself. A message handed to the server whose acceptance was not recorded is "
            "**uncertain**: reported by `rygrad status`, by the digest and by exit status 1, "
            "and resent only by `rygrad run --once --resend-uncertain`. If the server had "
            "in fact accepted it, that resend is a second copy — at most once by itself, "
            "never silently.",
            "",
        ]
        lines += crash_section(args.trials, args.kills, args.owners, work)
        lines += write_crash_section(args.write_kills, work)
        lines += google_write_crash_section(args.write_kills, work)
        lines += smtp_section(args.repeat, work)
        lines += edits_section(work)
        lines += hostile_section(args.sheets)
        lines += pytest_section(
            "tests/test_security.py", "6. Security",
            "Cell text with `{{ }}` and `{% %}` stays text; CR/LF, U+2028 and 3,000-"
            "character names never break a header; HTML and script are escaped; mail goes "
            "only to People and the secretariat; `=`, `+`, `-`, `@` values are written as "
            "inline strings, never formulas (checked with openpyxl and in the XML); the "
            "password (and its base64 AUTH forms) is in no output of a whole SMTP run with "
            "`--debug`, nor in the traceback of a refused login; the state folder and "
            "outbox are 0700, the ledger and its WAL files and the .eml files are not "
            "readable by others; a template reaching for `__class__`, `__globals__` or a "
            "file outside its folder fails as a TemplateError naming the file, that message "
            "is not sent, the rest are, exit 1.")
        lines += sheets_section(work)
        lines += [
            f"Total time: {time.monotonic() - started:.0f} s.",
        ]
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _status(status: int) -> str:
    return "—" if status < 0 else str(status)


if __name__ == "__main__":
    raise SystemExit(main())
