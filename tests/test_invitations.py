"""Invitations and cancellations as partners read them (issue 13): the online link as a
button, an update naming what changed, a cancellation's reason. Real templates and
babel, the mail parsed back with the standard library, the HTML read with its parser."""

from __future__ import annotations

from datetime import date, time
from html.parser import HTMLParser
from typing import Any

import pytest

from automation.core.model import Initiative, Meeting, Message, Recipient
from tests.test_render import initiative, rendered, text_of

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0"
DETAILS = {"date": "2026-12-03", "start": "14:00", "end": "16:00", "location": "Rådhuset"}


def invitation(lang: str = "da", seq: int = 0, **payload: Any) -> Message:
    return Message("invitation", f"invitation:M1:{seq}",
                   Recipient("Anne Hansen", "anne@ung.example", lang), "M1",
                   payload={**DETAILS, "seq": seq, "update": seq > 0, **payload})


def cancel(lang: str = "da", **payload: Any) -> Message:
    return Message("cancel", "cancel:M1", Recipient("Anne Hansen", "anne@ung.example", lang),
                   "M1", payload={**DETAILS, "seq": 1, **payload})


class Links(HTMLParser):
    """Each <a>'s address and text, as a mail client finds the buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self.links.append((self._href, ""))

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            href, text = self.links[-1]
            self.links[-1] = (href, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None


def links_in(html: str) -> list[tuple[str, str]]:
    parser = Links()
    parser.feed(html)
    return [(href, " ".join(text.split())) for href, text in parser.links]


def lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


# -- the online link --------------------------------------------------------------------

@pytest.mark.parametrize(("lang", "label", "place"), [("da", "Deltag online", "Sted: Rådhuset"),
                                                      ("en", "Join online", "Where: Rådhuset")])
def test_the_link_column_is_a_join_button_and_the_place_stays(lang: str, label: str,
                                                              place: str) -> None:
    mail = rendered(invitation(lang, link=TEAMS))
    assert (TEAMS, label) in links_in(text_of(mail, "html"))
    text = lines(text_of(mail))
    assert f"{label}: {TEAMS}" in text
    assert place in text


def test_a_place_that_is_only_a_link_reads_online_with_the_button() -> None:
    zoom = "https://zoom.us/j/123456789"
    mail = rendered(invitation(location=zoom), initiative(location=zoom))
    html = text_of(mail, "html")
    assert (zoom, "Deltag online") in links_in(html)
    # the raw address is not the place: it is the button (and too wide for a phone)
    assert [href for href, _ in links_in(html)].count(zoom) == 1
    assert "Sted: Online" in lines(text_of(mail))


def test_a_meeting_in_person_has_no_join_button() -> None:
    mail = rendered(invitation())
    assert not [t for _, t in links_in(text_of(mail, "html")) if "Deltag" in t]
    assert "Deltag" not in text_of(mail)


def test_a_link_cannot_carry_markup_into_the_html() -> None:
    hostile = 'https://x.example/"><script>alert(1)</script>'
    html = text_of(rendered(invitation(link=hostile)), "html")
    assert "<script>" not in html


# -- what an update changed -------------------------------------------------------------

@pytest.mark.parametrize(("lang", "payload", "expected"), [
    ("da", {"start": "15:00", "end": "17:00"},
     ["Tidspunkt: torsdag den 3. december kl. 14.00–16.00 → kl. 15.00–17.00"]),
    ("da", {"date": "2026-12-04"},
     ["Tidspunkt: torsdag den 3. december kl. 14.00–16.00 → "
      "fredag den 4. december kl. 14.00–16.00"]),
    ("da", {"date": "2027-01-07"},
     ["Tidspunkt: torsdag den 3. december 2026 kl. 14.00–16.00 → "
      "torsdag den 7. januar 2027 kl. 14.00–16.00"]),
    ("da", {"location": "https://zoom.us/j/1"}, ["Sted: Rådhuset → Online"]),
    ("da", {"location": "Borgernes Hus", "link": TEAMS},
     ["Sted: Rådhuset → Borgernes Hus", "Link til onlinemødet: tilføjet"]),
    ("en", {"start": "15:00", "end": "17:00", "location": "Borgernes Hus"},
     ["When: Thursday 3 December, 14:00–16:00 → 15:00–17:00",
      "Where: Rådhuset → Borgernes Hus"]),
])
def test_an_update_names_what_changed_old_to_new(lang: str, payload: dict[str, str],
                                                  expected: list[str]) -> None:
    new = {**DETAILS, **payload}
    meeting = Meeting(2, "M1", "Styregruppe", date.fromisoformat(new["date"]),
                      time.fromisoformat(new["start"]), time.fromisoformat(new["end"]),
                      new["location"], ("Velkomst",), link=payload.get("link", ""))
    data = Initiative(people=initiative().people, groups=initiative().groups,
                      meetings=[meeting])
    mail = rendered(invitation(lang, seq=1, previous=DETAILS, **payload), data)
    text = lines(text_of(mail))
    changes = text[text.index({"da": "Mødet er ændret:", "en": "The meeting has changed:"}[lang])
                   + 1:][:len(expected)]
    assert changes == expected
    html = " ".join(text_of(mail, "html").split())
    for change in expected:
        label, _, value = change.partition(": ")
        assert label in html and value in html


def test_a_changed_place_is_escaped_in_the_html() -> None:
    mail = rendered(invitation(seq=1, previous={**DETAILS, "location": "<b>Rådhuset</b>"}))
    html = text_of(mail, "html")
    assert "<b>Rådhuset</b>" not in html and "&lt;b&gt;Rådhuset&lt;/b&gt;" in html


def test_a_reinstated_meeting_says_it_is_held_after_all() -> None:
    mail = rendered(invitation(seq=2, previous=DETAILS, reinstated=True))
    assert "Mødet bliver alligevel holdt som planlagt:" in lines(text_of(mail))


def test_a_first_invitation_names_no_change() -> None:
    text = lines(text_of(rendered(invitation())))
    assert "Du er inviteret til styregruppemøde:" in text
    assert not [line for line in text if "→" in line]


# -- a cancellation's reason ------------------------------------------------------------

@pytest.mark.parametrize(("lang", "line"), [("da", "Begrundelse: Formanden er syg"),
                                            ("en", "Reason: Formanden er syg")])
def test_a_cancellation_shows_its_reason(lang: str, line: str) -> None:
    mail = rendered(cancel(lang, reason="Formanden er syg"))
    assert line in lines(text_of(mail))
    assert "Formanden er syg" in text_of(mail, "html")


def test_a_cancellation_without_a_reason_has_no_reason_line() -> None:
    assert not [line for line in lines(text_of(rendered(cancel())))
                if line.startswith("Begrundelse")]
