"""The xlsx backend: a local workbook, read with openpyxl, written by patching XML.

openpyxl's save drops the cached values of formulas, images and charts (after one
save a partner's formula deadline reads as empty), so ``write`` never saves through
it: it rewrites only the worksheet parts that hold a changed cell, and in them only
those cells. Every other member of the package is copied unchanged.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import re
import stat
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from openpyxl import load_workbook
from openpyxl.formula.translate import Translator
from openpyxl.utils import column_index_from_string, get_column_letter

from automation.errors import SheetError, SheetLockedError, StaleSheetError
from automation.model import CellValue, CellWrite, Snapshot, Table

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
MAX_ROW, MAX_COLUMN, MAX_TEXT = 1_048_576, 16_384, 32_767

# Matches one element with its attributes (quoted values may hold ">") and body.
_ATTRS = r"""((?:[^>"']|"[^"]*"|'[^']*')*?)"""
_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')""")
_REF = re.compile(r"([A-Z]{1,3})([0-9]+)")
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_ESCAPED_CHAR = re.compile(r"_x([0-9A-Fa-f]{4})_")


class XlsxWorkbook:
    """A workbook file on disk; ``read`` and ``write`` open it anew each time."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def read(self) -> Snapshot:
        content = self._content()
        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as err:  # openpyxl raises many kinds for a damaged package
            raise SheetError(
                f"{self.path}: cannot be read as an Excel workbook ({err}) — "
                "open it in Excel or LibreOffice, save it as .xlsx and try again"
            ) from err
        try:
            tables = {sheet.title: _table(sheet) for sheet in workbook.worksheets}
        except Exception as err:
            raise SheetError(
                f"{self.path}: a worksheet cannot be read ({err}) — "
                "open it in Excel or LibreOffice, save it as .xlsx and try again"
            ) from err
        finally:
            workbook.close()
        return Snapshot(tables, version=_version(content))

    def write(self, writes: Sequence[CellWrite], version: str) -> int:
        """Set each cell to its text; return how many cells changed.

        Nothing is written when the workbook is open (SheetLockedError), when it
        changed since the read that gave ``version`` (StaleSheetError), or when no
        cell's value would change.
        """
        self._refuse_if_open()
        before = self._stat()
        content = self._content()
        if _version(content) != version:
            raise StaleSheetError(f"{self.path} changed since it was read; read it again")
        wanted: dict[str, dict[tuple[int, int], str]] = {}
        for write in writes:
            _check_position(write)
            wanted.setdefault(write.tab, {})[(write.row, write.column)] = _clean(write.value)
        if not wanted:
            return 0
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            return self._patch(package, wanted, before)

    def _patch(
        self,
        package: zipfile.ZipFile,
        wanted: dict[str, dict[tuple[int, int], str]],
        before: os.stat_result,
    ) -> int:
        try:
            parts = _sheet_parts(package)
            shared = _SharedStrings(package, parts.shared_strings)
            patched: dict[str, bytes] = {}
            changed, formulas_removed = 0, False
            for tab, cells in wanted.items():
                if tab not in parts.sheets:
                    raise SheetError(f"{self.path}: there is no tab named {tab!r}")
                name = parts.sheets[tab]
                try:
                    xml, count, removed = _patch_sheet(
                        package.read(name).decode("utf-8"), cells, shared
                    )
                except SheetError as err:
                    raise SheetError(f"{self.path}, tab {tab}: {err}") from err
                if count:
                    patched[name] = xml.encode("utf-8")
                    changed += count
                    formulas_removed = formulas_removed or removed
            dropped = set()
            if formulas_removed and parts.calc_chain in package.namelist():
                # Excel calls a file with a calculation chain naming a cell that has no
                # formula damaged; without the chain it simply rebuilds it.
                dropped.add(parts.calc_chain)
                patched.update(_without_calc_chain(package, parts))
        except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, UnicodeError) as err:
            raise SheetError(
                f"{self.path}: the workbook's structure cannot be patched ({err}) — "
                "save it again in Excel or LibreOffice"
            ) from err
        if not changed:
            return 0
        self._replace(package, patched, dropped, before)
        return changed

    def _content(self) -> bytes:
        try:
            content = self.path.read_bytes()
        except FileNotFoundError as err:
            raise SheetError(f"{self.path}: no such file — check sheet.path in the config") from err
        except OSError as err:
            raise SheetError(f"{self.path}: cannot be read ({err.strerror})") from err
        if not zipfile.is_zipfile(io.BytesIO(content)):
            if content.startswith(b"PK\x03\x04"):
                raise SheetError(
                    f"{self.path}: the Excel workbook is damaged or incomplete — "
                    "restore it from a backup or save it again as .xlsx"
                )
            raise SheetError(
                f"{self.path}: not an Excel workbook (.xlsx) — save it as .xlsx and try again"
            )
        return content

    def _stat(self) -> os.stat_result:
        try:
            return self.path.stat()
        except OSError:
            self._content()  # says why, in the same words as read()
            raise

    def _refuse_if_open(self) -> None:
        # Excel names its owner file "~$" + the name, less one or two leading
        # characters for longer names; LibreOffice uses ".~lock.<name>#".
        name = self.path.name
        candidates = [f"~${name}", f"~${name[1:]}", f"~${name[2:]}", f".~lock.{name}#"]
        for lock in candidates:
            if (self.path.parent / lock).exists():
                raise SheetLockedError(
                    f"{self.path} is open in Excel or LibreOffice (lock file {lock}); "
                    "status columns will be written on a later cycle"
                )

    def _replace(
        self,
        package: zipfile.ZipFile,
        patched: dict[str, bytes],
        dropped: set[str],
        before: os.stat_result,
    ) -> None:
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        temp = Path(temp_name)
        try:
            with os.fdopen(handle, "wb") as out:
                with zipfile.ZipFile(out, "w") as copy:
                    for info in package.infolist():
                        if info.filename in dropped:
                            continue
                        data = patched.get(info.filename)
                        copy.writestr(info, package.read(info) if data is None else data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, stat.S_IMODE(before.st_mode))
            now = self._stat()
            if (now.st_size, now.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                raise StaleSheetError(f"{self.path} changed while writing; read it again")
            os.replace(temp, self.path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_folder(self.path.parent)


def _version(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open folders; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- reading ---------------------------------------------------------------------------


def _table(sheet: Any) -> Table:
    # The stored <dimension> may be stale or missing; without it openpyxl reads
    # every row and cell that is really there.
    sheet.reset_dimensions()
    header: tuple[CellValue, ...] = ()
    rows: list[tuple[int, tuple[CellValue, ...]]] = []
    for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
        values = _trim(tuple(_value(v) for v in cells))
        if number == 1:
            header = values
        elif any(not _is_blank(v) for v in values):
            rows.append((number, values))
    return Table(sheet.title, header, tuple(rows))


def _value(value: Any) -> CellValue:
    # Date cells arrive as midnight datetimes; a date is what the partner typed.
    if isinstance(value, datetime) and value.time() == time(0, 0):
        return value.date()
    return value


def _is_blank(value: CellValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _trim(values: tuple[CellValue, ...]) -> tuple[CellValue, ...]:
    end = len(values)
    while end and values[end - 1] is None:
        end -= 1
    return values[:end]


# -- the package -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Parts:
    sheets: dict[str, str]  # tab title → worksheet part name in the zip
    shared_strings: str | None
    calc_chain: str | None
    rels: str  # the workbook's relationships part


def _sheet_parts(package: zipfile.ZipFile) -> _Parts:
    workbook = _workbook_part(package)
    folder = posixpath.dirname(workbook)
    rels_name = posixpath.join(folder, "_rels", posixpath.basename(workbook) + ".rels")
    targets: dict[str, str] = {}
    shared: str | None = None
    calc_chain: str | None = None
    for rel in ElementTree.fromstring(package.read(rels_name)):
        target = _resolve(folder, rel.get("Target", ""))
        targets[rel.get("Id", "")] = target
        if rel.get("Type", "").endswith("/sharedStrings"):
            shared = target
        if rel.get("Type", "").endswith("/calcChain"):
            calc_chain = target
    sheets = {}
    for sheet in ElementTree.fromstring(package.read(workbook)).iter(f"{{{MAIN_NS}}}sheet"):
        part = targets.get(sheet.get(f"{{{REL_NS}}}id", ""))
        if part:
            sheets[sheet.get("name", "")] = part
    return _Parts(sheets, shared, calc_chain, rels_name)


def _without_calc_chain(package: zipfile.ZipFile, parts: _Parts) -> dict[str, bytes]:
    """The relationships and content types with the calculation chain left out."""
    rels = package.read(parts.rels).decode("utf-8")
    rels = re.sub(r"<Relationship\b[^>]*/calcChain\"[^>]*/>", "", rels)
    types = package.read("[Content_Types].xml").decode("utf-8")
    types = re.sub(
        rf'<Override\b[^>]*PartName="/{re.escape(str(parts.calc_chain))}"[^>]*/>', "", types
    )
    return {parts.rels: rels.encode("utf-8"), "[Content_Types].xml": types.encode("utf-8")}


def _workbook_part(package: zipfile.ZipFile) -> str:
    for rel in ElementTree.fromstring(package.read("_rels/.rels")):
        if rel.get("Type", "").endswith("/officeDocument"):
            return _resolve("", rel.get("Target", ""))
    raise KeyError("the package names no workbook part")


def _resolve(folder: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(folder, target))


class _SharedStrings:
    """The shared string table, parsed only when a written cell refers to it."""

    def __init__(self, package: zipfile.ZipFile, name: str | None) -> None:
        self._package, self._name = package, name
        self._texts: list[str] | None = None

    def __getitem__(self, index: int) -> str:
        if self._texts is None:
            self._texts = []
            if self._name:
                root = ElementTree.fromstring(self._package.read(self._name))
                for item in root.iter(f"{{{MAIN_NS}}}si"):
                    self._texts.append(_unescape_chars(_plain_text(item)))
        return self._texts[index] if 0 <= index < len(self._texts) else ""


def _plain_text(item: ElementTree.Element) -> str:
    # The visible text: <t> of the string and of rich-text runs, not phonetic hints.
    texts = [item.findtext(f"{{{MAIN_NS}}}t") or ""]
    texts += [run.findtext(f"{{{MAIN_NS}}}t") or "" for run in item.iter(f"{{{MAIN_NS}}}r")]
    return "".join(texts)


# -- patching one worksheet's XML text --------------------------------------------------
# A small scanner over the text rather than an XML tree: re-serialising a tree would
# rewrite namespace prefixes and every untouched cell; here they stay byte for byte.


def _patch_sheet(
    xml: str, cells: dict[tuple[int, int], str], shared: _SharedStrings
) -> tuple[str, int, bool]:
    """The worksheet XML with ``cells`` set, how many changed, and whether a formula went."""
    p = _prefix(xml)
    data = re.search(rf"<{p}sheetData\b{_ATTRS}(/>|>(.*?)</{p}sheetData>)", xml, re.S)
    if not data:
        raise SheetError("a worksheet has no sheetData element")
    pieces = _elements(data.group(3) or "", f"{p}row")  # (row number or 0, text)
    by_row: dict[int, dict[int, str]] = {}
    for (row, column), value in cells.items():
        by_row.setdefault(row, {})[column] = value
    column_styles = _column_styles(xml, p)
    changed, replaced_formulas, formulas_removed = 0, [], False
    for number, values in sorted(by_row.items()):
        index, exists = _place(pieces, number)
        row_text = pieces[index][1] if exists else f'<{p}row r="{number}"/>'
        patch = _RowPatch(p, number, shared, column_styles)
        new_text = patch.apply(row_text, values)
        if patch.changed:
            changed += patch.changed
            replaced_formulas += patch.replaced_formulas
            formulas_removed = formulas_removed or patch.formulas_removed
            if exists:
                pieces[index] = (number, new_text)
            else:
                pieces.insert(index, (number, new_text))
    if not changed:
        return xml, 0, False
    body = "".join(text for _, text in pieces)
    for master in replaced_formulas:
        body = _promote_shared_formula(body, p, master)
    xml = (
        f"{xml[: data.start()]}<{p}sheetData{data.group(1)}>{body}</{p}sheetData>"
        f"{xml[data.end() :]}"
    )
    written = [key for key, value in cells.items() if value]
    return _widen_dimension(xml, p, written), changed, formulas_removed


def _prefix(xml: str) -> str:
    root = re.search(r"<(\w+:)?worksheet\b", xml)
    if not root:
        raise SheetError("a worksheet part has no worksheet element")
    return root.group(1) or ""


def _elements(text: str, tag: str) -> list[tuple[int, str]]:
    """Split ``text`` into its <row> or <c> elements and what lies between them.

    An element comes with its row number or column index; what lies between
    (whitespace, other elements) with -1, and is kept in place.
    """
    pieces: list[tuple[int, str]] = []
    position = 0
    for match in re.finditer(rf"<{tag}\b{_ATTRS}(/>|>.*?</{tag}>)", text, re.S):
        if match.start() > position:
            pieces.append((-1, text[position : match.start()]))
        ref = _attr(match.group(1), "r")
        if ref is None:
            raise SheetError("a worksheet has rows or cells without a reference (r)")
        pieces.append((int(ref) if tag.endswith("row") else _split_ref(ref)[1], match.group(0)))
        position = match.end()
    if position < len(text):
        pieces.append((-1, text[position:]))
    return pieces


def _place(pieces: list[tuple[int, str]], number: int) -> tuple[int, bool]:
    """Where the element ``number`` is (True) or would go (False) among ``pieces``."""
    for index, (n, _) in enumerate(pieces):
        if n >= number:
            return index, n == number
    last = max((i for i, (n, _) in enumerate(pieces) if n >= 0), default=-1)
    return last + 1, False


class _RowPatch:
    """Set cells in one <row> element; counts the cells whose value changed."""

    def __init__(
        self, p: str, row: int, shared: _SharedStrings, column_styles: dict[int, str]
    ) -> None:
        self.p, self.row, self.shared, self.column_styles = p, row, shared, column_styles
        self.changed = 0
        self.replaced_formulas: list[tuple[str, str, str, str]] = []  # si, ref, formula, at
        self.formulas_removed = False

    def apply(self, row_text: str, values: dict[int, str]) -> str:
        p = self.p
        match = re.fullmatch(rf"<{p}row\b{_ATTRS}(/>|>(.*)</{p}row>)", row_text, re.S)
        assert match  # _elements matched the same pattern
        attrs, body = match.group(1), match.group(3) or ""
        row_style = _attr(attrs, "s") if _attr(attrs, "customFormat") in ("1", "true") else None
        pieces = _elements(body, f"{p}c")
        filled: list[int] = []
        for column, value in sorted(values.items()):
            index, exists = _place(pieces, column)
            old = pieces[index][1] if exists else None
            style = row_style or self.column_styles.get(column)
            if old is None and self.row == 1 and not style:
                # A column added to the header looks like the header cell before it.
                left = [t for n, t in pieces[:index] if n >= 0]
                style = _attr(_split_cell(left[-1], p)[0], "s") if left else None
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

    def _cell(self, column: int, value: str, old: str | None, style: str | None) -> str:
        """The new cell element ("" for none), or ``old`` itself when nothing changes.

        A new cell takes ``style``; an existing one keeps its own.
        """
        p = self.p
        ref = f"{get_column_letter(column)}{self.row}"
        if old is not None:
            attrs, body = _split_cell(old, p)
            if _current_text(attrs, body, p, self.shared) == value:
                return old
            style = _attr(attrs, "s")
            self.formulas_removed = self.formulas_removed or f"<{p}f" in body
            formula = re.search(rf"<{p}f\b{_ATTRS}>(.*?)</{p}f>", body, re.S)
            if formula and _attr(formula.group(1), "t") == "shared":
                si, area = _attr(formula.group(1), "si"), _attr(formula.group(1), "ref")
                if si is not None and area is not None:
                    self.replaced_formulas.append((si, area, formula.group(2), ref))
        style_attr = f' s="{style}"' if style and style != "0" else ""
        if not value:
            return f'<{p}c r="{ref}"{style_attr}/>' if style_attr else ""
        return (
            f'<{p}c r="{ref}"{style_attr} t="inlineStr"><{p}is>'
            f'<{p}t xml:space="preserve">{_escape(value)}</{p}t></{p}is></{p}c>'
        )


def _split_cell(cell: str, p: str) -> tuple[str, str]:
    match = re.fullmatch(rf"<{p}c\b{_ATTRS}(/>|>(.*)</{p}c>)", cell, re.S)
    assert match  # _elements matched the same pattern
    return match.group(1), match.group(3) or ""


def _current_text(attrs: str, body: str, p: str, shared: _SharedStrings) -> str | None:
    """The cell's text as the worker would have written it; None when it is not text."""
    if re.search(rf"<{p}f\b", body):
        return None  # a formula is never what the worker wrote
    kind = _attr(attrs, "t") or "n"
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


def _promote_shared_formula(body: str, p: str, master: tuple[str, str, str, str]) -> str:
    """Keep a shared formula's other cells working after its first cell was overwritten.

    The first remaining cell of the group becomes its new first cell, holding the
    formula translated to its own position.
    """
    si, area, formula, at = master
    found = re.search(
        rf'(<{p}c\b[^>]*?\br="([A-Z]+[0-9]+)"[^>]*>)<{p}f\b[^>]*\bsi="{si}"[^>]*?(/>|></{p}f>)',
        body,
    )
    if not found:
        return body
    moved = Translator(f"={_unescape(formula)}", origin=at).translate_formula(found.group(2))
    head = f'<{p}f t="shared" ref="{area}" si="{si}">{_escape(moved[1:])}</{p}f>'
    return body[: found.start()] + found.group(1) + head + body[found.end() :]


def _column_styles(xml: str, p: str) -> dict[int, str]:
    """Styles of whole columns (<cols>), which a cell typed there would take."""
    styles: dict[int, str] = {}
    for match in re.finditer(rf"<{p}col\b{_ATTRS}/?>", xml):
        style, low, high = (_attr(match.group(1), k) for k in ("style", "min", "max"))
        if style and low and high and int(high) - int(low) < MAX_COLUMN:
            for column in range(int(low), int(high) + 1):
                styles[column] = style
    return styles


def _widen_spans(attrs: str, columns: list[int]) -> str:
    # spans="1:9" is only a hint to readers, but it must cover the row's cells.
    spans = _attr(attrs, "spans")
    if not spans or not re.fullmatch(r"\d+:\d+( \d+:\d+)*", spans):
        return attrs
    bounds = [int(n) for n in re.split(r"[: ]", spans)]
    low, high = min([*bounds, *columns]), max([*bounds, *columns])
    if (low, high) == (min(bounds), max(bounds)):
        return attrs
    return _set_attr(attrs, "spans", f"{low}:{high}")


def _widen_dimension(xml: str, p: str, written: Iterable[tuple[int, int]]) -> str:
    match = re.search(rf"<{p}dimension\b{_ATTRS}/>", xml)
    area = _attr(match.group(1), "ref") if match else None
    if not match or not area or not re.fullmatch(r"[A-Z]+[0-9]+(:[A-Z]+[0-9]+)?", area):
        return xml
    corners = [_split_ref(corner) for corner in area.split(":")]
    rows = [r for r, _ in corners] + [r for r, _ in written]
    columns = [c for _, c in corners] + [c for _, c in written]
    first = f"{get_column_letter(min(columns))}{min(rows)}"
    last = f"{get_column_letter(max(columns))}{max(rows)}"
    new_area = first if first == last else f"{first}:{last}"
    if new_area == area:
        return xml
    element = f"<{p}dimension{_set_attr(match.group(1), 'ref', new_area)}/>"
    return xml[: match.start()] + element + xml[match.end() :]


# -- small text helpers -----------------------------------------------------------------


def _attr(attrs: str, name: str) -> str | None:
    for key, quoted in _ATTR.findall(attrs):
        if key == name:
            return _unescape(quoted[1:-1])
    return None


def _set_attr(attrs: str, name: str, value: str) -> str:
    for match in _ATTR.finditer(attrs):
        if match.group(1) == name:
            return f'{attrs[: match.start()]}{name}="{value}"{attrs[match.end() :]}'
    return f'{attrs} {name}="{value}"'


def _split_ref(ref: str) -> tuple[int, int]:
    match = _REF.fullmatch(ref)
    if not match:
        raise SheetError(f"a worksheet has a cell reference rygrad cannot read: {ref!r}")
    return int(match.group(2)), column_index_from_string(match.group(1))


def _check_position(write: CellWrite) -> None:
    if not (1 <= write.row <= MAX_ROW and 1 <= write.column <= MAX_COLUMN):
        raise SheetError(
            f"{write.tab}: row {write.row}, column {write.column} is outside a worksheet"
        )


def _clean(value: str) -> str:
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
