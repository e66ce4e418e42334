"""The workbook as partners keep it → typed rows, problems with exact cells, layout."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import given
from hypothesis import settings as settings_for_hypothesis
from hypothesis import strategies as st

from automation.core.a1 import column_letter
from automation.core.parse import parse
from automation.core.schema import ACTIONS, INDICATORS, TABS
from automation.errors import SheetError
from tests.sheetdata import initiative, settings, snapshot, table

ANNE = {"Navn": "Anne Holm", "E-mail": "anne@kommune.example", "Organisation": "Aarhus Kommune",
        "Grupper": "Styregruppen, AG Skole", "Sprog": "", "Bemærkning": ""}
BO = {"Navn": "Bo Berg", "E-mail": "Bo.Berg@Skole.example", "Organisation": "Skolen",
      "Grupper": "ag skole", "Sprog": "en"}
CARLA = {"Navn": "Carla Madsen", "E-mail": "carla@fonden.example", "Grupper": ""}
STEERING = {"Gruppe": "Styregruppen", "Type": "Styregruppe", "Formand": "carla madsen",
            "Mål": "Flere unge i uddannelse"}
SCHOOL = {"Gruppe": "AG Skole", "Type": "Arbejdsgruppe", "Formand": "BO.BERG@skole.example"}


def meeting(id_: str = "M-01", **cells):
    return {"Møde-ID": id_, "Gruppe": "Styregruppen", "Dato": "4-12-2026", "Start": "14:00",
            **cells}


def action(id_: str = "H-01", **cells):
    return {"Handling-ID": id_, "Gruppe": "AG Skole", "Handling": "Send budget",
            "Ansvarlig": "Anne Holm", "Frist": "2026-12-04", "Status": "", **cells}


def indicator(id_: str = "I-01", **cells):
    return {"Indikator-ID": id_, "Gruppe": "Styregruppen", "Indikator": "Unge i job",
            "Ansvarlig": "Anne Holm", **cells}


def workbook(**tabs):
    """The Danish example workbook; keyword arguments replace a tab's rows."""
    base = {
        "Personer": [ANNE, BO, CARLA],
        "Grupper": [STEERING, SCHOOL],
        "Møder": [meeting()],
        "Handlinger": [action()],
        "Indikatorer": [indicator()],
    }
    base.update(tabs)
    return base


def problems(result, severity=None):
    return [(p.ref, p.message) for p in result.problems
            if severity is None or p.severity == severity]


def test_a_clean_workbook_reads_into_typed_rows():
    result = initiative(workbook(
        Møder=[meeting(Slut="16:00", Sted="Rådhuset", Dagsorden="Velkommen\n- Budget",
                       Aflyst="nej")],
        Indikatorer=[indicator(Enhed="%", Basislinje="40", Startdato="1.1.2026", Mål="60",
                               Måldato="31. dec. 2027", **{"Aktuel værdi": "45,5"},
                               Opdateret="1-6-2026", Frekvens="halvårlig")],
    ))
    assert [p for p in result.problems if p.severity == "error"] == []
    anne, bo, carla = result.people
    assert (anne.row, anne.email, anne.language, anne.groups) == (
        2, "anne@kommune.example", "da", ("Styregruppen", "AG Skole"))
    assert (bo.email, bo.email_text, bo.language, bo.groups) == (
        "Bo.Berg@skole.example", "Bo.Berg@Skole.example", "en", ("AG Skole",))
    assert result.groups["Styregruppen"].chair == carla
    assert result.groups["AG Skole"].chair == bo
    assert result.groups["Styregruppen"].goal == "Flere unge i uddannelse"
    [m] = result.meetings
    assert (m.id, m.group, m.date, m.start, m.end, m.location, m.agenda, m.cancelled) == (
        "M-01", "Styregruppen", date(2026, 12, 4), time(14), time(16), "Rådhuset",
        ("Velkommen", "Budget"), False)
    [a] = result.actions
    assert (a.id, a.group, a.owner, a.owner_text, a.due, a.done) == (
        "H-01", "AG Skole", anne, "Anne Holm", date(2026, 12, 4), False)
    [i] = result.indicators
    assert (i.baseline, i.target, i.current, i.start_date, i.target_date, i.updated,
            i.frequency_months, i.owner) == (
        40.0, 60.0, 45.5, date(2026, 1, 1), date(2027, 12, 31), date(2026, 6, 1), 6, anne)


