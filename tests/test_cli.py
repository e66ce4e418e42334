"""End to end: a real workbook, real ledger, the outbox, the CLI at several moments."""

from __future__ import annotations

import re
import shutil
from datetime import date, time

import icalendar
import pytest

from tests import backends
from tests.backends import edit
from tests.workbook import (
    GROUPS,
    PEOPLE,
    by_key,
    cells,
    read_outbox,
    rygrad,
    write_config,
    write_workbook,
)

MEMBERS_AGU = ["anne@kommune.example", "bo@ngo.example", "clara@partner.example"]


def small_initiative() -> dict:
    """A small initiative around early December 2026."""
    return {
        "Personer": PEOPLE,
        "Grupper": GROUPS,
        "Møder": [
            {"Møde-ID": "AGU-1", "Gruppe": "AG Uddannelse", "Dato": date(2026, 12, 4),
             "Start": "14.00", "Slut": "16:00", "Sted": "Rådhuset, lokale 2",
             "Dagsorden": "Velkomst\nStatus på handlinger"},
            {"Møde-ID": "SG-1", "Gruppe": "Styregruppe", "Dato": date(2026, 11, 30),
             "Start": time(9, 0), "Referat": "Vi besluttede at gå videre med UU."},
        ],
        "Handlinger": [
            {"Handling-ID": "H-1", "Gruppe": "AG Uddannelse", "Handling": "Kortlæg tilbud",
             "Ansvarlig": "Bo Berg", "Frist": "4-12-2026", "Status": "I gang"},
            {"Handling-ID": "H-2", "Gruppe": "AG Uddannelse", "Handling": "Aftal datadeling",
             "Ansvarlig": "clara@partner.example", "Frist": date(2026, 11, 20),
             "Status": "Ikke startet"},
            {"Handling-ID": "H-3", "Gruppe": "Styregruppe", "Handling": "Budget",
             "Ansvarlig": "Anne Holm", "Frist": date(2026, 11, 20), "Status": "Færdig",
             "Møde-ID": "SG-1"},
        ],
        "Indikatorer": [
            {"Indikator-ID": "I-1", "Gruppe": "AG Uddannelse", "Indikator": "Unge i uddannelse",
             "Enhed": "%", "Basislinje": 70, "Startdato": date(2026, 1, 1), "Mål": 80,
             "Måldato": date(2027, 12, 31), "Aktuel værdi": "72,5",
             "Opdateret": date(2026, 9, 1), "Ansvarlig": "Anne Holm",
             "Frekvens": "kvartalsvis"},
        ],
    }


@pytest.fixture
def initiative(tmp_path):
    """The small initiative in a local workbook (for what only a local file can do)."""
    workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative())
    config = write_config(tmp_path, workbook)
    return tmp_path, workbook, config


@pytest.fixture
def on_both(tmp_path, sheet):
    """The small initiative on each backend: a local workbook and a Google Sheet."""
    workbook = write_workbook(tmp_path / "source.xlsx", small_initiative())
    config = write_config(tmp_path, workbook, sheet=sheet.sheet_settings(workbook))
    return tmp_path, sheet, config


def reconfigure(folder, sheet, **sections):
    """The on_both initiative's config with some sections changed (before its first cycle)."""
    source = folder / "source.xlsx"
    return write_config(folder, source, sheet=sheet.sheet_settings(source), **sections)


