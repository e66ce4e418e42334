"""The xlsx backend: a local workbook, read with openpyxl, written by patching XML.

openpyxl's save drops the cached values of formulas, images and charts (after one
save a partner's formula deadline reads as empty), so ``write`` never saves through
it: it rewrites only the worksheet parts that hold a changed cell, and in them only
those cells (see xlsx_patch and xlsx_cells). Every other member of the package is
copied unchanged.
"""

from __future__ import annotations

import contextlib
import copy as copy_module
import glob
import hashlib
import io
import os
import posixpath
import re
import shutil
import tempfile
import time as clock
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from xml.etree import ElementTree

from openpyxl import load_workbook

from automation.core.a1 import trim
from automation.core.model import CellValue, CellWrite, Snapshot, Table
from automation.errors import SheetError, SheetLockedError, StaleSheetError, error_text
from automation.files import keep_access
from automation.sheets import Skipped
from automation.sheets.xlsx_cells import MAIN_NS, SharedStrings, clean_text
from automation.sheets.xlsx_patch import CHUNK_SIZE, patch_worksheet

if TYPE_CHECKING:
    from automation.config import Settings

REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MAX_ROW, MAX_COLUMN = 1_048_576, 16_384
STALE_TEMP_SECONDS = 60.0  # a write takes well under a second
MB = 1 << 20
# What the package may unpack to (sheet.max_xml_mb): far above what a real initiative's
# workbook unpacks to (docs/benchmarks.md, "Why the code is shaped this way").
DEFAULT_MAX_XML_MB = 100.0


