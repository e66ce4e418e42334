"""The rules of README, "The rules" where they turn: whole messages (key, recipient, Cc, payload),
the local day boundary, what is sent only once, updates on the meeting day, the digest's
windows and everything the digest carries. Hand-built initiatives; time is a parameter."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from automation import config
from automation.core.model import (
    Group,
    Initiative,
    LedgerEntry,
    Message,
    Person,
    Problem,
    Recipient,
)
from automation.core.plan import plan
from tests.test_plan import (
    ANNE,
    BO,
    CHAIR,
    NOW,
    SETTINGS,
    TODAY,
    ZONE,
    action,
    indicator,
    initiative,
    meeting,
    sent,
)

ANNE_TO = Recipient("Anne Holm", "anne@example.dk", "da")
BO_TO = Recipient("Bo Berg", "bo@example.dk", "en")
CARLA_TO = Recipient("Carla Chair", "carla@example.dk", "da")
SECRETARIAT = Recipient("Sekretariatet", "sek@example.dk", "da")
DETAILS = {"start": "14:00", "end": "16:00", "location": "Rådhuset"}


def settings(**rules) -> config.Settings:
    return replace(SETTINGS, rules=replace(SETTINGS.rules, **rules))


def messages(init: Initiative, entries=(), now=NOW, using=SETTINGS) -> list[Message]:
    return [m for m in plan(init, list(entries), now, using).messages if m.kind != "digest"]


def digest(init: Initiative, entries=(), now=NOW, using=SETTINGS) -> list[Message]:
    return [m for m in plan(init, list(entries), now, using).messages if m.kind == "digest"]


def entry(key: str, recipient: str, at: datetime, state: str = "sent", payload=None,
          error: str = "") -> LedgerEntry:
    kind, subject = key.split(":")[:2]
    return LedgerEntry(key, recipient, kind, subject, state, at, payload or {}, error)


# -- actions: whole messages -------------------------------------------------------


@pytest.mark.parametrize(("due_in", "expected"), [
    (3, [Message("reminder", "reminder:A1:2026-12-05", ANNE_TO, "A1",
                 payload={"due": "2026-12-05", "days_left": 3})]),
    (1, [Message("reminder", "reminder:A1:2026-12-03", ANNE_TO, "A1",
                 payload={"due": "2026-12-03", "days_left": 1})]),
    (-1, [Message("overdue", "overdue:A1:2026-12-01:1", ANNE_TO, "A1",
                  payload={"due": "2026-12-01", "days_overdue": 1, "n": 1})]),
    (-14, [Message("overdue", "overdue:A1:2026-11-18:1", ANNE_TO, "A1",
                   payload={"due": "2026-11-18", "days_overdue": 14, "n": 1}),
           Message("escalation", "escalation:A1:2026-11-18", CARLA_TO, "A1",
                   payload={"due": "2026-11-18", "days_overdue": 14, "owner": "Anne Holm",
                            # the overdue notice of this same cycle is the one so far
                            "notices": ["2026-12-02"], "reason": "chair"})]),
])
def test_action_messages_whole(due_in, expected):
    assert messages(initiative(actions=[action(due_in)])) == expected


def test_escalation_to_the_secretariat_when_the_chair_owns_it():
    found = messages(initiative(actions=[action(-20, owner=CHAIR, owner_text="Carla")]))
    assert found[-1] == Message(
        "escalation", "escalation:A1:2026-11-12", SECRETARIAT, "A1",
        payload={"due": "2026-11-12", "days_overdue": 20, "owner": "Carla Chair",
                 "notices": ["2026-12-02"], "reason": "secretariat"})


def test_escalation_without_a_known_owner_names_the_owner_as_typed():
    found = messages(initiative(actions=[action(-14, owner=None, owner_text="Ukendt")]))
    assert found == [Message(
        "escalation", "escalation:A1:2026-11-18", CARLA_TO, "A1",
        payload={"due": "2026-11-18", "days_overdue": 14, "owner": "Ukendt",
                 "notices": [], "reason": "chair"})]  # an unknown owner got no notice


def test_escalation_without_a_chair_or_a_known_owner_goes_to_the_secretariat_alone():
    found = messages(initiative(actions=[action(-14, owner=None, owner_text="Ukendt")],
                                chair=None))
    assert found == [Message(
        "escalation", "escalation:A1:2026-11-18", SECRETARIAT, "A1",
        payload={"due": "2026-11-18", "days_overdue": 14, "owner": "Ukendt",
                 "notices": [], "reason": "secretariat"})]


def test_escalation_to_the_secretariat_when_the_chair_has_no_address():
    chair = Person(4, "Carla Chair", None, "carla@")
    found = messages(initiative(actions=[action(-14)], chair=chair))
    assert found[-1].recipient == SECRETARIAT
    assert found[-1].payload["reason"] == "secretariat"
    assert found[-1].cc == ()


@pytest.mark.parametrize(("escalate_after_days", "expected"), [(13, True), (14, False)])
def test_escalation_threshold_is_the_rule(escalate_after_days, expected):
    found = messages(initiative(actions=[action(-13)]),
                     using=settings(escalate_after_days=escalate_after_days))
    assert any(m.kind == "escalation" for m in found) is expected


@pytest.mark.parametrize("state", ["sent", "sending", "failed"])
def test_escalation_is_sent_only_once(state):
    init = initiative(actions=[action(-14)])
    history = [entry("escalation:A1:2026-11-18", "carla@example.dk", NOW, state),
               entry("overdue:A1:2026-11-18:1", "anne@example.dk", NOW)]
    for days in (0, 1, 7, 30):
        assert messages(init, history, NOW + timedelta(days=days)) == (
            [] if days < 7 else [Message(
                "overdue", "overdue:A1:2026-11-18:2", ANNE_TO, "A1",
                payload={"due": "2026-11-18", "days_overdue": 14 + days, "n": 2})])


def test_a_retried_delivery_is_still_due():
    init = initiative(actions=[action(3)])
    history = [entry("reminder:A1:2026-12-05", "anne@example.dk", NOW, "retry")]
    assert [m.key for m in messages(init, history)] == ["reminder:A1:2026-12-05"]


def test_reminder_sent_once_per_due_date():
    init = initiative(actions=[action(3)])
    history = [entry("reminder:A1:2026-12-05", "ANNE@example.dk", NOW - timedelta(days=1))]
    assert messages(init, history) == []
    moved = initiative(actions=[action(2)])
    assert [m.key for m in messages(moved, history)] == ["reminder:A1:2026-12-04"]


def test_overdue_notices_count_per_due_date():
    # a notice about the old due date does not hold one about the new one
    history = [entry("overdue:A1:2026-11-20:1", "anne@example.dk", NOW - timedelta(days=1))]
    assert [m.key for m in messages(initiative(actions=[action(-2)]), history)] == [
        "overdue:A1:2026-11-30:1"]


@pytest.mark.parametrize(("now", "expected"), [
    # the action is due 2026-12-01; at 00:30 Copenhagen time it is overdue, though UTC
    # still says 30 November
    (datetime(2026, 12, 1, 23, 30, tzinfo=UTC), ["overdue:A1:2026-12-01:1"]),
    (datetime(2026, 12, 1, 22, 59, tzinfo=UTC), []),
])
def test_the_day_turns_at_local_midnight(now, expected):
    due = date(2026, 12, 1)
    init = initiative(actions=[action(None, due=due)])
    assert [m.key for m in messages(init, now=now)] == expected


@pytest.mark.parametrize(("last_sent", "expected"), [
    # the last notice went out at 00:30 on 25 November in Copenhagen (23:30 UTC the 24th):
    # on 1 December that is 6 local days ago, not 7
    (datetime(2026, 11, 24, 23, 30, tzinfo=UTC), []),
    (datetime(2026, 11, 24, 22, 59, tzinfo=UTC), ["overdue:A1:2026-11-20:2"]),
])
def test_repeats_count_local_days(last_sent, expected):
    init = initiative(actions=[action(None, due=date(2026, 11, 20))])
    history = [entry("overdue:A1:2026-11-20:1", "anne@example.dk", last_sent)]
    now = datetime(2026, 12, 1, 9, 0, tzinfo=ZONE)
    assert [m.key for m in messages(init, history, now)] == expected


# -- indicators ----------------------------------------------------------------------


def test_indicator_request_whole():
    init = initiative(indicators=[indicator(updated=date(2026, 9, 9))])
    assert messages(init) == [Message("indicator", "indicator:I1:2026-12-09:1", BO_TO, "I1",
                                      payload={"next_update": "2026-12-09", "n": 1})]
    never = initiative(indicators=[indicator()])
    assert messages(never) == [Message("indicator", "indicator:I1:none:1", BO_TO, "I1",
                                       payload={"next_update": None, "n": 1})]


@pytest.mark.parametrize("owner", [None, Person(3, "Bo Berg", None, "bo@")])
def test_indicator_without_an_owner_address_gets_no_request(owner):
    assert messages(initiative(indicators=[indicator(owner=owner)])) == []


def test_indicator_without_dates_is_due_even_with_no_lead_time():
    using = settings(indicator_remind_days_before=0)
    assert [m.key for m in messages(initiative(indicators=[indicator()]), using=using)] == [
        "indicator:I1:none:1"]


def test_indicator_asked_before_the_date_is_asked_again_only_once_overdue():
    init = initiative(indicators=[indicator(updated=date(2026, 9, 9))])  # due 2026-12-09
    history = [entry("indicator:I1:2026-12-09:1", "bo@example.dk", NOW)]
    on_the_day = datetime(2026, 12, 9, 9, 0, tzinfo=ZONE)  # 7 days after the request
    assert messages(init, history, on_the_day) == []
    assert [m.key for m in messages(init, history, on_the_day + timedelta(days=1))] == [
        "indicator:I1:2026-12-09:2"]


def test_indicator_request_for_a_new_date_is_not_held_by_the_old_one():
    history = [entry("indicator:I1:2026-09-01:3", "bo@example.dk", NOW - timedelta(days=1))]
    init = initiative(indicators=[indicator(updated=date(2026, 9, 9))])
    assert [m.key for m in messages(init, history)] == ["indicator:I1:2026-12-09:1"]


# -- meetings ------------------------------------------------------------------------


def test_invitation_whole_and_agenda_in_the_same_cycle():
    init = initiative([meeting(3, agenda=("Velkomst",))], people=(ANNE,))
    invitation = {"date": "2026-12-05", **DETAILS, "seq": 0, "update": False}
    assert messages(init) == [
        Message("invitation", "invitation:M1:0", ANNE_TO, "M1", payload=invitation),
        Message("invitation", "invitation:M1:0", CARLA_TO, "M1", payload=invitation),
        Message("agenda", "agenda:M1", ANNE_TO, "M1"),
        Message("agenda", "agenda:M1", CARLA_TO, "M1"),
    ]


def test_invitation_without_an_end_time():
    init = initiative([meeting(3, end=None)], people=(ANNE,), chair=None)
    assert messages(init)[0].payload == {"date": "2026-12-05", "start": "14:00", "end": "",
                                         "location": "Rådhuset", "seq": 0, "update": False}


def test_agenda_and_follow_up_on_the_meeting_day_when_follow_up_may_start_at_once():
    init = initiative([meeting(0, agenda=("Velkomst",), minutes="Referat")],
                      people=(ANNE,), chair=None)
    found = messages(init, using=settings(followup_days_after=0))
    assert [(m.kind, m.key) for m in found] == [
        ("invitation", "invitation:M1:0"), ("agenda", "agenda:M1"),
        ("followup", "followup:M1")]
    assert found[2] == Message("followup", "followup:M1", ANNE_TO, "M1")


def invited(days: int, at: datetime = NOW, **fields) -> list[LedgerEntry]:
    """Anne's ledger after the invitation to M1 (``days`` ahead at ``at``)."""
    init = initiative([meeting(days, **fields)], people=(ANNE,), chair=None)
    return [sent(m, at) for m in messages(init, now=at)]


