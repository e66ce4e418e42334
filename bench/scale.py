"""How a cycle's cost grows: seconds per stage, peak memory and API calls at 1k–100k actions.

    .venv/bin/python bench/scale.py                       # 1k, 10k, 100k; xlsx and google
    .venv/bin/python bench/scale.py --sizes 1000 10000 --backends xlsx --repeat 3

For each size, bench/generate.py writes a synthetic initiative (people = actions/5,
meetings and indicators = actions/20 each, as in bench/plan_bench.py), and a fresh
Python process runs one cycle's stages on it, so that each size reports its own
peak RSS. The stages run as Cycle.run runs them, one snapshot and one initiative
alive at a time (the snapshot is let go once parsed), so that the peak is a cycle's:

    read        the backend reads the whole workbook (xlsx: openpyxl; google: the
                emulator over HTTP, one spreadsheets.get)
    parse       rows → typed Initiative with its problems
    plan        the rules of README, "The rules" over every row, against an empty ledger
    render all  every message due rendered to bytes (a burst no real cycle sends);
                past 5,000 due, every n-th of them, the time scaled by n (marked ~)
    render 100  one cycle's worth: mail.max_per_cycle (100) messages
    send 100    those 100 through the ledger (begin, sent; SQLite) into the outbox
    write back  W cells computed from the ledger and written to the sheet
    idle        a whole second cycle (Cycle.run) once nothing is due and nothing changed
    plan next day, render next day
                the day after (the clock a day on, everything of the first day in
                the ledger): what a daily cycle plans and renders in its steady state

API calls are the emulator's own counts (/_emulator/stats) for the first cycle
(read … write back) and for the idle one. Nothing leaves the machine. Results: a
table on stdout, and with --json the raw numbers.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo("Europe/Copenhagen"))
SPREADSHEET = "1RygradScaleBench000000000000000000000000"
RENDER_ALL_LIMIT = 5_000  # more due than this: render a sample of 5,000 and scale up
STAGES = ("read", "parse", "plan", "render all", "render 100", "send 100", "write back",
          "idle", "plan next day", "render next day")


def proportions(actions: int) -> dict[str, int]:
    return {"actions": actions, "people": max(1, actions // 5),
            "meetings": max(1, actions // 20), "indicators": max(1, actions // 20)}


def peak_rss_mb() -> float:
    """This process's peak resident memory. Linux keeps ru_maxrss across fork and exec,
    so a child started by a parent holding the emulator and a 100k workbook would report
    the parent's peak; VmHWM belongs to the child's own address space."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- one size, in its own process -------------------------------------------------------


