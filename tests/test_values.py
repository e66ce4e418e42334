"""Every form a partner types, read or refused: dates, times, numbers, flags, lists, …"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from automation.core import values
from automation.core.i18n import and_list, shown, text

DEC_4 = date(2026, 12, 4)


@pytest.mark.parametrize(("cell", "expected"), [
    (None, None),
    ("", None),
    ("   ", None),
    (DEC_4, DEC_4),
    (datetime(2026, 12, 4, 0, 0), DEC_4),
    (datetime(2026, 12, 4, 13, 30), DEC_4),
    ("2026-12-04", DEC_4),
    (" 2026-12-4 ", DEC_4),
    ("2026-12-04 00:00:00", DEC_4),
    ("2026-12-04T10:15", DEC_4),
    ("4-12-2026", DEC_4),
    ("4.12.2026", DEC_4),
    ("4/12/2026", DEC_4),
    ("04.12.2026", DEC_4),
    ("04.12.26", DEC_4),
    ("4. 12. 2026", DEC_4),
    ("4. dec. 2026", DEC_4),
    ("4. dec 2026", DEC_4),
    ("4. december 2026", DEC_4),
    ("4 december 2026", DEC_4),
    ("4 December 2026", DEC_4),
    ("4-dec-2026", DEC_4),
    ("4. DEC. 26", DEC_4),
    ("fredag den 4. december 2026", DEC_4),
    ("Friday, 4 December 2026", DEC_4),
    ("December 4, 2026", DEC_4),
    ("Dec 4 2026", DEC_4),
    ("4th December 2026", DEC_4),
    ("1. jan. 2027", date(2027, 1, 1)),
    ("2. februar 2027", date(2027, 2, 2)),
    ("3. mar. 2027", date(2027, 3, 3)),
    ("3. marts 2027", date(2027, 3, 3)),
    ("4 March 2027", date(2027, 3, 4)),
    ("March 4, 2027", date(2027, 3, 4)),
    ("5. apr. 2027", date(2027, 4, 5)),
    ("6. maj 2027", date(2027, 5, 6)),
    ("6 May 2027", date(2027, 5, 6)),
    ("7. jun. 2027", date(2027, 6, 7)),
    ("7. juni 2027", date(2027, 6, 7)),
    ("8. juli 2027", date(2027, 7, 8)),
    ("9. aug. 2027", date(2027, 8, 9)),
    ("10. sep. 2027", date(2027, 9, 10)),
    ("10. sept. 2027", date(2027, 9, 10)),
    ("11. okt. 2027", date(2027, 10, 11)),
    ("11 Oct 2027", date(2027, 10, 11)),
    ("12. nov. 2027", date(2027, 11, 12)),
    ("29. februar 2028", date(2028, 2, 29)),
])
def test_dates_read_day_first(cell, expected):
    assert values.parse_date(cell) == expected


@pytest.mark.parametrize(("cell", "order", "expected"), [
    ("4/12/2026", "dmy", DEC_4),
    ("12/4/2026", "mdy", DEC_4),
    ("12-04-26", "mdy", DEC_4),
    ("26.12.04", "ymd", DEC_4),
    ("04.12.26", "dmy", DEC_4),
    # four digits in front are always a year, whatever the order
    ("2026-12-04", "mdy", DEC_4),
    ("2026/12/4", "dmy", DEC_4),
    # with the year written last, ymd cannot apply: day first
    ("4/12/2026", "ymd", DEC_4),
    # names are never ambiguous
    ("4. december 2026", "mdy", DEC_4),
    ("December 4, 2026", "dmy", DEC_4),
])
def test_date_order_decides_only_ambiguous_numbers(cell, order, expected):
    assert values.parse_date(cell, order) == expected


@pytest.mark.parametrize("cell", [
    "31-02-2027",
    "2027-13-01",
    "32.1.2027",
    "29.2.2027",
    "0.1.2027",
    "i morgen",
    "tomorrow",
    "snart",
    "4.12",
    "4.12.",
    "4-12/2026",
    "4.12.202",
    "4. decembre 2026",
    "4. dec.",
    "uge 49",
    46000,
    46000.5,
    True,
    time(14, 0),
])
def test_dates_refused(cell):
    with pytest.raises(ValueError):
        values.parse_date(cell)


@pytest.mark.parametrize(("cell", "expected"), [
    (None, None),
    ("", None),
    ("14:00", time(14, 0)),
    ("14.00", time(14, 0)),
    ("14", time(14, 0)),
    ("9:30", time(9, 30)),
    ("09:30", time(9, 30)),
    ("kl. 14", time(14, 0)),
    ("kl 14.30", time(14, 30)),
    ("Kl. 9.15", time(9, 15)),
    ("14:00:00", time(14, 0)),
    ("0:00", time(0, 0)),
    ("23:59", time(23, 59)),
    ("2 pm", time(14, 0)),
    ("2:30pm", time(14, 30)),
    ("12 am", time(0, 0)),
    ("12 pm", time(12, 0)),
    (time(14, 0), time(14, 0)),
    (time(14, 0, 0, 500), time(14, 0)),
    (time(14, 0, tzinfo=UTC), time(14, 0)),
    (datetime(2026, 12, 4, 14, 0), time(14, 0)),
    (datetime(2026, 12, 4, 14, 0, 0, 500), time(14, 0)),
    (datetime(2026, 12, 4, 14, 0, tzinfo=UTC), time(14, 0)),
    ("14:00:30", time(14, 0, 30)),
    ("14:00:59", time(14, 0, 59)),
    ("1 pm", time(13, 0)),
    ("1 am", time(1, 0)),
    (0.5104167, time(12, 15)),
    (1, time(1, 0)),
    (1.0, time(1, 0)),
    (23, time(23, 0)),
    (0.5, time(12, 0)),
    (0.5833333, time(14, 0)),
    (0.0, time(0, 0)),
    (14, time(14, 0)),
    (14.0, time(14, 0)),
])
def test_times_read(cell, expected):
    assert values.parse_time(cell) == expected


@pytest.mark.parametrize("cell", [
    "25:00", "24:00", "14:75", "14:5", "abc", "14-16", "kl.", "13 pm", "0 pm", "1400",
    14.5, 24, -1, 1.0 - 1e-9, True, DEC_4,
])
def test_times_refused(cell):
    with pytest.raises(ValueError):
        values.parse_time(cell)


@pytest.mark.parametrize(("cell", "expected"), [
    (None, None),
    ("  ", None),
    (12, 12.0),
    (12.5, 12.5),
    ("12", 12.0),
    ("12,5", 12.5),
    ("12.5", 12.5),
    ("1.234,5", 1234.5),
    ("1,234.5", 1234.5),
    ("1.234.567", 1234567.0),
    ("1 234", 1234.0),
    ("1\u00a0234,5", 1234.5),
    ("-3", -3.0),
    ("\u22123", -3.0),
    ("+3", 3.0),
    ("45 %", 45.0),
    ("45%", 45.0),
    (" 0,25 ", 0.25),
    ("45\u00a0%", 45.0),
    ("45\u202f%", 45.0),
])
def test_numbers_read(cell, expected):
    assert values.parse_number(cell) == expected


@pytest.mark.parametrize("cell", [
    "mange", "ca. 40", "12,5,3", "1.2.3,4", "12 5", "5.", ",5", "%", "-", "40-50",
    "45\t%",  # only a space may stand between a number and its %
    True, float("nan"), float("inf"), DEC_4,
])
def test_numbers_refused(cell):
    with pytest.raises(ValueError):
        values.parse_number(cell)


@pytest.mark.parametrize(("cell", "expected"), [
    *[(word, True) for word in ("ja", "Ja", "yes", "x", "X", "true", "TRUE", "1", "aflyst",
                                "Aflyst", "cancelled", " ja ")],
    (True, True),
    (1, True),
    *[(word, False) for word in ("", "nej", "no", "FALSE", "false", "0", "  ")],
    (None, False),
    (False, False),
    (0, False),
])
def test_flags_read(cell, expected):
    assert values.parse_flag(cell) is expected


@pytest.mark.parametrize("cell", ["måske", "flyttet", "2", 2])
def test_flags_refused(cell):
    with pytest.raises(ValueError):
        values.parse_flag(cell)


@pytest.mark.parametrize(("cell", "expected"), [
    (None, (False, "")),
    ("", (False, "")),
    ("ja", (True, "")),
    ("X", (True, "")),
    (True, (True, "")),
    (1, (True, "")),
    ("nej", (False, "")),
    (0, (False, "")),
    # any other text is a cancellation, and its reason
    ("Formanden er syg", (True, "Formanden er syg")),
    ("flyttet til januar", (True, "Flyttet til januar")),
    ("Ja: for få tilmeldte", (True, "For få tilmeldte")),
    ("Aflyst – lokalet er\ndobbeltbooket", (True, "Lokalet er dobbeltbooket")),
    ("Yes, the chair is ill", (True, "The chair is ill")),
    ("Aflyst pga. sygdom", (True, "Aflyst pga. sygdom")),
])
def test_cancellation_and_its_reason(cell, expected):
    assert values.parse_cancellation(cell) == expected


@pytest.mark.parametrize("cell", ["måske", "Måske – afventer formanden", "nej tak",
                                  "aflyses?", "2", 2, "Evt. aflyst"])
def test_doubt_is_no_cancellation(cell):
    # a cancellation mails everyone and empties their calendars: it must be meant
    with pytest.raises(ValueError):
        values.parse_cancellation(cell)


@pytest.mark.parametrize(("cell", "expected"), [
    (None, ""),
    ("https://teams.microsoft.com/l/meetup-join/19%3ameeting",
     "https://teams.microsoft.com/l/meetup-join/19%3ameeting"),
    ("Zoom: https://zoom.us/j/123?pwd=x. Kode 42", "https://zoom.us/j/123?pwd=x"),
    ("»https://meet.google.com/abc-defg-hij«", "https://meet.google.com/abc-defg-hij"),
])
def test_online_links(cell, expected):
    assert values.parse_link(cell) == expected


@pytest.mark.parametrize("cell", ["Teams", "www.zoom.us", "ftp://x.example/y"])
def test_online_links_refused(cell):
    with pytest.raises(ValueError):
        values.parse_link(cell)


@pytest.mark.parametrize(("cell", "expected"), [
    (None, ()),
    ("", ()),
    ("Styregruppen", ("Styregruppen",)),
    ("Styregruppen, AG Skole", ("Styregruppen", "AG Skole")),
    ("Styregruppen;AG Skole;", ("Styregruppen", "AG Skole")),
    ("Styregruppen\nAG  Skole\r\n\n", ("Styregruppen", "AG Skole")),
    (" , ; ", ()),
])
def test_group_lists_split(cell, expected):
    assert values.split_list(cell) == expected


@pytest.mark.parametrize(("cell", "expected"), [
    (None, None),
    ("", None),
    ("anne@kommune.example", "anne@kommune.example"),
    (" Anne.Holm@Kommune.EXAMPLE ", "Anne.Holm@kommune.example"),
])
def test_emails_normalised(cell, expected):
    assert values.parse_email(cell) == expected


@pytest.mark.parametrize("cell", ["anne@", "anne", "anne@kommune", "a b@kommune.example",
                                  "anne@kommune.test"])
def test_emails_refused(cell):
    with pytest.raises(ValueError):
        values.parse_email(cell)


@pytest.mark.parametrize(("cell", "months"), [
    (None, 3), ("", 3),
    ("månedlig", 1), ("Monthly", 1),
    ("kvartalsvis", 3), ("quarterly", 3),
    ("halvårlig", 6), ("halvårligt", 6), ("half-yearly", 6), ("half  yearly", 6),
    ("årlig", 12), ("årligt", 12), ("yearly", 12), ("Annual", 12),
])
def test_frequencies(cell, months):
    assert values.parse_frequency(cell) == months


@pytest.mark.parametrize("cell", ["ugentlig", "hver 2. måned", 3])
def test_frequencies_refused(cell):
    with pytest.raises(ValueError):
        values.parse_frequency(cell)


@pytest.mark.parametrize(("cell", "default", "expected"), [
    ("", "da", "da"), (None, "en", "en"),
    ("da", "en", "da"), ("EN", "da", "en"), ("dansk", "en", "da"), ("Danish", "en", "da"),
    ("engelsk", "da", "en"), ("English", "da", "en"),
])
def test_languages(cell, default, expected):
    assert values.parse_language(cell, default) == expected


def test_language_refused():
    with pytest.raises(ValueError):
        values.parse_language("tysk", "da")


@pytest.mark.parametrize(("cell", "expected"), [
    (None, ""),
    ("  tekst ", "  tekst "),
    (True, "TRUE"),
    (False, "FALSE"),
    (3, "3"),
    (3.0, "3"),
    (2.5, "2.5"),
    (DEC_4, "2026-12-04"),
    (datetime(2026, 12, 4), "2026-12-04"),
    (datetime(2026, 11, 27, 10, 15), "2026-11-27 10:15"),
    (time(14, 0), "14:00"),
    (time(14, 0, 30), "14:00:30"),
])
def test_cell_text(cell, expected):
    assert values.cell_text(cell) == expected


@pytest.mark.parametrize(("cell", "expected"), [
    (None, ()),
    ("Velkommen\n\n- Status på handlinger\n• Indikatorer\n4) Budget\n12. Eventuelt  ",
     ("Velkommen", "Status på handlinger", "Indikatorer", "Budget", "Eventuelt")),
    ("1.5 mio. kr. til lektiecafé\n2026-planen", ("1.5 mio. kr. til lektiecafé", "2026-planen")),
])
def test_agenda_items(cell, expected):
    assert values.agenda_items(cell) == expected


@pytest.mark.parametrize(("read", "cell", "message"), [
    (values.parse_date, 46000, "not a date: 46000"),
    (values.parse_date, "i morgen", "not a date: 'i morgen'"),
    (values.parse_date, "123.12.2026", "a year has two or four digits"),
    (values.parse_date, "4.12.202", "not a year: '202'"),
    (lambda cell: values.parse_date(cell, "ymd"), "26.12.202", "not a year: '202'"),
    (values.parse_date, "4. decembre 2026", "not a month: 'decembre'"),
    (values.parse_time, DEC_4, "not a time: datetime.date(2026, 12, 4)"),
    (values.parse_time, "abc", "not a time: 'abc'"),
    (values.parse_time, "13 pm", "not a time: '13 pm'"),
    (values.parse_time, "24:00", "not a time: '24:00'"),
    (values.parse_time, "14:60", "not a time: '14:60'"),
    (values.parse_time, "14:00:60", "not a time: '14:00:60'"),
    (values.parse_time, 24, "not a time: 24.0"),
    (values.parse_time, 1.0 - 1e-9, "not a time: 0.999999999"),
    (values.parse_number, True, "not a number: True"),
    (values.parse_number, float("inf"), "not a number: inf"),
    (values.parse_number, "mange", "not a number: 'mange'"),
    (values.parse_number, "12 5", "not a number: '12 5'"),
    (values.parse_number, "1.2.3,4", "not a number: '1.2.3,4'"),
    (values.parse_number, "1,5 3", "not a number: '1,5 3'"),
    (values.parse_flag, "måske", "not yes or no: 'måske'"),
    (values.parse_frequency, "ugentlig", "not a frequency: 'ugentlig'"),
    (lambda cell: values.parse_language(cell, "da"), "tysk", "not a language: 'tysk'"),
])
def test_refusals_say_what_could_not_be_read(read, cell, message):
    # parse.py words the sheet's notes itself; these are for --debug and for callers
    with pytest.raises(ValueError) as caught:
        read(cell)
    assert str(caught.value) == message


@pytest.mark.parametrize(("order", "expected"), [
    ("dmy", "4-12-2026"), ("mdy", "12-4-2026"), ("ymd", "2026-12-04")])
def test_example_date_in_each_order(order, expected):
    assert values.example_date(order) == expected
    assert values.parse_date(expected, order) == DEC_4


def test_messages_show_values_on_one_line_and_cut_long_ones():
    message = text("da", "not_number", column="Aktuel værdi", value="mange\nflere")
    assert message == 'Aktuel værdi: "mange flere" er ikke et tal'
    long = text("en", "not_number", column="Current value", value="x" * 100)
    assert long == f'Current value: "{"x" * 59}…" is not a number'
    assert shown("a\tb\x00c") == "a b c"


@pytest.mark.parametrize(("language", "items", "expected"), [
    ("da", ["4"], "4"),
    ("da", ["4", "9"], "4 og 9"),
    ("da", ["4", "7", "9"], "4, 7 og 9"),
    ("en", ["4", "7", "9"], "4, 7 and 9"),
])
def test_and_list(language, items, expected):
    assert and_list(language, items) == expected
