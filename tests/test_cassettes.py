"""The emulator against 87 recorded answers of the real Google Sheets API.

Each cassette in tests/cassettes (gspread's own test recordings; see LICENSE and
CORE.txt there) is replayed request by request against the emulator in replay mode
(tests/emulators/sheets_replay.py), and every answer must match the recorded one:
the status, and the JSON body's structure and values (ids the server chose mapped,
timestamps and the theme left out). The recordings are part of the repository: a
missing or emptied folder fails here, it is never skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulators import start_emulator
from tests.emulators.sheets_emulator import Emulator
from tests.emulators.sheets_replay import CASSETTES, core, diff, replay, session

RECORDINGS = 87  # in CORE.txt: every cassette the emulator is held to


def named() -> list[str]:
    """CORE.txt's names, or one name that fails below when the folder is not there (a
    parametrize list left empty would skip the test instead)."""
    try:
        return core() or [f"(no names in {CASSETTES.name}/CORE.txt)"]
    except OSError:
        return [f"(no {CASSETTES.name}/CORE.txt)"]


@pytest.fixture(scope="module")
def replay_emulator() -> Iterator[Emulator]:
    with start_emulator(replay=True) as emulator:
        yield emulator


def test_the_recordings_are_all_there() -> None:
    assert Path(__file__).parent / "cassettes" == CASSETTES
    names = core()
    assert len(names) == len(set(names)) == RECORDINGS
    assert sorted(p.name for p in CASSETTES.glob("*.json")) == sorted(names)
    assert (CASSETTES / "LICENSE").read_text(encoding="utf-8").strip()


@pytest.mark.parametrize("cassette", named())
def test_replay_matches_google(replay_emulator: Emulator, cassette: str) -> None:
    recording = CASSETTES / cassette
    assert recording.is_file(), f"{recording} is missing"
    count, problems = replay(recording, replay_emulator.base_url, session())
    interactions = json.loads(recording.read_text(encoding="utf-8"))["interactions"]
    assert 0 < count <= len(interactions)
    assert problems == []


# the comparison itself: a replay that compared nothing would pass every cassette


@pytest.mark.parametrize("recorded, live, found", [
    ({"a": 1, "b": [1, 2]}, {"a": 1.0, "b": [1, 2]}, []),  # 1 and 1.0 are one number
    ({"a": 1}, {"a": 2}, ["$.a: recorded 1 but got 2"]),
    ({"a": 1}, {}, ["$.a: missing (recorded 1)"]),
    ({}, {"a": 1}, ["$.a: not in the recording (1)"]),
    ([1, 2], [1], ["$: 2 items recorded, 1 live"]),
    ({"a": "x"}, {"a": ["x"]}, ["$.a: recorded 'x' but got ['x']"]),
    ({"a": True}, {"a": 1}, ["$.a: recorded True but got 1"]),
])
def test_differences_are_found(recorded: object, live: object, found: list[str]) -> None:
    assert diff(recorded, live) == found


def test_a_wrong_answer_is_a_difference(replay_emulator: Emulator, tmp_path: Path) -> None:
    """A recording whose answer the emulator does not give: the replay says where."""
    recording = json.loads((CASSETTES / "ClientTest.test_create.json").read_text("utf-8"))
    answer = recording["interactions"][0]["response"]
    body = json.loads(answer["body"]["string"])
    answer["body"]["string"] = json.dumps({**body, "name": "Not what was asked for"})
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(recording), encoding="utf-8")
    _count, problems = replay(changed, replay_emulator.base_url, session())
    assert problems and problems[0].startswith("[0] POST /drive/v3/files: $.name: recorded")

    answer["status"]["code"] = 201
    changed.write_text(json.dumps(recording), encoding="utf-8")
    _count, problems = replay(changed, replay_emulator.base_url, session())
    assert problems[0] == "[0] POST /drive/v3/files: status 201 recorded, 200 live"