def test_cycle_sends_due_mail_writes_cells_and_rerun_sends_nothing(on_both, capsys):
    folder, sheet, config = on_both
    first = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                   "2026-12-02T09:00")
    assert first.status == 0, first.out + first.err
    mails = by_key(read_outbox(folder / "outbox"))
    expected = {("invitation:AGU-1:0", r) for r in MEMBERS_AGU}
    expected |= {("agenda:AGU-1", r) for r in MEMBERS_AGU}
    expected |= {("followup:SG-1", r) for r in ("anne@kommune.example", "dorte@fond.example")}
    expected |= {("reminder:H-1:2026-12-04", "bo@ngo.example"),
                 ("overdue:H-2:2026-11-20:1", "clara@partner.example"),
                 ("indicator:I-1:2026-12-01:1", "anne@kommune.example"),
                 ("digest:2026-W49", "sekretariat@ungeloeftet.example")}
    assert set(mails) == expected

    invitation = mails[("invitation:AGU-1:0", "bo@ngo.example")]
    assert invitation["Auto-Submitted"] == "auto-generated"
    assert "sekretariat@ungeloeftet.example" in invitation["Reply-To"]
    calendar_part = next(p for p in invitation.walk() if p.get_content_type() == "text/calendar")
    calendar = icalendar.Calendar.from_ical(calendar_part.get_payload(decode=True))
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert event["DTSTART"].dt.hour == 14 and str(event["DTSTART"].dt.tzinfo) in (
        "Europe/Copenhagen",)
    assert len(event.get("ATTENDEE")) == 3
    english = mails[("invitation:AGU-1:0", "clara@partner.example")]
    assert "Friday 4 December 2026" in english.get_body(("plain",)).get_content()
    danish = invitation.get_body(("plain",)).get_content()
    assert "fredag den 4. december 2026 kl. 14.00" in danish

    digest = mails[("digest:2026-W49", "sekretariat@ungeloeftet.example")]
    overview = digest.get_body(("plain",)).get_content()
    assert "2. dec. kl. 9.00" in overview  # sent in this same cycle, before the digest
    assert "H-2" in overview  # overdue

    meetings = {row["Møde-ID"]: row for row in backends.cells(sheet, "Møder")}
    assert meetings["AGU-1"]["Invitation sendt"] == "2026-12-02 09:00"
    assert meetings["AGU-1"]["Dagsorden sendt"] == "2026-12-02 09:00"
    assert meetings["SG-1"]["Opfølgning sendt"] == "2026-12-02 09:00"
    actions = {row["Handling-ID"]: row for row in backends.cells(sheet, "Handlinger")}
    assert actions["H-2"]["Forsinket"] == "FORSINKET (12 dage)"
    assert actions["H-3"]["Forsinket"] in (None, "")  # done
    assert actions["H-1"]["Sidste påmindelse"] == "2026-12-02 09:00"
    indicators = backends.cells(sheet, "Indikatorer")
    assert indicators[0]["Næste opdatering"] == "2026-12-01"

    again = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                   "2026-12-02T09:15")
    assert again.status == 0
    assert "0 due" in again.out
    assert len(read_outbox(folder / "outbox")) == len(expected)


def test_partner_cells_are_unchanged(on_both, capsys):
    _folder, sheet, config = on_both
    before = {tab: backends.cells(sheet, tab) for tab in ("Personer", "Møder", "Handlinger")}
    run = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                 "2026-12-02T09:00")
    # the cycle ran and wrote its own cells, so the partners' cells had a chance to change
    assert run.status == 0, run.out + run.err
    assert "cells written" in run.out
    actions = {row["Handling-ID"]: row for row in backends.cells(sheet, "Handlinger")}
    assert actions["H-2"]["Forsinket"] == "FORSINKET (12 dage)"
    worker = {"Invitation sendt", "Dagsorden sendt", "Opfølgning sendt", "Bemærkning",
              "Forsinket", "Sidste påmindelse"}
    for tab, rows in before.items():
        after = backends.cells(sheet, tab)
        for old, new in zip(rows, after, strict=True):
            assert {k: v for k, v in old.items() if k not in worker} == {
                k: v for k, v in new.items() if k not in worker}


