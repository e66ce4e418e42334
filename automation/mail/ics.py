"""The calendar part of invitations and cancellations (pure; RFC 5545/5546).

One VEVENT per meeting with a UID that never changes for that meeting, so each
update (SEQUENCE 1, 2, …) and a cancellation replace the event already in the
attendee's calendar. The output is byte-stable for the same inputs: no random
UIDs (``Calendar.new()`` adds one).

The VTIMEZONE is written the way Outlook reads it: exactly one STANDARD and one
DAYLIGHT observance, each a yearly RRULE anchored in 1970 (the form Google
Calendar and Outlook itself write). Outlook ignores RDATE-only observances and
zones with more than one STANDARD, and then shows the meeting an hour off in
summer; icalendar's ``Timezone.from_tzid`` writes exactly those.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress

from automation import __version__
from automation.core.model import Initiative, Meeting, Message, Person, Recipient
from automation.core.settings import Settings
from automation.core.values import is_link
from automation.errors import TemplateError
from automation.mail.formatting import language, meeting_title, one_line

PRODID = f"-//rygrad//rygrad {__version__}//DA"
# the calendar entry's own words, in the recipient's language
WORDS = {
    "da": {"join": "Deltag online", "agenda": "Dagsorden", "follows": "Dagsordenen følger.",
           "cancelled": "Mødet er aflyst.", "reason": "Begrundelse"},
    "en": {"join": "Join online", "agenda": "Agenda", "follows": "The agenda will follow.",
           "cancelled": "The meeting has been cancelled.", "reason": "Reason"},
}


@dataclass(frozen=True)
class Slot:
    """When and where a meeting is, as a given invitation or cancellation says."""

    date: date
    start: time | None
    end: time | None
    location: str
    link: str = ""  # the Link column: where to join online, "" when none

    @property
    def join_link(self) -> str:
        """Where to join online: the Link column, else a Sted that is only a web address."""
        return self.link or (self.location if is_link(self.location) else "")

    @property
    def place(self) -> str:
        """Where to go in person: the Sted unless it is only a web address."""
        return "" if is_link(self.location) else self.location


def find_meeting(initiative: Initiative, meeting_id: str) -> Meeting | None:
    return initiative.meeting(meeting_id)


def slot_for(message: Message, meeting: Meeting | None, default_minutes: int) -> Slot | None:
    """The payload's date, start, end and location; the sheet's where the payload is silent.

    The payload wins because it is what this invitation announced (a cancellation
    carries the details of the meeting being cancelled, not today's cells).
    None when neither knows the date.
    """
    payload = message.payload
    day = parse_date(payload.get("date")) or (meeting.date if meeting else None)
    if day is None:
        return None
    start = parse_time(payload.get("start")) if "start" in payload else (
        meeting.start if meeting else None)
    end = parse_time(payload.get("end")) if "end" in payload else (
        meeting.end if meeting else None)
    if start is not None and end is None:
        end = (datetime.combine(day, start) + timedelta(minutes=default_minutes)).time()
    location = payload.get("location") if "location" in payload else (
        meeting.location if meeting else "")
    # a payload with the details carries a link only when the invitation had one
    link = payload.get("link") if "location" in payload else (meeting.link if meeting else "")
    return Slot(day, start, end, one_line(str(location or "")), one_line(str(link or "")))


def event_uid(initiative_name: str, meeting_id: str, domain: str) -> str:
    """Stable per meeting; the hash keeps two initiatives' "M1" apart."""
    digest = hashlib.sha1(f"{initiative_name}\n{meeting_id}".encode()).hexdigest()[:12]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", meeting_id).strip("-") or "meeting"
    return f"{safe}-{digest}@{domain}"


def calendar_for(message: Message, initiative: Initiative, settings: Settings,
                 now: datetime) -> bytes:
    """METHOD:REQUEST for an invitation, METHOD:CANCEL for a cancellation."""
    cancel = message.kind == "cancel"
    meeting = find_meeting(initiative, message.subject_id)
    slot = slot_for(message, meeting, settings.rules.default_meeting_minutes)
    if slot is None:
        raise TemplateError(f"{message.key}: the meeting has no date to put in a calendar")
    secretariat = settings.initiative
    domain = secretariat.secretariat_email.rpartition("@")[2]
    zone = ZoneInfo(secretariat.timezone)
    lang = language(message.recipient.language)
    group = meeting.group if meeting else ""

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancel else "REQUEST")

    event = Event()
    event.add("uid", event_uid(secretariat.name, message.subject_id, domain))
    event.add("sequence", int(message.payload.get("seq", 0)))
    event.add("dtstamp", now.astimezone(ZoneInfo("UTC")).replace(microsecond=0))
    if slot.start is None:
        # no start time: an all-day event on the meeting's date
        event.add("dtstart", slot.date)
        event.add("dtend", slot.date + timedelta(days=1))
    else:
        start = datetime.combine(slot.date, slot.start, tzinfo=zone)
        end = datetime.combine(slot.date, slot.end or slot.start, tzinfo=zone)
        if end <= start:  # a meeting that runs past midnight
            end += timedelta(days=1)
        event.add("dtstart", start)
        event.add("dtend", end)
    title = meeting_title(group, lang) if group else message.subject_id
    # a calendar holds many initiatives' meetings: say whose this is
    event.add("summary", f"{one_line(secretariat.name)}: {title}")
    # a place to go when there is one; else the join link, which Outlook, Apple and
    # Google Calendar make tappable there (as Zoom's and Teams' own invitations do)
    if slot.place or slot.join_link:
        event.add("location", slot.place or slot.join_link)
    if slot.join_link:
        # URL (RFC 5545 §3.8.4.6) for clients that read it; Outlook and Google show only
        # LOCATION and DESCRIPTION, so the description carries the link too
        event.add("url", slot.join_link)
    reason = one_line(str(message.payload.get("reason") or "")) if cancel else ""
    event.add("description", _description(meeting, slot, lang, cancel, reason))
    if reason:
        event.add("comment", reason)  # RFC 5546 §3.2.5: a CANCEL's reason goes in COMMENT
    event.add("organizer", _address(secretariat.secretariat_email, secretariat.secretariat_name))
    for person in _attendees(initiative, group, message.recipient):
        event.add("attendee", _address(
            person.email or "", person.name, role="REQ-PARTICIPANT",
            partstat="NEEDS-ACTION", rsvp=True,
        ))
    event.add("status", "CANCELLED" if cancel else "CONFIRMED")
    event.add("transp", "OPAQUE")

    if slot.start is not None:
        # the meeting's whole year: both the summer- and winter-time rules, ~0.5 KB
        calendar.add_component(_timezone(secretariat.timezone, slot.date.year))
    calendar.add_component(event)
    return calendar.to_ical()