def test_members_are_people_naming_the_group_plus_its_chair():
    result = initiative(workbook())
    assert [p.name for p in result.members_of("Styregruppen")] == ["Anne Holm", "Carla Madsen"]
    assert [p.name for p in result.members_of("ag skole")] == ["Anne Holm", "Bo Berg"]


def test_layout_is_recorded_for_write_back():
    header = ["Dato", "  møde-id ", "", "GRUPPE", "Invitation  sendt", "Eget notat",
              "Start", "Slut", "Sted", "Aflyst"]
    rows = [{"Dato": "4-12-2026", "  møde-id ": "M-01", "GRUPPE": "Styregruppen",
             "Invitation  sendt": "2026-11-27 10:15"}]
    result = initiative(workbook(Møder=table("Møder", rows, header)))
    assert result.tab_titles["meetings"] == "Møder"
    assert result.columns["meetings"] == {"date": 1, "meeting_id": 2, "group": 4,
                                          "invitation_sent": 5, "start": 7, "end": 8,
                                          "location": 9, "cancelled": 10}
    assert result.header_width["meetings"] == 10
    assert result.row_ids[("meetings", 2)] == "M-01"
    # only the W cells that hold text
    assert result.worker_cells[("meetings", 2)] == {"invitation_sent": "2026-11-27 10:15"}
    assert result.row_ids[("people", 3)] == "Bo.Berg@Skole.example"
    assert result.row_ids[("groups", 2)] == "Styregruppen"


def test_english_titles_odd_spacing_and_an_alias():
    tabs = {
        " people ": [{"NAME": "Anne Holm", "e-MAIL": "anne@kommune.example",
                      "Groups": "Steering"}],
        "Groups": [{"Group": "Steering", "Chair": "anne@kommune.example"}],
        "Meetings": [{"Meeting  ID": "M-01", "Group": "Steering", "Date": "March 4, 2027",
                      "Start": "9:30"}],
        "ACTIONS": table("ACTIONS", [{"Due": "4/3/2027", "Lead": "Anne Holm", "Action ID": "A-1",
                                      "Action": "Draft the plan", "Status": "Done",
                                      "Group": "Steering"}]),
        "Indicators": [{"Indicator ID": "I-1", "Indicator": "Jobs", "Frequency": "yearly"}],
    }
    result = parse(snapshot(tabs, "en"),
                   settings("en", aliases={"Actions.Owner": ["Lead"]}))
    assert result.tab_titles == {"people": " people ", "groups": "Groups",
                                 "meetings": "Meetings", "actions": "ACTIONS",
                                 "indicators": "Indicators",
                                 "measurements": "Measurements"}
    [a] = result.actions
    assert (a.owner.name, a.due, a.done) == ("Anne Holm", date(2027, 3, 4), True)
    assert result.columns["actions"]["owner"] == 2
    assert result.meetings[0].end == time(11, 30)
    assert result.indicators[0].frequency_months == 12
    assert [p.name for p in result.members_of("Steering")] == ["Anne Holm"]


