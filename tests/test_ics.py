"""The calendar part: parsed back with icalendar, the way a calendar client reads it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from icalendar import Calendar

from automation.config import InitiativeSettings, MailSettings, Settings, SheetSettings
from automation.ics import calendar_for, event_uid
from automation.model import Group, Initiative, Meeting, Message, Person, Recipient

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
SETTINGS = Settings(
    file=Path("rygrad.toml"),
    initiative=InitiativeSettings(name="Ungeløftet Aarhus", secretariat_name="Sekretariatet",
                                  secretariat_email="sekretariat@ung.example"),
    sheet=SheetSettings(),
    mail=MailSettings(),
)


def person(row: int, name: str, email: str, *groups: str) -> Person:
    return Person(row=row, name=name, email=email, email_text=email, groups=groups)


ANNE = person(2, "Anne Hansen", "anne@ung.example", "Styregruppe")
BO = person(3, 'Bo "Bosse" Ørsted, formand', "bo@ung.example", "Styregruppe")
CARL = person(4, "Carl Nielsen", "carl@ung.example", "Arbejdsgruppe Fritid")
INITIATIVE = Initiative(
    people=[ANNE, BO, CARL],
    groups={"Styregruppe": Group(2, "Styregruppe", chair=BO)},
    meetings=[
        Meeting(2, "M1", "Styregruppe", date(2026, 12, 3), time(14), time(16), "Rådhuset",
                ("Velkomst", "Budget 2027")),
        Meeting(3, "M2", "Styregruppe", date(2027, 6, 10), time(9, 30), time(11)),
    ],
)


ANNE_RECIPIENT = Recipient("Anne Hansen", "anne@ung.example", "da")


def message(kind: str = "invitation", meeting_id: str = "M1", seq: int = 0,
            recipient: Recipient = ANNE_RECIPIENT, **details: object) -> Message:
    payload = {"seq": seq, "date": "2026-12-03", "start": "14:00", "end": "16:00",
               "location": "Rådhuset", "update": seq > 0, **details}
    key = f"cancel:{meeting_id}" if kind == "cancel" else f"invitation:{meeting_id}:{seq}"
    return Message(kind, key, recipient, meeting_id, payload=payload)


def parse(data: bytes) -> tuple[Calendar, Calendar]:
    calendar = Calendar.from_ical(data)
    return calendar, calendar.walk("VEVENT")[0]


def test_invitation_is_a_request_with_timezone_and_attendees() -> None:
    calendar, event = parse(calendar_for(message(), INITIATIVE, SETTINGS, NOW))

    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(calendar["VERSION"]) == "2.0"
    assert "rygrad" in str(calendar["PRODID"])
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Copenhagen"]
    assert event["DTSTART"].params["TZID"] == "Europe/Copenhagen"
    assert event.decoded("DTSTART").replace(tzinfo=None) == datetime(2026, 12, 3, 14, 0)
    assert event.decoded("DTEND").replace(tzinfo=None) == datetime(2026, 12, 3, 16, 0)
    assert event.decoded("DTSTAMP") == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert event["SEQUENCE"] == 0
    assert str(event["SUMMARY"]) == "Styregruppemøde"
    assert str(event["LOCATION"]) == "Rådhuset"
    assert str(event["DESCRIPTION"]) == "Velkomst\nBudget 2027"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["ORGANIZER"]) == "mailto:sekretariat@ung.example"
    assert event["ORGANIZER"].params["CN"] == "Sekretariatet"
    attendees = event["ATTENDEE"]
    assert sorted(str(a) for a in attendees) == ["mailto:anne@ung.example",
                                                  "mailto:bo@ung.example"]
    for attendee in attendees:
        assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
        assert attendee.params["RSVP"] == "TRUE"
    # a double quote cannot sit inside a parameter; Outlook would show RFC 6868's ^'
    assert {a.params["CN"] for a in attendees} == {"Anne Hansen", "Bo 'Bosse' Ørsted, formand"}


def test_the_timezone_carries_summer_and_winter_time() -> None:
    calendar, _ = parse(calendar_for(message(), INITIATIVE, SETTINGS, NOW))
    timezone_part = calendar.walk("VTIMEZONE")[0]
    assert timezone_part.walk("STANDARD") and timezone_part.walk("DAYLIGHT")
    assert len(calendar_for(message(), INITIATIVE, SETTINGS, NOW)) < 3000


def test_a_summer_meeting_keeps_its_local_time() -> None:
    summer = message(meeting_id="M2", date="2027-06-10", start="09:30", end="11:00")
    _, event = parse(calendar_for(summer, INITIATIVE, SETTINGS, NOW))
    start = event.decoded("DTSTART")
    assert start.replace(tzinfo=None) == datetime(2027, 6, 10, 9, 30)
    assert start.utcoffset().total_seconds() == 2 * 3600


def test_output_is_byte_stable_and_uid_is_the_same_for_every_recipient_and_update() -> None:
    first = calendar_for(message(), INITIATIVE, SETTINGS, NOW)
    assert first == calendar_for(message(), INITIATIVE, SETTINGS, NOW)
    to_bo = message(recipient=Recipient("Bo", "bo@ung.example", "en"))
    update = message(seq=2, start="15:00", end="17:00")
    uids = {str(parse(data)[1]["UID"]) for data in (
        first,
        calendar_for(to_bo, INITIATIVE, SETTINGS, NOW),
        calendar_for(update, INITIATIVE, SETTINGS, NOW),
        calendar_for(message("cancel", seq=3), INITIATIVE, SETTINGS, NOW),
    )}
    assert uids == {event_uid("Ungeløftet Aarhus", "M1", "ung.example")}
    assert parse(calendar_for(update, INITIATIVE, SETTINGS, NOW))[1]["SEQUENCE"] == 2


def test_uids_differ_between_meetings_and_initiatives() -> None:
    assert event_uid("A", "M1", "x.example") != event_uid("A", "M2", "x.example")
    assert event_uid("A", "M1", "x.example") != event_uid("B", "M1", "x.example")


@pytest.mark.parametrize("meeting_id", ["M 1/æ", "<M1>", "M1\r\nX: y", "§§"])
def test_uid_holds_only_safe_characters(meeting_id: str) -> None:
    uid = event_uid("Ungeløftet", meeting_id, "ung.example")
    local, _, domain = uid.partition("@")
    assert domain == "ung.example"
    assert local and all(c.isascii() and (c.isalnum() or c in "._-") for c in local)


def test_cancel_is_a_cancel_with_status_cancelled() -> None:
    calendar, event = parse(calendar_for(message("cancel", seq=1), INITIATIVE, SETTINGS, NOW))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert event["SEQUENCE"] == 1


def test_english_recipient_gets_an_english_summary() -> None:
    to_bo = message(recipient=Recipient("Bo", "bo@ung.example", "en"))
    assert str(parse(calendar_for(to_bo, INITIATIVE, SETTINGS, NOW))[1]["SUMMARY"]) == (
        "Styregruppe meeting")


def test_a_recipient_no_longer_in_the_group_is_still_an_attendee() -> None:
    former = message("cancel", seq=1, recipient=Recipient("Carl", "carl@ung.example", "da"))
    _, event = parse(calendar_for(former, INITIATIVE, SETTINGS, NOW))
    assert "mailto:carl@ung.example" in [str(a) for a in event["ATTENDEE"]]


def test_a_meeting_gone_from_the_sheet_is_rendered_from_the_payload() -> None:
    gone = message("cancel", meeting_id="M9", seq=1)
    _, event = parse(calendar_for(gone, INITIATIVE, SETTINGS, NOW))
    assert event.decoded("DTSTART").replace(tzinfo=None) == datetime(2026, 12, 3, 14, 0)
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:anne@ung.example"


def test_without_a_start_time_the_event_is_all_day_and_without_timezone() -> None:
    all_day = message(start="", end="", location="")
    calendar, event = parse(calendar_for(all_day, INITIATIVE, SETTINGS, NOW))
    assert event.decoded("DTSTART") == date(2026, 12, 3)
    assert "LOCATION" not in event
    assert not calendar.walk("VTIMEZONE")


def test_a_missing_end_defaults_to_the_configured_length() -> None:
    no_end = message(end="")
    _, event = parse(calendar_for(no_end, INITIATIVE, SETTINGS, NOW))
    assert event.decoded("DTEND").replace(tzinfo=None) == datetime(2026, 12, 3, 16, 0)
