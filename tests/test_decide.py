"""What one reply does (automation/inbox/decide.py): the rules of README "Replies by
mail", each on a reply as reading.py gives it and the mail it answers as the ledger has it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from automation import config
from automation.core.model import (
    Action,
    Change,
    Group,
    Indicator,
    Initiative,
    Meeting,
    Person,
    SentMail,
)
from automation.inbox.decide import decide, still_applies
from automation.inbox.reading import CalendarAnswer, Reply
from automation.inbox.step import with_changes
from automation.mail.ics import event_uid

WHEN = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
SOFIE = Person(2, "Sofie Holm", "sofie@kommune.example", "sofie@kommune.example",
               groups=("AG",))
CHAIR = Person(3, "Carl Berg", "carl@ngo.example", "carl@ngo.example", groups=("AG",))
OUTSIDER = Person(4, "Ole Ny", "ole@fond.example", "ole@fond.example", groups=("SG",),
                  language="en")


@pytest.fixture
def settings() -> config.Settings:
    return config.parse({
        "initiative": {"name": "Ungeløftet", "secretariat": "Sek <sek@kommune.example>"},
        "sheet": {"path": "a.xlsx"},
        "inbox": {"host": "imap.example", "username": "sek@kommune.example",
                  "trusted_authserv_id": "mx.kommune.example"},
    }, Path("/tmp/rygrad.toml"))


@pytest.fixture
def initiative() -> Initiative:
    return Initiative(
        people=[SOFIE, CHAIR, OUTSIDER],
        groups={"AG": Group(2, "AG", chair=CHAIR)},
        meetings=[Meeting(2, "M-1", "AG", date(2026, 12, 10))],
        actions=[Action(2, "H-7", "AG", "Kortlæg", SOFIE, "Sofie Holm", date(2026, 12, 4),
                        "I gang"),
                 Action(3, "H-8", "AG", "Budget", SOFIE, "Sofie Holm", date(2026, 12, 1),
                        "Færdig", done=True)],
        indicators=[Indicator(2, "I-1", "AG", "Unge i job", "%", current=70.0,
                              updated=date(2026, 9, 1), owner=SOFIE)],
    )


def reply(text: str = "", sender: str = SOFIE.email or "", **fields: object) -> Reply:
    base = Reply("<r1@kommune.example>", ("<m1@kommune.example>",), sender, "", "SV: x",
                 WHEN, "", (), text, (), "da", "")
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def mail(kind: str = "reminder", subject: str = "H-7", to: str = SOFIE.email or "",
         **payload: object) -> SentMail:
    return SentMail("<m1@kommune.example>", f"{kind}:{subject}:1", to, kind, subject,
                    {"due": "2026-12-04", **payload}, "2026-12-02T09:00:00+01:00")


def test_done_from_the_owner_sets_the_first_done_status(settings, initiative):
    decision = decide(reply("Færdig"), mail(), initiative, settings, {}, WHEN)
    assert decision.decision == "applied" and decision.answered
    assert decision.changes == (Change("actions", "H-7", "status", "I gang", "Færdig"),)
    assert decision.told == "H-7 er markeret som udført i arket."


def test_a_done_action_stays_done_and_takes_no_new_due_date(settings, initiative):
    assert decide(reply("færdig"), mail(subject="H-8"), initiative, settings, {},
                  WHEN).changes == ()
    late = decide(reply("ny frist 15.12.2026"), mail(subject="H-8", due="2026-12-01"),
                  initiative, settings, {}, WHEN)
    assert late.decision == "conflict" and late.changes == ()


def test_a_new_due_date_is_written_in_the_sheets_own_order(settings, initiative):
    decision = decide(reply("ny frist 15.12.2026"), mail(), initiative, settings, {}, WHEN)
    assert decision.changes == (Change("actions", "H-7", "due", "4.12.2026", "15.12.2026"),)


def test_a_due_date_changed_in_the_sheet_since_the_mail_is_a_conflict(settings, initiative):
    decision = decide(reply("ny frist 15.12.2026"), mail(due="2026-11-30"), initiative,
                      settings, {}, WHEN)
    assert decision.decision == "conflict" and decision.changes == ()
    assert "ændret i arket" in decision.told


def test_someone_else_than_the_recipient_changes_nothing(settings, initiative):
    decision = decide(reply("Færdig", sender="ole@fond.example"), mail(), initiative,
                      settings, {}, WHEN)
    assert decision.decision == "not_allowed" and decision.changes == ()
    assert decision.told == "The mail you answered went to someone else."  # Ole reads English


def test_an_escalation_may_be_answered_by_its_chair_or_the_owner(settings, initiative):
    escalation = mail("escalation", to=CHAIR.email or "")
    for sender in (CHAIR.email, SOFIE.email):
        assert decide(reply("færdig", sender=sender or ""), escalation, initiative, settings,
                      {}, WHEN).decision == "applied"


def test_automatic_and_spoofed_mail_is_neither_used_nor_answered(settings, initiative):
    away = decide(reply("Færdig", automatic="Auto-Submitted: auto-replied"), mail(),
                  initiative, settings, {}, WHEN)
    spoofed = decide(reply("Færdig", dmarc_fail_by=("mx.kommune.example",)), mail(),
                     initiative, settings, {}, WHEN)
    other_server = decide(reply("Færdig", dmarc_fail_by=("mx.elsewhere.example",)), mail(),
                          initiative, settings, {}, WHEN)
    assert (away.decision, away.answered) == ("automatic", False)
    assert (spoofed.decision, spoofed.answered) == ("untrusted", False)
    assert other_server.decision == "applied"  # only the trusted server's verdict counts


def test_a_sentence_is_no_command(settings, initiative):
    decision = decide(reply("Jeg er ikke helt færdig endnu"), mail(), initiative, settings,
                      {}, WHEN)
    assert decision.decision == "not_understood" and decision.answered


def test_a_value_sets_the_indicator_and_its_date(settings, initiative):
    decision = decide(reply("værdi: 74,5 %"), mail("indicator", "I-1"), initiative,
                      settings, {}, WHEN)
    assert decision.changes == (
        Change("indicators", "I-1", "current", "70", "74,5"),
        Change("indicators", "I-1", "updated", "1.9.2026", "3.12.2026"))


def test_a_value_updated_in_the_sheet_after_the_request_is_a_conflict(settings, initiative):
    newer = dataclasses.replace(initiative, indicators=[dataclasses.replace(
        initiative.indicators[0], updated=date(2026, 12, 2), current=71.0)])
    newer._index = {}
    decision = decide(reply("74,5"), mail("indicator", "I-1"), newer, settings, {}, WHEN)
    assert decision.decision == "conflict" and decision.changes == ()


def test_a_calendar_answer_counts_from_the_invitee_only(settings, initiative):
    uid = event_uid("Ungeløftet", "M-1", "kommune.example")
    accept = reply(calendar=(CalendarAnswer(uid, SOFIE.email or "", "ACCEPTED", 0),))
    decision = decide(accept, None, initiative, settings, {uid: "M-1"}, WHEN)
    assert decision.decision == "calendar" and not decision.answered
    assert [(a.meeting_id, a.attendee, a.answer) for a in decision.meeting_answers] == [
        ("M-1", "sofie@kommune.example", "accepted")]
    # the ATTENDEE must be the sender, and the sender invited to the meeting
    forged = reply(calendar=(CalendarAnswer(uid, CHAIR.email or "", "ACCEPTED", 0),))
    outsider = reply(sender="ole@fond.example",
                     calendar=(CalendarAnswer(uid, "ole@fond.example", "DECLINED", 0),))
    for wrong in (forged, outsider):
        refused = decide(wrong, None, initiative, settings, {uid: "M-1"}, WHEN)
        assert refused.decision == "not_allowed" and not refused.meeting_answers


def test_a_change_is_written_only_while_the_cell_holds_what_the_reply_saw(initiative):
    change = Change("actions", "H-7", "due", "4.12.2026", "15.12.2026")
    assert still_applies(change, initiative, "dmy") == "write"
    moved = with_changes(initiative, [change], "dmy")
    assert moved.action("H-7").due == date(2026, 12, 15)
    assert still_applies(change, moved, "dmy") == ""  # written already
    typed = dataclasses.replace(initiative, actions=[dataclasses.replace(
        initiative.actions[0], due=date(2026, 12, 20))])
    typed._index = {}
    assert still_applies(change, typed, "dmy") is None  # a partner's later typing wins


def test_a_reply_to_rygrads_own_answer_is_not_answered_again(settings, initiative):
    """An auto-responder that marks nothing, answering rygrad's answer: no second answer,
    so no loop."""
    answer = SentMail("<a1@kommune.example>", "answer:<r0@kommune.example>",
                      SOFIE.email or "", "answer", "H-7", {}, "2026-12-03T09:00:00+01:00")
    decision = decide(reply("Tak!"), answer, initiative, settings, {}, WHEN)
    assert decision.changes == () and not decision.answered


def test_a_reply_without_a_readable_sender_changes_nothing_and_is_not_answered(
        settings, initiative):
    decision = decide(reply("Færdig", sender=""), mail(), initiative, settings, {}, WHEN)
    assert decision.decision == "unreadable" and not decision.answered
