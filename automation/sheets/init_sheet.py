"""``rygrad init-sheet``: add missing tabs and headers, the Status dropdown, grey W headers
with a note, and frozen header rows — to a Google Sheet or an xlsx workbook. Idempotent:
what is already there is left as it is, and a second run changes nothing.

Headers are matched as the parser matches them (Danish or English title, or an alias);
a missing one is added at the end of its tab's header row in the initiative's language.

xlsx: openpyxl's save loses formulas' cached values, images and charts (docs/architecture.md),
so an existing workbook that has any of them is refused with what to add by hand; a
workbook without them, or a path that does not exist yet, is written by openpyxl.

Each backend's ``init`` (``SheetBackend``) calls its function here: ``init_google`` or
``init_xlsx``; ``cli.build_sheet`` builds the backend ``sheet.backend`` names.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automation.config import Settings
from automation.core.a1 import column_letter, quote, trim
from automation.core.model import CellValue
from automation.core.schema import TABS, Tab, normalise_header
from automation.core.values import cell_text
from automation.errors import SheetError, error_text
from automation.files import keep_access

if TYPE_CHECKING:
    from automation.sheets.google_api import SheetsApi

GREY = {"red": 0.85, "green": 0.85, "blue": 0.85}
GREY_HEX = "FFD9D9D9"
NOTE = {"da": "udfyldes automatisk", "en": "filled in automatically"}
OPEN_STATUSES = {"da": ("Ikke startet", "I gang"), "en": ("Not started", "In progress")}


@dataclass
class TabPlan:
    """What one tab of the schema needs: its title, header and the columns to add."""

    tab: Tab
    title: str
    exists: bool
    header: list[str]  # as it will be: the present header plus the added columns
    added: list[str] = field(default_factory=list)
    columns: dict[str, int] = field(default_factory=dict)  # column key → 1-based index


def statuses(settings: Settings) -> list[str]:
    """The Status dropdown: not started, in progress, then the done statuses."""
    found: dict[str, str] = {}
    for status in (*OPEN_STATUSES[settings.initiative.language], *settings.rules.done_statuses):
        found.setdefault(normalise_header(status), status)
    return list(found.values())


def plan_tabs(settings: Settings, present: dict[str, tuple[CellValue, ...]]) -> list[TabPlan]:
    """Each schema tab against the tabs present (title → header row)."""
    language = settings.initiative.language
    plans = []
    for tab in TABS:
        titles = {normalise_header(tab.da), normalise_header(tab.en)}
        title = next((t for t in present if normalise_header(t) in titles), None)
        row = [cell_text(v) for v in present[title]] if title else []
        header = list(trim(row, blank=lambda text: not text.strip()))
        names = _header_names(settings, tab)
        plan = TabPlan(tab, title or tab.title(language), title is not None, header)
        for index, text in enumerate(header, start=1):
            key = names.get(normalise_header(text))
            if key is not None:
                plan.columns.setdefault(key, index)
        for column in tab.columns:
            if column.on_demand and settings.inbox is None:
                continue  # the meeting answer columns: only with [inbox]
            if column.key not in plan.columns:
                plan.header.append(column.title(language))
                plan.added.append(column.title(language))
                plan.columns[column.key] = len(plan.header)
        plans.append(plan)
    return plans


def _header_names(settings: Settings, tab: Tab) -> dict[str, str]:
    names: dict[str, str] = {}
    for column in tab.columns:
        names.setdefault(normalise_header(column.da), column.key)
        names.setdefault(normalise_header(column.en), column.key)
    for target, aliases in settings.sheet.aliases.items():
        prefix, _, title = target.rpartition(".")
        if prefix and normalise_header(prefix) not in {normalise_header(tab.da),
                                                       normalise_header(tab.en)}:
            continue
        key = names.get(normalise_header(title))
        if key is not None:
            for alias in aliases:
                names.setdefault(normalise_header(alias), key)
    return names


# -- Google ------------------------------------------------------------------------------


def init_google(settings: Settings, api: SheetsApi) -> list[str]:
    """``GoogleSheet.init``: two reads (the tabs, then their first two rows) and at most
    one batchUpdate, through the sheet's API client (its timeout and retries)."""
    meta = api.get({"fields": "sheets(properties(sheetId,title,gridProperties))"})
    properties = {s["properties"]["title"]: s["properties"] for s in meta.get("sheets", [])}
    cells: dict[str, list[list[dict[str, Any]]]] = {}
    if properties:
        quoted = [f"{quote(t)}!1:2" for t in properties]
        found = api.get({"ranges": quoted, "fields": (
            "sheets(properties(title),data(rowData(values(effectiveValue,note,"
            "userEnteredFormat/backgroundColor,dataValidation))))")})
        for sheet in found.get("sheets", []):
            rows = (sheet.get("data") or [{}])[0].get("rowData", [])
            cells[sheet["properties"]["title"]] = [r.get("values", []) for r in rows]
    present = {title: tuple(_value(c) for c in (rows[0] if rows else []))
               for title, rows in cells.items()}
    present.update({t: () for t in properties if t not in present})
    requests: list[dict[str, Any]] = []
    changes: list[str] = []
    taken = {int(p["sheetId"]) for p in properties.values()}
    for plan in plan_tabs(settings, present):
        if plan.exists:
            sheet_props = properties[plan.title]
            sheet_id = int(sheet_props["sheetId"])
        else:
            sheet_id = _new_sheet_id(taken)
            sheet_props = {"sheetId": sheet_id, "title": plan.title, "gridProperties": {
                "rowCount": 1000, "columnCount": max(26, len(plan.header))}}
            requests.append({"addSheet": {"properties": sheet_props}})
            changes.append(f"added the tab {plan.title}")
        requests += _google_tab(settings, plan, sheet_id, sheet_props,
                                cells.get(plan.title, []), changes)
    if requests:
        api.batch_update({"requests": requests})
    return changes


