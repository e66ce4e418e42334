"""Meeting answers (README, "Meeting answers"): which answer counts, the four W columns on
Møder, the agenda's »Hvem kommer«, the reminder to answer, and nothing without [inbox]."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from icalendar import Calendar, Event, vCalAddress

from automation import cli, config
from automation.core import rsvp
from automation.core.model import (
    Initiative,
    LedgerEntry,
    Meeting,
    MeetingAnswer,
    Message,
    Person,
)
from automation.core.plan import plan
from automation.core.projection import cell_updates, resolve
from automation.core.settings import InitiativeSettings, MailSettings, Rules, SheetSettings
from automation.core.settings import Settings as CoreSettings
from automation.errors import ConfigError
from automation.scaffold.example import write_example_workbook
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

ZONE = ZoneInfo("Europe/Copenhagen")
ANNE, BO, DORTE = "anne@kommune.example", "bo@ngo.example", "dorte@fond.example"


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), ZONE)


def answer(who: str, what: str, seq: int, when: datetime, meeting: str = "M-1") -> MeetingAnswer:
    return MeetingAnswer(meeting, who, what, seq, when)


# -- the rule: which answer counts (pure) ---------------------------------------------------

def person(name: str, address: str) -> Person:
    return Person(row=2, name=name, email=address, email_text=address)


MEMBERS = [person("Anne Holm", ANNE), person("Dorte Dahl", DORTE)]
MEETING = Meeting(row=2, id="M-1", group="Styregruppe", date=date(2026, 12, 17),
                  start=time(14), end=time(16), location="Rådhuset")
DETAILS = {"date": "2026-12-17", "start": "14:00", "end": "16:00", "location": "Rådhuset"}


def invited(seq: int, when: datetime, recipients: tuple[str, ...] = (ANNE, DORTE),
            **changed: str) -> list[LedgerEntry]:
    """The ledger's rows of one invitation (update) as the planner records them."""
    payload = dict(DETAILS, **changed, seq=seq, update=seq > 0)
    return [LedgerEntry(f"invitation:M-1:{seq}", r, "invitation", "M-1", "sent", when, payload)
            for r in recipients]


def cancelled(seq: int, when: datetime) -> list[LedgerEntry]:
    return [LedgerEntry("cancel:M-1", r, "cancel", "M-1", "sent", when, dict(DETAILS, seq=seq))
            for r in (ANNE, DORTE)]


T0 = at(date(2026, 12, 1))


def names(found: rsvp.Responses) -> tuple[list[str], ...]:
    return tuple([p.name for p in group] for group in
                 (found.accepted, found.declined, found.tentative, found.missing))


def test_an_answer_to_an_earlier_sequence_counts_while_the_meeting_has_not_moved():
    # seq 1 only added an online link: the meeting is where and when it was
    history = invited(0, T0) + invited(1, T0 + timedelta(days=1), link="https://meet.example/x")
    found = rsvp.responses(MEETING, MEMBERS, [answer(ANNE, "accepted", 0, T0 + timedelta(hours=2))],
                           history)
    assert names(found) == (["Anne Holm"], [], [], ["Dorte Dahl"])


@pytest.mark.parametrize("moved", [{"location": "Biblioteket"}, {"start": "15:00"},
                                   {"end": "17:00"}, {"date": "2026-12-18"}])
def test_an_answer_does_not_count_once_the_meeting_moves(moved):
    history = invited(0, T0) + invited(1, T0 + timedelta(days=1), **moved)
    answers = [answer(ANNE, "accepted", 0, T0 + timedelta(hours=2)),
               answer(DORTE, "declined", 1, T0 + timedelta(days=1, hours=1))]
    found = rsvp.responses(MEETING, MEMBERS, answers, history)
    assert names(found) == ([], ["Dorte Dahl"], [], ["Anne Holm"])
    assert rsvp.asked_since(history) == 1


def test_a_move_and_a_move_back_still_asks_again():
    history = (invited(0, T0) + invited(1, T0 + timedelta(days=1), location="Biblioteket")
               + invited(2, T0 + timedelta(days=2)))
    found = rsvp.responses(MEETING, MEMBERS, [answer(ANNE, "accepted", 0, T0)], history)
    assert names(found) == ([], [], [], ["Anne Holm", "Dorte Dahl"])


