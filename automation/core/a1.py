"""A1 notation and rows as spreadsheets hand them over: column letters, quoted tab
titles, and rows without their empty cells at the end.

One copy for every backend, init-sheet, the layout's cell addresses and the Sheets API
emulator. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def column_letter(index: int) -> str:
    """1 → A, 26 → Z, 27 → AA (1-based, as columns are numbered in a CellWrite)."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def quote(title: str) -> str:
    """A tab title in A1 notation (``'Møder'!A1``): quoting is always allowed, and safe
    for any title; a quote inside it is doubled."""
    return "'" + title.replace("'", "''") + "'"


def trim(values: Sequence[T], blank: Callable[[T], bool] | None = None) -> tuple[T, ...]:
    """The values without the blank ones at the end: None, unless ``blank`` says what
    is blank. A tuple with nothing to cut is returned as it is (rows are many)."""
    end = len(values)
    if blank is None:
        while end and values[end - 1] is None:
            end -= 1
    else:
        while end and blank(values[end - 1]):
            end -= 1
    return tuple(values[:end]) if end < len(values) else tuple(values)
