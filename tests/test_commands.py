"""What a reply asks for (automation/core/commands.py): the first line that is not a
greeting decides, a command is a line of its own, a command must fit the mail answered, and
every refusal has one sentence of reason in the partner's language."""

from __future__ import annotations

import math
import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from automation.core import i18n
from automation.core.commands import (
    REPORT_LIMIT,
    Done,
    FreeText,
    NewDue,
    NotUnderstood,
    Value,
    read_command,
)

TODAY = date(2026, 12, 3)
DONE_STATUSES = ("Færdig", "Afsluttet", "Lukket", "Done", "Completed", "Closed")


def command(text: str, answering: str = "action", today: date = TODAY,
            date_order: str = "dmy", language: str = "da"):
    return read_command(text, answering, DONE_STATUSES, today, date_order, language)


@pytest.mark.parametrize(("text", "expected"), [
    ("Færdig", Done("Færdig")),
    ("færdig", Done("færdig")),
    ("Færdig!", Done("Færdig")),
    ("færdig.", Done("færdig")),
    ("FÆRDIG", Done("FÆRDIG")),
    ("*Færdig*", Done("Færdig")),
    ("»Færdig«", Done("Færdig")),
    ("udført", Done("udført")),
    ("Udført.", Done("Udført")),
    ("Done", Done("Done")),
    ("done!", Done("done")),
    ("Afsluttet", Done("Afsluttet")),      # any of rules.done_statuses
    ("completed", Done("completed")),
    ("  Færdig  \n", Done("Færdig")),
    ("\n\nFærdig\n\nVenlig hilsen\nSofie Holm\nKøbenhavns Kommune", Done("Færdig")),
    ("Færdig\nTak for påmindelsen", Done("Færdig")),
    ("Færdig 👍", Done("Færdig")),
    ("Done :)", Done("Done")),
    ("Udført! 😊", Done("Udført")),
])
def test_a_done_word_on_a_line_of_its_own_is_done(text, expected):
    assert command(text) == expected


@pytest.mark.parametrize("text", [
    "Hej\n\nFærdig",
    "Hej Sekretariat,\n\nFærdig",
    "Hej Sekretariatet!\nFærdig",
    "Kære sekretariat\nFærdig\nMvh Sofie",
    "Hi Anna,\nDone",
    "Hi Anna Berg,\nDone",
    "Dear secretariat,\n\nDone",
    "Godmorgen!\nFærdig",
])
def test_greeting_lines_before_the_command_are_skipped(text):
    assert isinstance(command(text), Done)


@pytest.mark.parametrize("text", [
    "Jeg er ikke helt færdig endnu",
    "Ikke færdig",
    "Færdig, næsten",
    "Færdig på mandag",
    "Hej, jeg er færdig",
    "Hej jeg er færdig",
    "Hej færdig",
    "Hej Sofie er færdig",
    "Hi, it is done",
    "Hej Sekretariat, opgaven er udført",
    "Tak\n\nFærdig",  # "Tak" is the first line, and it is no command
    "Not done yet",
    "done?",
    "Er det færdig?",
    "Se vedhæftede",
])
def test_a_sentence_with_a_done_word_in_it_is_not_a_command(text):
    result = command(text)
    assert isinstance(result, NotUnderstood)
    assert result.reason == i18n.text("da", "reply_action_unclear", example="31.12.2026")