@pytest.mark.parametrize(("days", "expected"), [
    (0, ["invitation:M1:1"]),  # the meeting day: an update still goes out
    (-1, []),  # moved into the past: nothing
])
def test_invitation_update_on_the_meeting_day(days, expected):
    history = invited(10)
    moved = initiative([meeting(days, start=time(15))], people=(ANNE,), chair=None)
    found = messages(moved, history, NOW + timedelta(hours=1))
    assert [m.key for m in found] == expected
    if expected:
        # the update carries what the invitation before it said, to name the change
        assert found[0].payload == {"date": (TODAY + timedelta(days=days)).isoformat(),
                                    "start": "15:00", "end": "16:00", "location": "Rådhuset",
                                    "seq": 1, "update": True,
                                    "previous": {"date": "2026-12-12", **DETAILS}}


def test_an_update_is_worded_as_an_update_and_a_late_member_gets_the_current_one():
    history = invited(10)
    moved = initiative([meeting(10, location="Biblioteket")], people=(ANNE,), chair=None)
    update = messages(moved, history, NOW + timedelta(hours=1))
    assert [(m.key, m.payload["update"], m.payload["seq"]) for m in update] == [
        ("invitation:M1:1", True, 1)]
    history += [sent(m, NOW + timedelta(hours=1)) for m in update]
    dina = Person(5, "Dina", "dina@example.dk", "dina@example.dk", groups=("AG",))
    later = initiative([meeting(10, location="Biblioteket")], people=(ANNE, dina), chair=None)
    found = messages(later, history, NOW + timedelta(hours=2))
    assert found == [Message(
        "invitation", "invitation:M1:1", Recipient("Dina", "dina@example.dk", "da"), "M1",
        payload={"date": "2026-12-12", **DETAILS, "location": "Biblioteket", "seq": 1,
                 "update": True, "previous": {"date": "2026-12-12", **DETAILS}})]