def measure(workbook: Path, backend: str, api_base: str, folder: Path,
            repeat: int) -> dict[str, Any]:
    from automation import config
    from automation.core.parse import parse
    from automation.core.plan import plan
    from automation.core.projection import cell_updates, resolve
    from automation.cycle import Cycle, Options
    from automation.ledger import Ledger
    from automation.mail.render import Renderer
    from automation.sheets import SheetBackend
    from automation.transports.outbox import Outbox

    sheet_section: dict[str, Any] = {"path": str(workbook)}
    if backend == "google":
        key = folder / "service-account.json"
        key.write_text(json.dumps(_get(f"{api_base}/_emulator/service-account.json")))
        key.chmod(0o600)  # a key that others can read is warned about
        sheet_section = {"backend": "google", "spreadsheet": SPREADSHEET,
                         "credentials": str(key), "api_base": api_base}
    settings = config.parse(
        {"initiative": {"name": "Bench", "secretariat": "Sekretariatet <s@bench.example>"},
         "sheet": sheet_section, "mail": {"outbox_dir": str(folder / "outbox")},
         "schedule": {"send_window": "00:00-24:00", "send_days": "all",
                      "skip_holidays": False}},
        folder / "rygrad.toml")

    def open_sheet() -> SheetBackend:
        if backend == "google":
            from automation.sheets.google import GoogleSheet

            return GoogleSheet(settings.sheet)
        from automation.sheets.xlsx import XlsxWorkbook

        return XlsxWorkbook(workbook)

    best: dict[str, float] = {}
    peaks: dict[str, float] = {}  # the process's peak RSS (MB) once each stage is done

    def timed(stage: str, work: Any, *args: Any) -> Any:
        start = time.perf_counter()
        result = work(*args)
        elapsed = time.perf_counter() - start
        best[stage] = min(best.get(stage, elapsed), elapsed)
        peaks[stage] = peak_rss_mb()
        return result

    renderer = Renderer(settings)

    def render(messages: list[Any], initiative: Any) -> list[bytes]:
        return [renderer.render(m, initiative, NOW) for m in messages]

    def render_all(messages: list[Any], initiative: Any, step: int = 1,
                   now: datetime = NOW) -> None:
        # each rendered mail is dropped at once: no cycle holds thousands of them
        for message in messages[::step]:
            renderer.render(message, initiative, now)

    # The stages run as Cycle.run runs them: read, parse, let the snapshot go (only its
    # version is needed for the write-back), plan, render, send, write back; one
    # snapshot and one initiative alive at a time, so the peak RSS is a cycle's.
    sheet = open_sheet()
    initiative = messages = None
    for _ in range(repeat):  # read, parse, plan and rendering change nothing: best of n
        initiative = messages = None  # the last round's, let go before reading again
        _reset(api_base)  # the API calls of the first cycle: from its read on
        snapshot = timed("read", sheet.read)
        initiative = timed("parse", parse, snapshot, settings)
        version = snapshot.version
        rows = {tab: len(t.rows) for tab, t in snapshot.tables.items()}
        del snapshot
        messages = timed("plan", plan, initiative, [], NOW, settings).messages
        # past RENDER_ALL_LIMIT, every step-th message is rendered and the time scaled
        step = max(1, len(messages) // RENDER_ALL_LIMIT)
        timed("render all", render_all, messages, initiative, step)
        best["render all"] *= step
    assert initiative is not None and messages is not None
    one_cycle = [m for m in messages if m.kind not in ("digest", "burst")][
        :settings.mail.max_per_cycle]
    emails = timed("render 100", render, one_cycle, initiative)

    # the rest of the first cycle, once (it changes the ledger and the sheet)
    ledger = Ledger(folder / "state" / "ledger.sqlite3")
    outbox = Outbox(settings.mail.outbox_dir)

    def send(one_cycle: list[Any], emails: list[bytes]) -> None:
        outbox.open()
        for message, data in zip(one_cycle, emails, strict=True):
            ledger.begin(message, data, NOW, NOW)
            outbox.send(data, settings.initiative.secretariat_email,
                        [message.recipient.email], message.key)
            ledger.sent(message.key, message.recipient.email, NOW, NOW)
        outbox.close()

    def write_back(initiative: Any) -> int:
        updates = cell_updates(initiative, ledger.entries(), NOW, settings)
        writes = resolve(updates, initiative, settings.initiative.language)
        return sheet.write(writes, version) if writes else 0

    timed("send 100", send, one_cycle, emails)
    cells = timed("write back", write_back, initiative)
    first_calls = _stats(api_base)

    # what an idle cycle costs: everything due is in the ledger, the sheet agrees
    ledger.record_only(messages, NOW, NOW)  # (one transaction since the ledger batches)
    due = len(messages)
    # let go of the first cycle before the next, as a worker between cycles does
    del messages, one_cycle, emails
    initiative = None
    cycle = Cycle(settings, open_sheet(), ledger, outbox, renderer, lambda: NOW)
    cycle.run(NOW, Options(record_only=True))  # writes the W cells of all that was recorded
    _reset(api_base)
    outcome = timed("idle", cycle.run, NOW)
    idle_calls = _stats(api_base)

    # the day after: what a daily cycle plans and renders once the first one is history
    del cycle
    snapshot = sheet.read()
    initiative = parse(snapshot, settings)
    del snapshot
    tomorrow = NOW + timedelta(days=1)
    history = ledger.entries()
    messages = timed("plan next day", plan, initiative, history, tomorrow, settings).messages
    del history
    next_day = len(messages)
    timed("render next day", render_all, messages, initiative, 1, tomorrow)
    return {
        "seconds": best, "messages due": due, "cells written": cells,
        "render all sampled every": step,
        "idle due": outcome.due, "idle cells written": outcome.cells_written,
        "next day due": next_day,
        "peak RSS MB": peak_rss_mb(),
        "peak RSS MB after": peaks,
        "API calls, first cycle": first_calls, "API calls, idle cycle": idle_calls,
        "rows": rows,
    }


def _get(url: str) -> Any:
    import requests

    return requests.get(url, timeout=60).json()


def _reset(api_base: str) -> None:
    if api_base:
        import requests

        requests.post(f"{api_base}/_emulator/stats/reset", timeout=60)


def _stats(api_base: str) -> dict[str, int] | None:
    return _get(f"{api_base}/_emulator/stats") if api_base else None


# -- the driver -------------------------------------------------------------------------


def run_size(actions: int, backend: str, folder: Path, repeat: int) -> dict[str, Any]:
    from bench.generate import generate

    workbook = folder / f"scale-{actions}.xlsx"
    if not workbook.exists():
        generate(workbook, TODAY, **proportions(actions))
    work = Path(tempfile.mkdtemp(dir=folder))
    api_base = ""
    emulator = None
    if backend == "google":
        import requests

        from tests.emulators import start_emulator

        emulator = start_emulator()
        api_base = emulator.base_url
        reply = requests.put(f"{api_base}/_emulator/spreadsheets/{SPREADSHEET}",
                             data=workbook.read_bytes(), timeout=600)
        reply.raise_for_status()
    try:
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(workbook), backend, api_base, str(work),
             str(repeat)], capture_output=True, text=True, check=False)
    finally:
        if emulator is not None:
            emulator.stop()
    if child.returncode != 0:
        raise SystemExit(f"{backend} at {actions} actions failed:\n{child.stderr}")
    return {"actions": actions, "backend": backend, **json.loads(child.stdout)}