def _description(meeting: Meeting | None, slot: Slot, lang: str, cancel: bool,
                 reason: str) -> str:
    """The calendar entry's text: the join link and the agenda (numbered as the mail
    numbers it, so "punkt 2" means the same in both), or that the meeting is cancelled."""
    words = WORDS[lang]
    if cancel:
        return words["cancelled"] + (f"\n{words['reason']}: {reason}" if reason else "")
    paragraphs = [f"{words['join']}: {slot.join_link}"] if slot.join_link else []
    items = [one_line(line) for line in (meeting.agenda if meeting else ()) if line.strip()]
    if items:
        numbered = "\n".join(f"{n}. {item}" for n, item in enumerate(items, start=1))
        # under the link, the list needs its heading; alone it is plainly the agenda
        paragraphs.append(f"{words['agenda']}:\n{numbered}" if paragraphs else numbered)
    else:
        paragraphs.append(words["follows"])
    return "\n\n".join(paragraphs)


@lru_cache(maxsize=16)
def _timezone(tzid: str, year: int) -> Timezone:
    """The zone's rules in the meeting's year as one STANDARD and one DAYLIGHT RRULE."""
    zone = ZoneInfo(tzid)
    timezone = Timezone()
    timezone.add("tzid", tzid)
    changes = _offset_changes(zone, year)
    if len(changes) != 2:
        # no summer time (or a year the rules changed): one fixed offset
        offset = datetime(year, 7, 1, tzinfo=zone).utcoffset() or timedelta(0)
        standard = TimezoneStandard()
        standard.add("dtstart", datetime(1970, 1, 1))
        standard.add("tzoffsetfrom", offset)
        standard.add("tzoffsetto", offset)
        standard.add("tzname", datetime(year, 7, 1, tzinfo=zone).tzname() or tzid)
        timezone.add_component(standard)
        return timezone
    for before, after, local in changes:  # local: the wall-clock moment, old offset
        observance = TimezoneDaylight() if after > before else TimezoneStandard()
        week = -1 if local.day + 7 > _days_in_month(local.year, local.month) else \
            (local.day - 1) // 7 + 1
        weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[local.weekday()]
        observance.add("dtstart", datetime.combine(
            _nth_weekday(1970, local.month, local.weekday(), week), local.time()))
        observance.add("rrule", {"freq": "yearly", "bymonth": local.month,
                                 "byday": f"{week}{weekday}"})
        observance.add("tzoffsetfrom", before)
        observance.add("tzoffsetto", after)
        abbreviation = (local + timedelta(days=1)).replace(tzinfo=zone).tzname()
        observance.add("tzname", abbreviation or tzid)
        timezone.add_component(observance)
    return timezone