def test_a_member_added_after_a_reinstatement_gets_its_calendar_sequence():
    # invitation seq 0, cancel (SEQUENCE 1), reinstated as invitation:M1:1 with SEQUENCE 2
    history = invited(10)
    cancel_at, back_at = NOW + timedelta(hours=1), NOW + timedelta(hours=2)
    cancelled = initiative([meeting(10, cancelled=True)], people=(ANNE,), chair=None)
    history += [sent(m, cancel_at) for m in messages(cancelled, history, cancel_at)]
    back = initiative([meeting(10)], people=(ANNE,), chair=None)
    reinstated = messages(back, history, back_at)
    assert [(m.key, m.payload["seq"]) for m in reinstated] == [("invitation:M1:1", 2)]
    history += [sent(m, back_at) for m in reinstated]
    dina = Person(5, "Dina", "dina@example.dk", "dina@example.dk", groups=("AG",))
    later = initiative([meeting(10)], people=(ANNE, dina), chair=None)
    assert [(m.key, m.recipient.email, m.payload["seq"], m.payload["update"])
            for m in messages(later, history, back_at + timedelta(hours=1))] == [
        ("invitation:M1:1", "dina@example.dk", 2, True)]


def test_a_ledger_row_without_a_payload_counts_by_its_key():
    # rows recorded without what the invitation carried (an older ledger)
    history = [entry("invitation:M1:2", "anne@example.dk", NOW - timedelta(days=2),
                     payload={"date": "2026-12-12", **DETAILS}),
               entry("cancel:M1", "anne@example.dk", NOW - timedelta(days=1))]
    init = initiative([meeting(10)], people=(ANNE,), chair=None)
    found = messages(init, history)
    assert [(m.key, m.payload["seq"]) for m in found] == [("invitation:M1:3", 3)]
    unchanged = [entry("invitation:M1:2", "anne@example.dk", NOW - timedelta(days=2),
                       payload={"date": "2026-12-12", **DETAILS})]
    dina = Person(5, "Dina", "dina@example.dk", "dina@example.dk", groups=("AG",))
    later = initiative([meeting(10)], people=(ANNE, dina), chair=None)
    assert [(m.key, m.recipient.email, m.payload["seq"])
            for m in messages(later, unchanged)] == [("invitation:M1:2", "dina@example.dk", 2)]


