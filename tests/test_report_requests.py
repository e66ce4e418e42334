"""Report requests (README, "Report requests"): before a steering-group meeting each
working group's chair is asked once for 3–5 lines of status, by reply with [inbox],
else in Grupper's Seneste status."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest

from automation.core.model import LedgerEntry, Message
from automation.core.plan import plan
from automation.core.projection import cell_updates
from automation.core.reports import status_received_updates
from automation.core.settings import InboxSettings
from automation.mail.render import Renderer
from tests.sheetdata import initiative, settings
from tests.workbook import HEADERS, by_key, read_outbox, rygrad, write_config, write_workbook

MEETING_DAY = date(2026, 12, 14)  # a Monday
ANNE, BO, CLARA, DORTE = ("anne@kommune.example", "bo@ngo.example", "clara@partner.example",
                          "dorte@fond.example")
PEOPLE_ROWS = [
    {"Navn": "Anne Holm", "E-mail": ANNE, "Grupper": "AG Uddannelse"},
    {"Navn": "Bo Berg", "E-mail": BO, "Grupper": "AG Job"},
    {"Navn": "Clara Smith", "E-mail": CLARA, "Grupper": "AG Fritid", "Sprog": "en"},
    {"Navn": "Dorte Dahl", "E-mail": DORTE, "Grupper": "Styregruppe"},
    {"Navn": "Erik Uden", "E-mail": ""},
]
GROUPS = [
    {"Gruppe": "Styregruppe", "Type": "styregruppe", "Formand": "Dorte Dahl"},
    {"Gruppe": "AG Uddannelse", "Type": "Arbejdsgruppe", "Formand": "Anne Holm"},
    {"Gruppe": "AG Job", "Formand": "Bo Berg"},  # no Type: a working group all the same
    {"Gruppe": "AG Fritid", "Type": "Arbejdsgruppe", "Formand": "Clara Smith"},
    {"Gruppe": "AG Tom", "Type": "Arbejdsgruppe"},  # no chair
    {"Gruppe": "AG Uden", "Type": "Arbejdsgruppe", "Formand": "Erik Uden"},  # no address
]


def sheet(cancelled: str = "", group: str = "Styregruppe", language: str = "da", **options):
    return initiative({
        "Personer": PEOPLE_ROWS,
        "Grupper": GROUPS,
        "Møder": [{"Møde-ID": "SG-1", "Gruppe": group, "Dato": MEETING_DAY, "Start": "15:00",
                   "Slut": "17:00", "Sted": "Rådhuset", "Aflyst": cancelled}],
    }, language, **options)


def at(day: date) -> datetime:
    return datetime.combine(day, time(9), UTC)


def requests_at(day: date, sheet_=None, entries=()) -> list[tuple[str, str]]:
    found = plan(sheet_ or sheet(), list(entries), at(day), settings()).messages
    return sorted((m.key, m.recipient.email) for m in found if m.kind == "report")


ALL = [("report:SG-1:AG Fritid", CLARA), ("report:SG-1:AG Job", BO),
       ("report:SG-1:AG Uddannelse", ANNE)]


@pytest.mark.parametrize(("day", "wanted"), [
    (date(2026, 12, 3), []),  # 11 days before
    (date(2026, 12, 4), ALL),  # 10 days before: rules.report_request_days_before
    (date(2026, 12, 14), ALL),  # the day itself (catching up)
    (date(2026, 12, 15), []),  # the meeting has passed
])
def test_asked_from_ten_days_before_the_meeting(day, wanted):
    assert requests_at(day) == wanted


def test_the_window_follows_the_setting():
    chosen = replace(settings(), rules=replace(settings().rules, report_request_days_before=3))
    messages = plan(sheet(), [], at(date(2026, 12, 10)), chosen).messages
    assert [m for m in messages if m.kind == "report"] == []
    messages = plan(sheet(), [], at(date(2026, 12, 11)), chosen).messages
    assert len([m for m in messages if m.kind == "report"]) == 3


def test_a_cancelled_meeting_asks_nobody():
    assert requests_at(date(2026, 12, 8), sheet(cancelled="ja")) == []


def test_only_a_steering_groups_meeting_asks():
    assert requests_at(date(2026, 12, 8), sheet(group="AG Uddannelse")) == []


def test_the_steering_groups_own_chair_and_chairless_groups_are_not_asked_and_their_row_says_why():
    today = date(2026, 12, 8)
    assert DORTE not in {address for _, address in requests_at(today)}
    result = sheet()
    notes = {(u.row_id, u.value) for u in cell_updates(result, [], at(today), settings())
             if u.tab == "groups" and u.column == "note"}
    why = ("Formand mangler eller har ingen e-mailadresse, så gruppen bliver ikke bedt om en "
           "status til styregruppens møde 2026-12-14")
    assert ("AG Tom", why) in notes
    assert any(row == "AG Uden" and why in value for row, value in notes)
    assert not any(row in ("AG Uddannelse", "Styregruppe") for row, _ in notes)
    # outside the window the note goes again
    later = {u.row_id for u in cell_updates(result, [], at(date(2026, 11, 1)), settings())
             if u.tab == "groups" and u.column == "note" and "styregruppens" in u.value}
    assert later == set()


def test_asked_once():
    today = date(2026, 12, 6)
    messages = [m for m in plan(sheet(), [], at(today), settings()).messages
                if m.kind == "report"]
    entries = [LedgerEntry(m.key, m.recipient.email, m.kind, m.subject_id, "sent", at(today))
               for m in messages]
    assert requests_at(date(2026, 12, 9), entries=entries) == []
    payloads = {m.key: m.payload for m in messages}
    assert payloads["report:SG-1:AG Job"] == {"group": "AG Job", "days_left": 8,
                                              "by_reply": False}


# -- the mail -----------------------------------------------------------------------------


def rendered(message: Message, language: str, inbox: bool, address: str = "") -> dict[str, str]:
    chosen = settings(language, link="https://sharepoint.example/initiativ.xlsx")
    if inbox:
        chosen = replace(chosen, inbox=InboxSettings(host="imap.example"))
    result = sheet(language=language, link="https://sharepoint.example/initiativ.xlsx")
    due = [m for m in plan(result, [], at(date(2026, 12, 8)), chosen).messages
           if m.kind == "report" and m.recipient.email == (address or message.recipient.email)]
    mail = email.message_from_bytes(Renderer(chosen).render(due[0], result, at(date(2026, 12, 8))),
                                    policy=email.policy.default)
    return {"subject": str(mail["Subject"]), "key": str(mail["X-Rygrad-Key"]),
            "text": mail.get_body(("plain",)).get_content(),
            "html": mail.get_body(("html",)).get_content()}


def one(address: str) -> Message:
    [message] = [m for m in plan(sheet(), [], at(date(2026, 12, 8)), settings()).messages
                 if m.kind == "report" and m.recipient.email == address]
    return message


def test_danish_without_inbox_says_where_in_the_sheet():
    mail = rendered(one(ANNE), "da", inbox=False)
    assert mail["key"] == "report:SG-1:AG Uddannelse"
    assert mail["subject"] == ("Status fra AG Uddannelse til styregruppemødet "
                               "mandag den 14. december")
    text = " ".join(mail["text"].split())
    assert text.startswith("Kære Anne Styregruppemødet er mandag den 14. december 2026 kl. "
                           "15.00, og styregruppen vil gerne høre, hvordan det går i AG "
                           "Uddannelse. Vil du skrive 3–5 linjer")
    assert ("Skriv dem i kolonnen »Seneste status« på fanen Grupper i arket (rækken med "
            "AG Uddannelse). Mødet er om seks dage.") in text
    assert "Åbn arket: https://sharepoint.example/initiativ.xlsx" in text
    assert "Svar på denne mail" not in text
    assert "https://sharepoint.example/initiativ.xlsx" in mail["html"]
    assert "»Seneste status«" in mail["html"]


def test_danish_with_inbox_asks_for_a_reply():
    mail = rendered(one(ANNE), "da", inbox=True)
    text = " ".join(mail["text"].split())
    assert "Svar på denne mail med 3–5 linjer, så skriver vi dem ind i arket" in text
    assert "Skriv dem i kolonnen" not in text
    assert "Åbn arket" not in text
    assert "Svar på denne mail med 3–5 linjer" in mail["html"]


def test_english_for_an_english_reader_both_ways():
    without = rendered(one(CLARA), "da", inbox=False)
    assert without["subject"] == ("Status from AG Fritid for the Styregruppe meeting on "
                                  "Monday 14 December")
    text = " ".join(without["text"].split())
    assert text.startswith("Dear Clara, The Styregruppe meeting is on Monday 14 December 2026 at "
                           "15:00, and the steering group would like to hear how AG Fritid is "
                           "getting on. Could you write 3–5 lines"), text
    assert ('Please write them in the "Seneste status" column on the Grupper tab of the sheet '
            "(the row for AG Fritid). The meeting is in six days.") in text
    replying = " ".join(rendered(one(CLARA), "da", inbox=True)["text"].split())
    assert "Reply to this message with 3–5 lines and we will put them in the sheet" in replying


# -- the reply step's hook ------------------------------------------------------------------


def test_status_received_is_written_where_it_differs():
    result = initiative({"Personer": PEOPLE_ROWS, "Grupper": [
        {"Gruppe": "AG Job", "Formand": "Bo Berg", "Status modtaget": "2026-12-01"},
        {"Gruppe": "AG Fritid", "Formand": "Clara Smith"}]})
    assert result.group("AG Job").status_received == date(2026, 12, 1)
    updates = status_received_updates(result, {"AG Job": date(2026, 12, 1),
                                               "ag fritid": date(2026, 12, 7),
                                               "AG Gone": date(2026, 12, 7)})
    assert [(u.row_id, u.column, u.value, u.old) for u in updates] == [
        ("AG Fritid", "status_received", "2026-12-07", "")]


# -- a cycle ---------------------------------------------------------------------------------


def test_a_cycle_sends_each_request_once(tmp_path, capsys):
    tabs = {"Personer": PEOPLE_ROWS, "Grupper": GROUPS,
            "Møder": [{"Møde-ID": "SG-1", "Gruppe": "Styregruppe", "Dato": MEETING_DAY,
                       "Start": "15:00"}]}
    workbook = write_workbook(tmp_path / "initiative.xlsx", tabs, HEADERS)
    config = write_config(tmp_path, workbook)
    first = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                   "2026-12-04T09:00")
    assert first.status == 0, first.out + first.err
    sent = {key for key in by_key(read_outbox(tmp_path / "outbox")) if key[0].startswith("report")}
    assert sorted(sent) == ALL
    second = rygrad(capsys, "run", "--once", "--config", str(config), "--now",
                    "2026-12-10T09:00")
    assert second.status == 0, second.out + second.err
    again = [key for key in by_key(read_outbox(tmp_path / "outbox")) if key[0].startswith("report")]
    assert sorted(again) == ALL  # nothing new
    assert len(read_outbox(tmp_path / "outbox")) == len(by_key(read_outbox(tmp_path / "outbox")))
