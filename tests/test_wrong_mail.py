"""Wrong mail made impossible (issue 11): a renamed column, a lost or damaged ledger.

End to end through the CLI on a real workbook and a real SQLite ledger: each case first
shows what the sheet would do without the guard (it would mail), then that the run stops
with exit 2, sends nothing and writes nothing.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import zipfile
from datetime import date

import openpyxl
import pytest

from automation.core.schema import TABS
from tests.test_cli import small_initiative
from tests.workbook import HEADERS, cells, read_outbox, rygrad, write_config, write_workbook

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


# --- a lost ledger -------------------------------------------------------------------------


@pytest.fixture
def example(tmp_path, capsys):
    """`rygrad init` and a first cycle on the example: mail sent, the sheet shows it."""
    assert rygrad(capsys, "init", str(tmp_path)).status == 0
    config = tmp_path / "config" / "rygrad.toml"
    first = rygrad(capsys, "run", "--once", "--config", str(config))
    assert first.status == 0, first.err
    outbox = tmp_path / "outbox"
    sent = len(list(outbox.glob("*.eml")))
    assert sent > 20  # the example mails every kind
    return tmp_path, config, sent


def lose_state(folder, how):
    state = folder / "state"
    if how == "deleted":
        shutil.rmtree(state)
    else:  # emptied: the file is there, with nothing in it
        (state / "ledger.sqlite3").write_bytes(b"")
        for suffix in ("-wal", "-shm"):
            (state / f"ledger.sqlite3{suffix}").unlink(missing_ok=True)


@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_a_lost_ledger_does_not_resend_history(example, capsys, how):
    folder, config, sent = example
    workbook = folder / "examples" / "initiative.xlsx"
    before = digest(workbook)
    lose_state(folder, how)

    run = rygrad(capsys, "run", "--once", "--config", str(config))

    assert run.status == 2
    assert run.err.count("\n") == 1
    assert "holds no mail for this initiative, but the sheet shows mail already sent" in run.err
    assert "restore the state folder from a backup" in run.err
    assert "rygrad run --once --record-only" in run.err
    assert len(list((folder / "outbox").glob("*.eml"))) == sent  # nothing more
    assert digest(workbook) == before
    # plan says the same before anyone runs it
    planned = rygrad(capsys, "plan", "--config", str(config))
    assert planned.status == 2 and "--record-only" in planned.err

    # the way out: take the sheet as it is, then carry on without mailing history again
    recorded = rygrad(capsys, "run", "--once", "--record-only", "--config", str(config))
    assert recorded.status == 0, recorded.err
    again = rygrad(capsys, "run", "--once", "--config", str(config))
    assert again.status == 0, again.err
    assert len(list((folder / "outbox").glob("*.eml"))) == sent


def test_a_new_sheet_with_an_empty_ledger_still_runs(tmp_path, capsys):
    """No W cell says mail was sent: an empty ledger is simply the start."""
    workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative())
    config = write_config(tmp_path, workbook)
    run = rygrad(capsys, "run", "--once", "--now", NOW, "--config", str(config))
    assert run.status == 0, run.err
    assert read_outbox(tmp_path / "outbox")


# --- a damaged ledger ----------------------------------------------------------------------


@pytest.mark.parametrize("where", [0, 1, 2])
def test_a_damaged_ledger_ends_run_and_status_in_one_sentence(example, capsys, where):
    folder, config, sent = example
    ledger = folder / "state" / "ledger.sqlite3"
    # fold the write-ahead log in, so the damage lands in what is read
    connection = sqlite3.connect(ledger)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    data = bytearray(ledger.read_bytes())
    page = 4096
    assert len(data) > 3 * page
    # two pages' headers, and the text of a ledger key (damage to a page's free space, or
    # to the kept bytes of a mail already sent, harms nothing and SQLite cannot see it)
    offset = [page + 8, 2 * page + 8, data.index(b"invitation:", page)][where]
    data[offset:offset + 16] = b"\xa5" * 16
    ledger.write_bytes(bytes(data))
    workbook = folder / "examples" / "initiative.xlsx"
    before = digest(workbook)

    for args in (("run", "--once"), ("status",)):
        run = rygrad(capsys, *args, "--config", str(config))
        assert run.status == 2, (args, run.out, run.err)
        assert run.err.startswith("rygrad: ") and run.err.count("\n") == 1, run.err
        assert "Traceback" not in run.err
        assert str(ledger) in run.err and "damaged" in run.err
    assert len(list((folder / "outbox").glob("*.eml"))) == sent
    assert digest(workbook) == before


# --- the burst cap, seen from plan ---------------------------------------------------------


def test_plan_says_when_the_burst_cap_would_hold_the_mail(tmp_path, capsys):
    workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative())
    config = write_config(tmp_path, workbook, mail={"max_per_cycle": 2})
    run = rygrad(capsys, "plan", "--now", NOW, "--config", str(config))
    assert run.status == 0
    [line] = [line for line in run.out.splitlines() if "max_per_cycle" in line]
    due = int(line.split()[0])
    assert due > 2
    assert line == (f"{due} due to partners; more than mail.max_per_cycle = 2: a run holds "
                    "them and alerts the secretariat (release them with "
                    "`rygrad run --once --allow-burst`)")
    held = rygrad(capsys, "run", "--once", "--now", NOW, "--config", str(config))
    assert f"{due} held: more than mail.max_per_cycle = 2" in held.out
    # under the cap: not a word about it
    config = write_config(tmp_path, workbook, mail={"max_per_cycle": 1000})
    assert "max_per_cycle" not in rygrad(capsys, "plan", "--now", NOW, "--config",
                                         str(config)).out


# --- an address no mail can go to ----------------------------------------------------------


def test_an_address_no_mail_can_reach_is_a_problem_and_the_person_has_no_address(
        tmp_path, capsys):
    tabs = small_initiative()
    tabs["Personer"] = [*tabs["Personer"],
                        {"Navn": "Jørgen Æbelø", "E-mail": "jørgen@kommune.example",
                         "Grupper": "AG Uddannelse"}]
    tabs["Handlinger"] = [*tabs["Handlinger"],
                          {"Handling-ID": "H-4", "Gruppe": "AG Uddannelse",
                           "Handling": "Find lokaler", "Ansvarlig": "Jørgen Æbelø",
                           "Frist": date(2026, 11, 20), "Status": "I gang"}]
    workbook = write_workbook(tmp_path / "initiative.xlsx", tabs)
    config = write_config(tmp_path, workbook)

    check = rygrad(capsys, "check", "--config", str(config))
    assert check.status == 1
    assert ('Personer!B6: E-mail: "jørgen@kommune.example" kan ikke få mail: bogstaver som '
            "æ, ø og å før @ tager de fleste mailservere ikke imod") in check.out

    run = rygrad(capsys, "run", "--once", "--now", NOW, "--config", str(config))
    assert run.status == 0, run.out + run.err  # nothing failed or "not rendered"
    assert "not rendered" not in run.out
    mails = read_outbox(tmp_path / "outbox")
    assert mails
    assert not any("jørgen" in str(m["To"]) + str(m["Cc"] or "") for m in mails)
    # the chair rule applies: the escalation goes to the chair, without Cc
    [escalation] = [m for m in mails if str(m["X-Rygrad-Key"]).startswith("escalation:H-4:")]
    assert escalation["To"].addresses[0].addr_spec == "anne@kommune.example"
    assert escalation["Cc"] is None
    people = {row["Navn"]: row for row in cells(workbook, "Personer")}
    assert "kan ikke få mail" in people["Jørgen Æbelø"]["Bemærkning"]
    assert not people["Anne Holm"]["Bemærkning"]


def test_the_secretariat_address_is_held_to_the_same_test(tmp_path, capsys):
    workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative())
    config = write_config(tmp_path, workbook, initiative={
        "secretariat": "Sekretariatet <sekretariat-ø@kommune.example>"})
    run = rygrad(capsys, "check", "--config", str(config))
    assert run.status == 2
    assert "initiative.secretariat" in run.err and "æ, ø and å before the @" in run.err


# --- a formula never calculated ------------------------------------------------------------


def set_cell(path, tab, ref, value):
    workbook = openpyxl.load_workbook(path)
    workbook[tab][ref] = value
    workbook.save(path)  # openpyxl writes formulas without a saved value


def with_saved_value(path, ref, text):
    """The workbook as Excel saves it: the formula's cell carries its value too."""
    with zipfile.ZipFile(path) as package:
        parts = {info: package.read(info) for info in package.infolist()}
    cell = re.compile(rb'<c r="' + ref.encode() + rb'"([^>]*)><f>(.*?)</f><v\s*/?>(?:</v>)?')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for info, data in parts.items():
            if info.filename.startswith("xl/worksheets/"):
                data = cell.sub(lambda m: b'<c r="' + ref.encode() + b'"' + m.group(1)
                                + b' t="str"><f>' + m.group(2) + b"</f><v>" + text.encode()
                                + b"</v>", data)
            package.writestr(info, data)