def test_the_latest_answer_counts_and_other_meetings_answers_do_not():
    history = invited(0, T0)
    answers = [answer(ANNE, "accepted", 0, T0 + timedelta(hours=1)),
               answer(ANNE, "tentative", 0, T0 + timedelta(hours=3)),
               answer(DORTE, "declined", 0, T0 + timedelta(hours=1), meeting="M-2"),
               answer(DORTE, "maybe-later", 0, T0 + timedelta(hours=1))]
    found = rsvp.responses(MEETING, MEMBERS, reversed(answers), history)
    assert names(found) == ([], [], ["Anne Holm"], ["Dorte Dahl"])


def test_a_stale_answer_after_a_move_does_not_undo_the_new_one():
    history = invited(0, T0) + invited(1, T0 + timedelta(days=1), location="Biblioteket")
    answers = [answer(ANNE, "declined", 1, T0 + timedelta(days=1, hours=1)),
               answer(ANNE, "accepted", 0, T0 + timedelta(days=2))]  # the old mail, later
    assert names(rsvp.responses(MEETING, MEMBERS, answers, history))[1] == ["Anne Holm"]


def test_answers_end_with_a_cancellation():
    history = invited(0, T0) + cancelled(1, T0 + timedelta(days=1))
    answers = [answer(ANNE, "accepted", 0, T0 + timedelta(hours=1))]
    # cancelled: no answers, nobody is missing
    gone = replace(MEETING, cancelled=True)
    assert names(rsvp.responses(gone, MEMBERS, answers, history)) == ([], [], [], [])
    # reinstated (same time and place): asked again
    history += invited(2, T0 + timedelta(days=2))
    assert rsvp.asked_since(history) == 2
    assert names(rsvp.responses(MEETING, MEMBERS, answers, history)) == \
        ([], [], [], ["Anne Holm", "Dorte Dahl"])


def test_only_members_who_were_sent_the_invitation_are_missing():
    history = invited(0, T0, recipients=(ANNE,))  # Dorte's failed, or she joined since
    assert names(rsvp.responses(MEETING, MEMBERS, [], history)) == ([], [], [], ["Anne Holm"])
    assert names(rsvp.responses(MEETING, MEMBERS, [], [])) == ([], [], [], [])


# -- the reminder: boundaries and once only (pure planner) -----------------------------------

SETTINGS = CoreSettings(
    file=Path("rygrad.toml"),
    initiative=InitiativeSettings("Ungeløftet", "Sekretariatet", "sekretariat@example.dk"),
    sheet=SheetSettings(), mail=MailSettings(), rules=Rules(rsvp_reminder_days_before=3))


def initiative(meeting: Meeting = MEETING) -> Initiative:
    people = [replace(p, groups=("Styregruppe",)) for p in MEMBERS]
    return Initiative(people=people, meetings=[meeting])


def rsvps(entries: list[LedgerEntry], now: datetime, answers: list[MeetingAnswer] | None,
          meeting: Meeting = MEETING) -> list[Message]:
    return [m for m in plan(initiative(meeting), entries, now, SETTINGS, answers).messages
            if m.kind == "rsvp"]


def sent(messages: list[Message], when: datetime) -> list[LedgerEntry]:
    return [LedgerEntry(m.key, m.recipient.email, m.kind, m.subject_id, "sent", when,
                        m.payload) for m in messages]


MEETING_DAY = MEETING.date


@pytest.mark.parametrize(("days_before", "due"), [(4, False), (3, True), (1, True), (0, False)])
def test_the_reminder_goes_the_configured_days_before(days_before, due):
    history = invited(0, T0)
    now = at(MEETING_DAY - timedelta(days=days_before))
    found = rsvps(history, now, [answer(ANNE, "accepted", 0, T0 + timedelta(hours=1))])
    assert [(m.key, m.recipient.email) for m in found] == \
        ([("rsvp:M-1:0", DORTE)] if due else [])
    if due:
        assert found[0].payload == {"seq": 0, "days_left": days_before, "invited": "2026-12-01"}


def test_the_reminder_goes_once_per_sequence_asked():
    history = invited(0, T0)
    first = at(MEETING_DAY - timedelta(days=3))
    history += sent(rsvps(history, first, []), first)
    assert {e.recipient for e in history if e.kind == "rsvp"} == {ANNE, DORTE}
    assert rsvps(history, first + timedelta(hours=4), []) == []
    assert rsvps(history, first + timedelta(days=1), []) == []
    # moved: asked again by the update; reminded again a day after it
    moved = replace(MEETING, location="Biblioteket")
    update = first + timedelta(hours=5)
    history += invited(1, update, location="Biblioteket")
    assert rsvps(history, update + timedelta(hours=23), [], moved) == []
    again = rsvps(history, update + timedelta(days=1), [], moved)
    assert {(m.key, m.recipient.email) for m in again} == {("rsvp:M-1:1", ANNE),
                                                           ("rsvp:M-1:1", DORTE)}


