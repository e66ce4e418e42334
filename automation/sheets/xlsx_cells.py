"""One row's cells in worksheet XML: set them, and read what a cell holds now.

Text-level, like xlsx_patch, which hands each row that gets a write to RowPatch. A
written cell becomes an inline string (always text, so a value starting with "="
never becomes a formula) and keeps its style.
"""

from __future__ import annotations

import re
import zipfile
from xml.etree import ElementTree

from openpyxl.formula.translate import Translator
from openpyxl.utils import column_index_from_string, get_column_letter

from automation.errors import SheetError

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
MAX_COLUMN, MAX_TEXT = 16_384, 32_767

# Matches one element's attributes (quoted values may hold ">").
ATTRS = r"""((?:[^>"']|"[^"]*"|'[^']*')*?)"""
_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')""")
_REF = re.compile(r"([A-Z]{1,3})([0-9]+)")
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_ESCAPED_CHAR = re.compile(r"_x([0-9A-Fa-f]{4})_")

Master = tuple[str, str, str, str]  # a shared formula's si, area, formula, and its cell


def _elements(text: str, tag: str) -> list[tuple[int, str]]:
    """Split ``text`` into its <row> or <c> elements and what lies between them.

    An element comes with its row number or column index; what lies between
    (whitespace, other elements) with -1, and is kept in place.
    """
    pieces: list[tuple[int, str]] = []
    position = 0
    for match in re.finditer(rf"<{tag}\b{ATTRS}(/>|>.*?</{tag}>)", text, re.S):
        if match.start() > position:
            pieces.append((-1, text[position : match.start()]))
        ref = attr(match.group(1), "r")
        if ref is None:
            raise SheetError("a worksheet has rows or cells without a reference (r)")
        pieces.append((int(ref) if tag.endswith("row") else split_ref(ref)[1], match.group(0)))
        position = match.end()
    if position < len(text):
        pieces.append((-1, text[position:]))
    return pieces


def _place(pieces: list[tuple[int, str]], number: int, start: int = 0) -> tuple[int, bool]:
    """Where the element ``number`` is (True) or would go (False) among ``pieces``,
    searching from ``start`` (no element before it has a number ≥ ``number``)."""
    for index in range(start, len(pieces)):
        n = pieces[index][0]
        if n >= number:
            return index, n == number
    last = next((i for i in range(len(pieces) - 1, -1, -1) if pieces[i][0] >= 0), -1)
    return last + 1, False


