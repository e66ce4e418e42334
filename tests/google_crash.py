"""SIGKILL during the google write-back: the sheet has the old W cells or all new ones.

The google write-back is two calls (README, "Connecting a Google Sheet"): a
`values:batchGet` of the ID columns, then one `values:batchUpdate`. A worker killed
anywhere in between — before the update,
while its body is half sent, while the emulator applies it, before the answer arrives —
must leave the sheet as it was or with every cell of the update, never part of them:
the Sheets API applies a batchUpdate whole or not at all, and so does the emulator. The
next cycle then writes what is missing. Shared by tests/test_crash.py and
bench/reliability.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.faultkit import (
    NOW,
    indicators_workbook,
    partner_cells,
    rygrad_process,
    worker_column,
)
from tests.workbook import write_config

SPREADSHEET = "1RygradGoogleCrash0000000000000000000000000"
NEXT_UPDATE = "2027-11-01"  # what every "Næste opdatering" cell gets


@dataclass
class GoogleWriteCrash:
    kills: int = 0
    finished: int = 0  # the run ended before its moment came
    old_sheet: int = 0  # killed before the update was applied
    new_sheet: int = 0  # killed after: every W cell written
    half_written: int = 0  # anything else (must be 0)
    partner_cells_changed: int = 0
    repaired: bool = False
    failures: list[str] = field(default_factory=list)


def google_write_crash_trial(folder: Path, rng: Any, kills: int = 12,
                             indicators: int = 1500) -> GoogleWriteCrash:
    """Each run writes 2 × `indicators` W cells; kill it 0–120 ms after the write-back's
    batchGet reached the emulator, then check the sheet and upload the original again."""
    import requests

    from tests.emulators import start_emulator

    folder.mkdir(parents=True, exist_ok=True)
    workbook = indicators_workbook(folder / "indicators.xlsx", indicators)
    result = GoogleWriteCrash()
    with start_emulator() as emulator:
        base = emulator.base_url
        sheet_url = f"{base}/_emulator/spreadsheets/{SPREADSHEET}"
        key = requests.get(f"{base}/_emulator/service-account.json", timeout=10).json()
        (folder / "key.json").write_text(json.dumps(key), encoding="utf-8")
        (folder / "key.json").chmod(0o600)  # a key that others can read is warned about
        config = write_config(folder, workbook, sheet={
            "backend": "google", "spreadsheet": SPREADSHEET,
            "credentials": str(folder / "key.json"), "api_base": base})

        def upload() -> None:
            reply = requests.put(sheet_url, data=workbook.read_bytes(), timeout=30)
            assert reply.status_code == 200, reply.text
            requests.post(f"{base}/_emulator/stats/reset", timeout=10)

        def download() -> Path:
            path = folder / "download.xlsx"
            path.write_bytes(requests.get(f"{sheet_url}.xlsx", timeout=30).content)
            return path

        def writing_back() -> bool:
            # the cycle's read is read 1; the write-back's batchGet of the IDs is read 2
            return int(requests.get(f"{base}/_emulator/stats", timeout=10).json()["reads"]) >= 2

        upload()
        partner_before = partner_cells(download())
        for _ in range(kills):
            run = rygrad_process(config, "run", "--once", "--now", NOW,
                                 kill_after=rng.uniform(0.0, 0.12), kill_when=writing_back)
            result.kills += run.killed
            result.finished += not run.killed
            if not run.killed and run.status != 0:
                result.failures.append(f"exit {run.status}: {run.err[-300:]}")
            sheet = download()
            if partner_cells(sheet) != partner_before:
                result.partner_cells_changed += 1
            written = worker_column(sheet, "Indikatorer", "Indikator-ID", "Næste opdatering")
            values = {str(v) if v is not None else "" for v in written.values()}
            if values == {""}:
                result.old_sheet += 1
            elif values == {NEXT_UPDATE} and len(written) == indicators:
                result.new_sheet += 1
            else:
                result.half_written += 1
                result.failures.append(f"half-written: {sorted(values)[:5]}")
            upload()  # so that the next run has the same write to do
        repair = rygrad_process(config, "run", "--once", "--now", NOW)
        sheet = download()
        written = worker_column(sheet, "Indikatorer", "Indikator-ID", "Næste opdatering")
        assessed = worker_column(sheet, "Indikatorer", "Indikator-ID", "Vurdering")
        result.repaired = (repair.status == 0 and len(written) == indicators
                           and all(str(v) == NEXT_UPDATE for v in written.values())
                           and all(assessed.values()))
        if repair.status != 0:
            result.failures.append(f"repair exit {repair.status}: {repair.err[-300:]}")
    return result