@pytest.mark.parametrize(("key", "unmatched_tab"), [
    ("Ansvarlig", None),
    ("owner", None),
    ("Handlinger.Ansvarlig", "Indikatorer"),
    ("actions.owner", "Indikatorer"),
    ("Indikatorer.Ansvarlig", "Handlinger"),
])
def test_an_alias_applies_to_every_tab_or_the_one_named(key, unmatched_tab):
    tabs = workbook(
        Handlinger=[{**action(), "Ansvarlig": None, "Tovholder": "Anne Holm"}],
        Indikatorer=[{**indicator(), "Ansvarlig": None, "Tovholder": "Anne Holm"}],
    )
    for title, tab in (("Handlinger", ACTIONS), ("Indikatorer", INDICATORS)):
        header = ["Tovholder" if c.key == "owner" else c.da for c in tab.columns]
        tabs[title] = table(title, tabs[title], header)
    if unmatched_tab:
        # the owner guards mail on both tabs: a tab the alias does not reach stops the run
        with pytest.raises(SheetError, match=f'^{unmatched_tab}: .*"Ansvarlig".*"Tovholder"'):
            initiative(tabs, aliases={key: ["Tovholder"]})
        return
    result = initiative(tabs, aliases={key: ["Tovholder"]})
    assert result.actions[0].owner_text == "Anne Holm"
    assert result.indicators[0].owner_text == "Anne Holm"


def test_a_bad_due_date_is_noted_on_its_cell_and_the_action_kept():
    rows = [action(f"H-{n}") for n in range(1, 6)] + [action("H-6", Frist="31-02-2026")]
    result = initiative(workbook(Handlinger=rows))
    assert problems(result) == [
        ("Handlinger!E7", 'Frist: "31-02-2026" er ikke en dato; skriv fx 4-12-2026 eller '
                          "2026-12-04")]
    problem = result.problems[0]
    assert (problem.tab, problem.cell, problem.value, problem.tab_key, problem.row) == (
        "Handlinger", "E7", "31-02-2026", "actions", 7)
    assert result.actions[-1].id == "H-6" and result.actions[-1].due is None


@pytest.mark.parametrize(("language", "order", "message"), [
    ("da", "dmy", 'Frist: "i morgen" er ikke en dato; skriv fx 4-12-2026 eller 2026-12-04'),
    ("en", "dmy", 'Due: "i morgen" is not a date; write e.g. 4-12-2026 or 2026-12-04'),
    ("en", "mdy", 'Due: "i morgen" is not a date; write e.g. 12-4-2026 or 2026-12-04'),
])
def test_date_messages_follow_language_and_order(language, order, message):
    tab = "Handlinger" if language == "da" else "Actions"
    owner = "Ansvarlig" if language == "da" else "Owner"
    due = "Frist" if language == "da" else "Due"
    id_, text = ("Handling-ID", "Handling") if language == "da" else ("Action ID", "Action")
    result = initiative({tab: [{id_: "H-1", text: "x", owner: "", due: "i morgen"}]},
                        language, date_order=order)
    assert message in [p.message for p in result.problems]


@pytest.mark.parametrize(("cells", "ref", "message"), [
    ({"Start": "25:00"}, "Møder!D2",
     'Start: "25:00" er ikke et klokkeslæt; skriv fx 14:00'),
    ({"Slut": "abc"}, "Møder!E2", 'Slut: "abc" er ikke et klokkeslæt; skriv fx 14:00'),
    ({"Slut": "13:00"}, "Møder!E2",
     'Slut: "13:00" er ikke efter start (14:00); mødet regnes til at vare 120 minutter'),
    ({"Aflyst": "måske"}, "Møder!I2",
     'Aflyst: "måske" forstås ikke; skriv ja eller årsagen til aflysningen, eller lad '
     'feltet stå tomt'),
    ({"Link": "Teams"}, "Møder!J2",
     'Link: "Teams" er ikke et link; skriv adressen på onlinemødet, '
     'fx https://teams.microsoft.com/…'),
])
def test_meeting_cell_problems(cells, ref, message):
    row = {**meeting(Slut="", Aflyst=""), **cells}
    result = initiative(workbook(Møder=[row]))
    assert problems(result, "error") + problems(result, "warning") == [(ref, message)]
    [m] = result.meetings
    assert m.end == (time(16) if m.start else None)
    assert m.cancelled is False
    assert m.link == ""