def test_no_reminder_about_an_invitation_too_recent_to_answer():
    late = at(MEETING_DAY - timedelta(days=1), 16)  # invited the afternoon before
    history = invited(0, late)
    assert rsvps(history, late + timedelta(hours=1), []) == []
    assert rsvps(history, at(MEETING_DAY, 8), []) == []  # the day itself: too late


def test_no_reminder_without_inbox_or_for_a_cancelled_meeting():
    now = at(MEETING_DAY - timedelta(days=2))
    assert rsvps(invited(0, T0), now, None) == []
    history = invited(0, T0) + cancelled(1, T0 + timedelta(days=1))
    assert rsvps(history, now, [], replace(MEETING, cancelled=True)) == []


def test_no_reminder_in_a_cycle_that_sends_an_update():
    now = at(MEETING_DAY - timedelta(days=2))
    messages = plan(initiative(replace(MEETING, location="Biblioteket")), invited(0, T0), now,
                    SETTINGS, []).messages
    assert {m.kind for m in messages if m.kind != "digest"} == {"invitation"}


# -- the projection: the four columns, and none without [inbox] ------------------------------

def test_the_answer_columns_are_left_alone_without_inbox():
    now = at(date(2026, 12, 2))
    found = initiative()
    found.tab_titles["meetings"] = "Møder"
    found.columns["meetings"] = {"meeting_id": 1}
    found.header_width["meetings"] = 1
    found.row_ids[("meetings", 2)] = "M-1"
    without = cell_updates(found, invited(0, T0), now, SETTINGS)
    assert not {u.column for u in without} & {"attending", "declined", "tentative", "no_answer"}
    headers = {w.value for w in resolve(without, found, "da") if w.row == 1}
    assert "Mangler svar" not in headers and "Invitation sendt" in headers
    tracked = cell_updates(found, invited(0, T0), now, SETTINGS, [])
    assert {(u.column, u.value) for u in tracked if u.column == "no_answer"} == \
        {("no_answer", "Anne Holm, Dorte Dahl")}
    headers = {w.value for w in resolve(tracked, found, "da") if w.row == 1}
    assert "Mangler svar" in headers and "Deltager" not in headers  # only what is written


# -- end to end: a real workbook, a real SQLite ledger, the outbox ---------------------------

TODAY = date(2026, 12, 2)  # a Wednesday


def workbook(tmp_path: Path, meeting: dict[str, object]) -> Path:
    row = {"Møde-ID": "M-1", "Gruppe": "Styregruppe", "Start": "14:00", "Slut": "16:00",
           "Sted": "Rådhuset", **meeting}
    return write_workbook(tmp_path / "initiativ.xlsx",
                          {"Personer": PEOPLE, "Grupper": GROUPS, "Møder": [row]})


NO_INBOX = object()  # build the cycle as `rygrad run` does without [inbox]


def cycle(config_path: Path, now: datetime, answers: object
          ) -> None:
    settings = config.load(config_path)
    ledger = cli.build_ledger(settings)
    extra = {} if answers is NO_INBOX else {"meeting_answers": lambda: answers}
    try:
        outcome = cli.build_cycle(settings, ledger, now, **extra).run(now)
    finally:
        ledger.close()
    # the meeting's own mails all went out (other kinds are other tests' business)
    ours = ("invitation:", "agenda:", "rsvp:")
    assert not [f for f in outcome.failed + outcome.not_rendered + outcome.retry
                if f.startswith(ours)], outcome
    assert outcome.write_skipped == "", outcome


def columns(path: Path) -> dict[str, str]:
    row = cells(path, "Møder")[0]
    return {name: row.get(name) or "" for name in
            ("Deltager", "Afbud", "Måske", "Mangler svar")}