def test_a_doubled_id_gets_its_note_on_both_rows(tmp_path, sheet, capsys):
    """A row whose ID is on two rows still gets its W cells, above all the note
    that says so, on each backend; the sheet shows the problem, not only `check`."""
    tabs = small_initiative()
    tabs["Handlinger"] = [*tabs["Handlinger"], {
        "Handling-ID": "h-1 ", "Gruppe": "AG Uddannelse", "Handling": "Ring til skolerne",
        "Ansvarlig": "Bo Berg", "Frist": date(2026, 11, 25), "Status": "I gang"}]
    workbook = write_workbook(tmp_path / "source.xlsx", tabs)
    config = write_config(tmp_path, workbook, sheet=sheet.sheet_settings(workbook))
    run = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                 "2026-12-02T09:00")
    assert run.status == 0, run.out + run.err
    assert "not written" not in run.out
    rows = backends.cells(sheet, "Handlinger")
    notes = {row["Handling"]: row["Bemærkning"] for row in rows}
    for action, written in (("Kortlæg tilbud", "H-1"), ("Ring til skolerne", "h-1")):
        assert notes[action] == (f'Handling-ID "{written}" står flere gange (rækkerne 2 og '
                                 "5); rækkerne springes over, til det er rettet"), notes
    # skipped: neither row gets a reminder or an overdue flag, the others do
    assert {row["Handling"]: row["Forsinket"] or "" for row in rows} == {
        "Kortlæg tilbud": "", "Aftal datadeling": "FORSINKET (12 dage)", "Budget": "",
        "Ring til skolerne": ""}
    assert notes["Aftal datadeling"] in (None, "")


def test_reschedule_sends_update_and_cancel_sends_cancel(on_both, capsys):
    folder, sheet, config = on_both
    assert rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                  "2026-12-02T09:00").status == 0
    edit(sheet, "Møder", "AGU-1", "Start", "15:00")  # partner moves the meeting an hour
    moved = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                   "2026-12-03T09:00")
    assert moved.status == 0
    mails = by_key(read_outbox(folder / "outbox"))
    update = mails[("invitation:AGU-1:1", "anne@kommune.example")]
    calendar_part = next(p for p in update.walk() if p.get_content_type() == "text/calendar")
    [event] = icalendar.Calendar.from_ical(calendar_part.get_payload(decode=True)).walk("VEVENT")
    assert int(event["SEQUENCE"]) == 1 and event["DTSTART"].dt.hour == 15
    edit(sheet, "Møder", "AGU-1", "Aflyst", "ja")
    assert rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                  "2026-12-04T09:00").status == 0
    mails = by_key(read_outbox(folder / "outbox"))
    cancel = mails[("cancel:AGU-1", "clara@partner.example")]
    calendar_part = next(p for p in cancel.walk() if p.get_content_type() == "text/calendar")
    calendar = icalendar.Calendar.from_ical(calendar_part.get_payload(decode=True))
    assert str(calendar["METHOD"]) == "CANCEL"


def test_burst_is_held_and_released(on_both, capsys):
    folder, sheet, config = on_both
    config = reconfigure(folder, sheet, mail={"max_per_cycle": 3})
    held = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                  "2026-12-02T09:00")
    assert held.status == 1 and "--allow-burst" in held.out
    keys = {key for key, _ in by_key(read_outbox(folder / "outbox"))}
    assert keys == {"burst:2026-12-02", "digest:2026-W49"}
    released = rygrad(capsys, "run", "--once", "--allow-burst", "--config", str(config),
                      "--now", "2026-12-02T09:05")
    assert released.status == 0
    assert len(read_outbox(folder / "outbox")) == 13  # 11 partner mails, digest, alert


def test_send_window_holds_mail_but_writes_flags(on_both, capsys):
    folder, sheet, config = on_both
    config = reconfigure(folder, sheet, schedule={"send_window": "07:30-17:00",
                                                      "send_days": "mon-fri"})
    night = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                   "2026-12-02T22:00")
    assert night.status == 0 and "outside the send window" in night.out
    assert not list((folder / "outbox").glob("*.eml"))
    actions = {row["Handling-ID"]: row for row in backends.cells(sheet, "Handlinger")}
    assert actions["H-2"]["Forsinket"] == "FORSINKET (12 dage)"


