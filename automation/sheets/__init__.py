"""Sheet backends: read the workbook as a Snapshot, write W cells back.

A backend is declared once, in ``BACKENDS``: the config accepts the names it lists for
``sheet.backend`` (and requires the setting each one needs), and ``cli.build_sheet``
builds the one named. A new backend is a module here with a class that has the
``SheetBackend`` methods, and one entry in ``BACKENDS``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from automation.core.a1 import column_letter
from automation.core.model import CellWrite, Snapshot

if TYPE_CHECKING:
    from automation.core.settings import Settings, SheetSettings

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class Skipped:
    """A write left out, and why (the row vanished, its ID is now doubled, …)."""

    write: CellWrite
    reason: str

    def __str__(self) -> str:
        return f"{self.write.tab}!{column_letter(self.write.column)}{self.write.row}: {self.reason}"


class SheetBackend(Protocol):
    def read(self) -> Snapshot:
        """Every tab as it is now, with a version token for ``write``."""
        ...

    def write(self, writes: Sequence[CellWrite], version: str) -> int:
        """Set the cells; return how many changed.

        Raises StaleSheetError when the sheet changed since the read that gave
        ``version`` (re-read and recompute), SheetLockedError when it cannot be
        written now (try on a later cycle).
        """
        ...

    @property
    def skipped(self) -> Sequence[Skipped]:
        """The writes the last ``write`` left out (each also logged); empty when it
        placed them all."""
        ...

    def describe(self) -> str:
        """The sheet in a few words for the user: its path, or which Google Sheet."""
        ...

    def init(self, settings: Settings) -> list[str]:
        """``rygrad init-sheet``: add the missing tabs, headers, the Status dropdown,
        grey W headers with a note and frozen header rows; return what was changed, one
        line each (none: it was ready). Idempotent."""
        ...


@dataclass(frozen=True)
class Backend:
    """A value of ``sheet.backend``: how to build it, and the setting it cannot do
    without (``sheet.<needs>``, explained as ``needs_what`` when it is missing)."""

    build: Callable[[SheetSettings, Sleep | None], SheetBackend]
    needs: str
    needs_what: str


def _xlsx(settings: SheetSettings, sleep: Sleep | None) -> SheetBackend:
    from automation.sheets.xlsx import XlsxWorkbook

    assert settings.path  # the config requires it
    return XlsxWorkbook(settings.path, settings.max_xml_mb)


def _google(settings: SheetSettings, sleep: Sleep | None) -> SheetBackend:
    from automation.sheets.google import GoogleSheet

    return GoogleSheet(settings, sleep=sleep)


# name → backend; the first is the default. Each module is imported only when built
# (openpyxl, gspread and google-auth are slow to import).
BACKENDS: dict[str, Backend] = {
    "xlsx": Backend(_xlsx, "path", "the workbook's path"),
    "google": Backend(_google, "spreadsheet", "the sheet's id or URL"),
}