@pytest.mark.parametrize(("cells", "cancelled", "reason", "link"), [
    ({"Aflyst": "ja"}, True, "", ""),
    ({"Aflyst": "Formanden er syg"}, True, "Formanden er syg", ""),
    ({"Aflyst": "Ja: for få tilmeldte"}, True, "For få tilmeldte", ""),
    ({"Aflyst": "nej"}, False, "", ""),
    ({"Link": "https://teams.example/l/meetup-join/19"}, False, "",
     "https://teams.example/l/meetup-join/19"),
    ({"Link": "Teams: https://teams.example/l/1 (kode 42)"}, False, "",
     "https://teams.example/l/1"),
])
def test_meeting_cancellation_reason_and_online_link(cells, cancelled, reason, link):
    result = initiative(workbook(Møder=[meeting(**cells)]))
    assert problems(result, "error") + problems(result, "warning") == []
    [m] = result.meetings
    assert (m.cancelled, m.cancel_reason, m.link) == (cancelled, reason, link)


@pytest.mark.parametrize("header", ["Mødelink", "Online", "online link", "Meeting link"])
def test_the_link_column_goes_by_other_names(header):
    rows = [meeting(**{header: "https://zoom.example/j/7"})]
    names = ["Møde-ID", "Gruppe", "Dato", "Start", "Slut", "Sted", "Aflyst", header]
    result = initiative(workbook(Møder=table("Møder", rows, names)))
    assert result.meetings[0].link == "https://zoom.example/j/7"
    assert result.columns["meetings"]["link"] == 8


def test_the_link_column_is_optional_and_guards_no_mail():
    rows = [meeting()]
    names = ["Møde-ID", "Gruppe", "Dato", "Start", "Slut", "Sted", "Aflyst"]
    result = initiative(workbook(Møder=table("Møder", rows, names)))
    # a warning, not a stop: without it the invitations still hold all they need
    assert ("Møder", 'Kolonnen "Link" (eller "Online link") mangler; den læses som tom') in [
        (p.ref, p.message) for p in result.problems if p.severity == "warning"]
    assert result.meetings[0].link == ""


@pytest.mark.parametrize(("start", "end", "expected"), [
    ("14:00", "", time(16, 0)),
    ("22:30", "", time(23, 59)),
    ("", "", None),
    ("", "16:00", time(16, 0)),
    ("9:00", "9:45", time(9, 45)),
])
def test_meeting_end_defaults_to_start_plus_default_minutes(start, end, expected):
    result = initiative(workbook(Møder=[meeting(Start=start, Slut=end)]))
    assert result.meetings[0].end == expected


@pytest.mark.parametrize(("cell", "cancelled"), [("ja", True), ("x", True), ("", False),
                                                 (True, True), ("Nej", False)])
def test_cancelled(cell, cancelled):
    result = initiative(workbook(Møder=[meeting(Aflyst=cell)]))
    assert result.meetings[0].cancelled is cancelled


def test_duplicate_ids_skip_every_row_with_that_id():
    rows = [meeting("M-01"), meeting("M-02"), meeting("M-03"), meeting("M-04"), meeting("M-05"),
            meeting("M-06"), meeting("M-07"), meeting(" m-03 ")]
    result = initiative(workbook(Møder=rows))
    assert [m.id for m in result.meetings] == ["M-01", "M-02", "M-04", "M-05", "M-06", "M-07"]
    assert problems(result) == [
        ("Møder!A4", 'Møde-ID "M-03" står flere gange (rækkerne 4 og 9); '
                     "rækkerne springes over, til det er rettet"),
        ("Møder!A9", 'Møde-ID "m-03" står flere gange (rækkerne 4 og 9); '
                     "rækkerne springes over, til det er rettet"),
    ]
    assert result.row_ids[("meetings", 9)] == "m-03"