def test_overnight_send_window_sends_in_the_evening_and_early_morning(initiative, capsys):
    folder, workbook, _ = initiative
    config = write_config(folder, workbook, schedule={"send_window": "20:00-06:00",
                                                       "send_days": "mon-fri"})
    noon = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                  "2026-12-02T12:00")
    assert noon.status == 0 and "outside the send window 20:00-06:00" in noon.out
    assert not list((folder / "outbox").glob("*.eml"))
    evening = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                     "2026-12-02T22:00")
    assert evening.status == 0 and "held" not in evening.out
    assert ("invitation:AGU-1:0", "bo@ngo.example") in by_key(read_outbox(folder / "outbox"))
    # Friday's window runs into Saturday's early morning; Sunday's into Monday's does not
    saturday = rygrad(capsys, "plan", "--config", str(config), "--now", "2026-12-05T05:00")
    assert "held" not in saturday.out.splitlines()[0]
    monday = rygrad(capsys, "plan", "--config", str(config), "--now", "2026-12-07T05:00")
    assert "held: not a send day (the window opened on a Sunday)" in monday.out


def test_empty_send_window_refused_at_config_load(initiative, capsys):
    folder, workbook, _ = initiative
    config = write_config(folder, workbook, schedule={"send_window": "09:00-09:00"})
    refused = rygrad(capsys, "check", "--config", str(config))
    assert refused.status == 2
    assert refused.err.strip() == (
        f"rygrad: {config}: schedule.send_window: '09:00-09:00' opens and closes at the same time, "
        "so no mail could ever go out; write e.g. \"07:30-17:00\", \"20:00-06:00\" across "
        "midnight, or \"00:00-24:00\" for any hour")


def test_record_only_then_nothing_sent(on_both, capsys):
    folder, _sheet, config = on_both
    recorded = rygrad(capsys, "run", "--once", "--record-only", "--config", str(config),
                      "--now", "2026-12-02T09:00")
    assert recorded.status == 0 and "recorded as sent" in recorded.out
    assert not list((folder / "outbox").glob("*.eml"))
    again = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                   "2026-12-02T10:00")
    assert "0 due" in again.out


def test_uncertain_after_crash_is_reported_and_resent(on_both, capsys):
    folder, _sheet, config = on_both
    assert rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                  "2026-12-02T09:00").status == 0
    import sqlite3

    db = sqlite3.connect(folder / "state" / "ledger.sqlite3")
    db.execute("UPDATE deliveries SET state = 'sending' WHERE key = 'reminder:H-1:2026-12-04'")
    db.commit()
    db.close()
    shutil.rmtree(folder / "outbox")
    status = rygrad(capsys, "status", "--config", str(config))
    assert "UNCERTAIN: reminder:H-1:2026-12-04 → bo@ngo.example" in status.out
    again = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                   "2026-12-02T09:30")
    assert again.status == 1 and "1 uncertain" in again.out
    assert not (folder / "outbox").exists() or not list((folder / "outbox").glob("*.eml"))
    resent = rygrad(capsys, "run", "--once", "--resend-uncertain", "--config", str(config),
                    "--now", "2026-12-02T10:00")
    assert resent.status == 0, resent.out
    assert list(by_key(read_outbox(folder / "outbox"))) == [
        ("reminder:H-1:2026-12-04", "bo@ngo.example")]


def test_check_reports_problems_by_cell(tmp_path, capsys):
    tabs = {
        "Personer": [*PEOPLE, {"Navn": "Eva", "E-mail": "eva@"}],
        "Grupper": GROUPS,
        "Møder": [{"Møde-ID": "M-1", "Gruppe": "Ukendt gruppe", "Dato": "31-02-2027"}],
        "Handlinger": [{"Handling-ID": "H-1", "Handling": "x", "Ansvarlig": "Ingen Ingensen",
                        "Frist": "i morgen"}],
    }
    workbook = write_workbook(tmp_path / "w.xlsx", tabs)
    config = write_config(tmp_path, workbook)
    result = rygrad(capsys, "check", "--config", str(config))
    assert result.status == 1
    assert "Personer!B6:" in result.out
    assert "Handlinger!E2:" in result.out and "i morgen" in result.out
    assert "Møder!C2:" in result.out or "Møder!B2:" in result.out


