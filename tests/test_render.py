"""Rendering: real templates, real babel, parsed back as a mail client would."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
from dataclasses import replace
from datetime import UTC, date, datetime, time
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from automation.config import InitiativeSettings, MailSettings, Settings, SheetSettings
from automation.core.model import (
    Action,
    Group,
    Indicator,
    Initiative,
    Meeting,
    Message,
    Person,
    Recipient,
)
from automation.errors import TemplateError
from automation.mail import formatting, render
from automation.mail.render import Renderer, builtin_templates_dir

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SETTINGS = Settings(
    file=Path("rygrad.toml"),
    initiative=InitiativeSettings(name="Ungeløftet Aarhus", secretariat_name="Sekretariatet",
                                  secretariat_email="sekretariat@ung.example"),
    sheet=SheetSettings(),
    mail=MailSettings(),
)
ANNE = Person(2, "Anne Hansen", "anne@ung.example", "anne@ung.example",
              groups=("Styregruppe",))
BO = Person(3, "Bo Ørsted", "bo@ung.example", "bo@ung.example", groups=("Styregruppe",),
            language="en")


def initiative(agenda: tuple[str, ...] = ("Velkomst", "Budget 2027"),
               action_text: str = "Kortlæg fritidstilbud",
               location: str = "Rådhuset") -> Initiative:
    return Initiative(
        people=[ANNE, BO],
        groups={"Styregruppe": Group(2, "Styregruppe", chair=ANNE,
                                     goal="Flere unge i job eller uddannelse")},
        meetings=[
            Meeting(2, "M1", "Styregruppe", date(2026, 12, 3), time(14), time(16), location,
                    agenda, minutes="Budgettet blev vedtaget."),
            Meeting(3, "M2", "Styregruppe", date(2027, 3, 10), time(9, 30), time(11),
                    "https://meet.example/abc"),
            Meeting(4, "M0", "Styregruppe", date(2026, 12, 10), time(10), time(11),
                    cancelled=True),
        ],
        actions=[
            Action(2, "A1", "Styregruppe", action_text, BO, "Bo Ørsted", date(2026, 12, 4),
                   "I gang", meeting_id="M1"),
            Action(3, "A2", "Styregruppe", "Send budget", ANNE, "Anne Hansen",
                   date(2026, 11, 22), meeting_id="M1"),
            Action(4, "A3", "Styregruppe", "Afsluttet sag", ANNE, "Anne Hansen",
                   date(2026, 11, 1), "Færdig", done=True),
        ],
        indicators=[
            Indicator(2, "I1", "Styregruppe", "Andel unge i fritidsjob", "%", 30,
                      date(2026, 1, 1), 60, date(2027, 12, 31), 41.5, date(2026, 9, 1),
                      ANNE, "Anne Hansen"),
        ],
        tab_titles={"actions": "Handlinger", "indicators": "Indikatorer"},
    )


MEETING_DETAILS = {"date": "2026-12-03", "start": "14:00", "end": "16:00",
                   "location": "Rådhuset"}
PAYLOADS: dict[str, tuple[str, dict[str, Any]]] = {
    "invitation": ("M1", {"seq": 0, **MEETING_DETAILS, "update": False}),
    "cancel": ("M1", {"seq": 1, **MEETING_DETAILS, "update": False}),
    "agenda": ("M1", {}),
    "followup": ("M1", {}),
    "reminder": ("A1", {"due": "2026-12-04", "days_left": 3}),
    "overdue": ("A2", {"due": "2026-11-22", "days_overdue": 9, "n": 1}),
    "escalation": ("A2", {"due": "2026-11-22", "days_overdue": 14, "owner": "Anne Hansen",
                          "reason": "chair"}),
    "indicator": ("I1", {"next_update": "2026-12-01", "n": 1}),
    "digest": ("", {
        "week": "2027-W09", "overdue_actions": ["A2"],
        "upcoming_meetings": [{"id": "M1", "sent": {"invitation": "2026-11-27 10:15",
                                                    "agenda": "", "followup": ""}}],
        "missing_agendas": ["M2"], "missing_minutes": [],
        "indicators": [{"id": "I1", "assessment": "behind"}],
        "problems": ['Møder!C7: "31-02-2026" er ikke en dato'],
        "failed": [{"key": "reminder:A1:2026-12-04", "recipient": "bo@ung.example",
                    "error": "550 no such user"}],
        "uncertain": [{"key": "agenda:M1", "recipient": "anne@ung.example"}],
        "held": {"window": 2, "cap": 0},
    }),
    "burst": ("", {"due": 143, "max_per_cycle": 100}),
}
KINDS = list(PAYLOADS)


def message(kind: str, lang: str = "da", name: str = "Anne Hansen",
            email_address: str = "anne@ung.example", **payload: Any) -> Message:
    subject_id, base = PAYLOADS[kind]
    return Message(kind, f"{kind}:{subject_id}", Recipient(name, email_address, lang),
                   subject_id, payload={**base, **payload})


def roundtrip(data: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def rendered(msg: Message, data: Initiative | None = None,
             settings: Settings = SETTINGS) -> EmailMessage:
    return roundtrip(Renderer(settings).render(msg, data or initiative(), NOW))


def text_of(mail: EmailMessage, kind: str = "plain") -> str:
    body = mail.get_body((kind,))
    assert body is not None
    return str(body.get_content())


# -- every kind, both languages -------------------------------------------------------

@pytest.mark.parametrize("lang", ["da", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_with_headers_and_both_alternatives(kind: str, lang: str) -> None:
    mail = rendered(message(kind, lang))

    assert mail["From"].addresses[0].addr_spec == "sekretariat@ung.example"
    assert mail["From"].addresses[0].display_name == "Sekretariatet"
    assert mail["Reply-To"].addresses[0].addr_spec == "sekretariat@ung.example"
    assert mail["To"].addresses[0].addr_spec == "anne@ung.example"
    assert mail["X-Rygrad-Key"] == message(kind).key
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Content-Language"] == lang
    assert mail["Date"].datetime == NOW
    assert re.fullmatch(r"<[0-9a-f]{32}@ung\.example>", mail["Message-ID"])
    assert mail["Subject"] and "\n" not in mail["Subject"]
    plain, html = text_of(mail), text_of(mail, "html")
    for body in (plain, html, mail["Subject"]):
        assert "{{" not in body and "{%" not in body
    assert "<table" in html and "<style" not in html and "flex" not in html
    assert "Ungeløftet Aarhus" in plain and "Ungeløftet Aarhus" in html
    footer = "sekretariatet for" if lang == "da" else "secretariat of"
    assert footer in plain and footer in html


@pytest.mark.parametrize("kind", ["agenda", "followup", "reminder", "overdue", "escalation",
                                  "indicator", "digest", "burst"])
def test_plain_kinds_are_multipart_alternative(kind: str) -> None:
    mail = rendered(message(kind))
    assert mail.get_content_type() == "multipart/alternative"
    # an indicator request's HTML comes with its chart (tests/test_charts.py)
    html = "multipart/related" if kind == "indicator" else "text/html"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", html]
    assert all(p.get_content_charset() == "utf-8" for p in mail.walk()
               if p.get_content_maintype() == "text")


@pytest.mark.parametrize(("kind", "method"), [("invitation", "REQUEST"), ("cancel", "CANCEL")])
def test_calendar_kinds_are_mixed_with_calendar_alternative_and_attachment(
        kind: str, method: str) -> None:
    mail = rendered(message(kind))
    assert mail.get_content_type() == "multipart/mixed"
    alternative, attachment = list(mail.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    parts = list(alternative.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html", "text/calendar"]
    inline = parts[2]
    assert inline.get_param("method") == method
    assert inline.get_content_charset() == "utf-8"
    assert attachment.get_filename() == {"invitation": "invitation.ics",
                                         "cancel": "aflysning.ics"}[kind]
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_content_disposition() == "attachment"
    assert inline.get_content().encode() == attachment.get_content()
    calendar = Calendar.from_ical(attachment.get_content())
    assert str(calendar["METHOD"]) == method
    assert b"\r\n" in attachment.get_content()  # RFC 5545 lines survive the base64
    # headers stay on the outer message, not the moved body
    assert mail["Content-Language"] == "da" and "Content-Language" not in alternative


# -- Danish and English wording -----------------------------------------------------------

@pytest.mark.parametrize(("kind", "lang", "subject"), [
    ("invitation", "da", "Invitation: Styregruppemøde torsdag den 3. december 2026 kl. 14.00"),
    ("invitation", "en", "Invitation: Styregruppe meeting, Thursday 3 December 2026 at 14:00"),
    ("cancel", "da", "Aflyst: Styregruppemøde torsdag den 3. december 2026 kl. 14.00"),
    ("agenda", "da", "Dagsorden: Styregruppemøde torsdag den 3. december 2026 kl. 14.00"),
    # the date first, where a phone's inbox shows it
    ("reminder", "da", "Frist fredag 4. dec.: Kortlæg fritidstilbud"),
    ("reminder", "en", "Due Friday 4 Dec: Kortlæg fritidstilbud"),
    ("overdue", "da", "Fristen var søndag 22. nov.: Send budget"),
    ("overdue", "en", "Was due Sunday 22 Nov: Send budget"),
    ("escalation", "da", "Status på en opgave for styregruppen: Send budget"),
    ("indicator", "da", "Senest tirsdag 1. dec.: ny værdi for »Andel unge i fritidsjob«"),
    ("digest", "da", "Ugeoversigt for uge 9, 2027: 8 punkter kræver opmærksomhed"),
    ("burst", "da", "Udsendelsen er standset: 143 mails venter på godkendelse"),
])
def test_subjects(kind: str, lang: str, subject: str) -> None:
    assert rendered(message(kind, lang))["Subject"] == subject


def test_invitation_reads_as_a_danish_secretariat_writes() -> None:
    plain = text_of(rendered(message("invitation")))
    assert plain.startswith("Kære Anne\n\n")
    assert "torsdag den 3. december 2026 kl. 14.00–16.00" in plain
    assert "Sted:      Rådhuset" in plain
    assert "1. Velkomst\n2. Budget 2027" in plain
    assert "Venlig hilsen\nSekretariatet" in plain


def test_english_uses_british_dates_and_24_hour_times() -> None:
    mail = rendered(message("invitation", "en"))
    assert "Thursday 3 December 2026, 14:00–16:00" in text_of(mail)
    assert text_of(mail).startswith("Dear Anne,")
    assert "PM" not in text_of(mail)


def test_update_says_the_meeting_changed() -> None:
    plain = text_of(rendered(message("invitation", seq=1, update=True, start="15:00",
                                     end="17:00")))
    assert "Mødet er ændret" in plain
    assert "kl. 15.00–17.00" in plain


def test_agenda_shows_open_actions_with_overdue_marked_indicators_and_goal() -> None:
    plain = text_of(rendered(message("agenda")))
    assert plain.startswith("Kære Anne\n\nHer er dagsordenen til styregruppemødet:")
    assert "Send budget (Anne Hansen, frist 22. nov. 2026) – 9\u00a0dage over fristen" in plain
    assert "FORSINKET" not in plain.upper().replace("ÅBNE OPGAVER", "")
    assert "Kortlæg fritidstilbud (Bo Ørsted, frist 4. dec. 2026)\n" in plain
    assert "Afsluttet sag" not in plain  # done actions are not open
    assert "Åbne opgaver\n------------\n" in plain  # a heading, not capitals
    assert "Andel unge i fritidsjob: På sporet (aktuel værdi 41,5\u00a0%, mål 60\u00a0%)" in plain
    assert "Flere unge i job eller uddannelse" in plain


def test_followup_has_minutes_next_steps_and_the_next_planned_meeting() -> None:
    plain = text_of(rendered(message("followup")))
    assert "Budgettet blev vedtaget." in plain
    assert "- Kortlæg fritidstilbud (Bo Ørsted, frist 4. dec. 2026)" in plain
    # M0 (10 December) is cancelled, so the next meeting is M2
    assert "Tak for styregruppemødet torsdag den 3. december 2026." in plain
    assert "onsdag den 10. marts 2027 kl. 9.30–11.00, https://meet.example/abc" in plain
    html = text_of(rendered(message("followup")), "html")
    assert '<a href="https://meet.example/abc"' in html


def test_reminder_says_what_to_do_in_the_sheet() -> None:
    plain = text_of(rendered(message("reminder")))
    assert "Vi vil lige minde dig om en opgave, du er ansvarlig for." in plain
    assert "Fristen er om tre dage, fredag den 4. december." in plain
    assert ("sæt Status til »Færdig« på fanen Handlinger i arket (rækken med "
            "Handling-ID A1)") in plain
    assert "svare på denne mail" in plain
    english = text_of(rendered(message("reminder", "en")))
    assert 'set Status to "Færdig (Done)" on the Handlinger tab' in english
    assert "It is due in three days, Friday 4 December." in english
    assert "Status: I gang (In progress)" in english


def test_escalation_copies_the_owner_and_names_the_chair_role() -> None:
    owner = Recipient("Bo Ørsted", "bo@ung.example", "en")
    msg = replace(message("escalation"), cc=(owner,))
    mail = rendered(msg)
    assert [a.addr_spec for a in mail["Cc"].addresses] == ["bo@ung.example"]
    assert "Bo Ørsted får en kopi af denne mail." in text_of(mail)
    assert "Som formand for styregruppen får du her status på en opgave" in text_of(mail)
    assert "forsinket" not in text_of(mail).lower()


def test_escalation_to_the_secretariat_says_why() -> None:
    plain = text_of(rendered(message("escalation", reason="secretariat", name="Sekretariatet")))
    assert plain.startswith("Til sekretariatet\n")
    assert "ikke har en formand" in plain


def test_indicator_request_without_a_value_yet() -> None:
    data = initiative()
    data.indicators = [replace(data.indicators[0], current=None, updated=None)]
    plain = text_of(rendered(message("indicator", "en"), data))
    assert "Current value:  no value yet" in plain
    assert "Assessment:     No data" in plain
    assert "Baseline:       30%" in plain
    assert "the Indikatorer tab" in plain
    danish = text_of(rendered(message("indicator"), data))
    assert "Aktuel værdi:  ingen værdi endnu" in danish
    assert "Udgangspunkt:  30\u00a0% (1. jan. 2026)" in danish
    assert "Basislinje" not in danish and "Seneste værdi" not in danish


def test_an_empty_digest_still_gives_the_whole_picture() -> None:
    empty = {"overdue_actions": [], "upcoming_meetings": [], "missing_agendas": [],
             "indicators": [], "problems": [], "failed": [], "uncertain": [],
             "held": {"window": 0, "cap": 0}}
    mail = rendered(message("digest", **empty))
    assert mail["Subject"] == "Ugeoversigt for uge 9, 2027: alt er i orden"
    plain = text_of(mail)
    assert "Alt er i orden" in plain
    assert re.search(r"Opgaver over fristen: +ingen", plain)
    assert "Opgaver over fristen\n---" not in plain


@pytest.mark.parametrize(("lang", "heading", "count"), [
    ("da", "Mails, der prøves igen\n----------------------\n", r"Mails, der prøves igen: +1"),
    ("en", "Messages being retried\n----------------------\n", r"Messages being retried: +1"),
])
def test_the_digest_lists_messages_waiting_for_a_retry(lang: str, heading: str,
                                                       count: str) -> None:
    retrying = [{"key": "reminder:A1:2026-12-04", "recipient": "bo@ung.example",
                 "error": "451 4.7.1 greylisted, try again later"}]
    mail = rendered(message("digest", lang, retrying=retrying))
    plain, html = text_of(mail), text_of(mail, "html")
    assert heading in plain and re.search(count, plain)
    assert "reminder:A1:2026-12-04 " in plain and "451 4.7.1 greylisted" in plain
    assert "451 4.7.1 greylisted" in html


def test_ids_no_longer_in_the_sheet_render_with_what_the_payload_has() -> None:
    gone = Message("reminder", "reminder:A9:2026-12-04",
                   Recipient("Anne Hansen", "anne@ung.example", "da"), "A9",
                   payload={"due": "2026-12-04", "days_left": 3})
    plain = text_of(rendered(gone))
    assert "Handling-ID A9" in plain and "fredag den 4. december 2026" in plain
    digest = rendered(message("digest", overdue_actions=["A9"], missing_agendas=["M9"]))
    assert "A9" in text_of(digest) and "M9" in text_of(digest)


def test_an_empty_location_leaves_out_the_line() -> None:
    plain = text_of(rendered(message("invitation", location=""), initiative(location="")))
    assert "Sted" not in plain


# -- cell values are data ----------------------------------------------------------------

@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r", "\u2028", "\u2029", "\x85"])
def test_a_line_break_in_a_name_or_cell_cannot_inject_a_header(breaker: str) -> None:
    evil = f"Kortlæg{breaker}Bcc: evil@attacker.example"
    msg = message("reminder", name=f"Anne{breaker}Bcc: evil@attacker.example")
    mail = rendered(msg, initiative(action_text=evil))
    assert mail["Bcc"] is None
    assert "Bcc" not in mail
    assert len(mail["To"].addresses) == 1
    assert mail["To"].addresses[0].addr_spec == "anne@ung.example"
    assert mail["Subject"] == "Frist fredag 4. dec.: Kortlæg Bcc: evil@attacker.example"


def test_names_with_commas_quotes_and_non_ascii_survive_the_header() -> None:
    name = 'Ærø, Søren "Formand"'
    mail = rendered(message("reminder", name=name))
    assert len(mail["To"].addresses) == 1
    assert mail["To"].addresses[0].display_name == name
    assert b"\xc3" not in Renderer(SETTINGS).render(message("reminder", name=name), initiative(),
                                                    NOW).split(b"\n\n")[0]


def test_cell_values_are_never_compiled_and_are_escaped_in_html() -> None:
    data = initiative(agenda=("{{ 7*7 }}", "{% raw %}x", "<script>alert(1)</script>"))
    mail = rendered(message("agenda"), data)
    plain, html = text_of(mail), text_of(mail, "html")
    assert "{{ 7*7 }}" in plain and "49" not in plain
    assert "{% raw %}x" in plain
    assert "<script>alert(1)</script>" in plain
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    assert "{{ 7*7 }}" in html


def test_a_long_subject_is_cut() -> None:
    mail = rendered(message("reminder"), initiative(action_text="Kortlæg " * 80))
    assert len(mail["Subject"]) <= 200
    assert mail["Subject"].endswith("…")


@pytest.mark.parametrize("text", ["Kortlæg " * 20, "Survey " * 20, "Kortlæg" * 20])
def test_long_headers_are_folded_and_read_back_whole(text: str) -> None:
    data = Renderer(SETTINGS).render(message("reminder"), initiative(action_text=text), NOW)
    head = data.split(b"\n\n", 1)[0].decode("ascii")  # the header block is ASCII
    assert all(len(line) <= 78 for line in head.splitlines())
    assert text.strip() in roundtrip(data)["Subject"]


def test_words_too_long_to_fold_are_encoded_and_read_back() -> None:
    # a header line can only be folded at a space: 3,000 letters without one would make
    # a line longer than the 998 characters RFC 5322 allows
    name, action = "A" * 3000, "Kortlæg" + "x" * 2000
    data = Renderer(SETTINGS).render(message("reminder", name=name),
                                     initiative(action_text=action), NOW)
    head = data.split(b"\n\n", 1)[0].decode("ascii")
    assert max(len(line) for line in head.splitlines()) <= 78
    mail = email.message_from_bytes(data, policy=email.policy.compat32)
    # decode_header follows RFC 2047 §6.2 (the space between two encoded words is not
    # text); the modern policy's address parser keeps it, as it does for the standard
    # library's own long encoded names
    to = str(make_header(decode_header(mail["To"])))
    assert to == f"{name} <anne@ung.example>"
    assert str(make_header(decode_header(mail["Subject"]))).startswith(
        "Frist fredag 4. dec.: Kortlægxxx")


def test_an_international_domain_goes_in_idna_and_reads_back() -> None:
    mail = rendered(message("reminder", email_address="anne@ærø.dk"))
    assert mail["To"].addresses[0].addr_spec == "anne@xn--r-3fa9c.dk"


def test_the_same_mail_is_the_same_bytes() -> None:
    # boundaries come from the Message-ID: a resend of a rendered mail is identical
    first = Renderer(SETTINGS).render(message("invitation"), initiative(), NOW)
    assert Renderer(SETTINGS).render(message("invitation"), initiative(), NOW) == first


# -- Message-ID ------------------------------------------------------------------------

def test_message_id_is_stable_per_key_and_recipient() -> None:
    first = rendered(message("reminder"))["Message-ID"]
    assert rendered(message("reminder"))["Message-ID"] == first
    other = rendered(message("reminder", email_address="bo@ung.example"))["Message-ID"]
    assert other != first
    assert render.message_id("reminder:A1", Recipient("x", "anne@ung.example", "da"),
                             "s@ung.example") != render.message_id(
        "reminder:A2", Recipient("x", "anne@ung.example", "da"), "s@ung.example")


# -- templates: override, fallback, errors, sandbox -----------------------------------------

def user_templates(tmp_path: Path, files: dict[str, str]) -> Settings:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return replace(SETTINGS, templates_dir=tmp_path)


def test_builtin_templates_are_found() -> None:
    assert (builtin_templates_dir() / "da" / "invitation.txt").is_file()


def test_a_user_template_overrides_one_builtin(tmp_path: Path) -> None:
    settings = user_templates(tmp_path, {
        "da/reminder.subject.txt": "Husk: {{ action.action }} ({{ due|short_date }})\n"})
    mail = rendered(message("reminder"), settings=settings)
    assert mail["Subject"] == "Husk: Kortlæg fritidstilbud (4. dec. 2026)"
    assert "Fristen er om tre dage" in text_of(mail)  # the body is still the built-in one


def test_missing_language_falls_back_to_the_initiatives(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    only_danish = tmp_path / "builtin"
    shutil.copytree(builtin_templates_dir(), only_danish,
                    ignore=shutil.ignore_patterns("en"))
    monkeypatch.setattr(render, "builtin_templates_dir", lambda: only_danish)
    mail = rendered(message("reminder", "en"))
    assert mail["Subject"].startswith("Frist fredag")
    assert mail["Content-Language"] == "da"


@pytest.mark.parametrize(("source", "line", "reason"), [
    ("Hej\n\n{{ meeting.date|long_date }}\n", 3, "'meeting' is undefined"),
    ("Hej\n{% if due %}\nfrist\n", 3, "Unexpected end of template"),
    ("{{ action.action }}\n{{ due|no_such_filter }}\n", 2, "no_such_filter"),
])
def test_a_broken_template_names_file_and_line(tmp_path: Path, source: str, line: int,
                                               reason: str) -> None:
    settings = user_templates(tmp_path, {"da/reminder.txt": source})
    with pytest.raises(TemplateError) as caught:
        Renderer(settings).render(message("reminder"), initiative(), NOW)
    text = str(caught.value)
    assert f"{tmp_path / 'da' / 'reminder.txt'}:{line}:" in text
    assert reason in text


def test_the_sandbox_refuses_internals(tmp_path: Path) -> None:
    settings = user_templates(tmp_path, {
        "da/reminder.subject.txt": "{{ ''.__class__.__mro__[1].__subclasses__() }}\n"})
    with pytest.raises(TemplateError, match=r"reminder\.subject\.txt:1: .*unsafe"):
        Renderer(settings).render(message("reminder"), initiative(), NOW)


SANDBOX_EXPRESSIONS = [
    "{{ view.due }}", "{{ view.missing is defined }}", "{{ view['due'] }}",
    "{{ view.items()|list }}", "{{ view.get('owner') }}", "{{ view.items is callable }}",
    "{{ view.__class__ }}", "{{ view.update({'x': 1}) }}", "{{ view.clear() }}",
    "{{ view.pop('due') }}", "{{ view.setdefault('a', 1) }}", "{{ rows.append(1) }}",
    "{{ rows[0].due }}", "{{ rows.__len__() }}", "{{ text.upper() }}",
    "{{ text.format(1) }}", "{{ text.__class__.__mro__ }}", "{{ day.isoformat() }}",
    "{{ day.__class__.__subclasses__() }}", "{{ person.name }}", "{{ person._secret }}",
    "{{ person.__dict__ }}", "{{ view.values()|first }}", "{{ view['__class__'] }}",
]


@pytest.mark.parametrize("source", SANDBOX_EXPRESSIONS)
def test_the_faster_sandbox_answers_as_jinjas_own(source: str) -> None:
    """render.Sandbox looks up dict keys first and keeps its verdicts per (type, name):
    every expression must give what jinja2's ImmutableSandboxedEnvironment gives, or
    fail as it fails."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Person:
        def __init__(self) -> None:
            self.name = "Anne"
            self._secret = "x"

    def outcome(env: Any) -> str:
        context = {"view": {"due": date(2026, 12, 3), "owner": "Anne", "items": "key"},
                   "rows": [{"due": 1}], "text": "tekst", "day": date(2026, 12, 3),
                   "person": Person()}
        try:
            return "= " + env.from_string(source).render(context)
        except Exception as err:
            return f"! {type(err).__name__}"

    faster = render.Sandbox(undefined=StrictUndefined)
    jinjas = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for _ in range(2):  # the second time, from the kept verdicts
        assert outcome(faster) == outcome(jinjas)


