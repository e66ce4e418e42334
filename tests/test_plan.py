"""The rules of README, "The rules" at their boundaries, on hand-built initiatives."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from automation import config
from automation.core.model import (
    Action,
    Group,
    Indicator,
    Initiative,
    LedgerEntry,
    Meeting,
    Message,
    Person,
)
from automation.core.plan import plan

ZONE = ZoneInfo("Europe/Copenhagen")
TODAY = date(2026, 12, 2)  # a Wednesday
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=ZONE)
SETTINGS = config.parse(
    {"initiative": {"name": "Test", "secretariat": "Sekretariatet <sek@example.dk>"},
     "sheet": {"path": "x.xlsx"}},
    Path("rygrad.toml"),
)

ANNE = Person(2, "Anne Holm", "anne@example.dk", "anne@example.dk", groups=("AG",))
BO = Person(3, "Bo Berg", "bo@example.dk", "bo@example.dk", groups=("AG",), language="en")
CHAIR = Person(4, "Carla Chair", "carla@example.dk", "carla@example.dk")


def initiative(meetings=(), actions=(), indicators=(), people=(ANNE, BO, CHAIR), chair=CHAIR):
    return Initiative(
        people=list(people),
        groups={"AG": Group(2, "AG", chair=chair)},
        meetings=list(meetings),
        actions=list(actions),
        indicators=list(indicators),
    )


def meeting(days: int, **fields) -> Meeting:
    values = dict(row=2, id="M1", group="AG", date=TODAY + timedelta(days=days),
                  start=time(14), end=time(16), location="Rådhuset")
    values.update(fields)
    return Meeting(**values)


def action(due_in: int | None, **fields) -> Action:
    values = dict(row=2, id="A1", group="AG", action="Kortlæg tilbud", owner=ANNE,
                  owner_text="Anne Holm",
                  due=TODAY + timedelta(days=due_in) if due_in is not None else None)
    values.update(fields)
    return Action(**values)


def sent(message: Message, at: datetime) -> LedgerEntry:
    return LedgerEntry(message.key, message.recipient.email, message.kind, message.subject_id,
                       "sent", at, message.payload)


def keys(messages) -> list[tuple[str, str]]:
    return sorted((m.key, m.recipient.email) for m in messages
                  if m.kind != "digest")


def due(init: Initiative, entries=(), now=NOW) -> list[tuple[str, str]]:
    return keys(plan(init, list(entries), now, SETTINGS).messages)


MEMBERS = ["anne@example.dk", "bo@example.dk", "carla@example.dk"]


@pytest.mark.parametrize(("days", "expected"), [
    (22, []),
    (21, [("invitation:M1:0", r) for r in MEMBERS]),
    (6, [("invitation:M1:0", r) for r in MEMBERS]),
    (0, [("invitation:M1:0", r) for r in MEMBERS]),
    (-1, []),
])
def test_invitation_window(days, expected):
    assert due(initiative([meeting(days, agenda=())])) == expected


@pytest.mark.parametrize(("days", "agenda", "expected"), [
    (6, ("Velkomst",), False),
    (5, ("Velkomst",), True),
    (0, ("Velkomst",), True),
    (3, (), False),
    (-1, ("Velkomst",), False),
])
def test_agenda_window(days, agenda, expected):
    messages = plan(initiative([meeting(days, agenda=agenda)]), [], NOW, SETTINGS).messages
    assert any(m.kind == "agenda" for m in messages) is expected


@pytest.mark.parametrize(("days_ago", "minutes", "expected"), [
    (0, "Referat", False),
    (1, "Referat", True),
    (30, "Referat", True),
    (31, "Referat", False),
    (2, "", False),
])
def test_followup_window(days_ago, minutes, expected):
    messages = plan(initiative([meeting(-days_ago, minutes=minutes)]), [], NOW,
                    SETTINGS).messages
    assert any(m.kind == "followup" for m in messages) is expected


def test_cancelled_meeting_not_invited_gets_nothing():
    assert due(initiative([meeting(3, cancelled=True, agenda=("x",))])) == []


def test_rerun_sends_nothing_new_and_new_member_gets_current_invitation():
    init = initiative([meeting(10)])
    first = plan(init, [], NOW, SETTINGS).messages
    history = [sent(m, NOW) for m in first]
    assert due(init, history) == []
    dina = Person(5, "Dina", "dina@example.dk", "dina@example.dk", groups=("AG",))
    later = initiative([meeting(10)], people=(ANNE, BO, CHAIR, dina))
    assert due(later, history) == [("invitation:M1:0", "dina@example.dk")]


def test_update_after_change_even_outside_invite_window_then_cancel_then_reinstate():
    init = initiative([meeting(10)])
    history = [sent(m, NOW) for m in plan(init, [], NOW, SETTINGS).messages]
    moved = initiative([meeting(30, start=time(15))])
    later = NOW + timedelta(hours=1)
    update = plan(moved, history, later, SETTINGS).messages
    assert keys(update) == [("invitation:M1:1", r) for r in MEMBERS]
    assert update[0].payload["seq"] == 1 and update[0].payload["start"] == "15:00"
    history += [sent(m, later) for m in update]
    cancelled = initiative([meeting(30, start=time(15), cancelled=True)])
    cancel = plan(cancelled, history, later + timedelta(hours=1), SETTINGS).messages
    assert keys(cancel) == [("cancel:M1", r) for r in MEMBERS]
    assert cancel[0].payload["seq"] == 2
    history += [sent(m, later + timedelta(hours=1)) for m in cancel]
    assert due(cancelled, history, later + timedelta(hours=2)) == []
    reinstated = plan(moved, history, later + timedelta(hours=3), SETTINGS).messages
    assert keys(reinstated) == [("invitation:M1:2", r) for r in MEMBERS]
    assert reinstated[0].payload["seq"] == 3  # above the cancel's SEQUENCE


LINK = "https://teams.example/l/meetup-join/19"


@pytest.mark.parametrize(("before", "after", "expected"), [
    ({}, {"link": LINK}, ["invitation:M1:1"]),  # a link added after the invitation
    ({"link": LINK}, {"link": LINK + "-new"}, ["invitation:M1:1"]),
    ({"link": LINK}, {}, ["invitation:M1:1"]),  # removed
    ({"link": LINK}, {"link": LINK}, []),
    ({}, {"location": "https://zoom.example/j/1"}, ["invitation:M1:1"]),  # Sted now a link
])
def test_a_changed_online_link_sends_an_update_like_a_new_place(before, after, expected):
    history = [sent(m, NOW) for m in plan(initiative([meeting(10, **before)]), [], NOW,
                                          SETTINGS).messages]
    found = plan(initiative([meeting(10, **after)]), history, NOW + timedelta(hours=1),
                 SETTINGS).messages
    assert sorted({m.key for m in found}) == expected
    for message in found:
        assert message.payload.get("link", "") == after.get("link", "")
        assert message.payload["previous"].get("link", "") == before.get("link", "")


def test_an_invitation_recorded_before_the_link_column_sends_no_update():
    # what the ledger holds from before: no "link" key at all
    payload = {"date": (TODAY + timedelta(days=10)).isoformat(), "start": "14:00",
               "end": "16:00", "location": "Rådhuset", "seq": 0, "update": False}
    history = [LedgerEntry("invitation:M1:0", r, "invitation", "M1", "sent", NOW, payload)
               for r in MEMBERS]
    assert due(initiative([meeting(10)]), history) == []


def test_an_update_carries_what_the_one_before_said_and_a_cancel_its_reason():
    history = [sent(m, NOW) for m in plan(initiative([meeting(10)]), [], NOW,
                                          SETTINGS).messages]
    moved = initiative([meeting(11, start=time(15), location="Online", link=LINK)])
    later = NOW + timedelta(hours=1)
    update = plan(moved, history, later, SETTINGS).messages
    assert {m.key for m in update} == {"invitation:M1:1"}
    assert update[0].payload["previous"] == {
        "date": "2026-12-12", "start": "14:00", "end": "16:00", "location": "Rådhuset"}
    assert update[0].payload["link"] == LINK
    history += [sent(m, later) for m in update]
    cancelled = initiative([meeting(11, start=time(15), location="Online", link=LINK,
                                    cancelled=True, cancel_reason="Formanden er syg")])
    cancel = plan(cancelled, history, later + timedelta(hours=1), SETTINGS).messages
    assert {m.key for m in cancel} == {"cancel:M1"}
    # what was cancelled: the meeting as last announced, and why
    assert cancel[0].payload == {"date": "2026-12-13", "start": "15:00", "end": "16:00",
                                 "location": "Online", "link": LINK, "seq": 2,
                                 "update": True, "reason": "Formanden er syg"}
    history += [sent(m, later + timedelta(hours=1)) for m in cancel]
    back = plan(initiative([meeting(11, start=time(15), location="Online", link=LINK)]),
                history, later + timedelta(hours=2), SETTINGS).messages
    assert {(m.key, m.payload["reinstated"]) for m in back} == {("invitation:M1:2", True)}


def test_cancel_goes_to_everyone_invited_even_after_leaving_the_group():
    init = initiative([meeting(10)])
    history = [sent(m, NOW) for m in plan(init, [], NOW, SETTINGS).messages]
    bo_left = replace(BO, groups=())
    cancelled = initiative([meeting(10, cancelled=True)], people=(ANNE, bo_left, CHAIR))
    assert due(cancelled, history) == [("cancel:M1", r) for r in MEMBERS]


@pytest.mark.parametrize(("due_in", "expected"), [
    (4, []),
    (3, [("reminder:A1:2026-12-05", "anne@example.dk")]),
    (1, [("reminder:A1:2026-12-03", "anne@example.dk")]),
    (0, []),  # due today: neither a reminder nor overdue yet
    (-1, [("overdue:A1:2026-12-01:1", "anne@example.dk")]),
    (-13, [("overdue:A1:2026-11-19:1", "anne@example.dk")]),
    (-14, [("escalation:A1:2026-11-18", "carla@example.dk"),
           ("overdue:A1:2026-11-18:1", "anne@example.dk")]),
    (None, []),
])
def test_action_rules(due_in, expected):
    assert due(initiative(actions=[action(due_in)])) == expected


@pytest.mark.parametrize("status_done", [True])
def test_done_action_gets_nothing(status_done):
    assert due(initiative(actions=[action(-20, done=status_done, status="Færdig")])) == []


def test_overdue_repeats_after_seven_local_days():
    init = initiative(actions=[action(-1)])
    first = plan(init, [], NOW, SETTINGS).messages
    history = [sent(m, NOW) for m in first]
    day = timedelta(days=1)
    assert due(init, history, NOW + 6 * day) == []
    assert due(init, history, NOW + 7 * day - timedelta(hours=8)) == [
        ("overdue:A1:2026-12-01:2", "anne@example.dk")]


def test_escalation_to_the_chair_or_secretariat_and_never_a_copy_to_the_owner():
    messages = plan(initiative(actions=[action(-14)]), [], NOW, SETTINGS).messages
    escalation = next(m for m in messages if m.kind == "escalation")
    assert escalation.recipient.email == "carla@example.dk" and escalation.cc == ()
    own = plan(initiative(actions=[action(-14, owner=CHAIR)]), [], NOW, SETTINGS).messages
    escalation = next(m for m in own if m.kind == "escalation")
    assert escalation.recipient.email == "sek@example.dk"
    assert escalation.cc == ()
    unknown = plan(initiative(actions=[action(-14, owner=None, owner_text="Ukendt")]), [], NOW,
                   SETTINGS).messages
    assert [(m.kind, m.recipient.email, m.cc) for m in unknown if m.kind != "digest"] == [
        ("escalation", "carla@example.dk", ())]
    chairless = plan(initiative(actions=[action(-15)], chair=None), [], NOW, SETTINGS).messages
    escalation = next(m for m in chairless if m.kind == "escalation")
    assert escalation.recipient.email == "sek@example.dk"


def indicator(**fields) -> Indicator:
    values = dict(row=2, id="I1", group="AG", indicator="Unge i uddannelse", owner=BO,
                  owner_text="Bo Berg", frequency_months=3)
    values.update(fields)
    return Indicator(**values)


@pytest.mark.parametrize(("updated", "expected"), [
    (date(2026, 9, 10), []),  # next update 2026-12-10: 8 days away
    (date(2026, 9, 9), ["indicator:I1:2026-12-09:1"]),  # 7 days
    (date(2026, 9, 2), ["indicator:I1:2026-12-02:1"]),  # today
    (date(2026, 6, 1), ["indicator:I1:2026-09-01:1"]),  # overdue
    (None, ["indicator:I1:none:1"]),  # never measured, no start date: due now
])
def test_indicator_requests(updated, expected):
    init = initiative(indicators=[indicator(updated=updated)])
    assert [k for k, _ in due(init)] == expected


def test_indicator_repeats_only_while_overdue():
    early = initiative(indicators=[indicator(updated=date(2026, 9, 5))])  # due 12-05
    history = [sent(m, NOW) for m in plan(early, [], NOW, SETTINGS).messages
               if m.kind == "indicator"]
    assert due(early, history, NOW + timedelta(days=2)) == []
    assert due(early, history, NOW + timedelta(days=7)) == [
        ("indicator:I1:2026-12-05:2", "bo@example.dk")]


@pytest.mark.parametrize(("now", "expected"), [
    (datetime(2026, 11, 30, 7, 59, tzinfo=ZONE), []),
    (datetime(2026, 11, 30, 8, 0, tzinfo=ZONE), ["digest:2026-W49"]),
    (datetime(2026, 12, 6, 23, 0, tzinfo=ZONE), ["digest:2026-W49"]),
])
def test_digest(now, expected):
    messages = plan(initiative(), [], now, SETTINGS).messages
    assert [m.key for m in messages if m.kind == "digest"] == expected


def test_recipients_language_follows_person():
    messages = plan(initiative([meeting(3)]), [], NOW, SETTINGS).messages
    languages = {m.recipient.email: m.recipient.language for m in messages}
    assert languages["bo@example.dk"] == "en" and languages["anne@example.dk"] == "da"
