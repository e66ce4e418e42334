"""Differential replay of real Google Sheets API recordings against the emulator.

    python -m tests.emulators.sheets_replay BASE [CASSETTE.json ...]

The recordings are gspread's test cassettes, kept in ``tests/cassettes`` (MIT licence,
see the LICENSE there; recorded against the real Sheets v4 and Drive v3 APIs in
2023-2024); ``tests/cassettes/CORE.txt`` names the ones the emulator must match, and
``tests/test_cassettes.py`` replays each of them in the normal test run.

For each cassette this sends the recorded requests of its first episode, in order, to
BASE and compares every live answer with the recorded one: the status, and the JSON
body's structure and values, after mapping the ids the server chose (spreadsheet ids,
sheetIds) and dropping the fields the emulator does not claim to reproduce
(``VOLATILE``: timestamps, theme and default format, ``kind``). Integers and floats
compare by value (Google writes ``1``, Python may write ``1.0``).

The emulator serves both Google hosts under one origin (``start_emulator(replay=True)``
also accepts the fixed token ``replay``):

    https://sheets.googleapis.com/v4/...    ->  BASE/v4/...
    https://www.googleapis.com/drive/v3/... ->  BASE/drive/v3/...
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

CASSETTES = Path(__file__).resolve().parents[2] / "tests" / "cassettes"
HOSTS = ("https://sheets.googleapis.com", "https://www.googleapis.com")
VOLATILE = frozenset({"createdTime", "modifiedTime", "spreadsheetTheme", "defaultFormat",
                      "kind"})
TOKEN = "replay"  # the emulator's fixed token in replay mode
SHOWN = 300  # characters of a value quoted in a difference


def core(folder: Path = CASSETTES) -> list[str]:
    """The cassettes the emulator must match, as named in ``CORE.txt``."""
    return (folder / "CORE.txt").read_text(encoding="utf-8").split()


def episodes(interactions: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """A cassette split into recording runs, one per Drive-created spreadsheet.

    Cassettes were re-recorded by appending, so one file can hold several runs. A run
    starts at a Drive create; interactions that name no created id (a fixed key, a
    private sheet) stay with the run they were recorded in.
    """
    runs: list[list[dict[str, Any]]] = [[]]
    for interaction in interactions:
        request = interaction["request"]
        if (request["method"] == "POST" and urlsplit(request["uri"]).path == "/drive/v3/files"
                and runs[-1]):
            runs.append([])
        runs[-1].append(interaction)
    return [run for run in runs if run]


class IdMap:
    """Recorded id → live id, for spreadsheet ids (str) and sheetIds (int)."""

    def __init__(self) -> None:
        self.spreadsheets: dict[str, str] = {}
        self.sheets: dict[int, int] = {}

    def text(self, text: str) -> str:
        for recorded, live in self.spreadsheets.items():
            text = text.replace(recorded, live)
        return text

    def body(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self.sheets.get(item, item)
                    if key == "sheetId" and isinstance(item, int) else self.body(item)
                    for key, item in value.items()}
        if isinstance(value, list):
            return [self.body(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def learn(self, recorded: Any, live: Any) -> None:
        if not (isinstance(recorded, dict) and isinstance(live, dict)):
            return
        if recorded.get("kind") == "drive#file" and "id" in recorded and "id" in live:
            self.spreadsheets[recorded["id"]] = live["id"]
        for was, now in zip(recorded.get("replies", []), live.get("replies", []),
                            strict=False):
            with contextlib.suppress(KeyError, TypeError):  # a reply of another kind
                self.sheets[was["addSheet"]["properties"]["sheetId"]] = (
                    now["addSheet"]["properties"]["sheetId"])


def normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items() if key not in VOLATILE}
    if isinstance(value, list):
        return [normalise(item) for item in value]
    return value


def diff(recorded: Any, live: Any, path: str = "$") -> list[str]:
    """Where ``live`` differs from ``recorded``, one line each ([] when they match)."""
    numbers = (int, float)
    if type(recorded) is not type(live) and not (
            isinstance(recorded, numbers) and isinstance(live, numbers)
            and not isinstance(recorded, bool) and not isinstance(live, bool)):
        return [f"{path}: recorded {recorded!r} but got {live!r}"[:SHOWN]]
    if isinstance(recorded, dict):
        found: list[str] = []
        for key in sorted(set(recorded) | set(live)):
            if key not in live:
                found.append(f"{path}.{key}: missing (recorded {recorded[key]!r})"[:SHOWN])
            elif key not in recorded:
                found.append(f"{path}.{key}: not in the recording ({live[key]!r})"[:SHOWN])
            else:
                found += diff(recorded[key], live[key], f"{path}.{key}")
        return found
    if isinstance(recorded, list):
        found = [] if len(recorded) == len(live) else [
            f"{path}: {len(recorded)} items recorded, {len(live)} live"]
        for index, (was, now) in enumerate(zip(recorded, live, strict=False)):
            found += diff(was, now, f"{path}[{index}]")
        return found
    return [] if recorded == live else [f"{path}: recorded {recorded!r} but got {live!r}"[:SHOWN]]


def replay(cassette: Path, base: str, session: requests.Session) -> tuple[int, list[str]]:
    """Replay the cassette's first episode against ``base``: (requests sent, differences)."""
    interactions = json.loads(cassette.read_text(encoding="utf-8"))["interactions"]
    run = episodes(interactions)[0]
    ids, problems = IdMap(), []
    for index, interaction in enumerate(run):
        request, response = interaction["request"], interaction["response"]
        uri = request["uri"]
        for host in HOSTS:
            if uri.startswith(host):
                uri = base + uri[len(host):]
        uri = ids.text(uri)
        body = request.get("body")
        if isinstance(body, dict):
            body = body.get("string")
        data = json.dumps(ids.body(json.loads(body))).encode() if body else None
        headers = {"Content-Type": "application/json"} if data else {}
        where = f"[{index}] {request['method']} {urlsplit(uri).path}"
        try:
            answer = session.request(request["method"], uri, data=data, headers=headers,
                                     timeout=30)
        except requests.RequestException as err:
            problems.append(f"{where}: {err}")
            break
        recorded_text = response["body"]["string"]
        recorded = json.loads(recorded_text) if recorded_text.strip() else None
        try:
            live = answer.json() if answer.content.strip() else None
        except ValueError:
            live = answer.text
        if answer.status_code != response["status"]["code"]:
            problems.append(f"{where}: status {response['status']['code']} recorded, "
                            f"{answer.status_code} live")
            continue
        ids.learn(recorded, live)
        problems += [f"{where}: {found}"
                     for found in diff(normalise(ids.body(recorded)), normalise(live))]
    return len(run), problems


def session() -> requests.Session:
    """A session that authenticates as the replay mode expects."""
    made = requests.Session()
    made.headers["Authorization"] = f"Bearer {TOKEN}"
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("base", help="the emulator's origin, e.g. http://127.0.0.1:8765")
    parser.add_argument("cassettes", nargs="*", type=Path,
                        help="recordings to replay (default: those in tests/cassettes/CORE.txt)")
    parser.add_argument("--show", type=int, default=8, help="differences shown per cassette")
    args = parser.parse_args(argv)
    chosen = args.cassettes or [CASSETTES / name for name in core()]
    replaying = session()
    passed = failed = 0
    for cassette in chosen:
        count, problems = replay(cassette, args.base.rstrip("/"), replaying)
        print(f"{'DIFF' if problems else 'ok  '} {cassette.name} ({count} requests, "
              f"{len(problems)} differences)")
        for problem in problems[: args.show]:
            print("      ", problem)
        passed += not problems
        failed += bool(problems)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
