"""A1 notation as the Sheets API v4 reads and writes it.

Requests name ranges loosely (``'My Sheet'!A1:B``, ``Sheet1``, ``A:A``, ``3:4``,
reversed corners); responses name them canonically: the sheet title quoted only
when it must be, the range clipped to the grid, a single cell without a colon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from automation.core.a1 import column_letter, quote

_CELL = re.compile(r"^([A-Za-z]{0,3})(\d*)$")
_PLAIN_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELL_LIKE = re.compile(r"^[A-Za-z]{1,3}\d+$")
_R1C1_LIKE = re.compile(r"^[Rr]\d*[Cc]\d*$")


def column_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def quote_title(title: str) -> str:
    """Google leaves a title bare only when it cannot be read as anything else."""
    if _PLAIN_TITLE.match(title) and not _CELL_LIKE.match(title) and not _R1C1_LIKE.match(title):
        return title
    return quote(title)


@dataclass(frozen=True)
class Span:
    """A requested range: 0-based, end exclusive; None where the request left it open."""

    title: str | None
    row0: int | None
    row1: int | None
    col0: int | None
    col1: int | None


@dataclass(frozen=True)
class Box:
    """A range clipped to a grid: 0-based, end exclusive."""

    row0: int
    row1: int
    col0: int
    col1: int

    @property
    def rows(self) -> int:
        return self.row1 - self.row0

    @property
    def cols(self) -> int:
        return self.col1 - self.col0


class RangeSyntaxError(ValueError):
    pass


def split_title(text: str) -> tuple[str | None, str]:
    """'My ''x'' sheet'!A1 -> ("My 'x' sheet", "A1"); Sheet1 -> ("Sheet1", "")."""
    if text.startswith("'"):
        i, chars = 1, list[str]()
        while i < len(text):
            if text[i] == "'":
                if text[i + 1 : i + 2] == "'":
                    chars.append("'")
                    i += 2
                    continue
                rest = text[i + 1 :]
                if rest and not rest.startswith("!"):
                    raise RangeSyntaxError(text)
                return "".join(chars), rest[1:]
            chars.append(text[i])
            i += 1
        raise RangeSyntaxError(text)
    if "!" in text:
        title, _, cells = text.rpartition("!")
        return title, cells
    return None, text


def parse_cells(cells: str) -> tuple[int | None, int | None, int | None, int | None]:
    """A1:B2 / A:B / 1:2 / A1 / A1:B / A2:3 -> (row0, row1, col0, col1), None = open."""
    parts = cells.split(":")
    if len(parts) > 2 or not cells:
        raise RangeSyntaxError(cells)
    ends = []
    for part in parts:
        m = _CELL.match(part.strip())
        if not m or not (m.group(1) or m.group(2)):
            raise RangeSyntaxError(cells)
        col = column_index(m.group(1)) if m.group(1) else None
        row = int(m.group(2)) - 1 if m.group(2) else None
        if row is not None and row < 0:
            raise RangeSyntaxError(cells)
        ends.append((row, col))
    (r0, c0) = ends[0]
    (r1, c1) = ends[-1]
    if len(parts) == 1 and (r0 is None or c0 is None):
        raise RangeSyntaxError(cells)

    def order(a: int | None, b: int | None) -> tuple[int | None, int | None]:
        if a is not None and b is not None and b < a:
            return b, a
        return a, b

    r0, r1 = order(r0, r1)
    c0, c1 = order(c0, c1)
    return r0, None if r1 is None else r1 + 1, c0, None if c1 is None else c1 + 1


def parse_range(text: str, titles: set[str]) -> Span:
    """Parse a request's range; a bare word naming a sheet is that whole sheet."""
    title, cells = split_title(text)
    if title is None and text in titles:
        return Span(text, None, None, None, None)
    if not cells:
        return Span(title, None, None, None, None)
    row0, row1, col0, col1 = parse_cells(cells)
    return Span(title, row0, row1, col0, col1)


def cell_name(row: int, col: int) -> str:
    return f"{column_letter(col + 1)}{row + 1}"


def box_a1(box: Box) -> str:
    first = cell_name(box.row0, box.col0)
    if box.rows == 1 and box.cols == 1:
        return first
    return f"{first}:{cell_name(box.row1 - 1, box.col1 - 1)}"


def span_a1(span: Span) -> str:
    """The request's own form, for messages that echo it (rows or columns left open)."""

    def end(row: int | None, col: int | None) -> str:
        return (column_letter(col + 1) if col is not None else "") + (
            str(row + 1) if row is not None else ""
        )

    first = end(span.row0, span.col0)
    last = end(
        None if span.row1 is None else span.row1 - 1, None if span.col1 is None else span.col1 - 1
    )
    return first if first == last else f"{first}:{last}"


def a1(title: str, box: Box) -> str:
    return f"{quote_title(title)}!{box_a1(box)}"