def test_duplicate_ids_in_english():
    rows = [{"Action ID": "A-1", "Action": "x", "Owner": ""}] * 3
    result = initiative({"Actions": rows}, "en")
    assert ('Action ID "A-1" appears more than once (rows 2, 3 and 4); '
            "the rows are skipped until it is fixed") in [p.message for p in result.problems]
    assert result.actions == []


def test_a_row_without_an_id_is_skipped():
    result = initiative(workbook(Handlinger=[action(), action("")]))
    assert problems(result) == [
        ("Handlinger!A3", "Handling-ID mangler; rækken springes over, til det er rettet")]
    assert [a.id for a in result.actions] == ["H-01"]


def test_empty_rows_are_skipped_silently():
    rows = [meeting("M-01"), None, {"Møde-ID": "  ", "Gruppe": "\t"}, meeting("M-02"),
            {"Bemærkning": "gammel note"}]
    result = initiative(workbook(Møder=rows))
    assert problems(result) == []
    assert [m.row for m in result.meetings] == [2, 5]
    assert ("meetings", 4) not in result.worker_cells
    # a row holding only the worker's old note is kept for write-back, with no ID
    assert result.worker_cells[("meetings", 6)]["note"] == "gammel note"
    assert result.row_ids[("meetings", 6)] == ""


def test_people_problems():
    rows = [ANNE, {"Navn": "Dorte", "E-mail": "dorte@"}, {"Navn": "Erik", "E-mail": ""},
            {"Navn": "Finn", "E-mail": "finn@x.example", "Grupper": "Ukendt; Styregruppen",
             "Sprog": "tysk"}]
    result = initiative(workbook(Personer=rows))
    assert problems(result) == [
        ("Personer!B3", 'E-mail: "dorte@" er ikke en gyldig e-mailadresse'),
        ("Personer!B4", "E-mail mangler; personen får ingen mails"),
        ("Personer!D5", 'Grupper: "Ukendt" findes ikke på fanen Grupper'),
        ("Personer!E5", 'Sprog: "tysk" forstås ikke; skriv da eller en '
                        "(indtil da bruges da)"),
        # the chairs of the example groups are gone
        ("Grupper!C2", 'Formand: "carla madsen" findes ikke på fanen Personer'),
        ("Grupper!C3", 'Formand: "BO.BERG@skole.example" findes ikke på fanen Personer'),
    ]
    assert [p.severity for p in result.problems] == ["error", "error", "warning", "warning",
                                                     "error", "error"]
    assert [(p.name, p.email) for p in result.people] == [
        ("Anne Holm", "anne@kommune.example"), ("Dorte", None), ("Erik", None),
        ("Finn", "finn@x.example")]
    assert result.people[3].groups == ("Ukendt", "Styregruppen")
    assert result.groups["Styregruppen"].chair is None


def test_duplicate_addresses_skip_both_people():
    rows = [ANNE, BO, CARLA, {**ANNE, "Navn": "Anne H."}]
    result = initiative(workbook(Personer=rows, Indikatorer=[]))
    assert ("Personer!B2", 'E-mail "anne@kommune.example" står flere gange (rækkerne 2 og 5); '
            "rækkerne springes over, til det er rettet") in problems(result)
    assert [p.name for p in result.people] == ["Bo Berg", "Carla Madsen"]
    assert ("Handlinger!D2", 'Ansvarlig: "Anne Holm" står flere gange på fanen Personer; '
            "ret det dér") in problems(result)