@pytest.mark.parametrize(("days", "expected"), [(0, ["cancel:M1"]), (-1, [])])
def test_cancellation_on_the_meeting_day(days, expected):
    history = invited(10)
    cancelled = initiative([meeting(days, cancelled=True)], people=(ANNE,), chair=None)
    found = messages(cancelled, history, NOW + timedelta(hours=1))
    assert [m.key for m in found] == expected
    if expected:
        assert found[0] == Message("cancel", "cancel:M1", ANNE_TO, "M1", payload={
            "date": "2026-12-12", **DETAILS, "seq": 1, "update": False})


def test_cancellation_skips_failed_deliveries_and_reaches_those_who_left():
    history = [
        entry("invitation:M1:0", "anne@example.dk", NOW, payload={"seq": 0}),
        entry("invitation:M1:0", "bo@example.dk", NOW, "failed", payload={"seq": 0}),
        entry("invitation:M1:0", "old@example.dk", NOW, payload={"seq": 0}),
    ]
    bo_left = replace(BO, groups=())
    cancelled = initiative([meeting(10, cancelled=True)], people=(ANNE, bo_left), chair=None)
    found = messages(cancelled, history, NOW + timedelta(hours=1))
    assert [m.recipient for m in found] == [
        ANNE_TO, Recipient("old@example.dk", "old@example.dk", "da")]