class RowPatch:
    """Set cells in one <row> element; counts the cells whose value changed."""

    def __init__(
        self, p: str, row: int, shared: SharedStrings, column_styles: dict[int, str]
    ) -> None:
        self.p, self.row, self.shared, self.column_styles = p, row, shared, column_styles
        self.changed = 0
        self.replaced_formulas: list[Master] = []
        self.formulas_removed = False

    def apply(self, row_text: str, values: dict[int, str | float]) -> str:
        p = self.p
        match = re.fullmatch(rf"<{p}row\b{ATTRS}(/>|>(.*)</{p}row>)", row_text, re.S)
        assert match  # _elements matched the same pattern
        attrs, body = match.group(1), match.group(3) or ""
        row_style = attr(attrs, "s") if attr(attrs, "customFormat") in ("1", "true") else None
        pieces = _elements(body, f"{p}c")
        filled: list[int] = []
        for column, value in sorted(values.items()):
            index, exists = _place(pieces, column)
            old = pieces[index][1] if exists else None
            style = row_style or self.column_styles.get(column)
            if old is None and self.row == 1 and not style:
                # A column added to the header looks like the header cell before it.
                left = [t for n, t in pieces[:index] if n >= 0]
                style = attr(_split_cell(left[-1], p)[0], "s") if left else None
            new = self._cell(column, value, old, style)
            if new == old or (old is None and new == ""):
                continue
            self.changed += 1
            filled.append(column)
            if exists:
                pieces[index] = (column, new)
            else:
                pieces.insert(index, (column, new))
        if not self.changed:
            return row_text
        attrs = _widen_spans(attrs, filled)
        body = "".join(text for _, text in pieces)
        return f"<{p}row{attrs}>{body}</{p}row>" if body else f"<{p}row{attrs}/>"

    def _cell(self, column: int, value: str | float, old: str | None, style: str | None
              ) -> str:
        """The new cell element ("" for none), or ``old`` itself when nothing changes.

        A new cell takes ``style``; an existing one keeps its own. A float is written as
        a number cell (Målinger's values), anything else as text.
        """
        p = self.p
        ref = f"{get_column_letter(column)}{self.row}"
        if old is not None:
            attrs, body = _split_cell(old, p)
            current = _current_number(attrs, body, p) if isinstance(value, float) \
                else _current_text(attrs, body, p, self.shared)
            if current == value:
                return old
            style = attr(attrs, "s")
            self.formulas_removed = self.formulas_removed or f"<{p}f" in body
            formula = re.search(rf"<{p}f\b{ATTRS}>(.*?)</{p}f>", body, re.S)
            if formula and attr(formula.group(1), "t") == "shared":
                si, area = attr(formula.group(1), "si"), attr(formula.group(1), "ref")
                if si is not None and area is not None:
                    self.replaced_formulas.append((si, area, formula.group(2), ref))
        style_attr = f' s="{style}"' if style and style != "0" else ""
        if isinstance(value, float):
            return f'<{p}c r="{ref}"{style_attr}><{p}v>{value!r}</{p}v></{p}c>'
        if not value:
            return f'<{p}c r="{ref}"{style_attr}/>' if style_attr else ""
        return (
            f'<{p}c r="{ref}"{style_attr} t="inlineStr"><{p}is>'
            f'<{p}t xml:space="preserve">{_escape(value)}</{p}t></{p}is></{p}c>'
        )


def _split_cell(cell: str, p: str) -> tuple[str, str]:
    match = re.fullmatch(rf"<{p}c\b{ATTRS}(/>|>(.*)</{p}c>)", cell, re.S)
    assert match  # _elements matched the same pattern
    return match.group(1), match.group(3) or ""


def _current_text(attrs: str, body: str, p: str, shared: SharedStrings) -> str | None:
    """The cell's text as the worker would have written it; None when it is not text."""
    if re.search(rf"<{p}f\b", body):
        return None  # a formula is never what the worker wrote
    kind = attr(attrs, "t") or "n"
    if kind == "inlineStr":
        body = re.sub(rf"<{p}rPh\b.*?</{p}rPh>", "", body, flags=re.S)
        texts = re.findall(rf"<{p}t\b[^>]*>(.*?)</{p}t>", body, re.S)
        return _unescape_chars(_unescape("".join(texts)))
    value = re.search(rf"<{p}v>(.*?)</{p}v>", body, re.S)
    if value is None:
        return ""
    if kind == "s":
        return shared[int(value.group(1))]
    if kind == "str":
        return _unescape_chars(_unescape(value.group(1)))
    return None


def _current_number(attrs: str, body: str, p: str) -> float | None:
    """The cell's number, when it holds one the worker could have written; else None."""
    if re.search(rf"<{p}f\b", body) or (attr(attrs, "t") or "n") != "n":
        return None
    value = re.search(rf"<{p}v>(.*?)</{p}v>", body, re.S)
    try:
        return float(value.group(1)) if value else None
    except ValueError:
        return None


