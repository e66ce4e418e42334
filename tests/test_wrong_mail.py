"""Wrong mail made impossible (issue 11): a renamed column, a lost or damaged ledger.

End to end through the CLI on a real workbook and a real SQLite ledger: each case first
shows what the sheet would do without the guard (it would mail), then that the run stops
with exit 2, sends nothing and writes nothing.
"""

from __future__ import annotations

import hashlib

import pytest

from automation.schema import TABS
from tests.test_cli import small_initiative
from tests.workbook import HEADERS, read_outbox, rygrad, write_config, write_workbook

NOW = "2026-12-07T09:00"


def renamed(tab: str, old: str, new: str) -> tuple[dict, dict[str, list[str]]]:
    """The small initiative with one header of one tab renamed (values kept)."""
    tabs = small_initiative()
    tabs[tab] = [{(new if key == old else key): value for key, value in row.items()}
                 for row in tabs[tab]]
    headers = {title: [new if (title == tab and h == old) else h for h in columns]
               for title, columns in HEADERS.items()}
    return tabs, headers


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("tab", "old", "new", "hint"), [
    ("Handlinger", "Status", "Tilstand", "Tilstand"),
    ("Handlinger", "Frist", "Deadline", "Deadline"),
    ("Møder", "Aflyst", "Annulleret", "Annulleret"),
    ("Møder", "Sted", "Lokale", "Lokale"),
    ("Grupper", "Formand", "Forperson", "Forperson"),
    ("Indikatorer", "Aktuel værdi", "Værdi", "Værdi"),
    ("Personer", "Grupper", "Grupe", "Grupe"),
])
def test_a_renamed_column_that_guards_mail_stops_the_run(tmp_path, capsys, tab, old, new, hint):
    tabs, headers = renamed(tab, old, new)
    workbook = write_workbook(tmp_path / "initiative.xlsx", tabs, headers)
    config = write_config(tmp_path, workbook)
    before = digest(workbook)

    run = rygrad(capsys, "run", "--once", "--now", NOW, "--config", str(config))

    assert run.status == 2, run.out
    assert run.err.count("\n") == 1  # one sentence
    assert f"{tab}: den påkrævede kolonne \"{old}\"" in run.err
    assert f"Mente du \"{hint}\"?" in run.err
    assert ", ".join(h for h in headers[tab]) in run.err  # the headers found
    assert read_outbox(tmp_path / "outbox") == []
    assert digest(workbook) == before
    # plan and check say the same
    for command in ("plan", "check"):
        other = rygrad(capsys, command, "--now", NOW, "--config", str(config)) \
            if command == "plan" else rygrad(capsys, command, "--config", str(config))
        assert other.status == 2 and f'"{old}"' in other.err


def test_a_tab_without_rows_may_lack_the_columns_that_guard_mail(tmp_path, capsys):
    tabs = small_initiative()
    tabs["Indikatorer"] = []
    headers = dict(HEADERS)
    headers["Indikatorer"] = ["Indikator-ID", "Gruppe", "Indikator"]
    workbook = write_workbook(tmp_path / "initiative.xlsx", tabs, headers)
    config = write_config(tmp_path, workbook)
    run = rygrad(capsys, "check", "--config", str(config))
    assert run.status == 0, run.err
    assert 'Indikatorer: Kolonnen "Aktuel værdi" (eller "Current value") mangler; den læses ' \
           "som tom (warning)" in run.out


def test_a_missing_content_column_is_a_warning_that_check_plan_and_run_print(tmp_path, capsys):
    tabs, headers = renamed("Møder", "Dagsorden", "")
    headers["Møder"] = [h for h in headers["Møder"] if h]
    workbook = write_workbook(tmp_path / "initiative.xlsx", tabs, headers)
    config = write_config(tmp_path, workbook)
    warning = 'Møder: Kolonnen "Dagsorden" (eller "Agenda") mangler; den læses som tom'
    for args in (("check",), ("plan", "--now", NOW), ("run", "--once", "--now", NOW)):
        run = rygrad(capsys, *args, "--config", str(config))
        assert run.status in (0, 1), run.err
        assert warning in run.out + run.err, args


def test_every_column_that_guards_mail_is_marked_in_the_readme():
    """The README's contract table marks the columns whose absence stops the run."""
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| tab | columns"):readme.index("Values: dates")]
    for tab in TABS:
        [line] = [row for row in table.splitlines() if f"**{tab.da}**" in row]
        for column in tab.columns:
            if column.required:
                assert f"**{column.da}**" in line, column.da
            elif column.guards_mail:
                assert f"{column.da}/{column.en}¹" in line or f"{column.da}¹" in line, \
                    column.da


def test_the_example_workbook_has_every_column(tmp_path, capsys):
    """`rygrad init` writes a workbook that passes the stricter header rule."""
    run = rygrad(capsys, "init", str(tmp_path))
    assert run.status == 0
    check = rygrad(capsys, "check", "--config", str(tmp_path / "config" / "rygrad.toml"))
    assert check.status in (0, 1), check.err
    assert "mangler; den læses som tom" not in check.out