def _offset_changes(zone: ZoneInfo, year: int) -> list[tuple[timedelta, timedelta, datetime]]:
    """(offset before, offset after, local time before the change) for each change in
    the year, found day by day and then to the minute (zoneinfo has no public list)."""
    utc = ZoneInfo("UTC")
    changes = []
    moment = datetime(year, 1, 1, tzinfo=utc)
    end = datetime(year + 1, 1, 1, tzinfo=utc)
    offset = moment.astimezone(zone).utcoffset()
    while moment < end:
        following = moment + timedelta(days=1)
        if following.astimezone(zone).utcoffset() != offset:
            low, high = moment, following
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            after = high.astimezone(zone).utcoffset()
            assert offset is not None and after is not None
            local = (high.astimezone(zone).replace(tzinfo=None) - after + offset)
            changes.append((offset, after, local.replace(second=0, microsecond=0)))
            offset = after
        moment = following
    return changes


def _days_in_month(year: int, month: int) -> int:
    return ((date(year + month // 12, month % 12 + 1, 1)) - date(year, month, 1)).days


def _nth_weekday(year: int, month: int, weekday: int, week: int) -> date:
    """The week'th (or, for -1, the last) given weekday of the month."""
    if week == -1:
        last = date(year, month, _days_in_month(year, month))
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (week - 1))


def _attendees(initiative: Initiative, group: str, recipient: Recipient) -> list[Person]:
    """The group's current members, plus the recipient (who may have left the group
    since the invitation, and whose calendar must still drop a cancelled meeting)."""
    people = initiative.members_of(group) if group else []
    known = {(p.email or "").casefold() for p in people}
    if recipient.email.casefold() not in known:
        people.append(Person(row=0, name=recipient.name, email=recipient.email,
                             email_text=recipient.email, language=recipient.language))
    return people


def _address(email: str, name: str, **params: object) -> vCalAddress:
    # a double quote cannot appear in a parameter value; icalendar would write
    # RFC 6868's ^' which Outlook shows literally
    cn = one_line(name).replace('"', "'")
    return vCalAddress.new(email, cn=cn or None, **params)  # type: ignore[arg-type]


def parse_date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def parse_time(value: object) -> time | None:
    if isinstance(value, time):
        return value
    match = re.fullmatch(r"\s*(\d{1,2})[:.](\d{2})\s*", str(value or ""))
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return time(int(match[1]), int(match[2]))