@pytest.mark.parametrize(("tabs_headers", "fragment"), [
    ({"Personer": ["Navn", "E-mail"]}, "Grupper"),
])
def test_missing_tab_exits_2_and_sends_nothing(tmp_path, capsys, tabs_headers, fragment):
    workbook = write_workbook(tmp_path / "w.xlsx", {}, headers=tabs_headers)
    config = write_config(tmp_path, workbook)
    result = rygrad(capsys, "run", "--once", "--config", str(config))
    assert result.status == 2
    assert fragment in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "outbox").exists()


def test_missing_required_column_names_closest(tmp_path, capsys):
    headers = {
        "Personer": ["Navn", "E-mail"], "Grupper": ["Gruppe"],
        "Møder": ["Møde-ID", "Gruppe", "Dato"],
        "Handlinger": ["Handling-ID", "Handling", "Ansvarlg", "Frist"],
        "Indikatorer": ["Indikator-ID", "Indikator"],
    }
    workbook = write_workbook(tmp_path / "w.xlsx", {}, headers=headers)
    config = write_config(tmp_path, workbook)
    before = workbook.read_bytes()
    result = rygrad(capsys, "run", "--once", "--config", str(config))
    assert result.status == 2
    assert "Ansvarlig" in result.err and "Ansvarlg" in result.err
    assert workbook.read_bytes() == before


@pytest.mark.parametrize(("extra", "fragment"), [
    ("[mail]\nfoo = 1\n", "mail.foo"),
    ("[rules]\ninvite_days_before = \"x\"\n", "rules.invite_days_before"),
    ("", None),
])
def test_config_errors_name_file_and_key(tmp_path, capsys, extra, fragment):
    workbook = write_workbook(tmp_path / "w.xlsx", {})
    config = tmp_path / "rygrad.toml"
    base = f'[initiative]\nname = "X"\nsecretariat = "s@x.example"\n[sheet]\npath = "{workbook}"\n'
    config.write_text(base.replace('[initiative]\nname = "X"\n', "[initiative]\n")
                      if fragment is None else base + extra)
    result = rygrad(capsys, "check", "--config", str(config))
    assert result.status == 2
    assert str(config) in result.err
    assert (fragment or "initiative.name") in result.err


def test_bad_timezone(tmp_path, capsys):
    config = tmp_path / "rygrad.toml"
    config.write_text('[initiative]\nname = "X"\nsecretariat = "s@x.example"\n'
                      'timezone = "Europe/Aarhus"\n[sheet]\npath = "w.xlsx"\n')
    result = rygrad(capsys, "plan", "--config", str(config))
    assert result.status == 2 and "initiative.timezone" in result.err


@pytest.mark.parametrize("content", [b"Navn;E-mail\nAnne;a@x.example\n", b"PK\x03\x04broken"])
def test_not_a_workbook(tmp_path, capsys, content):
    workbook = tmp_path / "w.xlsx"
    workbook.write_bytes(content)
    config = write_config(tmp_path, workbook)
    result = rygrad(capsys, "run", "--once", "--config", str(config))
    assert result.status == 2 and "w.xlsx" in result.err
    assert workbook.read_bytes() == content


def test_rygrad_config_env_and_python_m(initiative, capsys, monkeypatch):
    folder, _workbook, config = initiative
    monkeypatch.setenv("RYGRAD_CONFIG", str(config))
    result = rygrad(capsys, "plan", "--now", "2026-12-02T09:00")
    assert result.status == 0 and "send invitation:AGU-1:0 → bo@ngo.example" in result.out
    assert not list(folder.glob("outbox/*.eml"))
    assert not (folder / "state").exists()  # plan writes nothing, not even a ledger
    status = rygrad(capsys, "status")
    assert status.status == 0 and "no cycle has run yet" in status.out


