"""Two weeks of an initiative, day by day, with partner edits between the cycles.

Every mail is checked by (X-Rygrad-Key, recipient), and so are the cells written, on
both backends: a local workbook and a Google Sheet (through the emulator).
"""

from __future__ import annotations

from datetime import date, time

from tests.backends import cells, edit
from tests.workbook import by_key, read_outbox, rygrad, write_config, write_workbook

SEK = "sekretariat@ungeloeftet.example"
ANNE, BO, CLARA, DORTE, EVA = (
    "anne@kommune.example", "bo@ngo.example", "clara@partner.example",
    "dorte@fond.example", "eva@bolig.example")


def build(folder, sheet):
    tabs = {
        "Personer": [
            {"Navn": "Anne Holm", "E-mail": ANNE, "Grupper": "AG Uddannelse"},
            {"Navn": "Bo Berg", "E-mail": BO, "Grupper": "AG Uddannelse"},
            {"Navn": "Clara Smith", "E-mail": CLARA, "Grupper": "AG Uddannelse", "Sprog": "en"},
            {"Navn": "Dorte Dahl", "E-mail": DORTE, "Grupper": "Styregruppe"},
            {"Navn": "Eva Lund", "E-mail": EVA, "Grupper": ""},
        ],
        "Grupper": [
            {"Gruppe": "Styregruppe", "Formand": "Dorte Dahl"},
            {"Gruppe": "AG Uddannelse", "Formand": "Anne Holm"},
        ],
        "Møder": [{"Møde-ID": "M1", "Gruppe": "AG Uddannelse", "Dato": date(2026, 12, 10),
                   "Start": "14:00", "Slut": "16:00", "Sted": "Rådhuset",
                   "Dagsorden": "Velkomst\nStatus"}],
        "Handlinger": [
            {"Handling-ID": "A1", "Gruppe": "AG Uddannelse", "Handling": "Kortlæg tilbud",
             "Ansvarlig": "Bo Berg", "Frist": "27-11-2026", "Status": "I gang"},
            {"Handling-ID": "A2", "Gruppe": "AG Uddannelse", "Handling": "Aftal data",
             "Ansvarlig": "Clara Smith", "Frist": date(2026, 12, 2)},
            {"Handling-ID": "A3", "Gruppe": "Styregruppe", "Handling": "Budget 2027",
             "Ansvarlig": "Dorte Dahl", "Frist": "10.11.2026"},
        ],
        "Indikatorer": [
            {"Indikator-ID": "I1", "Gruppe": "AG Uddannelse", "Indikator": "Unge i job",
             "Enhed": "%", "Ansvarlig": "Anne Holm", "Opdateret": date(2026, 9, 1),
             "Frekvens": "kvartalsvis"},
        ],
    }
    workbook = write_workbook(folder / "source.xlsx", tabs)
    return write_config(folder, workbook, sheet=sheet.sheet_settings(workbook))


def test_two_weeks(tmp_path, capsys, monkeypatch, sheet):
    config = build(tmp_path, sheet)
    monkeypatch.setenv("RYGRAD_CONFIG", str(config))
    outbox = tmp_path / "outbox"
    seen: set[tuple[str, str]] = set()

    def cycle(now, expected):
        result = rygrad(capsys, "run", "--once", "--now", now)
        assert result.status == 0, result.out + result.err
        mails = set(by_key(read_outbox(outbox)))
        assert mails - seen == expected, now
        assert len(list(outbox.glob("*.eml"))) == len(mails)  # nothing twice
        seen.update(mails)

    def row(tab, row_id):
        return next(r for r in cells(sheet, tab) if r[next(iter(r))] == row_id)

    # Monday: invitation, reminder, overdue notices, escalation, indicator request, digest
    cycle("2026-11-30T09:00", {
        ("invitation:M1:0", ANNE), ("invitation:M1:0", BO), ("invitation:M1:0", CLARA),
        ("overdue:A1:2026-11-27:1", BO), ("reminder:A2:2026-12-02", CLARA),
        ("overdue:A3:2026-11-10:1", DORTE), ("escalation:A3:2026-11-10", SEK),
        ("indicator:I1:2026-12-01:1", ANNE), ("digest:2026-W49", SEK),
    })
    escalation = by_key(read_outbox(outbox))[("escalation:A3:2026-11-10", SEK)]
    # the chair owns it: to the secretariat, and the owner is not copied
    assert escalation["Cc"] is None and DORTE not in str(escalation["To"])
    assert row("Handlinger", "A1")["Forsinket"] == "FORSINKET (3 dage)"
    assert row("Handlinger", "A3")["Forsinket"] == "FORSINKET (20 dage)"
    assert row("Handlinger", "A3")["Sidste påmindelse"] == "2026-11-30 09:00"
    assert row("Møder", "M1")["Invitation sendt"] == "2026-11-30 09:00"
    assert row("Indikatorer", "I1")["Næste opdatering"] == "2026-12-01"
    assert row("Indikatorer", "I1")["Vurdering"] == "Mangler data"

    # the same moment again: nothing new
    cycle("2026-11-30T09:15", set())

    # Tuesday: A1 is done, the meeting moves an hour
    edit(sheet, "Handlinger", "A1", "Status", "Færdig")
    edit(sheet, "Møder", "M1", "Start", time(15, 0))
    cycle("2026-12-01T09:00", {
        ("invitation:M1:1", ANNE), ("invitation:M1:1", BO), ("invitation:M1:1", CLARA)})
    assert row("Handlinger", "A1")["Forsinket"] is None
    assert row("Handlinger", "A3")["Forsinket"] == "FORSINKET (21 dage)"
    assert row("Møder", "M1")["Invitation sendt"] == "2026-12-01 09:00"

    # Thursday: A2's deadline has passed
    cycle("2026-12-03T09:00", {("overdue:A2:2026-12-02:1", CLARA)})

    # Saturday: Eva joins the group; the agenda is due five days ahead
    edit(sheet, "Personer", "Eva Lund", "Grupper", "AG Uddannelse")
    cycle("2026-12-05T09:00", {
        ("invitation:M1:1", EVA),
        ("agenda:M1", ANNE), ("agenda:M1", BO), ("agenda:M1", CLARA), ("agenda:M1", EVA)})
    assert row("Møder", "M1")["Dagsorden sendt"] == "2026-12-05 09:00"

    # Monday: the meeting is cancelled; repeats after seven days; a new digest
    edit(sheet, "Møder", "M1", "Aflyst", "ja")
    cycle("2026-12-07T09:00", {
        ("cancel:M1", ANNE), ("cancel:M1", BO), ("cancel:M1", CLARA), ("cancel:M1", EVA),
        ("overdue:A3:2026-11-10:2", DORTE), ("indicator:I1:2026-12-01:2", ANNE),
        ("digest:2026-W50", SEK)})

    # Thursday after: A2's second notice; no follow-up for a cancelled meeting
    cycle("2026-12-10T09:00", {("overdue:A2:2026-12-02:2", CLARA)})
    cycle("2026-12-11T09:00", set())
    assert row("Handlinger", "A2")["Forsinket"] == "FORSINKET (9 dage)"