def test_references_to_people():
    people = [ANNE, BO, CARLA, {"Navn": "Anne Holm", "E-mail": "anne2@skole.example"},
              {"Navn": "Gitte", "E-mail": "gitte@"}]
    actions = [action("H-1", Ansvarlig="Bo Hansen"), action("H-2", Ansvarlig=" bo  berg "),
               action("H-3", Ansvarlig="ANNE2@skole.example"), action("H-4", Ansvarlig="Anne Holm"),
               action("H-5", Ansvarlig="Gitte"), action("H-6", Ansvarlig="")]
    result = initiative(workbook(Personer=people, Handlinger=actions, Indikatorer=[]))
    owners = [(a.id, a.owner.email if a.owner else None, a.owner_text) for a in result.actions]
    assert owners == [
        ("H-1", None, "Bo Hansen"),
        ("H-2", "Bo.Berg@skole.example", "bo  berg"),
        ("H-3", "anne2@skole.example", "ANNE2@skole.example"),
        ("H-4", None, "Anne Holm"),
        ("H-5", None, "Gitte"),
        ("H-6", None, ""),
    ]
    assert [(ref, message) for ref, message in problems(result)
            if ref.startswith("Handlinger")] == [
        ("Handlinger!D2", 'Ansvarlig: "Bo Hansen" findes ikke på fanen Personer'),
        ("Handlinger!D5", 'Ansvarlig: flere personer på fanen Personer hedder "Anne Holm" '
                          "(rækkerne 2 og 5); skriv e-mailadressen i stedet"),
        ("Handlinger!D6", 'Ansvarlig: "Gitte" har ingen gyldig e-mailadresse på fanen '
                          "Personer og får ingen mails"),
        ("Handlinger!D7", "Ansvarlig mangler"),
    ]


def test_references_to_groups():
    meetings = [meeting("M-1", Gruppe="Ukendt"), meeting("M-2", Gruppe="styregruppen"),
                meeting("M-3", Gruppe="")]
    actions = [action("H-1", Gruppe="Ukendt"), action("H-2", Gruppe="", **{"Møde-ID": "M-9"})]
    result = initiative(workbook(Møder=meetings, Handlinger=actions))
    assert [m.id for m in result.meetings] == ["M-2"]
    assert result.meetings[0].group == "Styregruppen"
    assert [(a.id, a.group) for a in result.actions] == [("H-1", ""), ("H-2", "")]
    assert [(p.ref, p.severity, p.message) for p in result.problems] == [
        ("Møder!B2", "error", 'Gruppe: "Ukendt" findes ikke på fanen Grupper; '
                              "rækken springes over, til det er rettet"),
        ("Møder!B4", "error", "Gruppe mangler; rækken springes over, til det er rettet"),
        ("Handlinger!B2", "warning", 'Gruppe: "Ukendt" findes ikke på fanen Grupper'),
        ("Handlinger!G3", "warning", 'Møde-ID: "M-9" findes ikke på fanen Møder'),
    ]


def test_a_meeting_of_a_duplicated_group_is_skipped():
    result = initiative(workbook(Grupper=[STEERING, SCHOOL, {"Gruppe": "Styregruppen"}]))
    assert result.meetings == []
    assert ("Møder!B2", 'Gruppe: "Styregruppen" står flere gange på fanen Grupper; ret det dér; '
            "rækken springes over, til det er rettet") in problems(result)


def test_a_meeting_without_a_readable_date_is_skipped():
    result = initiative(workbook(Møder=[meeting("M-1", Dato=""), meeting("M-2", Dato=46000)]))
    assert result.meetings == []
    assert problems(result) == [
        ("Møder!C2", "Dato mangler; rækken springes over, til det er rettet"),
        ("Møder!C3", 'Dato: "46000" er ikke en dato; skriv fx 4-12-2026 eller 2026-12-04; '
                     "rækken springes over, til det er rettet"),
    ]


@pytest.mark.parametrize(("status", "done"), [
    ("Færdig", True), (" færdig ", True), ("DONE", True), ("Lukket", True),
    ("I gang", False), ("", False),
])
def test_done_follows_the_done_statuses(status, done):
    result = initiative(workbook(Handlinger=[action(Status=status)]))
    assert result.actions[0].done is done