class XlsxWorkbook:
    """A workbook file on disk; ``read`` and ``write`` open it anew each time.

    ``skipped`` stays empty: a write goes to the row and column read, and a workbook
    changed since that read is refused whole (StaleSheetError), never written in part.
    """

    def __init__(self, path: Path, max_xml_mb: float = DEFAULT_MAX_XML_MB) -> None:
        self.path = Path(path)
        self.max_xml_mb = max_xml_mb
        self.skipped: Sequence[Skipped] = ()
        self._appended: dict[str, set[int]] = {}  # of the write under way

    def describe(self) -> str:
        return str(self.path)

    def init(self, settings: Settings) -> list[str]:
        """openpyxl writes it; an existing workbook with formulas, images or charts is
        refused (sheets/init_sheet.py)."""
        from automation.sheets.init_sheet import init_xlsx

        return init_xlsx(settings, self.path)

    def read(self) -> Snapshot:
        # The file is read at once and closed (a few MB even at 100,000 rows): held
        # open, Windows would refuse Excel's save over it.
        content = self._content()
        # write() patches only content whose hash equals a read's (``version``): what
        # it unpacks has passed this check too
        check_unpacked_size(content, self.path, self.max_xml_mb)
        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as err:  # openpyxl raises many kinds for a damaged package
            raise SheetError(
                f"{self.path}: cannot be read as an Excel workbook ({error_text(err)}) — "
                "open it in Excel or LibreOffice, save it as .xlsx and try again"
            ) from err
        try:
            seen: dict[CellValue, CellValue] = {}
            tables = {sheet.title: _table(sheet, seen) for sheet in workbook.worksheets}
            tables = _mark_uncomputed(content, tables)
        except Exception as err:
            raise SheetError(
                f"{self.path}: a worksheet cannot be read ({error_text(err)}) — "
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
        wanted: dict[str, dict[tuple[int, int], str | float]] = {}
        for write in writes:
            _check_position(write)
            wanted.setdefault(write.tab, {})[(write.row, write.column)] = (
                clean_text(write.value) if write.number is None else write.number)
        if not wanted:
            return 0
        self._appended = {}  # tab → the rows rygrad appends (Målinger): tables grow over them
        for write in writes:
            if write.appended:
                self._appended.setdefault(write.tab, set()).add(write.row)
        try:
            # the zipped file is small; its worksheets, unzipped, are what is streamed
            with zipfile.ZipFile(io.BytesIO(content)) as package:
                return self._patch(package, wanted, before)
        except (
            zipfile.BadZipFile,
            KeyError,
            ElementTree.ParseError,
            UnicodeError,
            zlib.error,
            EOFError,
        ) as err:
            raise SheetError(
                f"{self.path}: the workbook's structure cannot be patched ({error_text(err)}) — "
                "save it again in Excel or LibreOffice"
            ) from err

    def _patch(
        self,
        package: zipfile.ZipFile,
        wanted: dict[str, dict[tuple[int, int], str | float]],
        before: os.stat_result,
    ) -> int:
        parts = _sheet_parts(package)
        for tab in wanted:
            if tab not in parts.sheets:
                raise SheetError(f"{self.path}: there is no tab named {tab!r}")
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        temp = Path(temp_name)
        try:
            with os.fdopen(handle, "w+b") as out:
                changed, formulas_removed = self._copy(package, parts, wanted, out, False)
                if changed and formulas_removed and parts.calc_chain in package.namelist():
                    # Excel calls a file with a calculation chain naming a cell that has
                    # no formula damaged; without the chain it simply rebuilds it. The
                    # parts that name the chain were copied already: copy once more
                    # without it (rare: a partner's formula in a worker's column).
                    out.seek(0)
                    out.truncate()
                    changed, _ = self._copy(package, parts, wanted, out, True)
                out.flush()
                if changed:
                    os.fsync(out.fileno())
            if not changed:
                temp.unlink()
                return 0
            keep_access(temp, before)  # mkstemp made it 0600 and the worker's
            now = self._stat()
            if (now.st_size, now.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                raise StaleSheetError(f"{self.path} changed while writing; read it again")
            os.replace(temp, self.path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_folder(self.path.parent)
        _remove_stale_temps(self.path)
        return changed

    def _copy(
        self,
        package: zipfile.ZipFile,
        parts: _Parts,
        wanted: dict[str, dict[tuple[int, int], str | float]],
        out: IO[bytes],
        drop_calc_chain: bool,
    ) -> tuple[int, bool]:
        """Write the package to ``out`` with the cells patched, one member at a time.

        Returns how many cells changed and whether a formula was overwritten.
        """
        tabs = {parts.sheets[tab]: tab for tab in wanted}
        shared = SharedStrings(package, parts.shared_strings)
        replaced = _without_calc_chain(package, parts) if drop_calc_chain else {}
        replaced.update(_grown_tables(package, parts, self._appended))
        changed, formulas_removed = 0, False
        with zipfile.ZipFile(out, "w") as copy:
            copy.comment = package.comment
            for info in package.infolist():
                if drop_calc_chain and info.filename == parts.calc_chain:
                    continue
                member = copy_module.copy(info)  # the copy's sizes and checksum are its own
                tab = tabs.get(info.filename)
                if tab is not None:
                    with package.open(info) as source, copy.open(member, "w") as target:
                        try:
                            count, removed = patch_worksheet(source, target, wanted[tab], shared)
                        except SheetError as err:
                            raise SheetError(f"{self.path}, tab {tab}: {err}") from err
                    changed += count
                    formulas_removed = formulas_removed or removed
                elif info.filename in replaced:
                    copy.writestr(member, replaced[info.filename])
                elif info.file_size <= CHUNK_SIZE:
                    copy.writestr(member, package.read(info))
                else:
                    with package.open(info) as source, copy.open(member, "w") as target:
                        shutil.copyfileobj(source, target, CHUNK_SIZE)
        return changed, formulas_removed

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


def check_unpacked_size(content: bytes, path: Path, max_xml_mb: float) -> None:
    """Refuse a package that unpacks to more than ``max_xml_mb`` before openpyxl opens it.

    A 1.5 MB file can hold 1.5 GB of worksheet XML (a million empty rows compress to
    almost nothing), and openpyxl would spend memory on all of it. First the sizes the
    zip declares (ZipInfo.file_size, free to read), then the bytes each part really
    inflates to, counted while decompressing and never more than the limit: a zip can
    declare less than it holds.
    """
    limit = int(max_xml_mb * MB)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            members = package.infolist()
            declared = sum(info.file_size for info in members)
            if declared > limit:
                raise SheetError(_too_large(
                    path, f"{_size(declared)} of XML, more than sheet.max_xml_mb = "
                          f"{max_xml_mb:g} MB allows"))
            left = limit
            for info in members:
                left -= _inflated_size(package, info, left + 1)
                if left < 0:
                    raise SheetError(_too_large(
                        path, f"more than sheet.max_xml_mb = {max_xml_mb:g} MB of XML, though "
                              f"its zip headers claim {_size(declared)}"))
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError) as err:
        raise SheetError(
            f"{path}: the Excel workbook is damaged ({error_text(err)}) — "
            "restore it from a backup or save it again as .xlsx"
        ) from err


def _inflated_size(package: zipfile.ZipFile, info: zipfile.ZipInfo, most: int) -> int:
    """How many bytes the part ``info`` inflates to, counted up to ``most``."""
    # zipfile stops at the declared file_size and checks the checksum there: let it read
    # on past ``most`` (the data's own end still checks it), so the count is of what the
    # data holds
    claimed = copy_module.copy(info)
    claimed.file_size = most + 1
    count = 0
    with package.open(claimed) as part:
        while count < most and (chunk := part.read(min(CHUNK_SIZE, most - count))):
            count += len(chunk)
    return count


def _size(count: int) -> str:
    return f"{count / MB:,.0f} MB" if count >= MB else f"{count / 1024:,.0f} KB"


def _too_large(path: Path, size: str) -> str:
    return (f"{path}: the workbook unpacks to {size} — an initiative's workbook unpacks to a "
            "few MB, so this one is damaged or made to exhaust memory; save it again in Excel "
            "or LibreOffice, or raise sheet.max_xml_mb if it really holds that much")


def _remove_stale_temps(path: Path) -> None:
    """A worker killed while writing leaves its temporary copy of the workbook (partner
    data, beside the workbook); the next successful write removes old ones."""
    limit = clock.time() - STALE_TEMP_SECONDS
    for temp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        with contextlib.suppress(OSError):
            if temp.stat().st_mtime < limit:
                temp.unlink()


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


def _table(sheet: Any, seen: dict[CellValue, CellValue]) -> Table:
    # The stored <dimension> may be stale or missing; without it openpyxl reads
    # every row and cell that is really there.
    sheet.reset_dimensions()
    header: tuple[CellValue, ...] = ()
    rows: list[tuple[int, tuple[CellValue, ...]]] = []
    for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
        values = trim(tuple(_value(v, seen) for v in cells))
        if number == 1:
            header = values
        elif any(not _is_blank(v) for v in values):
            rows.append((number, values))
    return Table(sheet.title, header, tuple(rows))


def _value(value: Any, seen: dict[CellValue, CellValue]) -> CellValue:
    # Date cells arrive as midnight datetimes; a date is what the partner typed.
    if isinstance(value, datetime) and value.time() == time(0, 0):
        value = value.date()
    # openpyxl makes a new object for every cell; a status, a group, an owner or a
    # deadline repeats down a column, and the parsed rows keep these: one of each.
    # Only exact str and date, whose equal values are interchangeable (1 == 1.0 == True).
    if type(value) is str or type(value) is date:
        return seen.setdefault(value, value)
    return value


# a formula element; the start of its cell (a short tag just before it) and its end
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CELL_START = re.compile(rb"<(?:\w+:)?c\s[^>]*?\br=\"([A-Z]+)([0-9]+)\"[^>]*>")
_CELL_END = re.compile(rb"</(?:\w+:)?c>")
_VALUE = re.compile(rb"<(?:\w+:)?v\s*>[^<]|<(?:\w+:)?v\s[^>]*[^/]>[^<]")  # a non-empty one
_STRING_RESULT = re.compile(rb'\st="str"')


def _mark_uncomputed(content: bytes, tables: dict[str, Table]) -> dict[str, Table]:
    """Each table with the cells whose formula has no saved value: a workbook written by
    a script (openpyxl writes ``<f>…</f><v />``), or never recalculated. openpyxl reads
    them as empty, as it does a cell nobody filled in; only the XML tells them apart.
    (Excel saves a formula whose result is the empty text as ``t="str"`` with an empty
    ``<v>``: that one was calculated.)"""
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        parts = _sheet_parts(package)
        for title, part in parts.sheets.items():
            if title not in tables:
                continue
            xml = package.read(part)
            found = set()
            for formula in _FORMULA.finditer(xml):
                starts = list(_CELL_START.finditer(xml, max(0, formula.start() - 512),
                                                   formula.start()))
                cell = starts[-1] if starts else None
                end = _CELL_END.search(xml, formula.end())
                if cell is None or end is None or _STRING_RESULT.search(cell.group(0)) \
                        or _VALUE.search(xml, cell.end(), end.start()):
                    continue
                column = sum((ord(letter) - 64) * 26 ** power for power, letter
                             in enumerate(reversed(cell.group(1).decode())))
                found.add((int(cell.group(2)), column))
            if found:
                tables[title] = replace(tables[title], uncomputed=frozenset(found))
    return tables


def _is_blank(value: CellValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


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


def _grown_tables(package: zipfile.ZipFile, parts: _Parts, appended: dict[str, set[int]]
                  ) -> dict[str, bytes]:
    """The Excel tables (Insert > Table) that appended rows continue, with their range and
    their filter's grown over those rows, so the rows read as the table's own."""
    grown: dict[str, bytes] = {}
    names = set(package.namelist())
    for tab, rows in appended.items():
        sheet = parts.sheets.get(tab, "")
        rels = posixpath.join(posixpath.dirname(sheet), "_rels",
                              posixpath.basename(sheet) + ".rels")
        if rels not in names:
            continue
        for rel in ElementTree.fromstring(package.read(rels)):
            part = _resolve(posixpath.dirname(sheet), rel.get("Target", ""))
            if rel.get("Type", "").endswith("/table") and part in names:
                xml = package.read(part).decode("utf-8")
                new = _grow_table(xml, rows)
                if new != xml:
                    grown[part] = new.encode("utf-8")
    return grown


_TABLE = re.compile(r"<(?:\w+:)?table\b[^>]*>")
_AREA = re.compile(r'\sref="([A-Z]+[0-9]+:[A-Z]+)([0-9]+)"')


def _grow_table(xml: str, rows: set[int]) -> str:
    """The table part with its bottom row moved over the rows right below it; as it was
    when none is, or when the table has a totals row (new rows would go under it)."""
    root = _TABLE.search(xml)
    area = _AREA.search(root.group(0)) if root else None
    if root is None or area is None or re.search(r'\stotalsRowCount="[1-9]', root.group(0)):
        return xml
    bottom = new_bottom = int(area.group(2))
    while new_bottom + 1 in rows:
        new_bottom += 1
    if new_bottom == bottom:
        return xml
    return xml.replace(f'ref="{area.group(1)}{bottom}"', f'ref="{area.group(1)}{new_bottom}"')


def _workbook_part(package: zipfile.ZipFile) -> str:
    for rel in ElementTree.fromstring(package.read("_rels/.rels")):
        if rel.get("Type", "").endswith("/officeDocument"):
            return _resolve("", rel.get("Target", ""))
    raise KeyError("the package names no workbook part")


def _resolve(folder: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(folder, target))


def _check_position(write: CellWrite) -> None:
    if not (1 <= write.row <= MAX_ROW and 1 <= write.column <= MAX_COLUMN):
        raise SheetError(
            f"{write.tab}: row {write.row}, column {write.column} is outside a worksheet"
        )