def test_workbook_open_in_libreoffice_skips_write_back_then_catches_up(initiative, capsys):
    folder, workbook, config = initiative
    lock = folder / f".~lock.{workbook.name}#"
    lock.write_text("someone,on,a,laptop")
    before = workbook.read_bytes()
    locked = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                    "2026-12-02T09:00")
    assert locked.status == 0 and "write-back skipped" in locked.out
    assert workbook.read_bytes() == before
    assert by_key(read_outbox(folder / "outbox"))  # mail still went out
    lock.unlink()
    later = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                   "2026-12-02T09:15")
    assert "0 due" in later.out
    meetings = {row["Møde-ID"]: row for row in cells(workbook, "Møder")}
    assert meetings["AGU-1"]["Invitation sendt"] == "2026-12-02 09:00"


def test_partner_inserts_a_row_between_read_and_write(initiative, capsys, monkeypatch):
    """The file changes after the read: the worker re-reads and writes by ID, not position."""
    import openpyxl

    from automation.sheets.xlsx import XlsxWorkbook

    _folder, workbook, config = initiative
    original_write = XlsxWorkbook.write
    edits = []

    def partner_edits_first(self, writes, version):
        if not edits:
            book = openpyxl.load_workbook(workbook)
            book["Handlinger"].insert_rows(2)
            book["Handlinger"]["A2"] = "H-0"
            book["Handlinger"]["C2"] = "Ny handling"
            book["Handlinger"]["D2"] = "Bo Berg"
            book.save(workbook)
            edits.append(True)
        return original_write(self, writes, version)

    monkeypatch.setattr(XlsxWorkbook, "write", partner_edits_first)
    result = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                    "2026-12-02T09:00")
    assert result.status == 0, result.out
    actions = {row["Handling-ID"]: row for row in cells(workbook, "Handlinger")}
    assert actions["H-2"]["Forsinket"] == "FORSINKET (12 dage)"
    assert actions["H-0"]["Forsinket"] in (None, "")
    assert actions["H-0"]["Handling"] == "Ny handling"
    assert actions["H-1"]["Sidste påmindelse"] == "2026-12-02 09:00"


def test_google_cycle_stays_within_three_api_calls(tmp_path, capsys, sheets_emulator):
    """Per cycle at most one read of the sheet, one read of the IDs and one write;
    a cycle with nothing to change writes nothing (README, "Connecting a Google Sheet")."""
    import requests

    from tests.backends import GoogleSheetOnEmulator

    sheet = GoogleSheetOnEmulator(tmp_path, sheets_emulator)
    workbook = write_workbook(tmp_path / "source.xlsx", small_initiative())
    config = write_config(tmp_path, workbook, sheet=sheet.sheet_settings(workbook))

    def calls():
        stats = requests.get(f"{sheets_emulator}/_emulator/stats", timeout=10).json()
        requests.post(f"{sheets_emulator}/_emulator/stats/reset", timeout=10)
        return stats["reads"], stats["writes"]

    calls()
    first = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                   "2026-12-02T09:00")
    assert first.status == 0 and "cells written" in first.out
    assert calls() == (2, 1)
    idle = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                  "2026-12-02T09:10")
    assert "0 due" in idle.out
    reads, writes = calls()
    assert reads <= 2 and writes == 0


def test_init_sheet_creates_a_workbook_once(tmp_path, capsys):
    config = tmp_path / "rygrad.toml"
    config.write_text('[initiative]\nname = "X"\nsecretariat = "s@x.example"\n'
                      '[sheet]\npath = "new.xlsx"\n')
    first = rygrad(capsys, "init-sheet", "--config", str(config))
    assert first.status == 0 and "created" in first.out
    again = rygrad(capsys, "init-sheet", "--config", str(config))
    assert again.status == 0 and "nothing to do" in again.out
    check = rygrad(capsys, "check", "--config", str(config))
    assert check.status == 0 and "0 errors, 0 warnings" in check.out


