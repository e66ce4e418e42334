"""Test tooling that runs real protocols locally: the Google Sheets API emulator, the
Entra ID identity endpoint and test certificates. Not part of the installed package: run
the emulator from the repository's root after the dev install.

``start_emulator`` and ``Emulator`` are imported on first use, not with the package:
``python -m tests.emulators.sheets_emulator`` imports this package first, and a
package that had already imported the module it then runs as ``__main__`` makes
Python warn (RuntimeWarning: found in sys.modules after import of package).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.emulators.sheets_emulator import Emulator, start_emulator

__all__ = ["Emulator", "start_emulator"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tests.emulators import sheets_emulator

        return getattr(sheets_emulator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