def test_a_formula_with_no_saved_value_sends_nothing_and_is_named(tmp_path, capsys):
    workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative())
    config = write_config(tmp_path, workbook)
    first = rygrad(capsys, "run", "--once", "--now", "2026-12-01T09:00", "--config", str(config))
    assert first.status == 0
    invited = len(read_outbox(tmp_path / "outbox"))
    # a script writes the same place as a formula, and nothing ever calculates it
    set_cell(workbook, "Møder", "F2", '="Rådhuset, lokale 2"')

    check = rygrad(capsys, "check", "--config", str(config))
    assert ("Møder!F2: formlen har ingen gemt værdi — åbn regnearket i Excel eller "
            "LibreOffice, og gem det; rækken springes over, til det er rettet") in check.out
    run = rygrad(capsys, "run", "--once", "--now", "2026-12-01T10:00", "--config", str(config))
    assert run.status == 0, run.err
    assert len(read_outbox(tmp_path / "outbox")) == invited  # no update "to no location"
    [meeting] = [row for row in cells(workbook, "Møder") if row["Møde-ID"] == "AGU-1"]
    assert "formlen har ingen gemt værdi" in meeting["Bemærkning"]
    assert meeting["Invitation sendt"]  # kept as it was

    # saved by a spreadsheet program, the formula's value is read like any other
    with_saved_value(workbook, "F2", "Rådhuset, lokale 2")
    check = rygrad(capsys, "check", "--config", str(config))
    assert "formlen" not in check.out
    again = rygrad(capsys, "run", "--once", "--now", "2026-12-01T11:00", "--config", str(config))
    assert again.status == 0
    assert len(read_outbox(tmp_path / "outbox")) == invited
    [meeting] = [row for row in cells(workbook, "Møder") if row["Møde-ID"] == "AGU-1"]
    assert not meeting["Bemærkning"]