def test_a_cycle_writes_the_four_columns_and_a_move_asks_again(tmp_path):
    path = workbook(tmp_path, {"Dato": TODAY + timedelta(days=14)})
    conf = write_config(tmp_path, path)
    cycle(conf, at(TODAY), [])
    assert columns(path) == {"Deltager": "", "Afbud": "", "Måske": "",
                             "Mangler svar": "Anne Holm, Dorte Dahl"}
    answers = [answer(ANNE, "accepted", 0, at(TODAY, 11))]
    cycle(conf, at(TODAY, 12), answers)
    assert columns(path) == {"Deltager": "Anne Holm", "Afbud": "", "Måske": "",
                             "Mangler svar": "Dorte Dahl"}
    answers.append(answer(DORTE, "tentative", 0, at(TODAY, 13)))
    cycle(conf, at(TODAY, 14), answers)
    assert columns(path) == {"Deltager": "Anne Holm", "Afbud": "", "Måske": "Dorte Dahl",
                             "Mangler svar": ""}
    # the meeting moves: the update asks again, the answers to seq 0 no longer count
    write_workbook(path, {"Personer": PEOPLE, "Grupper": GROUPS, "Møder": [
        {"Møde-ID": "M-1", "Gruppe": "Styregruppe", "Dato": TODAY + timedelta(days=14),
         "Start": "14:00", "Slut": "16:00", "Sted": "Biblioteket"}]})
    cycle(conf, at(TODAY, 15), answers)
    outbox = by_key(read_outbox(tmp_path / "outbox"))
    assert ("invitation:M-1:1", ANNE) in outbox
    assert columns(path) == {"Deltager": "", "Afbud": "", "Måske": "",
                             "Mangler svar": "Anne Holm, Dorte Dahl"}
    answers.append(answer(DORTE, "declined", 1, at(TODAY, 16)))
    cycle(conf, at(TODAY, 17), answers)
    assert columns(path) == {"Deltager": "", "Afbud": "Dorte Dahl", "Måske": "",
                             "Mangler svar": "Anne Holm"}
    # after the meeting the record stays, though the inbox no longer reads the answers back
    cycle(conf, at(TODAY + timedelta(days=15)), [])
    assert columns(path) == {"Deltager": "", "Afbud": "Dorte Dahl", "Måske": "",
                             "Mangler svar": "Anne Holm"}


def test_the_agenda_shows_who_comes_and_the_reminder_asks_who_has_not_answered(tmp_path):
    meeting_day = TODAY + timedelta(days=7)
    path = workbook(tmp_path, {"Dato": meeting_day, "Dagsorden": "Velkomst\nBudget"})
    conf = write_config(tmp_path, path)
    cycle(conf, at(TODAY), [])  # invited
    answers = [answer(DORTE, "accepted", 0, at(TODAY, 12))]
    cycle(conf, at(meeting_day - timedelta(days=5)), answers)  # the agenda is due
    outbox = by_key(read_outbox(tmp_path / "outbox"))
    agenda = outbox[("agenda:M-1", ANNE)]
    text = agenda.get_body(("plain",)).get_content()
    assert "Hvem kommer" in text
    assert "Kommer:                Dorte Dahl" in text
    assert "Har ikke svaret endnu: Anne Holm" in text
    html = agenda.get_body(("html",)).get_content()
    assert "Hvem kommer" in html and "Har ikke svaret endnu" in html and "Anne Holm" in html
    assert not [k for k in outbox if k[0].startswith("rsvp:")]
    cycle(conf, at(meeting_day - timedelta(days=3)), answers)
    outbox = by_key(read_outbox(tmp_path / "outbox"))
    assert [k for k in outbox if k[0].startswith("rsvp:")] == [("rsvp:M-1:0", ANNE)]
    reminder = outbox[("rsvp:M-1:0", ANNE)]
    assert str(reminder["Subject"]) == \
        "Kommer du til styregruppemødet onsdag den 9. december 2026 kl. 14.00?"
    body = reminder.get_body(("plain",)).get_content()
    assert "Mødet er om tre dage, og vi har ikke fået dit svar endnu." in body
    assert "Svar i kalenderinvitationen, som vi sendte dig onsdag den 2. december" in body
    cycle(conf, at(meeting_day - timedelta(days=2)), answers)  # once only
    assert len([k for k in by_key(read_outbox(tmp_path / "outbox")) if k[0].startswith(
        "rsvp:")]) == 1


