"""imap_wire: the server's answers read as data (automation/inbox/imap_wire.py), with
the pieces imaplib hands over, literals included."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from automation.inbox import imap_wire as wire

HEADERS = (b"Message-ID: <svar@kommune.dk>\r\nIn-Reply-To: <a@rygrad>\r\n"
           b"References: <b@rygrad>\r\n <a@rygrad>\r\n\t<c@rygrad>\r\n\r\n")


def test_a_fetch_with_a_header_literal() -> None:
    data = [(b'1 (UID 7 FLAGS (\\Seen $rygrad \\Recent) RFC822.SIZE 2048 BODYSTRUCTURE '
             b'("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "8BIT" 12 1 NIL NIL NIL NIL) '
             b'BODY[HEADER.FIELDS (MESSAGE-ID IN-REPLY-TO REFERENCES)] {%d}' % len(HEADERS),
             HEADERS), b")"]
    [message] = wire.fetched(data)
    assert message["UID"] == "7" and message["RFC822.SIZE"] == "2048"
    assert wire.flags(message["FLAGS"]) == {"\\Seen", "$rygrad"}
    assert wire.item(message, "BODY[HEADER.FIELDS") == HEADERS
    assert wire.message_ids(HEADERS) == ("<svar@kommune.dk>",
                                         ("<a@rygrad>", "<b@rygrad>", "<c@rygrad>"))
    assert not wire.has_calendar(message["BODYSTRUCTURE"])


def test_a_literal_inside_bodystructure_and_several_messages() -> None:
    name = "Årsrapport (endelig).pdf".encode()
    data = [
        (b'1 (UID 3 BODYSTRUCTURE ((("TEXT" "PLAIN" NIL NIL NIL "7BIT" 3 1 NIL NIL NIL NIL)'
         b'("TEXT" "CALENDAR" ("METHOD" "REPLY") NIL NIL "7BIT" 40 2 NIL NIL NIL NIL) '
         b'"ALTERNATIVE" NIL NIL NIL NIL)("APPLICATION" "PDF" ("NAME" {%d}' % len(name), name),
        b') NIL NIL "BASE64" 8 NIL NIL NIL NIL) "MIXED" NIL NIL NIL NIL))',
        b'2 (UID 4 BODYSTRUCTURE (("TEXT" "PLAIN" NIL NIL NIL "7BIT" 3 1 NIL NIL NIL NIL)'
        b'("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 90 (NIL "x" NIL NIL NIL NIL NIL NIL NIL NIL)'
        b' ("TEXT" "CALENDAR" NIL NIL NIL "7BIT" 40 2 NIL NIL NIL NIL) 5 NIL NIL NIL NIL) '
        b'"MIXED" NIL NIL NIL NIL))',
    ]
    first, second = wire.fetched(data)
    assert first["UID"] == "3" and wire.has_calendar(first["BODYSTRUCTURE"])
    pdf = first["BODYSTRUCTURE"][1]  # type: ignore[index]
    assert pdf[2] == ["NAME", name]  # type: ignore[index]
    assert second["UID"] == "4" and not wire.has_calendar(second["BODYSTRUCTURE"])


@pytest.mark.parametrize("data", [
    [b"1 (UID 3"], [b"1 UID 3)"], [b"1 (UID {5}"], [b'1 (UID "3)'], [b"(UID 3)"]])
def test_what_does_not_parse_is_a_wire_error(data: list[object]) -> None:
    with pytest.raises(wire.WireError):
        wire.fetched(data)


def test_header_blocks_without_ids() -> None:
    assert wire.message_ids(None) == ("", ())
    assert wire.message_ids(b"Message-ID: \r\nIn-Reply-To: not an id\r\n\r\n") == ("", ())


@pytest.mark.parametrize(("uids", "text"), [
    ([1, 2, 3, 7, 9, 10], "1:3,7,9:10"), ([5], "5"), ([3, 1, 2, 2], "1:3"), ([], "")])
def test_uid_sets(uids: list[int], text: str) -> None:
    assert wire.uid_set(uids) == text


def test_uid_sets_split_by_length() -> None:
    assert wire.uid_sets([1, 2, 3, 5]) == ["1:3,5"]
    sets = wire.uid_sets(range(1, 4000, 2), longest=100)
    assert all(len(s) <= 100 for s in sets) and len(sets) > 1
    assert [int(u) for s in sets for u in s.split(",")] == list(range(1, 4000, 2))
    assert wire.uid_sets([]) == []


def test_search_dates_are_english_whatever_the_locale() -> None:
    assert wire.search_date(date(2026, 5, 3)) == "3-May-2026"
    assert wire.search_date(date(2026, 12, 24)) == "24-Dec-2026"


@pytest.mark.parametrize(("name", "wire_name"), [
    ("INBOX", "INBOX"), ("Svar på mails", "Svar p&AOU- mails"), ("A&B", "A&-B"),
    ("Søndergård/Æbler", "S&APg-nderg&AOU-rd/&AMY-bler"), ("日本語", "&ZeVnLIqe-")])
def test_folder_names_in_modified_utf7(name: str, wire_name: str) -> None:
    assert wire.encode_folder(name) == wire_name
    assert wire.decode_folder(wire_name) == name


def test_permanent_flags_and_keywords() -> None:
    assert wire.permanent_flags([]) is None
    assert wire.keywords_allowed(None, "$rygrad")
    only = wire.permanent_flags([b"(\\Deleted \\Seen)"])
    assert only == {"\\Deleted", "\\Seen"} and not wire.keywords_allowed(only, "$rygrad")
    assert wire.keywords_allowed(wire.permanent_flags([b"(\\Seen \\*)"]), "$rygrad")
    assert wire.keywords_allowed(wire.permanent_flags([b"(\\Seen $Rygrad)"]), "$rygrad")


def test_listed_folders() -> None:
    data = [b'(\\HasNoChildren) "/" INBOX', b'(\\HasNoChildren) "." "Svar p&AOU- mails"',
            b'(\\Noselect \\HasChildren) "/" Arkiv', (b'(\\HasNoChildren) "/" {4}', b"Navn")]
    assert wire.listed_folders(data) == ["INBOX", "Svar på mails", "Navn"]


@given(st.lists(st.one_of(st.binary(max_size=80),
                          st.tuples(st.binary(max_size=40).map(lambda b: b + b" {3}"),
                                    st.binary(min_size=3, max_size=3)),
                          st.sampled_from([b"1 (UID 4 FLAGS (\\Seen))", b")", b"(", b'"',
                                           b"2 (BODY[HEADER.FIELDS (X)] NIL)"])),
                max_size=6))
@settings(max_examples=300, deadline=None)
def test_no_answer_makes_fetched_raise_anything_but_a_wire_error(data: list[object]) -> None:
    try:
        messages = wire.fetched(data)
    except wire.WireError:
        return
    for message in messages:  # and what the adapter then asks of each never raises
        wire.has_calendar(wire.item(message, "BODYSTRUCTURE"))
        wire.flags(wire.item(message, "FLAGS"))
        block = wire.item(message, "BODY[")
        wire.message_ids(block if isinstance(block, bytes) else None)


@given(st.binary(max_size=300))
def test_any_header_block_gives_ids_or_nothing(block: bytes) -> None:
    own, answers = wire.message_ids(block)
    assert own == "" or (own.startswith("<") and own.endswith(">"))
    assert all(a.startswith("<") and a.endswith(">") for a in answers)
    assert len(set(answers)) == len(answers)