def test_indicator_problems():
    row = indicator(**{"Aktuel værdi": "mange", "Basislinje": "ca. 40", "Frekvens": "ugentlig",
                       "Ansvarlig": ""})
    result = initiative(workbook(Indikatorer=[row]))
    assert [(p.ref, p.severity, p.message) for p in result.problems] == [
        ("Indikatorer!E2", "error", 'Basislinje: "ca. 40" er ikke et tal'),
        ("Indikatorer!I2", "error", 'Aktuel værdi: "mange" er ikke et tal'),
        ("Indikatorer!K2", "warning", "Ansvarlig mangler"),
        ("Indikatorer!L2", "warning",
         'Frekvens: "ugentlig" forstås ikke; skriv månedlig, kvartalsvis, halvårlig eller '
         "årlig (indtil da bruges kvartalsvis)"),
    ]
    [i] = result.indicators
    assert (i.current, i.baseline, i.frequency_months, i.owner, i.owner_text) == (
        None, None, 3, None, "")


@pytest.mark.parametrize(("language", "message"), [
    ("da", 'Regnearket har ingen fane "Handlinger" (eller "Actions"); fundne faner: '
           "Personer, Grupper, Møder, Indikatorer, Målinger. Tilføj den med `rygrad init-sheet`, "
           "eller omdøb en af dem."),
    ("en", 'The workbook has no tab "Actions" (or "Handlinger"); tabs found: '
           "Personer, Grupper, Møder, Indikatorer, Målinger. Add it with `rygrad init-sheet` or "
           "rename one."),
])
def test_a_missing_tab_stops_the_run(language, message):
    snap = snapshot(workbook())
    del snap.tables["Handlinger"]
    with pytest.raises(SheetError) as raised:
        parse(snap, settings(language))
    assert str(raised.value) == message


@pytest.mark.parametrize(("language", "header", "message"), [
    ("en", ["Handling-ID", "Gruppe", "Handling", "Tovholder", "Frist", "Status"],
     'Handlinger: the required column "Owner" (or "Ansvarlig") is missing; headers found: '
     'Handling-ID, Gruppe, Handling, Tovholder, Frist, Status. Did you mean "Tovholder"? '
     "Rename it or add it to [sheet.aliases] in the config."),
    ("da", ["Handling-ID", "Gruppe", "Handling", "Tovholder", "Frist", "Status"],
     'Handlinger: den påkrævede kolonne "Ansvarlig" (eller "Owner") mangler; fundne '
     'overskrifter: Handling-ID, Gruppe, Handling, Tovholder, Frist, Status. '
     'Mente du "Tovholder"? '
     "Omdøb den, eller skriv den under [sheet.aliases] i konfigurationen."),
    ("en", ["Handling-ID", "Gruppe", "Handling", "Frist", "Status"],
     'Handlinger: the required column "Owner" (or "Ansvarlig") is missing; headers found: '
     "Handling-ID, Gruppe, Handling, Frist, Status. Add the column or add its header to "
     "[sheet.aliases] in the config."),
])
def test_a_missing_required_column_stops_the_run(language, header, message):
    tabs = workbook(Handlinger=table("Handlinger", [action()], header))
    with pytest.raises(SheetError) as raised:
        initiative(tabs, language)
    assert str(raised.value) == message


def test_missing_optional_and_worker_columns():
    header = ["Handling-ID", "Gruppe", "Handling", "Ansvarlig", "Frist", "Status"]
    result = initiative(workbook(Handlinger=table("Handlinger", [action()], header)))
    assert problems(result, "warning") == [
        ("Handlinger", 'Kolonnen "Møde-ID" (eller "Meeting ID") mangler; den læses som tom')]
    assert result.columns["actions"] == {"action_id": 1, "group": 2, "action": 3, "owner": 4,
                                         "due": 5, "status": 6}
    assert result.worker_cells[("actions", 2)] == {}
    assert result.actions[0].due == date(2026, 12, 4)