def test_english_readers_see_who_is_coming(tmp_path):
    meeting_day = TODAY + timedelta(days=3)
    path = write_workbook(tmp_path / "initiativ.xlsx", {
        "Personer": PEOPLE, "Grupper": GROUPS, "Møder": [
            {"Møde-ID": "M-2", "Gruppe": "AG Uddannelse", "Dato": meeting_day, "Start": "10:00",
             "Sted": "Rådhuset", "Dagsorden": "Status"}]})
    conf = write_config(tmp_path, path)
    cycle(conf, at(TODAY - timedelta(days=10)), [])
    answers = [answer(BO, "declined", 0, at(TODAY - timedelta(days=9)), meeting="M-2"),
               answer(ANNE, "tentative", 0, at(TODAY - timedelta(days=9)), meeting="M-2")]
    cycle(conf, at(TODAY), answers)
    outbox = by_key(read_outbox(tmp_path / "outbox"))
    text = outbox[("agenda:M-2", "clara@partner.example")].get_body(("plain",)).get_content()
    assert "Who is coming" in text
    assert "Maybe:            Anne Holm" in text
    assert "Not coming:       Bo Berg" in text
    assert "Not answered yet: Clara Smith" in text
    reminder = outbox[("rsvp:M-2:0", "clara@partner.example")]
    assert str(reminder["Subject"]) == \
        "Are you coming to the AG Uddannelse meeting on Saturday 5 December 2026 at 10:00?"
    assert ("rsvp:M-2:0", BO) not in outbox and ("rsvp:M-2:0", ANNE) not in outbox


def test_nothing_changes_without_inbox(tmp_path):
    meeting_day = TODAY + timedelta(days=3)
    path = workbook(tmp_path, {"Dato": meeting_day, "Dagsorden": "Velkomst"})
    conf = write_config(tmp_path, path)
    for day in (TODAY - timedelta(days=10), TODAY):
        cycle(conf, at(day), NO_INBOX)
    header = list(cells(path, "Møder")[0])
    assert not {"Deltager", "Afbud", "Måske", "Mangler svar"} & set(header)
    outbox = read_outbox(tmp_path / "outbox")
    assert not [m for m in outbox if str(m["X-Rygrad-Key"]).startswith("rsvp:")]
    agenda = by_key(outbox)[("agenda:M-1", ANNE)].get_body(("plain",)).get_content()
    assert "Hvem kommer" not in agenda


def test_the_reminder_days_are_a_config_key(tmp_path):
    path = workbook(tmp_path, {"Dato": TODAY})
    assert config.load(write_config(tmp_path, path)).rules.rsvp_reminder_days_before == 3
    conf = write_config(tmp_path, path, rules={"rsvp_reminder_days_before": 1})
    assert config.load(conf).rules.rsvp_reminder_days_before == 1
    conf = write_config(tmp_path, path, rules={"rsvp_reminder_days_before": "tre"})
    with pytest.raises(ConfigError, match=r"rules\.rsvp_reminder_days_before"):
        config.load(conf)


ANSWER_COLUMNS = {"Deltager", "Afbud", "Måske", "Mangler svar"}


@pytest.mark.parametrize("inbox", [False, True])
def test_init_sheet_adds_the_answer_columns_only_with_inbox(tmp_path, inbox):
    sections = {"initiative": {"name": "Ungeløftet",
                               "secretariat": "Sekretariatet <sekretariat@example.dk>"},
                "sheet": {"backend": "xlsx", "path": "initiativ.xlsx"}}
    if inbox:
        sections["inbox"] = {"host": "imap.example.dk", "username": "sekretariat@example.dk",
                             "password_env": "RYGRAD_TEST_NO_SUCH_PASSWORD"}
    settings = config.parse(sections, tmp_path / "rygrad.toml")
    cli.build_sheet(settings).init(settings)
    header = {str(c.value) for c in openpyxl.load_workbook(tmp_path / "initiativ.xlsx")["Møder"][1]}
    assert "Invitation sendt" in header
    assert (header >= ANSWER_COLUMNS) if inbox else not (ANSWER_COLUMNS & header)


def test_the_example_workbook_has_no_answer_columns(tmp_path):
    write_example_workbook(tmp_path / "eksempel.xlsx", TODAY)
    header = {str(c.value) for c in openpyxl.load_workbook(tmp_path / "eksempel.xlsx")["Møder"][1]}
    assert "Opfølgning sendt" in header and not ANSWER_COLUMNS & header


