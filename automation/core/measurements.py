"""The Målinger tab: which measurements rygrad appends, and each indicator's history.

README, "The workbook contract": each cycle rygrad appends a row for every (Aktuel
værdi, Opdateret) on Indikatorer that Målinger does not hold yet, and for every value a
reply brought (``extra``, from the inbox step); it never edits or deletes a row there.
Idempotent: the rows it appended are read back next cycle, and then nothing is due.

A value corrected on the same date is a new row: the last row of an indicator's date (in
the tab's order) is the one that counts, in ``history`` and in what is compared here.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date

from automation.core.model import CellWrite, Initiative, Measurement
from automation.core.schema import normalise_header
from automation.core.values import cell_text

SHEET_SOURCE = {"da": "regneark", "en": "sheet"}
# the columns an appended row cannot do without; Kilde is written when the tab has it
NEEDED_COLUMNS = ("indicator_id", "date", "value")


def mail_source(name: str, language: str) -> str:
    """Kilde of a value read from a partner's reply: »mail fra Sofie Holm«."""
    return f"mail fra {name}" if language == "da" else f"mail from {name}"


def same_value(a: float, b: float) -> bool:
    """Equal as a partner would see them: 42.5 typed and 42.5 computed, float noise aside."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def can_append(initiative: Initiative) -> bool:
    """Whether the workbook has Målinger with the columns an appended row needs."""
    columns = initiative.columns.get("measurements")
    return columns is not None and all(key in columns for key in NEEDED_COLUMNS)


def measurement_rows(
    initiative: Initiative, language: str, extra: Sequence[Measurement] = ()
) -> list[Measurement]:
    """The measurements to append to Målinger now (``row`` 0), in the order to append them.

    First each indicator's current value and date (Kilde »regneark«), then ``extra``: the
    values the inbox step read from replies, each with its own Kilde (use ``mail_source``).
    One is left out when the last row Målinger holds for its indicator and date has the
    same value, or when an earlier one of these already carries it. Empty when the
    workbook has no Målinger tab (or the tab lacks a needed column): the sheet then
    warns that ``rygrad init-sheet`` adds it.
    """
    if not can_append(initiative):
        return []
    latest = _latest_by_date(initiative.measurements)
    wanted: list[Measurement] = []
    sheet = SHEET_SOURCE.get(language, SHEET_SOURCE["en"])
    candidates = [Measurement(0, i.id, i.updated, i.current, sheet)
                  for i in initiative.indicators if i.current is not None and i.updated]
    for measurement in [*candidates, *extra]:
        place = (normalise_header(measurement.indicator_id), measurement.date)
        held = latest.get(place)
        if held is not None and same_value(held, measurement.value):
            continue
        latest[place] = measurement.value
        wanted.append(measurement)
    return wanted


def history(initiative: Initiative, indicator_id: str,
            pending: Iterable[Measurement] = ()) -> list[Measurement]:
    """An indicator's measurements, one per date (the last row of each), by date.

    ``pending`` are rows not in the sheet yet (``measurement_rows``): a chart drawn in
    the cycle that appends them already shows them.
    """
    key = normalise_header(indicator_id)
    by_date: dict[date, Measurement] = {}
    for measurement in [*initiative.measurements, *pending]:
        if normalise_header(measurement.indicator_id) == key:
            by_date[measurement.date] = measurement
    return [by_date[day] for day in sorted(by_date)]


def _latest_by_date(measurements: Iterable[Measurement]) -> dict[tuple[str, date], float]:
    latest: dict[tuple[str, date], float] = {}
    for measurement in measurements:  # sheet order: a later row of the same date wins
        latest[(normalise_header(measurement.indicator_id), measurement.date)] = \
            measurement.value
    return latest


def measurement_writes(
    initiative: Initiative, measurements: Sequence[Measurement], language: str
) -> list[CellWrite]:
    """The cells of the rows to append, below the last row of Målinger as read.

    The value as a number cell (partners sum and chart it); the date as text
    ``YYYY-MM-DD``, as every date rygrad writes (a date cell would need a date format the
    sheet may not have); the parser reads both back.
    """
    if not measurements or not can_append(initiative):
        return []
    columns = initiative.columns["measurements"]
    title = initiative.tab_titles["measurements"]
    last = max((row for tab, row in initiative.row_ids if tab == "measurements"), default=1)
    writes = []
    for offset, measurement in enumerate(measurements, start=1):
        cells = {"indicator_id": measurement.indicator_id, "date": measurement.date.isoformat(),
                 "value": cell_text(measurement.value), "source": measurement.source}
        for key, value in cells.items():
            if key in columns and value:
                writes.append(CellWrite(title, last + offset, columns[key], value, appended=True,
                                        number=measurement.value if key == "value" else None))
    return writes