@pytest.mark.parametrize(("text", "due"), [
    ("ny frist 15.3.2027", date(2027, 3, 15)),
    ("Ny frist: 15.3.2027", date(2027, 3, 15)),
    ("ny frist 15-03-2027", date(2027, 3, 15)),
    ("ny frist 2027-03-15", date(2027, 3, 15)),
    ("Ny frist 15. marts 2027", date(2027, 3, 15)),
    ("ny frist mandag den 15. marts 2027", date(2027, 3, 15)),
    ("Frist: 15/3", date(2027, 3, 15)),         # no year: the next 15 March
    ("frist 15.3", date(2027, 3, 15)),
    ("frist 15.3.", date(2027, 3, 15)),
    ("frist 15. marts", date(2027, 3, 15)),
    ("frist 4/12", date(2026, 12, 4)),          # this year's, still ahead
    ("frist 3/12", date(2026, 12, 3)),          # today is not in the past
    ("Frist: 2/12", date(2027, 12, 2)),         # yesterday's day: next year
    ("new due date 15 March 2027", date(2027, 3, 15)),
    ("New due date: 15 March 2027.", date(2027, 3, 15)),
    ("due 15 March", date(2027, 3, 15)),
    ("due date: March 15", date(2027, 3, 15)),
    ("ny frist er 15.3.2027", date(2027, 3, 15)),
    ("Hej\nny frist 15.3.2027\nVi venter på tal", date(2027, 3, 15)),
])
def test_a_new_due_date_in_the_sheets_formats(text, due):
    assert command(text) == NewDue(due)


@pytest.mark.parametrize(("text", "order", "due"), [
    ("new due date 3/15/2027", "mdy", date(2027, 3, 15)),
    ("due 3/15", "mdy", date(2027, 3, 15)),
    ("ny frist 2027-03-15", "ymd", date(2027, 3, 15)),
    ("ny frist 27.03.15", "ymd", date(2027, 3, 15)),
])
def test_a_new_due_date_follows_the_sheets_date_order(text, order, due):
    assert command(text, date_order=order) == NewDue(due)


def test_29_february_without_a_year_is_the_next_leap_years():
    assert command("frist 29/2") == NewDue(date(2028, 2, 29))


@pytest.mark.parametrize(("text", "message_id", "written"), [
    ("ny frist 1.12.2026", "reply_date_past", "1.12.2026"),
    ("Frist: 1.1.2020", "reply_date_past", "1.1.2020"),
    ("ny frist 31.2.2027", "reply_not_date", "31.2.2027"),
    ("frist 31/2", "reply_not_date", "31/2"),
    ("frist 15.13", "reply_not_date", "15.13"),
    ("frist 32 marts", "reply_not_date", "32 marts"),
    ("ny frist 15. marts 2027 eller senere", "reply_not_date", "15. marts 2027 eller senere"),
])
def test_a_due_date_in_the_past_or_no_date_is_refused_with_its_reason(text, message_id,
                                                                       written):
    assert command(text) == NotUnderstood(
        i18n.text("da", message_id, value=written, example="31.12.2026"))


@pytest.mark.parametrize("text", ["ny frist næste uge", "due to illness I cannot finish",
                                  "frist? hvilken frist"])
def test_due_words_without_a_date_are_not_a_command(text):
    result = command(text, language="en")
    assert result == NotUnderstood(i18n.text("en", "reply_action_unclear",
                                             example="31.12.2026"))


@pytest.mark.parametrize(("text", "value"), [
    ("42", 42.0),
    ("42,5", 42.5),
    ("42.5", 42.5),
    ("1.234,5", 1234.5),
    ("1 234", 1234.0),
    ("1234", 1234.0),
    ("0,125", 0.125),
    ("12,50", 12.5),
    ("-3", -3.0),
    ("\u22123,5", -3.5),
    ("42 %", 42.0),
    ("42%", 42.0),
    ("værdi: 42 %", 42.0),
    ("Værdi 42", 42.0),
    ("Ny værdi: 42,5", 42.5),
    ("value 42.5", 42.5),
    ("Value: 42.5", 42.5),
    ("42,5.", 42.5),
    ("Hej\n\n42,5\n\nHilsen Peter", 42.5),
    ("\n42\n\nSendt fra min iPhone", 42.0),
])
def test_a_number_answers_an_indicator_request(text, value):
    assert command(text, "indicator") == Value(value)


@pytest.mark.parametrize("written", ["1.234", "1,234", "-1.234", "999,000 %"])
def test_one_separator_before_three_digits_is_refused_as_either_reading_could_be_meant(
        written):
    assert command(f"værdi: {written}", "indicator") == NotUnderstood(
        i18n.text("da", "reply_number_ambiguous", value=written.removesuffix(" %")))


def test_a_number_too_large_for_the_sheet_is_no_value():
    assert command("9" * 400, "indicator") == NotUnderstood(
        i18n.text("da", "reply_indicator_unclear"))