def test_an_agenda_going_out_with_a_move_counts_no_old_answer():
    now = at(MEETING_DAY - timedelta(days=4))
    answers = [answer(ANNE, "accepted", 0, T0 + timedelta(hours=1))]
    with_agenda = replace(MEETING, agenda=("Budget",))
    kept = plan(initiative(with_agenda), invited(0, T0), now, SETTINGS, answers).messages
    assert {m.payload["answers"]["accepted"][0] for m in kept if m.kind == "agenda"} == \
        {"Anne Holm"}
    moved = replace(with_agenda, location="Biblioteket")
    messages = plan(initiative(moved), invited(0, T0), now, SETTINGS, answers).messages
    agendas = [m.payload["answers"] for m in messages if m.kind == "agenda"]
    assert len(agendas) == 2
    assert all(a == {"accepted": [], "tentative": [], "declined": [],
                     "missing": ["Anne Holm", "Dorte Dahl"]} for a in agendas)
    # without [inbox] the agenda carries nothing about answers
    plain = plan(initiative(with_agenda), invited(0, T0), now, SETTINGS).messages
    assert [m.payload for m in plain if m.kind == "agenda"] == [{}, {}]


# -- the whole loop: a calendar answer read from a real Dovecot ----------------------------

SECRETARIAT = "sekretariat@ungeloeftet.example"


def itip_reply(invitation: EmailMessage, attendee: str, partstat: str) -> bytes:
    """The answer a calendar program sends when the attendee presses Accept (iTIP REPLY)."""
    part = next(p for p in invitation.walk() if p.get_content_type() == "text/calendar")
    sent_event = next(iter(Calendar.from_ical(part.get_content()).walk("VEVENT")))
    event = Event()
    for name in ("UID", "SEQUENCE", "DTSTART", "DTEND", "ORGANIZER"):
        event.add(name, sent_event.decoded(name) if name in ("DTSTART", "DTEND")
                  else sent_event[name])
    event.add("DTSTAMP", at(TODAY, 11))
    address = vCalAddress(f"mailto:{attendee}")
    address.params["PARTSTAT"] = partstat
    event.add("ATTENDEE", address)
    calendar = Calendar()
    calendar.add("PRODID", "-//rygrad tests//calendar//EN")
    calendar.add("VERSION", "2.0")
    calendar.add("METHOD", "REPLY")
    calendar.add_component(event)
    message = EmailMessage()
    message["From"] = attendee
    message["To"] = SECRETARIAT
    message["Subject"] = "Accepteret: " + str(invitation["Subject"])
    message["Date"] = format_datetime(at(TODAY, 11))
    message["Message-ID"] = make_msgid(domain=attendee.rpartition("@")[2])
    message["In-Reply-To"] = str(invitation["Message-ID"])
    message.set_content("")
    message.add_alternative(calendar.to_ical().decode(), subtype="calendar",
                            params={"method": "REPLY"})
    return message.as_bytes()


def test_a_calendar_answer_read_over_imap_reaches_the_sheet(tmp_path, imap_server,
                                                           imap_certificates, monkeypatch,
                                                           capsys):
    user = imap_server.add_user(f"rsvp-{tmp_path.name[-20:].lower()}", password="postkasse")
    monkeypatch.setenv("RYGRAD_TEST_INBOX_PASSWORD", "postkasse")
    meeting_day = TODAY + timedelta(days=7)
    path = workbook(tmp_path, {"Dato": meeting_day})
    conf = write_config(tmp_path, path, inbox={
        "host": imap_server.host, "port": imap_server.port, "security": "ssl",
        "username": user, "password_env": "RYGRAD_TEST_INBOX_PASSWORD",
        "ca_file": str(imap_certificates.ca)})
    cycle(conf, at(TODAY), NO_INBOX)  # built as `rygrad run` builds it: [inbox] is set
    assert columns(path)["Mangler svar"] == "Anne Holm, Dorte Dahl"
    invitation = by_key(read_outbox(tmp_path / "outbox"))[("invitation:M-1:0", ANNE)]
    imap_server.append(user, itip_reply(invitation, ANNE, "ACCEPTED"), when=at(TODAY, 11))
    cycle(conf, at(TODAY, 12), NO_INBOX)
    assert columns(path) == {"Deltager": "Anne Holm", "Afbud": "", "Måske": "",
                             "Mangler svar": "Dorte Dahl"}
    # `rygrad plan` sees the answers the ledger holds, as the cycle will
    shown = rygrad(capsys, "plan", "--config", str(conf), "--now",
                   at(meeting_day - timedelta(days=3)).isoformat())
    assert shown.status == 0, shown.err
    assert f"send rsvp:M-1:0 → {DORTE}" in shown.out
    assert "rsvp:M-1:0 → " + ANNE not in shown.out
    cycle(conf, at(meeting_day - timedelta(days=3)), NO_INBOX)
    reminders = [k for k in by_key(read_outbox(tmp_path / "outbox")) if k[0].startswith("rsvp:")]
    assert reminders == [("rsvp:M-1:0", DORTE)]
