"""Reading replies (automation/inbox/reading.py): every sample in tests/fixtures/replies
read as the mail program wrote it — its own text exactly, who sent it, what it answers,
automatic or not, DMARC, calendar answers — and the command it gives; the quote cut and
the HTML reading on their own; and no input that makes reading raise."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automation.core.commands import Done, FreeText, NewDue, NotUnderstood, Value, read_command
from automation.inbox.reading import (
    CalendarAnswer,
    Reply,
    decoded,
    html_text,
    is_automatic,
    own_text,
    read_reply,
)
from automation.mail.ics import event_uid
from tests.fixtures.replies import make_replies
from tests.fixtures.replies.make_replies import build

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "replies"
TODAY = date(2026, 12, 3)
DONE_STATUSES = ("Færdig", "Afsluttet", "Lukket", "Done", "Completed", "Closed")

REMINDER_SOFIE = "<5e0c3a7f1b9d4e62a8c4f7b1d3e9a205@kommune.dk>"
REMINDER_ANDERS = "<a41f7c2e9b3d4c58e6f0b1a2d7c9e834@kommune.dk>"
INDICATOR_PETER = "<c93b1e6d0a7f4b25d8e2c4f9a1b6e370@kommune.dk>"
MEETING_UID = "M-003-0cc81b2150f8@kommune.dk"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def read(name: str) -> Reply:
    return read_reply(sample(name))


def test_the_samples_are_what_make_replies_writes_and_the_readme_lists_them_all():
    on_disk = {path.name for path in SAMPLES.glob("*.eml")}
    assert set(make_replies.SAMPLES) == on_disk
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    for name in make_replies.SAMPLES:
        assert sample(name) == build(name), f"{name}: run make_replies.py"
        assert f"`{name}`" in readme


def test_the_samples_meeting_uid_is_the_one_rygrad_writes():
    assert event_uid("Ungeløftet Aarhus", "M-003", "kommune.dk") == MEETING_UID


@pytest.mark.parametrize("name", ["itip_outlook_da_accepted.eml", "itip_gmail_da_accepted.eml"])
def test_a_sample_built_with_a_tests_own_ids_carries_them_in_every_part(name):
    own_id, own_uid = "<00112233445566778899aabbccddeeff@kommune.dk>", "M1-abcdef012345@x.dk"
    answered = "INVITATION_SOFIE" if "outlook" in name else "INVITATION_PETER"
    reply = read_reply(build(name, **{answered: own_id, "MEETING_UID": own_uid}))
    assert reply.answers == (own_id,)
    assert [answer.uid for answer in reply.calendar] == [own_uid]
    assert read_reply(build(name)) == read(name)
    with pytest.raises(KeyError, match="NO_SUCH"):
        build(name, NO_SUCH="x")


# sample → (sender, own text, language, what it answers, the command it gives)
PERSON_REPLIES = {
    "outlook_da_done.eml": (
        "sofie.holm@kk.dk", "Færdig\n\nVenlig hilsen\nSofie Holm\nKøbenhavns Kommune", "da",
        "action", Done("Færdig")),
    "outlook_en_done.eml": (
        "anders.berg@youthtrust.org.uk",
        "Done\n\nBest regards,\nAnders Berg\nHead of Partnerships, Aarhus Youth Trust", "en",
        "action", Done("Done")),
    "outlook_web_da_new_due.eml": (
        "sofie.holm@kk.dk", "ny frist 15.3.2027\n\nVi venter på tal fra Jobcentret.\n\nSofie",
        "da", "action", NewDue(date(2027, 3, 15))),
    "outlook_web_en_new_due.eml": (
        "anders.berg@youthtrust.org.uk",
        "new due date 15 March 2027\n\nThe map needs the new partners first.\nAnders", "en",
        "action", NewDue(date(2027, 3, 15))),
    "outlook_old_frist_iso8859.eml": (
        "sbk@aarhus.dk", "Frist: 15/3\n\nMed venlig hilsen\nSøren Ærø Bæk\nØkonomiforvaltningen",
        "da", "action", NewDue(date(2027, 3, 15))),
    "gmail_da_value.eml": (
        "peter.jensen@gmail.com", "42,5\n\nHilsen Peter", "da", "indicator", Value(42.5)),
    "gmail_en_value_base64.eml": (
        "anders.berg.aarhus@gmail.com", "value 42.5\n\nBest,\nAnders", "en", "indicator",
        Value(42.5)),
    "apple_mail_da_done.eml": (
        "mette.lund@icloud.com", "Hej Sekretariat,\n\nUdført.\n\nMvh\nMette Lund\nFOA Aarhus",
        "da", "action", Done("Udført")),
    "ios_mail_da_value.eml": (
        "mette.lund@icloud.com", "42\n\nSendt fra min iPhone", "da", "indicator", Value(42.0)),
    "outlook_ios_html_only_value.eml": (
        "peter.jensen@aarhus.dk", "værdi: 42 %\n\nHent Outlook til iOS", "da", "indicator",
        Value(42.0)),
}


@pytest.mark.parametrize("name", PERSON_REPLIES)
def test_a_partners_reply_reads_as_its_own_text_with_the_quote_cut(name):
    sender, text, language, _, _ = PERSON_REPLIES[name]
    reply = read(name)
    assert reply.text == text
    assert reply.sender == sender
    assert reply.language == language
    assert (reply.automatic, reply.dmarc_fail_by, reply.calendar, reply.note) == ("", (), (), "")


@pytest.mark.parametrize("name", PERSON_REPLIES)
def test_a_partners_reply_gives_its_command(name):
    _, _, language, answering, command = PERSON_REPLIES[name]
    reply = read(name)
    assert read_command(reply.text, answering, DONE_STATUSES, TODAY,
                        language=language) == command


def test_a_reply_that_is_not_a_command_goes_to_the_secretariat():
    reply = read("gmail_da_not_a_command.eml")
    assert reply.text.startswith("Hej Sekretariat\n\nJeg er ikke helt færdig endnu – vi mangler")
    assert reply.text.endswith("Jeg vender tilbage i næste uge.\n\nSofie")
    command = read_command(reply.text, "action", DONE_STATUSES, TODAY, language=reply.language)
    assert isinstance(command, NotUnderstood)
    assert "»færdig«" in command.reason


def test_a_report_reply_is_free_text_with_its_paragraphs():
    reply = read("outlook_da_report.eml")
    command = read_command(reply.text, "report", DONE_STATUSES, TODAY)
    assert isinstance(command, FreeText)
    assert command.text.startswith("Kære sekretariat\n\nArbejdsgruppen har mødtes to gange")
    assert command.text.endswith("Sofie Holm\nFormand for arbejdsgruppen om Overgange")
    assert "Fra:" not in command.text and "Styregruppen mødes" not in command.text


def test_the_headers_of_a_reply_are_read_as_written():
    reply = read("outlook_da_done.eml")
    assert reply.message_id == ("<DB9PR07MB7196A3C2E54F1B8D2F0C4A1BB6E52"
                                "@DB9PR07MB7196.eurprd07.prod.outlook.com>")
    assert reply.answers == (REMINDER_SOFIE,)
    assert reply.sender_name == "Sofie Holm"
    assert reply.subject == "SV: Frist tors. 10. dec.: Opdatér aktørkortlægningen"
    assert reply.date == datetime(2026, 12, 3, 13, 12, 40, tzinfo=UTC)


def test_an_encoded_sender_name_and_an_iso_8859_1_body_read_with_their_letters():
    reply = read("outlook_old_frist_iso8859.eml")
    assert reply.sender_name == "Søren Ærø Bæk"
    assert reply.date == datetime(2026, 12, 3, 16, 20, 55,
                                  tzinfo=timezone(timedelta(hours=1)))
    assert "Økonomiforvaltningen" in reply.text


def test_a_forward_answers_in_reply_to_first_then_the_references():
    reply = read("forward_other_person.eml")
    assert reply.answers == (
        "<DB9PR07MB71964D2E8A1C0F3B7E5A9C6D2F48@DB9PR07MB7196.eurprd07.prod.outlook.com>",
        REMINDER_SOFIE)
    assert reply.sender == "lars.nielsen.aarhus@gmail.com"
    assert reply.text == "Færdig"  # the command reads; the sender is what stops it


def test_a_reply_from_someone_else_names_that_someone():
    reply = read("wrong_person.eml")
    assert (reply.sender, reply.sender_name) == ("lars.nielsen@kk.dk", "Lars Nielsen")
    assert reply.answers == (REMINDER_SOFIE,)
    assert reply.text == "Færdig\n\nLars Nielsen\nKøbenhavns Kommune"


def test_a_spoofed_sender_is_caught_by_our_servers_dmarc_result_not_the_forged_one():
    reply = read("spoofed_dmarc_fail.eml")
    assert reply.sender == "sofie.holm@kk.dk"
    assert reply.dmarc_fail_by == ("mx.kommune.dk",)
    assert reply.text == "Færdig"


def test_a_reply_to_a_mail_rygrad_never_sent_answers_only_that_mail():
    reply = read("unknown_thread.eml")
    assert reply.answers == (
        "<CAB4nZ7qL2mR9tW0xK3bP8sY1dG5fH6cE9aU4vX2wNz7qTrM1Dp@mail.gmail.com>",)
    assert reply.text == "Færdig"
    assert reply.subject == "Re: Kaffe efter mødet?"


def test_a_reply_sent_without_a_word_above_the_quote_says_so():
    raw = sample("gmail_da_value.eml")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    plain = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    quote_only = ("From: Peter Jensen <peter.jensen@gmail.com>\nMIME-Version: 1.0\n"
                  "Content-Type: text/plain; charset=utf-8\n\n"
                  + decoded(plain).split("Hilsen Peter", 1)[1]).encode()
    reply = read_reply(quote_only)
    assert (reply.text, reply.note) == ("", "only the quoted mail")
    assert read_reply(b"From: a@b.dk\n\n\n").note == "no text part"


def test_a_reply_with_only_an_attachment_has_no_text_and_says_why():
    reply = read("attachment_only.eml")
    assert (reply.text, reply.note) == ("", "only an attachment")
    assert reply.answers == (REMINDER_SOFIE,)


@pytest.mark.parametrize(("name", "why"), [
    ("auto_outlook_out_of_office.eml", "Auto-Submitted: auto-replied"),
    ("auto_precedence_bulk.eml", "Precedence: bulk"),
    ("auto_x_autoreply.eml", "X-Autoreply: yes"),
    ("auto_subject_only.eml", "out-of-office subject"),
    ("auto_exchange_ndr.eml", "multipart/report: delivery-status"),
    ("auto_outlook_read_receipt.eml", "multipart/report: disposition-notification"),
])
def test_an_automatic_reply_says_why(name, why):
    assert read(name).automatic == why


@pytest.mark.parametrize("subject", [
    "Fraværende: Frist tors. 10. dec.", "Out of Office: Due Thu 10 Dec", "Autosvar: Frist",
    "Automatisk svar: Frist", "Automatic reply: Due Thu 10 Dec", "AutoReply: Due",
    "RE: Out of Office: Due Thu 10 Dec", "=?UTF-8?Q?Frav=C3=A6rende=3A_Frist?=",
])
def test_out_of_office_subjects_in_danish_and_english_are_automatic(subject):
    raw = sample("auto_subject_only.eml").replace(
        b"Subject: =?UTF-8?Q?Frav=C3=A6rende=3A_Senest_tors=2E_10=2E_dec=2E=3A_ny_v=C3=A6rdi?=",
        b"Subject: " + subject.encode())
    assert read_reply(raw).automatic == "out-of-office subject"


@pytest.mark.parametrize(("headers", "automatic"), [
    ("Auto-Submitted: no\n", ""),
    ("Auto-Submitted: auto-generated\n", "Auto-Submitted: auto-generated"),
    ("Auto-Submitted: Auto-Replied; owner-email=\"sofie.holm@kk.dk\"\n",
     'Auto-Submitted: auto-replied; owner-email="sofie.holm@kk.dk"'),
    ("X-Autorespond: Ferie\n", "X-Autorespond: Ferie"),
    ("Precedence: list\n", "Precedence: list"),
    ("Precedence: junk\n", "Precedence: junk"),
    ("Precedence: auto_reply\n", "Precedence: auto_reply"),
    ("Precedence: first-class\n", ""),
    ("Subject: Re: Hvornår er jeg fraværende?\n", ""),
    ("Subject: Re: Out of office days in January\n", "out-of-office subject"),
    ("Subject: Out of Office AutoReply: Frist\n", "out-of-office subject"),
    ("Subject: Undeliverable: Frist\n", "delivery or read report subject"),
    ("Subject: Delivery Status Notification (Failure)\n", "delivery or read report subject"),
    ("Subject: Read: Due Thu 10 Dec\n", "delivery or read report subject"),
    ("Subject: SV: Læst: Frist\n", "delivery or read report subject"),
    ("Subject: SV: Læst og forstået\n", ""),
    ("Subject: Re: Ready for Thursday\n", ""),
    ("Return-Path: <>\n", "Return-Path: <>"),
    ("Return-Path: <sofie.holm@kk.dk>\n", ""),
    ("Content-Type: multipart/report; report-type=delivery-status; boundary=x\n",
     "multipart/report: delivery-status"),
])
def test_what_makes_a_reply_automatic(headers, automatic):
    message = email.message_from_string(
        f"From: a@b.dk\n{headers}\nFærdig\n", policy=email.policy.default)
    assert is_automatic(message) == automatic


def test_a_person_writing_reminder_replies_is_not_automatic():
    assert all(read(name).automatic == "" for name in PERSON_REPLIES)


# --- calendar answers ------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "attendee", "partstat"), [
    ("itip_outlook_da_accepted.eml", "sofie.holm@kk.dk", "ACCEPTED"),
    ("itip_outlook_da_declined.eml", "sofie.holm@kk.dk", "DECLINED"),
    ("itip_outlook_en_tentative.eml", "anders.berg@youthtrust.org.uk", "TENTATIVE"),
    ("itip_gmail_da_accepted.eml", "peter.jensen@gmail.com", "ACCEPTED"),
    ("itip_gmail_en_declined.eml", "peter.jensen@gmail.com", "DECLINED"),
    ("itip_gmail_da_tentative.eml", "peter.jensen@gmail.com", "TENTATIVE"),
])
def test_a_calendar_answer_is_read_once_with_uid_attendee_and_sequence(name, attendee,
                                                                      partstat):
    reply = read(name)
    # Gmail sends the answer twice (inline and invite.ics): it counts once
    assert reply.calendar == (CalendarAnswer(MEETING_UID, attendee, partstat, 1),)
    assert reply.automatic == "" and reply.note == ""


def test_outlooks_decline_comment_is_the_text_and_its_accept_has_none():
    assert read("itip_outlook_da_declined.eml").text == (
        "Jeg er desværre forhindret – Lars fra mit team kommer i stedet.")
    assert read("itip_outlook_da_accepted.eml").text == ""


def calendar_mail(body: str, method_param: str = "; method=REPLY") -> bytes:
    return (f"From: Sofie Holm <sofie.holm@kk.dk>\nSubject: Accepteret: M\nMIME-Version: 1.0\n"
            f"Content-Type: text/calendar; charset=utf-8{method_param}\n\n{body}").encode()


VEVENT = """BEGIN:VCALENDAR
VERSION:2.0
{method}BEGIN:VEVENT
UID:M-003-0cc81b2150f8@kommune.dk
SEQUENCE:{sequence}
DTSTAMP:20261203T133501Z
{attendees}END:VEVENT
END:VCALENDAR
"""


@pytest.mark.parametrize(("method", "attendees", "sequence", "expected"), [
    ("METHOD:REPLY\n", "ATTENDEE;PARTSTAT=ACCEPTED:MAILTO:Sofie.Holm@KK.dk\n", "2",
     (CalendarAnswer(MEETING_UID, "sofie.holm@kk.dk", "ACCEPTED", 2),)),
    ("METHOD:REQUEST\n", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:sofie.holm@kk.dk\n", "0", ()),
    ("METHOD:REPLY\n", "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:sofie.holm@kk.dk\n", "0", ()),
    ("METHOD:REPLY\n", "ATTENDEE;PARTSTAT=DELEGATED:mailto:sofie.holm@kk.dk\n", "0", ()),
    ("METHOD:REPLY\n", "ATTENDEE:mailto:sofie.holm@kk.dk\n", "0", ()),
    ("METHOD:REPLY\n", "ATTENDEE;PARTSTAT=declined:mailto:a@kk.dk\n"
     "ATTENDEE;PARTSTAT=TENTATIVE:mailto:b@kk.dk\n", "x",
     (CalendarAnswer(MEETING_UID, "a@kk.dk", "DECLINED", 0),
      CalendarAnswer(MEETING_UID, "b@kk.dk", "TENTATIVE", 0))),
])
def test_only_replies_with_an_answer_count(method, attendees, sequence, expected):
    body = VEVENT.format(method=method, attendees=attendees, sequence=sequence)
    assert read_reply(calendar_mail(body)).calendar == expected


def test_the_content_types_method_stands_in_when_the_calendar_has_none():
    body = VEVENT.format(method="", sequence="1",
                         attendees="ATTENDEE;PARTSTAT=ACCEPTED:mailto:sofie.holm@kk.dk\n")
    assert len(read_reply(calendar_mail(body)).calendar) == 1
    assert read_reply(calendar_mail(body, method_param="")).calendar == ()


def test_a_broken_calendar_part_is_no_answer_and_no_error():
    reply = read_reply(calendar_mail("BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\nUID:x"))
    assert reply.calendar == ()
    assert reply.sender == "sofie.holm@kk.dk"


# --- the same reading, however the bytes come ------------------------------------------------

MULTIPART = [path.name for path in sorted(SAMPLES.glob("*.eml"))
             if b"text/html" in path.read_bytes() and b"text/plain" in path.read_bytes()
             and not path.name.startswith("itip_gmail")]  # Google's HTML is a summary card


@pytest.mark.parametrize("name", MULTIPART)
def test_the_html_part_reads_as_the_plain_part_does(name):
    message = email.message_from_bytes(sample(name), policy=email.policy.default)
    html = next(part for part in message.walk() if part.get_content_type() == "text/html")
    assert own_text(html_text(decoded(html))) == read(name).text


@pytest.mark.parametrize("name", sorted(path.name for path in SAMPLES.glob("*.eml")))
def test_crlf_line_ends_as_imap_delivers_them_read_the_same(name):
    raw = sample(name)
    assert read_reply(raw.replace(b"\n", b"\r\n")) == read_reply(raw)


def test_a_message_over_the_limit_is_read_for_its_headers_only():
    raw = sample("outlook_da_done.eml")
    reply = read_reply(raw, max_bytes=len(raw) - 1)
    assert (reply.text, reply.note) == ("", "too large")
    assert reply.sender == "sofie.holm@kk.dk"
    assert reply.answers == (REMINDER_SOFIE,)


# --- the quote cut --------------------------------------------------------------------------

@pytest.mark.parametrize("quote", [
    "> Kære Sofie",
    "Den tors. 3. dec. 2026 kl. 14.00 skrev Sekretariatet <sekretariat@kommune.dk>:",
    "Den tors. 3. dec. 2026 kl. 14.00 skrev Sekretariatet <\nsekretariat@kommune.dk>:",
    "Den 3. dec. 2026 kl. 14.00 skrev Sekretariatet <sekretariat@kommune.dk>:",
    "Den 03.12.2026 kl. 14:00 skrev Sekretariatet:",
    "On Thu, 3 Dec 2026 at 14:00, Sekretariatet <sekretariat@kommune.dk> wrote:",
    "On Thu, Dec 3, 2026 at 2:00 PM Sekretariatet <\nsekretariat@kommune.dk> wrote:",
    "On 3 Dec 2026, at 14:00, Sekretariatet <sekretariat@kommune.dk> wrote:",
    "tors. 3. dec. 2026 kl. 14.00 skrev Sekretariatet <sekretariat@kommune.dk>:",
    "Fra: Sekretariatet <sekretariat@kommune.dk>\nSendt: torsdag den 3. december 2026 14.00",
    "Fra: Sekretariatet <sekretariat@kommune.dk>\nDato: 3. december 2026 kl. 14.00",
    "From: Sekretariatet <sekretariat@kommune.dk>\nSent: Thursday, December 3, 2026 2:00 PM",
    "From: Sekretariatet\nDate: Thursday, 3 December 2026 at 14:00",
    "*From:* Sekretariatet <sekretariat@kommune.dk>\n*Sent:* Thursday, 3 December 2026",
    "-----Oprindelig meddelelse-----",
    "-----Original Message-----",
    "-------- Oprindelig besked --------\nFra: Sekretariatet <sekretariat@kommune.dk>",
    "-------- Original message --------\nFrom: Sekretariatet <sekretariat@kommune.dk>",
    "Fra: Sekretariatet <sekretariat@kommune.dk>\nDato: torsdag den 3. december 2026 kl. 14.00"
    "\nTil: Sofie Holm <sofie.holm@kk.dk>",
    "Von: Sekretariatet <sekretariat@kommune.dk>\nGesendet: Donnerstag, 3. Dezember 2026",
    "________________________________",
    "---------- Videresendt meddelelse ---------",
    "---------- Forwarded message ---------",
    "Begin forwarded message:",
    "Start på videresendt besked:",
])
def test_the_quote_is_cut_at_every_way_clients_start_it(quote):
    text = f"Færdig\n\nVenlig hilsen\nSofie\n\n{quote}\n\nKære Sofie\nFristen er om 7 dage.\n"
    assert own_text(text) == "Færdig\n\nVenlig hilsen\nSofie"


@pytest.mark.parametrize("own", [
    "Fra: næste uge er jeg på ferie",
    "Fra: mandag\n\nTak for hjælpen",
    "Den rapport skrev jeg i går:",
    "On Monday I wrote the following:",
    "Jeg skrev til dem den 3. december: de svarede ikke",
    "Se https://example.org/a_b____c",
    "- færdig -",
])
def test_own_text_that_only_looks_like_a_quote_is_kept(own):
    assert own_text(f"{own}\nSofie\n") == f"{own}\nSofie"


def test_own_text_normalises_newlines_and_invisible_spaces():
    assert own_text("\r\n\u200b Færdig\u00a0\r\n\r\nSofie  \r\n\r\n") == "Færdig\n\nSofie"
    assert own_text("") == ""
    assert own_text("> alt er citat\n> her") == ""


# --- HTML ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("html", "text"), [
    ('<div dir="ltr">42,5</div><div class="gmail_quote">Den … skrev:<blockquote>x'
     "</blockquote></div>", "42,5"),
    ("<p>Færdig</p><blockquote type=\"cite\">Den 3. dec. skrev</blockquote><p>efter</p>",
     "Færdig"),
    ('<div>ny frist 15.3.2027</div><hr><div id="divRplyFwdMsg"><b>Fra:</b> x</div>',
     "ny frist 15.3.2027"),
    ('<div>Done</div><div id="divRplyFwdMsg">From: x</div>', "Done"),
    # Outlook on the web's rule before the quoted header: the reply ends there
    ("<div>Done</div><hr><div>Dear Anders, a reminder …</div>", "Done"),
    ("<html><head><title>t</title><style>p{color:red}</style></head><body>"
     "<p>a&nbsp;&amp;&#230;</p><p>b<br>c</p></body></html>", "a &æ\nb\nc"),
    ("<div>a</div><div><br></div><div>b</div>", "a\n\nb"),
    ("<p class=MsoNormal>a<o:p></o:p></p>\n<p class=MsoNormal><o:p>&nbsp;</o:p></p>\n"
     "<p class=MsoNormal>b<o:p></o:p></p>", "a\n\nb"),
    ("<script>alert(1)</script>Færdig", "Færdig"),
    ("<div>unclosed <b>bold", "unclosed bold"),
    ("", ""),
])
def test_html_reads_as_its_lines_up_to_the_quote(html, text):
    assert html_text(html) == text


def test_a_signed_reply_reads_its_text_and_us_ascii_with_8bit_bytes_is_not_garbled():
    raw = (b"From: Sofie Holm <sofie.holm@kk.dk>\nMIME-Version: 1.0\n"
           b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; '
           b'boundary="sig"\n\n--sig\nContent-Type: text/plain; charset="us-ascii"\n'
           b"Content-Transfer-Encoding: 8bit\n\nF\xe6rdig\n\n--sig\n"
           b'Content-Type: application/pkcs7-signature; name="smime.p7s"\n'
           b'Content-Disposition: attachment; filename="smime.p7s"\n'
           b"Content-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHAqCAMIACAQEx\n--sig--\n")
    reply = read_reply(raw)
    assert (reply.text, reply.note) == ("Færdig", "")


@pytest.mark.parametrize("content_type", [
    'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
    'multipart/encrypted; protocol="application/pgp-encrypted"; boundary=x',
])
def test_an_encrypted_reply_has_no_text_and_says_so(content_type):
    raw = (f"From: a@b.dk\nMIME-Version: 1.0\nContent-Type: {content_type}\n"
           "Content-Disposition: attachment\n\n--x\nContent-Type: application/pgp-encrypted"
           "\n\nVersion: 1\n--x--\n").encode()
    assert (read_reply(raw).text, read_reply(raw).note) == ("", "encrypted")


@pytest.mark.parametrize("offset", range(16_370, 16_390))
def test_html_fed_in_pieces_reads_the_same_whatever_falls_on_the_seam(offset):
    html = ("x" * offset + '<div class="a">F&aelig;rdig</div><div>&#248;</div>'
            '<blockquote type="cite">quoted</blockquote>')
    assert html_text(html) == "x" * offset + "\nFærdig\nø"


# --- never raise ---------------------------------------------------------------------------

BROKEN = [
    b"",
    b"\x00\xff\xfe",
    b"From: \nSubject: =?utf-8?q?unterminated\n\nFaerdig",
    b"From: =?x-unknown?q?Sofie?= <sofie@kk.dk>\nDate: not a date\nMessage-ID: x\n\nhej",
    b"From: a@b.dk\nContent-Type: text/plain; charset=x-no-such-charset\n\nF\xe6rdig",
    b"From: a@b.dk\nContent-Type: text/plain; charset=utf-8\n\nF\xe6rdig",
    b"From: a@b.dk\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!!notb64",
    b"From: a@b.dk\nContent-Type: multipart/alternative; boundary=x\n\n--x\nContent-Type: "
    b"text/plain\n\nFaerdig\n",  # never closed
    b"From: a@b.dk\nContent-Type: multipart/mixed\n\nno boundary",
    b"From: a@b.dk\nContent-Type: text/calendar; method=REPLY\n\n\xff\xfe",
    b"From: <<<>>>\nIn-Reply-To: <a@b> <c@d> <a@b>\nReferences: garbage <c@d>\n\nx",
    b"From: a@b.dk\nContent-Type: text/html\n\n<div><blockquote><<<</div>",
    b"Date: Thu, 3 Dec 2026 14:00:00 -0000\nFrom: a@b.dk\n\nx",
]


@pytest.mark.parametrize("raw", BROKEN)
def test_a_broken_message_gives_a_reply_not_an_error(raw):
    assert isinstance(read_reply(raw), Reply)


def test_broken_messages_keep_what_can_be_read():
    latin = read_reply(BROKEN[4])
    assert latin.text == "Færdig"  # an unknown charset: not UTF-8, so Windows-1252
    bad_utf8 = read_reply(BROKEN[5])
    assert bad_utf8.text == "F\ufffdrdig"  # declared UTF-8: the bad byte replaced
    ids = read_reply(BROKEN[10])
    assert ids.answers == ("<a@b>", "<c@d>")
    assert ids.sender == ""
    unknown_zone = read_reply(BROKEN[12])
    assert unknown_zone.date == datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    assert read_reply(BROKEN[3]).date is None


@pytest.mark.parametrize(("results", "failed"), [
    (["mx.kommune.dk; dmarc=fail (p=REJECT) header.from=kk.dk"], ("mx.kommune.dk",)),
    (["mx.kommune.dk 1; spf=pass; DMARC=Fail header.from=kk.dk"], ("mx.kommune.dk",)),
    (["mx.kommune.dk; dmarc=pass (comment says dmarc=fail) header.from=kk.dk"], ()),
    (["mx.kommune.dk; dkim=fail; dmarc=none"], ()),
    (["mx.kommune.dk; dmarc=fail", "relay.example; dmarc=fail", "MX.kommune.dk; dmarc=fail"],
     ("mx.kommune.dk", "relay.example")),
])
def test_dmarc_failures_name_the_server_that_found_them(results, failed):
    headers = "".join(f"Authentication-Results: {value}\n" for value in results)
    raw = f"{headers}From: Sofie Holm <sofie.holm@kk.dk>\n\nFærdig\n".encode()
    assert read_reply(raw).dmarc_fail_by == failed


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=4000))
def test_reading_never_raises_on_arbitrary_bytes(raw):
    assert isinstance(read_reply(raw), Reply)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(sorted(path.name for path in SAMPLES.glob("*.eml"))),
       st.integers(min_value=0, max_value=20_000), st.integers(min_value=0, max_value=400),
       st.binary(max_size=60))
def test_reading_never_raises_on_a_damaged_sample(name, at, cut, junk):
    raw = sample(name)
    at %= len(raw)
    assert isinstance(read_reply(raw[:at] + junk + raw[at + cut:]), Reply)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_the_quote_cut_and_html_reading_never_raise_on_any_text(text):
    assert isinstance(own_text(text), str)
    assert isinstance(html_text(text), str)


def test_a_date_without_a_zone_is_read_as_utc():
    # RFC 5322 "-0000": the zone is unknown; the moment is taken as UTC, aware
    reply = read_reply(b"Date: Thu, 3 Dec 2026 14:00:00 -0000\nFrom: a@b.dk\n\nx")
    assert reply.date is not None and reply.date.tzinfo is not None