def test_cancellation_reaches_a_member_who_left_by_name_and_language():
    history = [entry("invitation:M1:0", "bo@example.dk", NOW, payload={"seq": 0})]
    bo_left = replace(BO, groups=())
    cancelled = initiative([meeting(10, cancelled=True)], people=(ANNE, bo_left), chair=None)
    assert [m.recipient for m in messages(cancelled, history)] == [BO_TO]


def test_every_row_is_planned():
    second = Person(6, "Eva", "eva@example.dk", "eva@example.dk", groups=("AG",))
    init = initiative(
        meetings=[meeting(3, agenda=()), meeting(4, id="M2", row=3, agenda=())],
        actions=[action(2), action(-1, id="A2", row=3)],
        indicators=[indicator(), indicator(id="I2", row=3, owner=second)],
        people=(ANNE,), chair=None,
    )
    assert [(m.key, m.recipient.email) for m in messages(init)] == [
        ("invitation:M1:0", "anne@example.dk"),
        ("invitation:M2:0", "anne@example.dk"),
        ("reminder:A1:2026-12-04", "anne@example.dk"),
        ("overdue:A2:2026-12-01:1", "anne@example.dk"),
        ("indicator:I1:none:1", "bo@example.dk"),
        ("indicator:I2:none:1", "eva@example.dk"),
    ]


# -- the digest ----------------------------------------------------------------------


@pytest.mark.parametrize(("weekday", "now", "expected"), [
    ("wednesday", datetime(2026, 12, 1, 23, 0, tzinfo=ZONE), []),
    ("wednesday", datetime(2026, 12, 2, 7, 59, tzinfo=ZONE), []),
    ("wednesday", datetime(2026, 12, 2, 8, 0, tzinfo=ZONE), ["digest:2026-W49"]),
    ("wednesday", datetime(2026, 12, 6, 23, 59, tzinfo=ZONE), ["digest:2026-W49"]),
    ("sunday", datetime(2026, 12, 6, 7, 59, tzinfo=ZONE), []),
    ("sunday", datetime(2026, 12, 6, 8, 0, tzinfo=ZONE), ["digest:2026-W49"]),
    # 07:30 UTC on Monday is 08:30 in Copenhagen
    ("monday", datetime(2026, 11, 30, 7, 30, tzinfo=UTC), ["digest:2026-W49"]),
    ("monday", datetime(2026, 11, 30, 6, 59, tzinfo=UTC), []),
])
def test_digest_day_is_the_setting(weekday, now, expected):
    using = replace(SETTINGS, schedule=replace(
        SETTINGS.schedule, digest_weekday=config.WEEKDAYS.index(weekday)))
    assert [m.key for m in digest(initiative(), now=now, using=using)] == expected