@pytest.mark.parametrize("text", ["ca. 42", "42 eller 43", "42-45", "Vi er på 42 %",
                                  "fyrre", "1,2,3", "Jeg er ikke færdig"])
def test_what_is_not_a_number_alone_does_not_answer_an_indicator(text):
    assert command(text, "indicator") == NotUnderstood(
        i18n.text("da", "reply_indicator_unclear"))


@pytest.mark.parametrize(("text", "answering", "message_id"), [
    ("42", "action", "reply_number_on_action"),
    ("værdi: 42 %", "action", "reply_number_on_action"),
    ("Færdig", "indicator", "reply_command_on_indicator"),
    ("ny frist 15.3.2027", "indicator", "reply_command_on_indicator"),
    ("ny frist 1.1.2020", "indicator", "reply_command_on_indicator"),
])
def test_a_command_that_does_not_fit_the_mail_answered_names_what_does(text, answering,
                                                                       message_id):
    result = command(text, answering)
    assert isinstance(result, NotUnderstood)
    assert result.reason.startswith(i18n.CATALOGUE[message_id]["da"][:20])


def test_the_reasons_name_an_example_date_ahead_in_the_sheets_order():
    assert "»ny frist 31.12.2026«" in command("42").reason
    assert '"new due date 12/31/2026"' in command("42", date_order="mdy",
                                                  language="en").reason
    assert "2026-12-31" in command("42", date_order="ymd").reason


@pytest.mark.parametrize("text", ["", "   \n\n", "Hej\n\n", "Hej Sekretariat,"])
def test_an_empty_reply_is_not_understood(text):
    assert command(text) == NotUnderstood(i18n.text("da", "reply_empty"))
    assert command(text, "report", language="en") == NotUnderstood(
        i18n.text("en", "reply_empty"))


def test_a_report_is_the_whole_text_trimmed():
    text = "\n\nKære sekretariat\n\nVi har mødtes to gange.  \nFærdig med kortlægningen.\n\n"
    assert command(text, "report") == FreeText(
        "Kære sekretariat\n\nVi har mødtes to gange.\nFærdig med kortlægningen.")


def test_a_long_report_is_cut_at_a_word_near_the_limit():
    text = " ".join(["arbejdsgruppe"] * 300)
    result = command(text, "report")
    assert isinstance(result, FreeText)
    assert result.text.endswith("arbejdsgruppe …")
    assert REPORT_LIMIT - 20 < len(result.text) <= REPORT_LIMIT + 2


@pytest.mark.parametrize("message_id", [key for key in i18n.CATALOGUE
                                        if key.startswith("reply_")])
def test_every_reason_is_one_sentence_in_danish_and_in_english(message_id):
    for language in ("da", "en"):
        reason = i18n.text(language, message_id, example="15.3.2027", value="42")
        assert reason.endswith(".") and not re.search(r"[.!?] [A-ZÆØÅ]", reason), reason
    assert i18n.text("da", message_id, example="x", value="y") != i18n.text(
        "en", message_id, example="x", value="y")


def test_an_unknown_kind_of_mail_answered_is_a_programming_error():
    with pytest.raises(ValueError, match="answering"):
        read_command("Færdig", "invitation", DONE_STATUSES, TODAY)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["action", "indicator", "report"]),
       st.sampled_from(["dmy", "mdy", "ymd"]), st.sampled_from(["da", "en"]))
def test_reading_a_command_never_raises(text, answering, order, language):
    result = read_command(text, answering, DONE_STATUSES, TODAY, order, language)
    assert isinstance(result, Done | NewDue | Value | FreeText | NotUnderstood)
    if isinstance(result, NewDue):
        assert result.due >= TODAY
    if isinstance(result, Value):
        assert math.isfinite(result.value)
    if isinstance(result, NotUnderstood):
        assert result.reason


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789./- marts", max_size=20))
def test_due_dates_from_digits_and_marks_never_raise(written):
    result = command(f"frist {written}")
    assert isinstance(result, NewDue | NotUnderstood)
