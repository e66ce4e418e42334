"""The calendar part: parsed back with icalendar, the way a calendar client reads it."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from pathlib import Path

import pytest
from icalendar import Calendar, vCalAddress

from automation.config import InitiativeSettings, MailSettings, Settings, SheetSettings
from automation.core.model import Group, Initiative, Meeting, Message, Person, Recipient
from automation.mail.ics import calendar_for, event_uid
from automation.mail.render import Renderer

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


LONG_AGENDA = (
    "Velkomst og godkendelse af dagsorden — ved formanden for Ungeløftet Aarhus' styregruppe",
    "Status på kortlægningen af fritidstilbud i Gellerup, Tilst, Åby og Ørum ("
    + "ældre og yngre årgange, æøå ÆØÅ " * 6 + ")",
    "Eventuelt",
)
LONG_PLACE = "Mødelokale Æ, Rådhuspladsen 2, 8000 Aarhus C"
LONG = Initiative(people=INITIATIVE.people, groups=INITIATIVE.groups, meetings=[
    Meeting(2, "M1", "Styregruppe", date(2026, 12, 3), time(14), time(16), LONG_PLACE,
            LONG_AGENDA)])

# every kind of calendar the worker sends: name → (message, initiative)
KINDS = {
    "request": (message(), INITIATIVE),
    "update": (message(seq=2, date="2026-12-04", start="15:00", end="17:00",
                       location="Borgernes Hus"), INITIATIVE),
    "cancel": (message("cancel", seq=3), INITIATIVE),
    "all-day": (message(start="", end="", location=""), INITIATIVE),
    "long-non-ascii": (message(location=LONG_PLACE), LONG),
}


def calendar_of(kind: str) -> bytes:
    msg, initiative = KINDS[kind]
    return calendar_for(msg, initiative, SETTINGS, NOW)


def attendees_of(event: Calendar) -> list[vCalAddress]:
    found = event["ATTENDEE"]
    return found if isinstance(found, list) else [found]


@pytest.mark.parametrize("kind", KINDS)
def test_the_rfc_5545_frame_every_client_parses(kind: str) -> None:
    data = calendar_of(kind)
    calendar, event = parse(data)
    # RFC 5545 §3.1: CRLF line ends, lines folded at 75 octets; Apple Calendar and
    # Outlook refuse or mangle files that break either
    lines = data.split(b"\r\n")
    assert lines[-1] == b"" and b"\n" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 75
    # folding never splits an æ, ø or å: every physical line is whole UTF-8
    for line in lines:
        line.decode("utf-8")
    # VERSION and PRODID are required; Apple Calendar refuses a calendar without them
    assert str(calendar["VERSION"]) == "2.0"
    assert "rygrad" in str(calendar["PRODID"])
    # DTSTAMP in UTC is required in every iTIP message (RFC 5546 §3.2)
    assert event.decoded("DTSTAMP") == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert data.count(b"BEGIN:VEVENT") == 1


@pytest.mark.parametrize(("kind", "method", "status", "sequence"), [
    ("request", "REQUEST", "CONFIRMED", 0),
    ("update", "REQUEST", "CONFIRMED", 2),
    ("cancel", "CANCEL", "CANCELLED", 3),
    ("all-day", "REQUEST", "CONFIRMED", 0),
])
def test_method_status_and_sequence(kind: str, method: str, status: str,
                                    sequence: int) -> None:
    calendar, event = parse(calendar_of(kind))
    # METHOD:REQUEST is what makes Outlook and Gmail show Accept/Decline instead of a
    # plain attachment (PUBLISH or no METHOD is only imported); METHOD:CANCEL is what
    # makes them remove the event (STATUS alone does not, in Gmail or Outlook)
    assert str(calendar["METHOD"]) == method
    # STATUS:CANCELLED: Apple Calendar strikes the event through, Outlook marks it
    assert str(event["STATUS"]) == status
    # an update or cancel whose SEQUENCE is not above the one already in the calendar
    # is ignored as out of date (Outlook, Google Calendar): each one counts up
    assert event["SEQUENCE"] == sequence
    # the same UID in every one of them: that is how clients find the event to change
    assert str(event["UID"]) == event_uid("Ungeløftet Aarhus", "M1", "ung.example")


@pytest.mark.parametrize("kind", ["request", "update", "cancel", "long-non-ascii"])
def test_times_carry_the_tzid_and_a_vtimezone_outlook_reads(kind: str) -> None:
    calendar, event = parse(calendar_of(kind))
    # a local time with TZID, not UTC: the meeting stays at 14.00 in Copenhagen for
    # someone whose computer is set to another zone, and across summer time
    assert event["DTSTART"].params["TZID"] == "Europe/Copenhagen"
    assert event["DTEND"].params["TZID"] == "Europe/Copenhagen"
    # every TZID used must be defined by a VTIMEZONE in the same calendar (RFC 5545
    # §3.6.5); Outlook has no IANA zone names and relies on it entirely
    [timezone] = calendar.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Europe/Copenhagen"
    # Outlook reads one STANDARD and one DAYLIGHT with a yearly RRULE; with RDATE-only
    # or repeated observances it falls back and shows the meeting an hour off
    standard, daylight = timezone.walk("STANDARD"), timezone.walk("DAYLIGHT")
    assert len(standard) == len(daylight) == 1
    assert standard[0]["RRULE"]["BYMONTH"] == [10] and daylight[0]["RRULE"]["BYMONTH"] == [3]
    assert "RDATE" not in standard[0] and "RDATE" not in daylight[0]
    assert len(calendar_of(kind)) < 3000  # a small zone, not 1970–2038 of transitions


@pytest.mark.parametrize(("day", "utc_hour"), [
    (date(2026, 12, 3), 13),  # winter: UTC+1
    (date(2027, 6, 10), 12),  # summer: UTC+2
    (date(2027, 3, 28), 12),  # the day summer time starts
    (date(2027, 10, 31), 13),  # the day it ends
])
def test_the_vtimezone_alone_gives_the_right_utc_time(day: date, utc_hour: int) -> None:
    # read the zone from the calendar's own VTIMEZONE (as Outlook must), not from the
    # IANA database, and check the meeting lands at the right moment
    dated = message(date=day.isoformat(), start="14:00", end="16:00")
    calendar, event = parse(calendar_for(dated, INITIATIVE, SETTINGS, NOW))
    zone = calendar.walk("VTIMEZONE")[0].to_tz(lookup_tzid=False)
    start = event.decoded("DTSTART").replace(tzinfo=zone)
    assert start.astimezone(UTC) == datetime.combine(day, time(utc_hour), tzinfo=UTC)


@pytest.mark.parametrize("kind", KINDS)
def test_organizer_and_attendees(kind: str) -> None:
    _, event = parse(calendar_of(kind))
    # ORGANIZER = the secretariat: Accept/Decline replies go to it, and Outlook drops
    # an invitation whose organizer is the recipient; the CN is the name shown
    assert str(event["ORGANIZER"]) == "mailto:sekretariat@ung.example"
    assert event["ORGANIZER"].params["CN"] == "Sekretariatet"
    attendees = attendees_of(event)
    # one ATTENDEE per member; Gmail and Outlook offer Accept/Decline only to a
    # recipient who is an attendee
    assert sorted(str(a) for a in attendees) == ["mailto:anne@ung.example",
                                                  "mailto:bo@ung.example"]
    for attendee in attendees:
        # RSVP=TRUE asks for a reply; NEEDS-ACTION shows the event as not yet answered
        assert attendee.params["RSVP"] == "TRUE"
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
        assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    # a double quote cannot sit inside a parameter; Outlook would show RFC 6868's ^'
    assert {a.params["CN"] for a in attendees} == {"Anne Hansen", "Bo 'Bosse' Ørsted, formand"}


def test_summary_location_and_the_agenda_in_the_description() -> None:
    _, event = parse(calendar_of("request"))
    # the initiative first: a partner's calendar holds other initiatives' meetings too
    assert str(event["SUMMARY"]) == "Ungeløftet Aarhus: Styregruppemøde"
    assert str(event["LOCATION"]) == "Rådhuset"
    assert event.decoded("DTSTART").replace(tzinfo=None) == datetime(2026, 12, 3, 14, 0)
    assert event.decoded("DTEND").replace(tzinfo=None) == datetime(2026, 12, 3, 16, 0)
    # the agenda, numbered as in the mail: the calendar entry is where people look it up
    assert str(event["DESCRIPTION"]) == "1. Velkomst\n2. Budget 2027"
    _, update = parse(calendar_of("update"))
    assert str(update["LOCATION"]) == "Borgernes Hus"
    assert update.decoded("DTSTART").replace(tzinfo=None) == datetime(2026, 12, 4, 15, 0)


def test_long_non_ascii_text_survives_folding() -> None:
    _, event = parse(calendar_of("long-non-ascii"))
    assert str(event["DESCRIPTION"]) == "\n".join(
        f"{n}. {item}" for n, item in enumerate(LONG_AGENDA, start=1))
    assert str(event["LOCATION"]) == LONG_PLACE


@pytest.mark.parametrize(("kind", "method"), [("request", "REQUEST"), ("cancel", "CANCEL")])
def test_the_mail_carries_the_calendar_as_outlook_and_gmail_expect(kind: str,
                                                                    method: str) -> None:
    msg, initiative = KINDS[kind]
    mail = email.message_from_bytes(Renderer(SETTINGS).render(msg, initiative, NOW),
                                    policy=email.policy.default)
    assert isinstance(mail, EmailMessage)
    # multipart/mixed( multipart/alternative(text, html, calendar), invitation.ics )
    assert mail.get_content_type() == "multipart/mixed"
    alternative, attachment = mail.iter_parts()
    parts = list(alternative.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html",
                                                     "text/calendar"]
    inline = parts[2]
    # Outlook (MS-OXCMAIL 2.1.3.3.8) takes the meeting from a text/calendar part inside
    # multipart/alternative and shows Accept/Decline; the method parameter MUST equal
    # the METHOD inside (the text/calendar registration); the charset says how to
    # read æ, ø and å
    assert inline.get_param("method") == method
    assert inline.get_content_charset() == "utf-8"
    # clients that ignore a calendar inside the alternative look at the attachments
    # (Google Calendar's own invitations carry both): the same calendar, named for what
    # it is in the reader's language
    assert attachment.get_filename() == {"request": "invitation.ics",
                                         "cancel": "aflysning.ics"}[kind]
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_content_type() == "application/ics"
    assert inline.get_payload(decode=True) == attachment.get_payload(decode=True)
    assert inline.get_payload(decode=True) == calendar_of(kind)
    # the mail comes from the ORGANIZER, so replies to the mail and to the calendar meet
    assert mail["From"].addresses[0].addr_spec == "sekretariat@ung.example"


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


def test_english_recipient_gets_an_english_summary() -> None:
    to_bo = message(recipient=Recipient("Bo", "bo@ung.example", "en"))
    assert str(parse(calendar_for(to_bo, INITIATIVE, SETTINGS, NOW))[1]["SUMMARY"]) == (
        "Ungeløftet Aarhus: Styregruppe meeting")


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


# -- online meetings, descriptions, cancellations, the reader's language (issue 13) ---------

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0"


def test_an_online_link_is_the_url_and_in_the_description_but_not_the_place() -> None:
    _, event = parse(calendar_for(message(link=TEAMS), INITIATIVE, SETTINGS, NOW))
    assert str(event["URL"]) == TEAMS
    # the place to go stays the place; the link is not squeezed into it
    assert str(event["LOCATION"]) == "Rådhuset"
    # Outlook and Google Calendar ignore URL: the description is where people find it
    assert str(event["DESCRIPTION"]) == (
        f"Deltag online: {TEAMS}\n\nDagsorden:\n1. Velkomst\n2. Budget 2027")


def test_a_place_that_is_only_a_link_is_the_location_and_the_url() -> None:
    zoom = "https://zoom.us/j/123456789"
    _, event = parse(calendar_for(message(location=zoom), INITIATIVE, SETTINGS, NOW))
    # as Zoom's and Teams' own invitations do: tappable where the place is shown
    assert str(event["LOCATION"]) == zoom
    assert str(event["URL"]) == zoom
    assert str(event["DESCRIPTION"]).startswith(f"Deltag online: {zoom}\n\n")


def test_a_meeting_in_person_has_no_url() -> None:
    _, event = parse(calendar_of("request"))
    assert "URL" not in event


def test_every_invitation_has_a_description_even_without_an_agenda() -> None:
    bare = Initiative(people=INITIATIVE.people, groups=INITIATIVE.groups, meetings=[
        Meeting(2, "M1", "Styregruppe", date(2026, 12, 3), time(14), time(16), "Rådhuset")])
    for lang, text in (("da", "Dagsordenen følger."), ("en", "The agenda will follow.")):
        to = Recipient("Anne Hansen", "anne@ung.example", lang)
        _, event = parse(calendar_for(message(recipient=to), bare, SETTINGS, NOW))
        assert str(event["DESCRIPTION"]) == text


@pytest.mark.parametrize(("lang", "description"), [
    ("da", "Mødet er aflyst.\nBegrundelse: Formanden er syg"),
    ("en", "The meeting has been cancelled.\nReason: Formanden er syg"),
])
def test_a_cancellation_carries_its_reason(lang: str, description: str) -> None:
    to = Recipient("Anne Hansen", "anne@ung.example", lang)
    cancel = message("cancel", seq=1, recipient=to, reason="Formanden er syg")
    calendar, event = parse(calendar_for(cancel, INITIATIVE, SETTINGS, NOW))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["DESCRIPTION"]) == description
    assert str(event["COMMENT"]) == "Formanden er syg"


def test_a_cancellation_without_a_reason_says_so_plainly() -> None:
    _, event = parse(calendar_of("cancel"))
    assert str(event["DESCRIPTION"]) == "Mødet er aflyst."
    assert "COMMENT" not in event


def _calendar_part(mail_bytes: bytes) -> bytes:
    mail = email.message_from_bytes(mail_bytes, policy=email.policy.default)
    assert isinstance(mail, EmailMessage)
    _, attachment = mail.iter_parts()
    return attachment.get_payload(decode=True)


@pytest.mark.parametrize("kind", ["invitation", "cancel"])
@pytest.mark.parametrize("english_first", [False, True])
def test_each_reader_gets_the_calendar_in_their_own_language(kind: str,
                                                             english_first: bool) -> None:
    # one renderer, as one cycle uses it for every member of the meeting
    renderer = Renderer(SETTINGS)
    anne = Recipient("Anne Hansen", "anne@ung.example", "da")
    bo = Recipient("Bo Ørsted", "bo@ung.example", "en")
    order = [bo, anne] if english_first else [anne, bo]
    parts = {r.language: _calendar_part(renderer.render(
        message(kind, seq=1, recipient=r), INITIATIVE, NOW)) for r in order}
    danish, english = parse(parts["da"])[1], parse(parts["en"])[1]
    assert str(danish["SUMMARY"]) == "Ungeløftet Aarhus: Styregruppemøde"
    assert str(english["SUMMARY"]) == "Ungeløftet Aarhus: Styregruppe meeting"
    # still one event: the same UID and SEQUENCE, whoever's calendar it lands in
    assert danish["UID"] == english["UID"] and danish["SEQUENCE"] == english["SEQUENCE"] == 1
    # and byte-stable per reader: a fresh renderer, the other order, the same bytes
    for recipient in order:
        again = _calendar_part(Renderer(SETTINGS).render(
            message(kind, seq=1, recipient=recipient), INITIATIVE, NOW))
        assert again == parts[recipient.language]


@pytest.mark.parametrize(("lang", "kind", "filename"), [
    ("da", "invitation", "invitation.ics"), ("da", "cancel", "aflysning.ics"),
    ("en", "invitation", "invitation.ics"), ("en", "cancel", "cancellation.ics"),
])
def test_the_attachment_is_named_for_what_it_is(lang: str, kind: str, filename: str) -> None:
    to = Recipient("Anne Hansen", "anne@ung.example", lang)
    mail = email.message_from_bytes(Renderer(SETTINGS).render(
        message(kind, seq=1, recipient=to), INITIATIVE, NOW), policy=email.policy.default)
    assert isinstance(mail, EmailMessage)
    _, attachment = mail.iter_parts()
    assert attachment.get_filename() == filename