@pytest.mark.parametrize("state", ["sent", "sending", "failed"])
def test_digest_once_a_week(state):
    history = [entry("digest:2026-W49", "sek@example.dk", NOW, state)]
    assert digest(initiative(), history, NOW + timedelta(hours=1)) == []
    assert [m.key for m in digest(initiative(), history, NOW + timedelta(days=5))] == [
        "digest:2026-W50"]


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def test_digest_payload_whole():
    meetings = [
        meeting(0, id="M-today", start=time(14)),  # no agenda yet, agenda time reached
        meeting(14, id="M-14", start=time(9), agenda=("Velkomst",)),
        meeting(15, id="M-15"),  # beyond 14 days
        meeting(5, id="M-5-none", start=None),  # agenda time reached today
        meeting(5, id="M-5-eight", start=time(8), agenda=("x",)),
        meeting(6, id="M-6"),  # agenda not due yet
        meeting(3, id="M-cancelled", cancelled=True),
        meeting(-1, id="P-1"),  # passed yesterday: minutes not missing yet
        meeting(-2, id="P-2"),
        meeting(-30, id="P-30"),
        meeting(-31, id="P-31"),
        meeting(-2, id="P-2-minutes", minutes="Referat"),
        meeting(-2, id="P-2-cancelled", cancelled=True),
    ]
    actions = [
        action(-1, id="A-late"),
        action(0, id="A-today"),
        action(-5, id="A-done", done=True),
        action(None, id="A-none"),
        action(-40, id="A-long"),
    ]
    indicators = [
        indicator(id="I-behind", baseline=0.0, target=100.0, current=1.0,
                  start_date=date(2026, 1, 1), target_date=date(2026, 12, 31),
                  updated=date(2026, 11, 1)),
        indicator(id="I-none", current=None),
        indicator(id="I-fine", current=5.0, target=None),
        indicator(id="I-achieved", baseline=0.0, target=10.0, current=10.0),
    ]
    problems = [Problem("Handlinger", "E7", "31-02", "Frist: ikke en dato"),
                Problem("Personer", "C3", "", "Sprog: ukendt", severity="warning")]
    init = Initiative(people=[ANNE], groups={"AG": Group(2, "AG")}, meetings=meetings,
                      actions=actions, indicators=indicators, problems=problems)
    at = datetime(2026, 11, 25, 9, 15, tzinfo=UTC)
    entries = [
        entry("invitation:M-today:0", "anne@example.dk", at),
        entry("invitation:M-today:1", "anne@example.dk", at + timedelta(days=2)),
        entry("invitation:M-today:2", "anne@example.dk", at + timedelta(days=3), "failed",
              error="550 nej"),
        entry("agenda:M-today", "anne@example.dk", at + timedelta(days=4), "sending"),
        entry("followup:M-14", "anne@example.dk", at - timedelta(hours=10)),
        entry("agenda:M-14", "anne@example.dk", at, "retry", error="421 senere"),
    ]
    found = digest(init, entries)
    assert [(m.kind, m.key, m.recipient, m.subject_id, m.cc) for m in found] == [
        ("digest", "digest:2026-W49", SECRETARIAT, "", ())]
    no_sent = {"invitation": "", "agenda": "", "followup": ""}
    assert found[0].payload == {
        "week": "2026-W49",
        "overdue_actions": ["A-late", "A-long"],
        "upcoming_meetings": [
            {"id": "M-today", "sent": {"invitation": "2026-11-27 10:15", "agenda": "",
                                       "followup": ""}},
            {"id": "M-5-none", "sent": no_sent},
            {"id": "M-5-eight", "sent": no_sent},
            {"id": "M-6", "sent": no_sent},
            {"id": "M-14", "sent": {"invitation": "", "agenda": "",
                                    "followup": "2026-11-25 00:15"}},
        ],
        "missing_agendas": ["M-today", "M-5-none"],
        "missing_minutes": ["P-2", "P-30"],
        "indicators": [{"id": "I-behind", "assessment": "behind"},
                       {"id": "I-none", "assessment": "no_data"}],
        "problems": ["Handlinger!E7: Frist: ikke en dato"],
        "failed": [{"key": "invitation:M-today:2", "recipient": "anne@example.dk",
                    "error": "550 nej"}],
        "uncertain": [{"key": "agenda:M-today", "recipient": "anne@example.dk"}],
        "retrying": [{"key": "agenda:M-14", "recipient": "anne@example.dk",
                      "error": "421 senere"}],
        "held": {"window": 0, "cap": 0},
    }


@pytest.mark.parametrize(("agenda_days_before", "followup_max_days", "agendas", "minutes"), [
    (6, 30, ["M-0", "M-6"], ["P-2", "P-30"]),
    (5, 31, ["M-0"], ["P-2", "P-30", "P-31"]),
])
def test_digest_windows_follow_the_rules(agenda_days_before, followup_max_days, agendas,
                                         minutes):
    init = initiative([meeting(0, id="M-0"), meeting(6, id="M-6"), meeting(-2, id="P-2"),
                       meeting(-30, id="P-30"), meeting(-31, id="P-31")])
    using = settings(agenda_days_before=agenda_days_before,
                     followup_max_days=followup_max_days)
    payload = digest(init, using=using)[0].payload
    assert payload["missing_agendas"] == agendas
    assert payload["missing_minutes"] == minutes