def mark(result: dict[str, Any], stage: str) -> str:
    return "~" if stage == "render all" and result["render all sampled every"] > 1 else " "


def table(results: list[dict[str, Any]]) -> str:
    head = (f"{'backend':7} {'actions':>7} {'due':>6} "
            + " ".join(f"{s:>10}" for s in STAGES)
            + f" {'plan+render all':>15} {'plan+render 100':>15} {'next day due':>12}"
            f" {'plan+render next day':>20} {'peak RSS':>9} "
            f"{'API 1st':>8} {'API idle':>9}")
    lines = [head]
    for r in results:
        s = r["seconds"]

        def calls(c: dict[str, int] | None) -> str:
            return f"{c['reads']}r+{c['writes']}w" if c else "-"

        lines.append(
            f"{r['backend']:7} {r['actions']:7} {r['messages due']:6} "
            + " ".join(f"{mark(r, stage)}{s[stage]:9.3f}" for stage in STAGES)
            + f" {mark(r, 'render all')}{s['plan'] + s['render all']:14.3f}"
            f" {s['plan'] + s['render 100']:15.3f} {r['next day due']:12}"
            f" {s['plan next day'] + s['render next day']:20.3f}"
            f" {r['peak RSS MB']:6.0f} MB {calls(r['API calls, first cycle']):>8}"
            f" {calls(r['API calls, idle cycle']):>9}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        workbook, backend, api_base, work, repeat = argv[1:]
        print(json.dumps(measure(Path(workbook), backend, api_base, Path(work), int(repeat))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--backends", nargs="+", default=["xlsx", "google"],
                        choices=["xlsx", "google"])
    parser.add_argument("--repeat", type=int, default=1,
                        help="best of N for the stages that change nothing (default 1)")
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for backend in args.backends:
            for actions in args.sizes:
                results.append(run_size(actions, backend, Path(folder), args.repeat))
                print(f"  {backend} {actions}: done", file=sys.stderr, flush=True)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