def test_columns_that_guard_mail_are_optional_only_on_an_empty_tab():
    header = ["Handling-ID", "Handling", "Ansvarlig"]
    result = initiative(workbook(Handlinger=table("Handlinger", [], header)))
    assert ("Handlinger", 'Kolonnen "Status" mangler; den læses som tom') in problems(
        result, "warning")
    assert result.actions == []


def test_two_headers_for_one_column_keep_the_first():
    header = ["Handling-ID", "Gruppe", "Handling", "Ansvarlig", "Frist", "Status", "Due"]
    rows = [{**action(), "Due": "1-1-2027"}]
    result = initiative(workbook(Handlinger=table("Handlinger", rows, header)))
    assert problems(result, "error") == [
        ("Handlinger!G1", 'Overskriften "Due" er samme kolonne som E1; den første bruges')]
    assert result.actions[0].due == date(2026, 12, 4)


def test_problems_are_ordered_by_tab_row_and_column():
    result = initiative(workbook(
        Handlinger=[action("H-1", Frist="x", Ansvarlig="Ukendt"), action("")],
        Personer=[ANNE, BO, CARLA, {"Navn": "Dorte", "E-mail": "dorte@"}],
    ))
    assert [p.ref for p in result.problems] == [
        "Personer!B5", "Handlinger!D2", "Handlinger!E2", "Handlinger!A3"]


def test_long_values_are_cut_in_messages_but_kept_in_the_problem():
    value = "ikke en dato " * 10
    result = initiative(workbook(Handlinger=[action(Frist=value)]))
    [problem] = result.problems
    assert problem.value == value.strip()
    assert len(problem.message) < 140 and "…" in problem.message


@pytest.mark.parametrize(("index", "letters"), [(1, "A"), (5, "E"), (26, "Z"), (27, "AA"),
                                                 (52, "AZ"), (703, "AAA")])
def test_column_letters(index, letters):
    assert column_letter(index) == letters


CELLS = st.one_of(
    st.none(), st.text(max_size=12), st.integers(-5, 50000), st.floats(allow_nan=True),
    st.booleans(), st.dates(), st.times(), st.sampled_from(["Anne Holm", "Styregruppen",
                                                            "M-01", "H-01", "x", " "]),
)


@settings_for_hypothesis(max_examples=60, deadline=None)
@given(st.lists(st.lists(CELLS, min_size=16, max_size=16), max_size=4),
       st.sampled_from(["Personer", "Grupper", "Møder", "Handlinger", "Indikatorer",
                        "Målinger"]))
def test_any_cell_values_give_problems_never_a_crash(rows, tab):
    header = [c.da for c in next(t for t in TABS if t.da == tab).columns]
    header += [f"Ekstra {n}" for n in range(16 - len(header))]
    tabs = workbook()
    # Møder has more than 16 columns since the meeting answer columns: the rest stay empty
    tabs[tab] = table(tab, [dict(zip(header, row + [None] * (len(header) - len(row)),
                                     strict=True)) for row in rows], header)
    result = initiative(tabs)
    assert all(p.cell == "" or p.ref.startswith(p.tab + "!") for p in result.problems)
    assert all("\n" not in p.message for p in result.problems)


@settings_for_hypothesis(max_examples=200)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_every_date_reads_back_in_each_written_form(day):
    from automation.core.values import parse_date

    forms = [day.isoformat(), f"{day.day}-{day.month}-{day.year}",
             f"{day.day}.{day.month}.{day.year % 100:02}", f"{day.day}/{day.month}/{day.year}"]
    assert {parse_date(form) for form in forms} == {day}
    assert parse_date(f"{day.month}/{day.day}/{day.year}", "mdy") == day
