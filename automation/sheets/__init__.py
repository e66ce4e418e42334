"""Sheet backends: read the workbook as a Snapshot, write W cells back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from automation.model import CellWrite, Snapshot


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
