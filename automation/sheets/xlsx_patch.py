"""Patch cells in a worksheet's XML, leaving every other byte as it was.

A small scanner over the text rather than an XML tree: re-serialising a tree would
rewrite namespace prefixes and every untouched cell. Rows are found by their ``r``
references; a row that gets a write is handed to xlsx_cells.RowPatch.

The part streams from the package to the new one a chunk at a time: a big sheet's
worksheet is tens of MB of text, and holding it (and its pieces) whole cost more memory
than the rest of a cycle (docs/benchmarks.md, "Why the code is shaped this way"). Only
rows that get a write are taken apart; the text between them is copied through in spans.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from typing import IO

from openpyxl.utils import get_column_letter

from automation.errors import SheetError
from automation.sheets.xlsx_cells import (
    ATTRS,
    MAX_COLUMN,
    Master,
    RowPatch,
    SharedStrings,
    attr,
    promote_shared_formula,
    set_attr,
    split_ref,
)

CHUNK_SIZE = 1 << 20  # bytes read (and characters written) at a time
_ROOT = re.compile(r"<(\w+:)?worksheet\b")


def patch_worksheet(
    source: IO[bytes],
    target: IO[bytes],
    cells: dict[tuple[int, int], str | float],
    shared: SharedStrings,
    chunk_size: int = CHUNK_SIZE,
) -> tuple[int, bool]:
    """Copy the worksheet XML from ``source`` to ``target`` with ``cells`` set.

    Returns how many cells changed and whether a formula went. When none changed,
    ``target`` holds a copy of the part, which the caller throws away.
    """
    text = _Text(source, chunk_size)
    out = _Out(target, chunk_size)
    root = text.find(_ROOT)
    if root is None:
        raise SheetError("a worksheet part has no worksheet element")
    p = root.group(1) or ""
    data = text.find(re.compile(rf"<{p}sheetData\b{ATTRS}(/?)>"))
    if data is None:
        raise SheetError("a worksheet has no sheetData element")
    # Everything before the rows (<dimension>, <cols>) is small: it is patched whole.
    head = text.text[: data.start()]
    written = [key for key, value in cells.items() if value != ""]
    out.write(_widen_dimension(head, p, written))
    sheet = _SheetPatch(p, shared, _column_styles(head, p), cells)
    text.pos = data.end()
    if data.group(2):  # <sheetData/>: every written row is a new one
        rows = sheet.rows_before(None)
        out.write(f"<{p}sheetData{data.group(1)}>{rows}</{p}sheetData>" if rows else data.group(0))
    else:
        out.write(data.group(0))
        _patch_rows(text, out, sheet)
    out.write(text.text[text.pos :])
    text.text = ""
    while text.more():  # the rest of the part, as it stands
        out.write(text.text)
        text.text = ""
    out.flush()
    return sheet.changed, sheet.formulas_removed


def _patch_rows(text: _Text, out: _Out, sheet: _SheetPatch) -> None:
    """Copy the rows up to and with </sheetData>, patching those that get a write.

    Rows the patch does not touch are copied in spans (text.text[span:]) rather than
    one by one; text.pos is always at the end of the last whole row.
    """
    p = sheet.p
    next_tag = re.compile(rf"<{p}row\b|</{p}sheetData\s*>")
    row_element = re.compile(rf"<{p}row\b{ATTRS}(/>|>.*?</{p}row>)", re.S)
    span = text.pos
    while not sheet.done():
        tag = next_tag.search(text.text, text.pos)
        is_row = tag is not None and tag.group(0)[1] != "/"
        row = row_element.match(text.text, tag.start()) if tag and is_row else None
        if tag is None or (is_row and row is None):
            # the next element is not all here yet: read on
            out.write(text.text[span : text.pos])
            text.text, text.pos, span = text.text[text.pos :], 0, 0
            if not text.more():
                raise SheetError("a worksheet's rows end before </sheetData>")
            continue
        if row is None:  # </sheetData>: new rows go after the last row there is
            out.write(text.text[span : text.pos])
            out.write(sheet.rows_before(None))
            span = text.pos
            break
        reference = attr(row.group(1), "r")
        if reference is None or not reference.isdigit():
            raise SheetError("a worksheet has rows or cells without a reference (r)")
        number = int(reference)
        new_rows = sheet.rows_before(number)
        patched = sheet.existing_row(number, row.group(0))
        if new_rows or patched is not None:
            out.write(text.text[span : row.start()])
            out.write(new_rows)
            out.write(row.group(0) if patched is None else patched)
            span = row.end()
        text.pos = row.end()
    # no more writes here: what is left is copied as it stands
    text.pos = span


class _Text:
    """The part's text as far as it has been read; ``pos`` is where the scan stands."""

    def __init__(self, source: IO[bytes], chunk_size: int) -> None:
        self.source, self.chunk_size = source, chunk_size
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text, self.pos, self.ended = "", 0, False

    def more(self) -> bool:
        """Read the next chunk onto the text; False when the part has ended."""
        if self.ended:
            return False
        data = self.source.read(self.chunk_size)
        self.ended = not data
        self.text += self.decoder.decode(data, final=self.ended)
        return True

    def find(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        """The first match in the text, reading on until there is one."""
        while (found := pattern.search(self.text)) is None and self.more():
            pass
        return found


class _Out:
    """Text gathered into chunks before it is encoded and written."""

    def __init__(self, target: IO[bytes], chunk_size: int) -> None:
        self.target, self.chunk_size = target, chunk_size
        self.pieces: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        if text:
            self.pieces.append(text)
            self.size += len(text)
            if self.size >= self.chunk_size:
                self.flush()

    def flush(self) -> None:
        self.target.write("".join(self.pieces).encode("utf-8"))
        self.pieces, self.size = [], 0


class _SheetPatch:
    """The writes of one worksheet, taken row by row in the order of the rows."""

    def __init__(
        self,
        p: str,
        shared: SharedStrings,
        column_styles: dict[int, str],
        cells: dict[tuple[int, int], str | float],
    ) -> None:
        self.p, self.shared, self.column_styles = p, shared, column_styles
        # the cells in the order of the sheet, grouped into rows only as each is reached
        # (a dict for each of 100,000 rows written costs tens of MB)
        self.cells, self.order = cells, sorted(cells)
        self.next = 0  # the first of self.order not yet written
        self.changed, self.formulas_removed = 0, False
        # Shared formulas whose first cell was overwritten: the next cell of the group
        # (always further on) becomes the first.
        self.masters: list[Master] = []

    def done(self) -> bool:
        return self.next == len(self.order) and not self.masters

    def rows_before(self, number: int | None) -> str:
        """New <row> elements for the written rows before ``number`` (all left: None)."""
        texts = []
        while self.next < len(self.order) and (number is None or self.order[self.next][0] < number):
            row = self.order[self.next][0]
            texts.append(self._patch(row, f'<{self.p}row r="{row}"/>', self._take(row)) or "")
        return "".join(texts)

    def existing_row(self, number: int, text: str) -> str | None:
        """The row's new text, or None when it stays as it is."""
        new = text
        if self.next < len(self.order) and self.order[self.next][0] == number:
            new = self._patch(number, text, self._take(number)) or text
        if self.masters:
            new = self._promote(new)
        return None if new == text else new

    def _take(self, row: int) -> dict[int, str | float]:
        """The values written in ``row``, by column."""
        values = {}
        while self.next < len(self.order) and self.order[self.next][0] == row:
            key = self.order[self.next]
            values[key[1]] = self.cells[key]
            self.next += 1
        return values

    def _patch(self, number: int, text: str, values: dict[int, str | float]) -> str | None:
        patch = RowPatch(self.p, number, self.shared, self.column_styles)
        new = patch.apply(text, values)
        if not patch.changed:
            return None
        self.changed += patch.changed
        self.masters += patch.replaced_formulas
        self.formulas_removed = self.formulas_removed or patch.formulas_removed
        return new

    def _promote(self, text: str) -> str:
        for master in list(self.masters):
            text, found = promote_shared_formula(text, self.p, master)
            if found:
                self.masters.remove(master)
        return text


def _column_styles(xml: str, p: str) -> dict[int, str]:
    """Styles of whole columns (<cols>), which a cell typed there would take."""
    styles: dict[int, str] = {}
    for match in re.finditer(rf"<{p}col\b{ATTRS}/?>", xml):
        style, low, high = (attr(match.group(1), k) for k in ("style", "min", "max"))
        if style and low and high and int(high) - int(low) < MAX_COLUMN:
            for column in range(int(low), int(high) + 1):
                styles[column] = style
    return styles


def _widen_dimension(xml: str, p: str, written: Iterable[tuple[int, int]]) -> str:
    match = re.search(rf"<{p}dimension\b{ATTRS}/>", xml)
    area = attr(match.group(1), "ref") if match else None
    if not match or not area or not re.fullmatch(r"[A-Z]+[0-9]+(:[A-Z]+[0-9]+)?", area):
        return xml
    corners = [split_ref(corner) for corner in area.split(":")] + list(written)
    rows, columns = [r for r, _ in corners], [c for _, c in corners]
    first = f"{get_column_letter(min(columns))}{min(rows)}"
    last = f"{get_column_letter(max(columns))}{max(rows)}"
    new_area = first if first == last else f"{first}:{last}"
    if new_area == area:
        return xml
    element = f"<{p}dimension{set_attr(match.group(1), 'ref', new_area)}/>"
    return xml[: match.start()] + element + xml[match.end() :]
