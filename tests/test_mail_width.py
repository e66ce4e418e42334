"""Mails as partners see them: no wider than a phone, and in Arial in Outlook too.

The example initiative's real mails (tests/mailshots.py), every kind in both
languages. In headless Chromium each is laid out in a frame 390 px wide (an iPhone
12–15 in portrait) and its page's scrollWidth must be at most 390: anything wider
makes the partner scroll sideways to read a date or a count. Those tests are skipped
when Chromium is missing, except in CI, where .ci/run installs it and sets
RYGRAD_TEST_CHROMIUM_REQUIRED=1, so a broken install cannot pass unnoticed.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from automation.scaffold.samples import KINDS
from tests.mailshots import LONG_WORD, Mail, Measure, chromium, example_mails, measure

PHONE = 390
LANGUAGES = ("da", "en")
EVERY_KIND = (*KINDS, "update")  # an invitation update has its own lines of what changed
FONT_PROPERTIES = ("font-family", "font-size", "color")


@pytest.fixture(scope="module")
def mails(tmp_path_factory: pytest.TempPathFactory) -> list[Mail]:
    folder: Path = tmp_path_factory.mktemp("mails")
    return [mail for lang in LANGUAGES for mail in example_mails(folder / lang, lang)]


@pytest.fixture(scope="module")
def laid_out(mails: list[Mail], tmp_path_factory: pytest.TempPathFactory
             ) -> list[tuple[Mail, Measure]]:
    if chromium() is None:
        if os.environ.get("RYGRAD_TEST_CHROMIUM_REQUIRED") == "1":
            pytest.fail("no Chromium for the mail width tests; "
                        "RYGRAD_TEST_CHROMIUM_REQUIRED=1 forbids skipping them")
        pytest.skip("no Chromium (apt-get install chromium) to lay out the mails")
    widths = measure(mails, PHONE, tmp_path_factory.mktemp("chromium"))
    return [(mail, widths[mail.name]) for mail in mails]


def test_every_kind_is_looked_at_in_both_languages(mails: list[Mail]) -> None:
    seen = {(mail.language, mail.kind) for mail in mails}
    assert seen == {(lang, kind) for lang in LANGUAGES for kind in EVERY_KIND}


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", EVERY_KIND)
def test_no_mail_is_wider_than_a_phone(laid_out: list[tuple[Mail, Measure]], kind: str,
                                       lang: str) -> None:
    these = [(mail, size) for mail, size in laid_out
             if mail.kind == kind and mail.language == lang]
    assert these
    too_wide = {mail.name: (size.width, size.too_wide) for mail, size in these
                if size.width > PHONE}
    assert not too_wide, f"wider than {PHONE} px (page width, then what reaches past): " \
                         f"{too_wide}"


@pytest.mark.slow
@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_words_longer_than_a_phone_wrap(lang: str, tmp_path: Path) -> None:
    """What a partner may paste into a goal, a task, a place or an agenda: a word wider
    than the screen is broken rather than widen the mail."""
    if chromium() is None and os.environ.get("RYGRAD_TEST_CHROMIUM_REQUIRED") != "1":
        pytest.skip("no Chromium (apt-get install chromium)")
    these = example_mails(tmp_path / "mails", lang, long_words=True)
    assert any(LONG_WORD in mail.html for mail in these)
    sizes = measure(these, PHONE, tmp_path / "chromium")
    too_wide = {name: (size.width, size.too_wide) for name, size in sizes.items()
                if size.width > PHONE}
    assert not too_wide


def test_the_measure_sees_a_page_that_is_too_wide(tmp_path: Path) -> None:
    """The measure itself: a 500 px table in a 390 px frame is 500 wide."""
    if chromium() is None and os.environ.get("RYGRAD_TEST_CHROMIUM_REQUIRED") != "1":
        pytest.skip("no Chromium (apt-get install chromium)")
    wide = Mail("wide", "wide:1", "da", "Bred", '<table width="500"><tr><td>x</td></tr></table>')
    narrow = Mail("narrow", "narrow:1", "da", "Smal", "<p>Hej</p>")
    found = measure([wide, narrow], PHONE, tmp_path)
    assert found[wide.name].width >= 500
    assert found[wide.name].too_wide
    assert found[narrow.name].width == PHONE


class Cells(HTMLParser):
    """Every TD, TH and P without its own font, and every data table marked as layout."""

    def __init__(self) -> None:
        super().__init__()
        self.unstyled: list[str] = []
        self.layout_with_headings: list[str] = []
        self.tables: list[bool] = []  # per open table: role="presentation"?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        style = attributes.get("style") or ""
        if tag == "table":
            self.tables.append(attributes.get("role") == "presentation")
        elif tag == "th" and self.tables and self.tables[-1]:
            self.layout_with_headings.append(self.get_starttag_text() or tag)
        if tag in ("td", "th", "p") and not all(f"{prop}:" in style
                                                for prop in FONT_PROPERTIES):
            self.unstyled.append(self.get_starttag_text() or tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.tables:
            self.tables.pop()


def test_every_cell_and_paragraph_has_its_own_font_for_outlook(mails: list[Mail]) -> None:
    """Outlook (Word) does not pass a table's font on to its cells: without a font of
    their own they are Times New Roman. And a table with headings holds data, so it is
    not role="presentation" (a screen reader would skip its rows and columns)."""
    for mail in mails:
        cells = Cells()
        cells.feed(mail.html)
        assert not cells.unstyled, (mail.name, cells.unstyled[:3])
        assert not cells.layout_with_headings, (mail.name, cells.layout_with_headings[:3])


def test_the_gallery_has_every_kind_and_the_readme_shows_some() -> None:
    """docs/mails/ (bench/gallery.py): every kind in Danish on a phone and a desktop,
    and every picture the README and the gallery's index show is there."""
    root = Path(__file__).resolve().parents[1]
    gallery = root / "docs" / "mails"
    for kind in EVERY_KIND:
        for view in ("phone", "desktop"):
            assert (gallery / f"da-{kind}-{view}.png").is_file(), (kind, view)
    readme = (root / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r'src="(docs/mails/[\w.-]+\.png)"', readme)
    assert len(shown) >= 2
    linked = re.findall(r"\]\(([\w.-]+\.png)\)", (gallery / "README.md").read_text("utf-8"))
    assert len(linked) >= 2 * len(EVERY_KIND)
    for path in [root / name for name in shown] + [gallery / name for name in linked]:
        assert path.is_file(), path
