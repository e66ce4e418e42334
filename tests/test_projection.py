"""The W columns as a projection (automation/core/projection.py): what each worker-owned cell
should read at a moment, which of them change, and where they are written."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from automation import config
from automation.core.model import (
    Action,
    CellUpdate,
    CellWrite,
    Indicator,
    Initiative,
    LedgerEntry,
    Meeting,
    Person,
    Problem,
)
from automation.core.projection import (
    cell_updates,
    mail_shown_sent,
    overdue_flag,
    resolve,
    worker_values,
)

ZONE = ZoneInfo("Europe/Copenhagen")
TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=ZONE)
ANNE = Person(2, "Anne Holm", "anne@example.dk", "anne@example.dk", groups=("AG",))


def settings(language: str = "da") -> config.Settings:
    return config.parse(
        {"initiative": {"name": "Test", "secretariat": "Sekretariatet <sek@example.dk>",
                        "language": language},
         "sheet": {"path": "x.xlsx"}},
        Path("rygrad.toml"),
    )


DA, EN = settings("da"), settings("en")


def action(due: date | None, **fields) -> Action:
    values = dict(row=5, id="A1", group="AG", action="Kortlæg tilbud", owner=ANNE,
                  owner_text="Anne Holm", due=due)
    values.update(fields)
    return Action(**values)


def meeting(days: int, **fields) -> Meeting:
    values = dict(row=3, id="M1", group="AG", date=TODAY + timedelta(days=days),
                  start=time(14), end=time(16))
    values.update(fields)
    return Meeting(**values)


def indicator(**fields) -> Indicator:
    values = dict(row=4, id="I1", group="AG", indicator="Unge i uddannelse", baseline=70.0,
                  start_date=date(2026, 1, 1), target=80.0, target_date=date(2027, 12, 31),
                  current=72.5, updated=date(2026, 9, 1), owner=ANNE, owner_text="Anne Holm")
    values.update(fields)
    return Indicator(**values)


def entry(kind: str, subject: str, at: datetime, state: str = "sent") -> LedgerEntry:
    return LedgerEntry(f"{kind}:{subject}", "anne@example.dk", kind, subject, state, at)


def values_of(initiative: Initiative, entries=(), now=NOW, using=DA) -> dict:
    return dict(worker_values(initiative, list(entries), now, using))


@pytest.mark.parametrize(("days", "language", "expected"), [
    (1, "da", "FORSINKET (1 dag)"),
    (2, "da", "FORSINKET (2 dage)"),
    (9, "da", "FORSINKET (9 dage)"),
    (1, "en", "OVERDUE (1 day)"),
    (9, "en", "OVERDUE (9 days)"),
])
def test_overdue_flag_wording(days, language, expected):
    assert overdue_flag(days, language) == expected


@pytest.mark.parametrize(("due", "done", "using", "expected"), [
    (TODAY + timedelta(days=1), False, DA, ""),
    (TODAY, False, DA, ""),  # due today is not late yet
    (TODAY - timedelta(days=1), False, DA, "FORSINKET (1 dag)"),  # the first day overdue
    (TODAY - timedelta(days=9), False, DA, "FORSINKET (9 dage)"),
    (TODAY - timedelta(days=1), False, EN, "OVERDUE (1 day)"),
    (TODAY - timedelta(days=9), True, DA, ""),  # cleared when done
    (None, False, DA, ""),
])
def test_overdue_flag_on_actions(due, done, using, expected):
    found = values_of(Initiative(actions=[action(due, done=done)]), using=using)
    assert found[("actions", 5)]["overdue"] == expected


@pytest.mark.parametrize(("now", "expected"), [
    # 00:30 in Copenhagen is still 23:30 the day before in UTC: the local date counts
    (datetime(2026, 12, 1, 23, 30, tzinfo=UTC), "FORSINKET (1 dag)"),
    (datetime(2026, 12, 1, 22, 59, tzinfo=UTC), ""),
    (datetime(2026, 12, 2, 0, 30, tzinfo=ZONE), "FORSINKET (1 dag)"),
    (datetime(2026, 12, 1, 23, 59, tzinfo=ZONE), ""),
])
def test_the_day_turns_at_local_midnight(now, expected):
    found = values_of(Initiative(actions=[action(date(2026, 12, 1))]), now=now)
    assert found[("actions", 5)]["overdue"] == expected


def test_sent_times_are_the_latest_sent_in_local_time():
    init = Initiative(meetings=[meeting(3)], actions=[action(TODAY - timedelta(days=20))],
                      indicators=[indicator()])
    entries = [
        entry("invitation", "M1", datetime(2026, 11, 20, 9, 15, tzinfo=UTC)),
        entry("invitation", "M1", datetime(2026, 11, 27, 23, 5, tzinfo=UTC)),  # 28th, local
        entry("invitation", "M1", datetime(2026, 11, 29, 9, 0, tzinfo=UTC), state="failed"),
        entry("invitation", "M1", datetime(2026, 11, 30, 9, 0, tzinfo=UTC), state="sending"),
        entry("agenda", "M1", datetime(2026, 11, 29, 7, 0, tzinfo=UTC)),
        entry("followup", "M1", datetime(2026, 11, 29, 8, 0, tzinfo=UTC)),
        entry("invitation", "M2", datetime(2026, 11, 30, 9, 0, tzinfo=UTC)),  # another one
        entry("reminder", "A1", datetime(2026, 11, 10, 8, 0, tzinfo=UTC)),
        entry("overdue", "A1", datetime(2026, 11, 22, 8, 0, tzinfo=UTC)),
        entry("escalation", "A1", datetime(2026, 11, 21, 8, 0, tzinfo=UTC)),
        entry("indicator", "I1", datetime(2026, 12, 1, 12, 0, tzinfo=UTC)),
        entry("indicator", "A1", datetime(2026, 12, 2, 7, 0, tzinfo=UTC)),
    ]
    found = values_of(init, entries)
    assert found[("meetings", 3)] == {
        "note": "", "invitation_sent": "2026-11-28 00:05", "agenda_sent": "2026-11-29 08:00",
        "followup_sent": "2026-11-29 09:00"}
    assert found[("actions", 5)] == {
        "note": "", "overdue": "FORSINKET (20 dage)", "last_reminder": "2026-11-22 09:00"}
    assert found[("indicators", 4)] == {
        "note": "", "next_update": "2026-12-01", "assessment": "På sporet",
        "last_reminder": "2026-12-01 13:00"}


@pytest.mark.parametrize(("fields", "using", "next_update", "assessment"), [
    ({}, DA, "2026-12-01", "På sporet"),
    ({}, EN, "2026-12-01", "On track"),
    ({"current": 80.0}, DA, "2026-12-01", "Nået"),
    ({"current": 80.0}, EN, "2026-12-01", "Achieved"),
    ({"current": 70.0}, DA, "2026-12-01", "Bagud"),
    ({"current": 70.0}, EN, "2026-12-01", "Behind"),
    ({"current": None}, DA, "2026-12-01", "Mangler data"),
    ({"current": None}, EN, "2026-12-01", "No data"),
    ({"updated": None, "start_date": None}, DA, "", "På sporet"),
])
def test_indicator_columns(fields, using, next_update, assessment):
    found = values_of(Initiative(indicators=[indicator(**fields)]), using=using)
    assert found[("indicators", 4)]["next_update"] == next_update
    assert found[("indicators", 4)]["assessment"] == assessment


def test_assessment_uses_the_local_date():
    # updated 2026-09-01 quarterly: due 2026-12-01, stale after 2026-12-31 (local)
    init = Initiative(indicators=[indicator()])
    last_day = datetime(2026, 12, 31, 22, 59, tzinfo=UTC)  # 23:59 in Copenhagen
    first_stale = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)  # 00:00 on 1 January
    assert values_of(init, now=last_day)[("indicators", 4)]["assessment"] == "På sporet"
    assert values_of(init, now=first_stale)[("indicators", 4)]["assessment"] == "Mangler data"


@pytest.mark.parametrize(("days", "fields", "expected"), [
    (22, {"start": None}, ""),
    (21, {"start": None}, "Start mangler; der sendes ingen invitation, før mødet har et "
                          "starttidspunkt"),
    (0, {"start": None}, "Start mangler; der sendes ingen invitation, før mødet har et "
                         "starttidspunkt"),
    (-1, {"start": None}, ""),
    (3, {"start": None, "cancelled": True}, ""),
    (3, {}, ""),
])
def test_meeting_without_start_time_gets_a_note_while_it_could_be_invited(days, fields,
                                                                            expected):
    found = values_of(Initiative(meetings=[meeting(days, **fields)]))
    assert found[("meetings", 3)]["note"] == expected


def test_meeting_note_in_english():
    found = values_of(Initiative(meetings=[meeting(3, start=None)]), using=EN)
    assert found[("meetings", 3)]["note"] == (
        "Start is empty; no invitation is sent until the meeting has a start time")


def test_notes_gather_the_row_problems_and_other_rows_get_only_notes():
    problems = [
        Problem("Handlinger", "E5", "x", "Frist: første", tab_key="actions", row=5),
        Problem("Handlinger", "F5", "y", "Status: anden", tab_key="actions", row=5),
        Problem("Handlinger", "", "", "Hele fanen", tab_key="actions"),  # no row: no note
        Problem("Personer", "B7", "anne@", "E-mail: ugyldig", tab_key="people", row=7),
        Problem("Møder", "C3", "x", "Dato: ikke en dato", tab_key="meetings", row=3),
        Problem("Indikatorer", "E4", "y", "Mål: ikke et tal", tab_key="indicators", row=4),
    ]
    init = Initiative(actions=[action(None)], meetings=[meeting(30)],
                      indicators=[indicator(updated=None, start_date=None)], problems=problems,
                      worker_cells={("people", 7): {}, ("people", 8): {"note": "gammel"},
                                    ("meetings", 3): {}, ("actions", 5): {},
                                    ("indicators", 4): {}, ("actions", 9): {}})
    found = list(worker_values(init, [], NOW, DA))
    assert found == [
        (("meetings", 3), {"note": "Dato: ikke en dato", "invitation_sent": "",
                           "agenda_sent": "", "followup_sent": ""}),
        (("actions", 5), {"note": "Frist: første; Status: anden", "overdue": "",
                          "last_reminder": ""}),
        (("indicators", 4), {"note": "Mål: ikke et tal", "next_update": "",
                             "assessment": "På sporet", "last_reminder": ""}),
        # the rest in the sheet's order, each row once
        (("people", 7), {"note": "E-mail: ugyldig"}),
        (("people", 8), {"note": ""}),
        (("actions", 9), {"note": ""}),  # a row skipped as invalid: its note only
    ]


def test_cell_updates_are_only_the_cells_that_change():
    init = Initiative(
        actions=[action(TODAY - timedelta(days=2)), action(None, row=6, id="A2")],
        worker_cells={("actions", 5): {"overdue": "FORSINKET (1 dag)", "note": ""},
                      ("actions", 6): {"note": "gammel note"}},
        row_ids={("actions", 5): "A1", ("actions", 6): "A2"},
    )
    assert cell_updates(init, [], NOW, DA) == [
        CellUpdate("actions", 5, "A1", "overdue", "FORSINKET (2 dage)", "FORSINKET (1 dag)"),
        CellUpdate("actions", 6, "A2", "note", "", "gammel note"),
    ]


def test_cell_updates_without_a_known_row_id():
    init = Initiative(actions=[action(TODAY - timedelta(days=1))])
    assert cell_updates(init, [], NOW, DA) == [
        CellUpdate("actions", 5, "", "overdue", "FORSINKET (1 dag)", "")]


def test_nothing_to_write_when_every_cell_already_reads_right():
    init = Initiative(actions=[action(TODAY - timedelta(days=1))],
                      worker_cells={("actions", 5): {"overdue": "FORSINKET (1 dag)"}})
    assert cell_updates(init, [], NOW, DA) == []


@pytest.mark.parametrize(("language", "titles"), [
    ("da", ("Sidste påmindelse", "Bemærkning")),
    ("en", ("Last reminder", "Note")),
])
def test_resolve_places_updates_and_appends_missing_worker_columns(language, titles):
    init = Initiative(
        tab_titles={"actions": "Handlinger", "people": "Personer"},
        columns={"actions": {"action_id": 1, "action": 2, "overdue": 4},
                 "people": {"email": 2, "note": 3}},
        header_width={"actions": 5, "people": 3},
    )
    updates = [CellUpdate("actions", 7, "A1", "overdue", "FORSINKET (1 dag)"),
               CellUpdate("actions", 8, "A2", "note", "Frist: x"),
               CellUpdate("people", 4, "anne@example.dk", "note", "")]
    assert resolve(updates, init, language) == [
        CellWrite("Handlinger", 1, 6, titles[0]),
        CellWrite("Handlinger", 1, 7, titles[1]),
        CellWrite("Handlinger", 7, 4, "FORSINKET (1 dag)", "A1", 1),
        CellWrite("Handlinger", 8, 7, "Frist: x", "A2", 1),
        CellWrite("Personer", 4, 3, "", "anne@example.dk", 2),
    ]


def test_resolve_without_a_header_width_or_id_column():
    init = Initiative(tab_titles={"groups": "Grupper"}, columns={"groups": {"goal": 4}})
    assert resolve([CellUpdate("groups", 3, "", "note", "x")], init, "da") == [
        CellWrite("Grupper", 1, 1, "Bemærkning"),
        CellWrite("Grupper", 3, 1, "x", "", 0),
    ]


def test_mail_shown_sent_lists_the_sent_cells_in_sheet_order():
    init = Initiative(
        tab_titles={"meetings": "Møder", "actions": "Handlinger", "indicators": "Indikatorer",
                    "people": "Personer"},
        columns={"meetings": {"invitation_sent": 10, "agenda_sent": 11, "followup_sent": 12},
                 "actions": {"last_reminder": 9}, "indicators": {"last_reminder": 15},
                 "people": {"note": 6}},
        worker_cells={
            ("meetings", 2): {"invitation_sent": "2026-11-27 10:15", "note": "x"},
            ("meetings", 3): {"agenda_sent": "2026-11-28 10:15",
                              "followup_sent": "2026-11-29 10:15"},
            ("actions", 4): {"overdue": "FORSINKET (1 dag)"},  # not a mail
            ("actions", 5): {"last_reminder": "2026-11-27 10:15"},
            ("indicators", 2): {"last_reminder": "2026-11-27 10:15"},
            ("people", 3): {"note": "E-mail: ugyldig"},
        },
    )
    assert mail_shown_sent(init) == ["Møder!J2", "Møder!K3", "Møder!L3", "Handlinger!I5",
                                     "Indikatorer!O2"]
    assert mail_shown_sent(Initiative()) == []
