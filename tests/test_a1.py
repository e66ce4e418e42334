"""automation/core/a1.py (the one copy of column letters, quoted tab titles and trimmed rows)
and sheets.BACKENDS (what sheet.backend accepts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from automation import config
from automation.core.a1 import column_letter, quote, trim
from automation.errors import ConfigError
from automation.sheets import BACKENDS


@pytest.mark.parametrize(("index", "letters"), [(1, "A"), (26, "Z"), (27, "AA"),
                                                 (702, "ZZ"), (703, "AAA"), (16384, "XFD")])
def test_column_letters(index: int, letters: str) -> None:
    assert column_letter(index) == letters


@pytest.mark.parametrize(("title", "quoted"), [
    ("Møder", "'Møder'"), ("Partners' sheet", "'Partners'' sheet'"), ("A1", "'A1'")])
def test_tab_titles_are_always_quoted_with_quotes_doubled(title: str, quoted: str) -> None:
    assert quote(title) == quoted


def test_trim_cuts_only_the_blank_values_at_the_end() -> None:
    row = ("Anna", None, "x", None, None)
    assert trim(row) == ("Anna", None, "x")
    assert trim(["Møde", " ", ""], blank=lambda text: not text.strip()) == ("Møde",)
    untouched = ("Anna", "x")
    assert trim(untouched) is untouched  # rows are many: nothing copied when nothing is cut
    assert trim([None, None]) == ()


def test_every_backend_names_the_key_it_needs() -> None:
    assert list(BACKENDS) == ["xlsx", "google"]  # the first is the default
    assert {name: b.needs for name, b in BACKENDS.items()} == {
        "xlsx": "path", "google": "spreadsheet"}


@pytest.mark.parametrize(("sheet", "error"), [
    ({"backend": "excel", "path": "a.xlsx"},
     "sheet.backend: 'excel' is not allowed; use one of: xlsx, google"),
    ({"backend": "google"},
     'sheet.spreadsheet: is required when backend = "google" (the sheet\'s id or URL)'),
    ({"backend": "xlsx"},
     'sheet.path: is required when backend = "xlsx" (the workbook\'s path)'),
])
def test_the_config_checks_sheet_backend_against_backends(
    tmp_path: Path, sheet: dict[str, str], error: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        config.parse({"initiative": {"name": "X", "language": "da",
                                     "secretariat": "S <s@example.dk>"}, "sheet": sheet},
                     tmp_path / "rygrad.toml")
    assert str(raised.value) == f"{tmp_path / 'rygrad.toml'}: {error}"
