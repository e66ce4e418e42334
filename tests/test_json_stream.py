"""json_stream.load: the same values as json.loads, however the text is cut into chunks."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automation.sheets.json_stream import JsonStream, load

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def pieces(text: str, cuts: list[int]) -> list[str]:
    """The text cut at the given offsets (any order, repeats give empty chunks)."""
    bounds = [0, *sorted(c % (len(text) + 1) for c in cuts), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


@given(JSON, st.lists(st.integers(0, 10_000), max_size=8), st.booleans())
def test_any_value_cut_anywhere_decodes_as_json_loads_decodes_it(
    value: Any, cuts: list[int], spaced: bool
) -> None:
    text = json.dumps(value, indent=1 if spaced else None, ensure_ascii=False)
    assert load(pieces(text, cuts)) == json.loads(text)


SHEETS = st.fixed_dictionaries({"sheets": st.lists(st.fixed_dictionaries(
    {"properties": st.dictionaries(st.text(), st.integers() | st.text(), max_size=3)},
    optional={"data": st.lists(st.fixed_dictionaries(
        {}, optional={"startRow": st.integers(0, 9),
                      "rowData": st.lists(st.dictionaries(st.text(), JSON, max_size=3))}),
        max_size=2)}), max_size=3)})


@given(SHEETS, st.lists(st.integers(0, 10_000), max_size=8))
def test_along_a_path_each_element_goes_through_each(answer: Any, cuts: list[int]) -> None:
    text = json.dumps(answer, separators=(",", ":"))
    expected = json.loads(text)
    for sheet in expected["sheets"]:
        for grid in sheet.get("data", []):
            if "rowData" in grid:
                grid["rowData"] = [("row", row) for row in grid["rowData"]]
    decoded = load(pieces(text, cuts), path=("sheets", "data", "rowData"),
                   each=lambda row: ("row", row))
    assert decoded == expected


def test_the_object_hook_sees_every_object_as_json_loads_shows_it() -> None:
    text = '{"a": [{"b": {"c": 1}}, {"d": []}], "e": {}}'
    seen: list[Any] = []

    def hook(obj: dict[str, Any]) -> Any:
        seen.append(dict(obj))
        return obj

    load([text[:7], text[7:]], hook, path=("a",))
    streamed = list(seen)
    seen.clear()
    json.loads(text, object_hook=hook)
    assert sorted(map(repr, streamed)) == sorted(map(repr, seen))


@pytest.mark.parametrize("text", ['{"n": 12345}', "[1.5e10, 2]", "123456", "1e+16",
                                  '{"n": -0.5E-3}', "[2.5, 1e16]"])
def test_a_number_cut_at_the_end_of_a_chunk_is_read_whole(text: str) -> None:
    for cut in range(1, len(text)):
        assert load([text[:cut], text[cut:]], path=("n",)) == json.loads(text)


@pytest.mark.parametrize("text", [
    "", "  ", '{"sheets": [', '{"sheets": [{"data": [{"rowData": [{"a": 1}, ',
    '{"sheets": [{"data": [{"rowData": [{"a": 1}]}]}', '{"a" 1}', '{1: 2}',
    '{"sheets": [1 2]}', '{"a": 1} x', "[1, 2] [3]", '{"sheets": {"data": 1}} 1',
])
def test_broken_or_cut_short_json_raises_as_json_loads_does(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    for cut in range(len(text) + 1):
        with pytest.raises(json.JSONDecodeError):
            load([text[:cut], text[cut:]], path=("sheets", "data", "rowData"))


def test_a_big_value_in_small_chunks_is_tried_a_few_times_not_once_a_chunk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = json.dumps({"big": ["x" * 10] * 20_000, "sheets": []})
    chunks = [text[i:i + 100] for i in range(0, len(text), 100)]  # 3,001 chunks
    more = JsonStream.more
    calls = 0

    def counted(stream: JsonStream, wanted: int = 1) -> bool:
        nonlocal calls
        calls += 1
        return more(stream, wanted)

    monkeypatch.setattr(JsonStream, "more", counted)
    assert load(chunks, path=("sheets",)) == json.loads(text)
    assert calls < 30, calls