def promote_shared_formula(text: str, p: str, master: Master) -> tuple[str, bool]:
    """Keep a shared formula's other cells working after its first cell was overwritten.

    The first remaining cell of the group in ``text`` becomes its new first cell,
    holding the formula translated to its own position; False when none is there.
    """
    si, area, formula, at = master
    found = re.search(
        rf'(<{p}c\b[^>]*?\br="([A-Z]+[0-9]+)"[^>]*>)<{p}f\b[^>]*\bsi="{si}"[^>]*?(/>|></{p}f>)',
        text,
    )
    if not found:
        return text, False
    moved = Translator(f"={_unescape(formula)}", origin=at).translate_formula(found.group(2))
    head = f'<{p}f t="shared" ref="{area}" si="{si}">{_escape(moved[1:])}</{p}f>'
    return text[: found.start()] + found.group(1) + head + text[found.end() :], True


def _widen_spans(attrs: str, columns: list[int]) -> str:
    # spans="1:9" is only a hint to readers, but it must cover the row's cells.
    spans = attr(attrs, "spans")
    if not spans or not re.fullmatch(r"\d+:\d+( \d+:\d+)*", spans):
        return attrs
    bounds = [int(n) for n in re.split(r"[: ]", spans)]
    low, high = min([*bounds, *columns]), max([*bounds, *columns])
    if (low, high) == (min(bounds), max(bounds)):
        return attrs
    return set_attr(attrs, "spans", f"{low}:{high}")


class SharedStrings:
    """The shared string table, read only when a written cell refers to it."""

    def __init__(self, package: zipfile.ZipFile, name: str | None) -> None:
        self._package, self._name = package, name
        self._texts: list[str] | None = None

    def __getitem__(self, index: int) -> str:
        if self._texts is None:
            self._texts = []
            if self._name:
                # item by item: the whole table as a tree is many times its texts
                with self._package.open(self._name) as part:
                    root = None
                    for event, item in ElementTree.iterparse(part, ("start", "end")):
                        if root is None:
                            root = item
                        elif event == "end" and item.tag == f"{{{MAIN_NS}}}si":
                            self._texts.append(_unescape_chars(_plain_text(item)))
                            root.clear()
        return self._texts[index] if 0 <= index < len(self._texts) else ""


def _plain_text(item: ElementTree.Element) -> str:
    # The visible text: <t> of the string and of rich-text runs, not phonetic hints.
    texts = [item.findtext(f"{{{MAIN_NS}}}t") or ""]
    texts += [run.findtext(f"{{{MAIN_NS}}}t") or "" for run in item.iter(f"{{{MAIN_NS}}}r")]
    return "".join(texts)


# -- small text helpers -----------------------------------------------------------------


def attr(attrs: str, name: str) -> str | None:
    for key, quoted in _ATTR.findall(attrs):
        if key == name:
            return _unescape(quoted[1:-1])
    return None


def set_attr(attrs: str, name: str, value: str) -> str:
    for match in _ATTR.finditer(attrs):
        if match.group(1) == name:
            return f'{attrs[: match.start()]}{name}="{value}"{attrs[match.end() :]}'
    return f'{attrs} {name}="{value}"'


def split_ref(ref: str) -> tuple[int, int]:
    match = _REF.fullmatch(ref)
    if not match:
        raise SheetError(f"a worksheet has a cell reference rygrad cannot read: {ref!r}")
    return int(match.group(2)), column_index_from_string(match.group(1))


def clean_text(value: str) -> str:
    """The text as it will stand in the cell: legal XML, Excel's length, \\n line ends."""
    value = _ILLEGAL_XML.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return value[:MAX_TEXT]


def _escape(text: str) -> str:
    # "_x0041_" in cell text means "A" to Excel and openpyxl; escape a literal one.
    text = _ESCAPED_CHAR.sub(r"_x005F_x\1_", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _unescape(text: str) -> str:
    def entity(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("#x"):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        return {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}.get(name, "")

    return re.sub(r"&(#x[0-9A-Fa-f]+|#[0-9]+|\w+);", entity, text)


def _unescape_chars(text: str) -> str:
    return _ESCAPED_CHAR.sub(lambda m: chr(int(m.group(1), 16)), text)