def test_a_kind_without_templates_is_a_template_error() -> None:
    msg = Message("nonsense", "nonsense:1", Recipient("A", "anne@ung.example", "da"))
    with pytest.raises(TemplateError, match=r"da/nonsense\.subject\.txt.* not found"):
        Renderer(SETTINGS).render(msg, initiative(), NOW)


# -- formatting ------------------------------------------------------------------------

@pytest.mark.parametrize(("func", "args", "expected"), [
    (formatting.long_date, (date(2027, 3, 10), "da"), "onsdag den 10. marts 2027"),
    (formatting.long_date, (date(2027, 3, 10), "en"), "Wednesday 10 March 2027"),
    (formatting.short_date, (date(2026, 12, 3), "da"), "3. dec. 2026"),
    (formatting.short_date, (date(2027, 5, 3), "da"), "3. maj 2027"),
    (formatting.short_date, (date(2027, 3, 3), "da"), "3. mar. 2027"),
    (formatting.short_date, (date(2026, 12, 3), "en"), "3 Dec 2026"),
    (formatting.day_date, (date(2026, 12, 4), "da"), "fredag den 4. december"),
    (formatting.clock, (time(9, 5), "da"), "9.05"),  # Danish: kl. 9.05
    (formatting.clock, (time(9, 5), "en"), "09:05"),
    (formatting.weekday_short, (date(2026, 12, 4), "da"), "fredag 4. dec."),
    (formatting.weekday_short, (date(2026, 12, 4), "en"), "Friday 4 Dec"),
    (formatting.moment, (datetime(2026, 12, 2, 5, 24), "da"), "2. dec. kl. 5.24"),
    (formatting.moment, (datetime(2026, 12, 2, 5, 24), "en"), "2 Dec at 05:24"),
    (formatting.clock, (time(21, 5), "en"), "21:05"),
    (formatting.meeting_time, (date(2026, 12, 3), time(14), time(16), "da"),
     "torsdag den 3. december 2026 kl. 14.00–16.00"),
    (formatting.meeting_time, (date(2026, 12, 3), time(14), time(16), "en"),
     "Thursday 3 December 2026, 14:00–16:00"),
    (formatting.meeting_time, (date(2026, 12, 3), None, None, "da"),
     "torsdag den 3. december 2026"),
    (formatting.days_left, (0, "da"), "i dag"),
    (formatting.days_left, (1, "da"), "i morgen"),
    (formatting.days_left, (2, "da"), "om to dage"),
    (formatting.days_left, (13, "da"), "om 13 dage"),
    (formatting.days_left, (0, "en"), "today"),
    (formatting.days_left, (1, "en"), "tomorrow"),
    (formatting.days_left, (2, "en"), "in two days"),
    (formatting.days_ago, (1, "da"), "i går"),
    (formatting.days_ago, (9, "da"), "for ni dage siden"),
    (formatting.days_ago, (9, "en"), "nine days ago"),
    (formatting.days_overdue, (1, "da"), "1\u00a0dag over fristen"),  # no-break space
    (formatting.days_overdue, (23, "da"), "23\u00a0dage over fristen"),
    (formatting.days_overdue, (1, "en"), "1\u00a0day overdue"),
    (formatting.days_overdue, (9, "en"), "9\u00a0days overdue"),
    (formatting.number, (12.5, "da"), "12,5"),
    (formatting.number, (1200.0, "da"), "1.200"),
    (formatting.number, (1200, "en"), "1,200"),
    (formatting.quantity, (45, "%", "da"), "45\u00a0%"),
    (formatting.quantity, (45, "%", "en"), "45%"),
    (formatting.quantity, (120, "antal", "da"), "120"),
    (formatting.assessment, ("behind", "da"), "Bagud"),
    (formatting.assessment, ("no_data", "da"), "Mangler data"),
    (formatting.assessment, ("on_track", "en"), "On track"),
    (formatting.meeting_title, ("Styregruppe", "da"), "Styregruppemøde"),
    (formatting.meeting_title, ("Styregruppen", "da"), "Styregruppemøde"),
    (formatting.meeting_title, ("Arbejdsgruppe Fritid", "da"), "Møde i Arbejdsgruppe Fritid"),
    (formatting.meeting_title, ("Steering group", "en"), "Steering group meeting"),
    (formatting.the_meeting, ("Styregruppe", "da"), "styregruppemødet"),
    (formatting.the_meeting, ("AG Uddannelse", "da"), "mødet i AG Uddannelse"),
    (formatting.the_meeting, ("AG Uddannelse", "en"), "the AG Uddannelse meeting"),
    (formatting.the_group, ("Styregruppe", "da"), "styregruppen"),
    (formatting.the_group, ("Styregruppen", "da"), "styregruppen"),
    (formatting.the_group, ("AG Uddannelse", "da"), "AG Uddannelse"),
    (formatting.status_value, ("Færdig", "en"), "Færdig (Done)"),
    (formatting.status_value, ("Done", "en"), "Done"),
    (formatting.status_value, ("Færdig", "da"), "Færdig"),
    (formatting.times, (1, "da"), "én gang"),
    (formatting.times, (3, "da"), "tre gange"),
    (formatting.times, (2, "en"), "twice"),
    (formatting.dash, ("", ), "–"),
    (formatting.dash, (None, ), "–"),
    (formatting.dash, ("I gang", ), "I gang"),
    (formatting.week_label, ("2027-W09", "da"), "uge 9, 2027"),
    (formatting.week_label, ("2027-W09", "en"), "week 9, 2027"),
    (formatting.one_line, ("a\r\n b\u2028c\u2029 d\x85e", ), "a b c d e"),
])
def test_formatting(func: Any, args: tuple[Any, ...], expected: str) -> None:
    assert func(*args) == expected
