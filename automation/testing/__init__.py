"""Test tooling that runs real protocols locally: the Google Sheets API emulator."""

from automation.testing.sheets_emulator import Emulator, start_emulator

__all__ = ["Emulator", "start_emulator"]