def test_google_partner_inserts_deletes_and_sorts_between_cycles(tmp_path, capsys,
                                                                  sheets_emulator):
    """Rows inserted above, deleted and sorted in the Google Sheet between two cycles:
    every flag follows its row by ID."""
    from automation import config as config_module
    from automation.sheets.google import GoogleSheet
    from tests.backends import GoogleSheetOnEmulator

    sheet = GoogleSheetOnEmulator(tmp_path, sheets_emulator)
    workbook = write_workbook(tmp_path / "source.xlsx", small_initiative())
    config = write_config(tmp_path, workbook, sheet=sheet.sheet_settings(workbook))
    assert rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                  "2026-12-02T09:00").status == 0

    partner = GoogleSheet(config_module.load(config).sheet)
    tab = next(s for s in partner.api.get({"fields": "sheets.properties"})["sheets"]
               if s["properties"]["title"] == "Handlinger")["properties"]["sheetId"]
    rows = {"sheetId": tab, "dimension": "ROWS"}
    partner.api.batch_update({"requests": [
        {"insertDimension": {"range": {**rows, "startIndex": 1, "endIndex": 3}}},  # 2 above
        {"deleteDimension": {"range": {**rows, "startIndex": 3, "endIndex": 4}}},  # H-1
        {"sortRange": {"range": {"sheetId": tab, "startRowIndex": 1, "endRowIndex": 10},
                       "sortSpecs": [{"dimensionIndex": 0, "sortOrder": "DESCENDING"}]}},
    ]})
    later = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                   "2026-12-03T09:00")
    assert later.status == 0, later.out + later.err
    actions = {row["Handling-ID"]: row for row in backends.cells(sheet, "Handlinger")
               if row["Handling-ID"]}
    assert set(actions) == {"H-2", "H-3"}
    assert actions["H-2"]["Forsinket"] == "FORSINKET (13 dage)"  # moved, and one day later
    assert actions["H-3"]["Forsinket"] in (None, "")  # done
    assert actions["H-2"]["Handling"] == "Aftal datadeling"


def test_google_row_deleted_between_read_and_write_is_named_not_guessed(
        tmp_path, capsys, sheets_emulator, monkeypatch):
    """A partner deletes H-1's row while the cycle runs: its cells are reported as not
    written, H-2's land on the row that holds H-2 now."""
    from automation import config as config_module
    from automation.sheets.google import GoogleSheet
    from tests.backends import GoogleSheetOnEmulator

    sheet = GoogleSheetOnEmulator(tmp_path, sheets_emulator)
    workbook = write_workbook(tmp_path / "source.xlsx", small_initiative())
    config = write_config(tmp_path, workbook, sheet=sheet.sheet_settings(workbook))
    partner = GoogleSheet(config_module.load(config).sheet)
    tab = next(s for s in partner.api.get({"fields": "sheets.properties"})["sheets"]
               if s["properties"]["title"] == "Handlinger")["properties"]["sheetId"]
    read = GoogleSheet.read

    def read_then_partner_deletes_h1(self):
        snapshot = read(self)
        monkeypatch.setattr(GoogleSheet, "read", read)  # once
        partner.api.batch_update({"requests": [{"deleteDimension": {"range": {
            "sheetId": tab, "dimension": "ROWS", "startIndex": 1, "endIndex": 2}}}]})
        return snapshot

    monkeypatch.setattr(GoogleSheet, "read", read_then_partner_deletes_h1)
    run = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                 "2026-12-02T09:00")
    assert run.status == 0, run.out + run.err
    assert re.search(r"not written: Handlinger!\w+2: no row has the ID 'H-1' any more",
                     run.out), run.out
    actions = {row["Handling-ID"]: row for row in backends.cells(sheet, "Handlinger")
               if row["Handling-ID"]}
    assert "H-1" not in actions
    assert actions["H-2"]["Forsinket"] == "FORSINKET (12 dage)"