def _google_tab(
    settings: Settings, plan: TabPlan, sheet_id: int, props: dict[str, Any],
    rows: list[list[dict[str, Any]]], changes: list[str],
) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = []
    grid = props.get("gridProperties", {})
    first_added = len(plan.header) - len(plan.added)
    if plan.exists and len(plan.header) > int(grid.get("columnCount", 26)):
        requests.append({"appendDimension": {"sheetId": sheet_id, "dimension": "COLUMNS",
                                             "length": len(plan.header) - grid["columnCount"]}})
    if plan.added:
        requests.append({"updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": first_added},
            "rows": [{"values": [{"userEnteredValue": {"stringValue": t}} for t in plan.added]}],
            "fields": "userEnteredValue"}})
        if plan.exists:
            changes.append(f"{plan.title}: added the columns {', '.join(plan.added)}")
    header = rows[0] if rows else []
    note = NOTE[settings.initiative.language]
    for column in plan.tab.columns:
        if column.key not in plan.columns:  # an on-demand column not added
            continue
        index = plan.columns[column.key] - 1
        cell = header[index] if index < len(header) else {}
        if column.worker and (cell.get("note") != note or not _is_grey(cell)):
            requests.append({"updateCells": {
                "range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1,
                          "startColumnIndex": index, "endColumnIndex": index + 1},
                "rows": [{"values": [{"note": note,
                                      "userEnteredFormat": {"backgroundColor": GREY}}]}],
                "fields": "note,userEnteredFormat.backgroundColor"}})
            if plan.exists:
                changes.append(f"{plan.title}!{column_letter(index + 1)}1: shaded grey, "
                               f"with the note \"{note}\"")
    if not int(grid.get("frozenRowCount", 0) or 0):
        requests.append({"updateSheetProperties": {
            "properties": {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": 1}},
            "fields": "gridProperties.frozenRowCount"}})
        if plan.exists:
            changes.append(f"{plan.title}: froze the header row")
    if plan.tab.key == "actions":
        index = plan.columns["status"] - 1
        below = rows[1] if len(rows) > 1 else []
        rule = (below[index] if index < len(below) else {}).get("dataValidation", {})
        wanted = statuses(settings)
        listed = [v.get("userEnteredValue") for v in rule.get("condition", {}).get("values", [])]
        if listed != wanted:
            requests.append({"setDataValidation": {
                "range": {"sheetId": sheet_id, "startRowIndex": 1,
                          "startColumnIndex": index, "endColumnIndex": index + 1},
                "rule": {"condition": {"type": "ONE_OF_LIST", "values": [
                    {"userEnteredValue": s} for s in wanted]},
                    "strict": False, "showCustomUi": True}}})
            changes.append(f"{plan.title}!{column_letter(index + 1)}: a dropdown of statuses "
                           f"({', '.join(wanted)})")
    return requests


def _value(cell: dict[str, Any]) -> CellValue:
    value = cell.get("effectiveValue", {})
    return next(iter(value.values()), None) if value else None


def _is_grey(cell: dict[str, Any]) -> bool:
    colour = cell.get("userEnteredFormat", {}).get("backgroundColor", {})
    channels = [float(colour.get(c, 0)) for c in ("red", "green", "blue")]
    return bool(colour) and len(set(channels)) == 1 and channels[0] < 1


def _new_sheet_id(taken: set[int]) -> int:
    while (candidate := secrets.randbelow(2**31 - 2) + 1) in taken:
        pass
    taken.add(candidate)
    return candidate


# -- xlsx --------------------------------------------------------------------------------


def init_xlsx(settings: Settings, path: Path) -> list[str]:
    """``XlsxWorkbook.init``: the workbook at ``path``, created when it does not exist."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    from automation.sheets.xlsx import check_unpacked_size

    new = not path.exists()
    if new:
        book = openpyxl.Workbook()
        book.remove(book.active)
    else:
        # openpyxl holds all of it: refuse a workbook that unpacks to far too much first
        check_unpacked_size(path.read_bytes(), path, settings.sheet.max_xml_mb)
        try:
            book = openpyxl.load_workbook(path)
        except Exception as err:  # openpyxl raises many kinds for a damaged package
            raise SheetError(f"{path}: cannot be read as an Excel workbook "
                             f"({error_text(err)})") from err
        _refuse_unsafe(book, path)
    present = {ws.title: tuple(c.value for c in ws[1]) if ws.max_row else ()
               for ws in book.worksheets}
    language = settings.initiative.language
    note = NOTE[language]
    changes: list[str] = [f"created {path}"] if new else []
    for plan in plan_tabs(settings, present):
        if plan.exists:
            ws = book[plan.title]
        else:
            ws = book.create_sheet(plan.title)
            if not new:
                changes.append(f"added the tab {plan.title}")
        first = len(plan.header) - len(plan.added) + 1
        for offset, text in enumerate(plan.added):
            cell = ws.cell(row=1, column=first + offset, value=text)
            cell.data_type = "s"
        if plan.added and plan.exists:
            changes.append(f"{plan.title}: added the columns {', '.join(plan.added)}")
        for column in plan.tab.columns:
            if column.key not in plan.columns:  # an on-demand column not added
                continue
            cell = ws.cell(row=1, column=plan.columns[column.key])
            grey = cell.fill.fill_type == "solid" and str(cell.fill.fgColor.rgb) == GREY_HEX
            if column.worker and (not grey or not cell.comment or cell.comment.text != note):
                cell.fill = PatternFill("solid", fgColor=GREY_HEX)
                cell.comment = Comment(note, "rygrad")
                if plan.exists:
                    changes.append(f"{plan.title}!{cell.coordinate}: shaded grey, "
                                   f"with the note \"{note}\"")
        if ws.freeze_panes is None:
            ws.freeze_panes = "A2"
            if plan.exists:
                changes.append(f"{plan.title}: froze the header row")
        if plan.tab.key == "actions":
            letter = column_letter(plan.columns["status"])
            wanted = statuses(settings)
            formula = '"' + ",".join(s.replace('"', '""') for s in wanted) + '"'
            if not any(dv.formula1 == formula and f"{letter}2" in dv.sqref
                       for dv in ws.data_validations.dataValidation):
                rule = DataValidation(type="list", formula1=formula, allow_blank=True,
                                      showErrorMessage=False)
                rule.add(f"{letter}2:{letter}1048576")
                ws.add_data_validation(rule)
                changes.append(f"{plan.title}!{letter}: a dropdown of statuses "
                               f"({', '.join(wanted)})")
    if changes:
        _save(book, path)
    return changes


def _refuse_unsafe(book: Any, path: Path) -> None:
    for ws in book.worksheets:
        if getattr(ws, "_images", None) or getattr(ws, "_charts", None):
            raise SheetError(
                f"{path}: the tab {ws.title} has images or charts, which saving with openpyxl "
                "would lose — add the missing tabs and headers by hand (rygrad check lists "
                "them), or run init-sheet on a copy without them")
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    raise SheetError(
                        f"{path}: {ws.title}!{cell.coordinate} holds a formula, whose value "
                        "saving with openpyxl would lose — add the missing tabs and headers "
                        "by hand (rygrad check lists them)")


def _save(book: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        book.save(temp)
        if path.exists():  # a shared workbook stays its owner's and its group's
            keep_access(Path(temp), path.stat())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
