"""Mail people act on at once (issue 13): a button that opens the sheet on the row, what to
set and to what, the date first in the subject, the inbox preview, the escalation's history.

End to end: a real workbook (or a Google Sheet on the emulator, through the real gspread
and google-auth), real cycles with `rygrad run --once`, the mails parsed from the outbox.
"""

from __future__ import annotations

import re
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest

from automation.config import load
from automation.sheets.google import GoogleSheet
from tests.backends import GoogleSheetOnEmulator, Sheet, XlsxSheet
from tests.workbook import by_key, read_outbox, rygrad, write_config, write_workbook

ANNE, BO, DORTE = "anne@kommune.example", "bo@ngo.example", "dorte@fond.example"
LINK = "https://kommune.sharepoint.com/:x:/r/sites/ungeloeftet/initiative.xlsx"


def tabs() -> dict[str, list[dict[str, object]]]:
    return {
        "Personer": [
            {"Navn": "Anne Holm", "E-mail": ANNE, "Grupper": "Styregruppe"},
            {"Navn": "Bo Berg", "E-mail": BO, "Grupper": "Styregruppe"},
            {"Navn": "Dorte Dahl", "E-mail": DORTE, "Grupper": "Styregruppe", "Sprog": "en"},
        ],
        "Grupper": [{"Gruppe": "Styregruppe", "Formand": "Anne Holm"}],
        "Møder": [],
        "Handlinger": [
            {"Handling-ID": "A1", "Gruppe": "Styregruppe", "Handling": "Skriv budget",
             "Ansvarlig": "Bo Berg", "Frist": date(2026, 11, 27), "Status": "I gang"},
            {"Handling-ID": "A2", "Gruppe": "Styregruppe", "Handling": "Inviter Ungepanelet",
             "Ansvarlig": "Bo Berg", "Frist": date(2026, 12, 4)},
            {"Handling-ID": "A3", "Gruppe": "Styregruppe", "Handling": "Aftal data",
             "Ansvarlig": "Dorte Dahl", "Frist": date(2026, 12, 3)},
        ],
        "Indikatorer": [
            {"Indikator-ID": "I1", "Gruppe": "Styregruppe", "Indikator": "Unge i job",
             "Enhed": "%", "Ansvarlig": "Anne Holm", "Opdateret": date(2026, 9, 1),
             "Frekvens": "kvartalsvis"},
        ],
    }


def build(folder: Path, sheet: Sheet, **sheet_keys: object) -> Path:
    workbook = write_workbook(folder / "source.xlsx", tabs())
    return write_config(folder, workbook, sheet={**sheet.sheet_settings(workbook), **sheet_keys})


def run(capsys: pytest.CaptureFixture[str], config: Path, now: str) -> dict[
        tuple[str, str], EmailMessage]:
    result = rygrad(capsys, "run", "--once", "--config", str(config), "--now", now)
    assert result.status == 0, result.err
    return by_key(read_outbox(config.parent / "outbox"))


def body(mail: EmailMessage, kind: str = "plain") -> str:
    part = mail.get_body((kind,))
    assert part is not None
    return str(part.get_content())


def button(html: str) -> str | None:
    """The href of the "Åbn arket"/"Open the sheet" button, or None."""
    match = re.search(r'<a href="([^"]+)"[^>]*>(?:Åbn arket|Open the sheet)</a>', html)
    return match[1].replace("&amp;", "&") if match else None


# -- the link to the sheet -----------------------------------------------------------------

def test_a_google_sheet_opens_on_the_actions_tab_and_the_row(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], sheets_emulator: str) -> None:
    sheet = GoogleSheetOnEmulator(tmp_path, sheets_emulator)
    config = build(tmp_path, sheet)
    snapshot = GoogleSheet(load(config).sheet).read()
    ids = {title: table.sheet_id for title, table in snapshot.tables.items()}
    assert None not in ids.values() and len(set(ids.values())) == len(ids)  # one per tab

    mails = run(capsys, config, "2026-12-02T09:00")

    reminder = mails[("reminder:A2:2026-12-04", BO)]
    url = (f"https://docs.google.com/spreadsheets/d/{sheet.id}/edit"
           f"#gid={ids['Handlinger']}&range=A3")  # A2 is on the sheet's row 3
    assert button(body(reminder, "html")) == url
    assert f"Åbn arket: {url}" in body(reminder)
    indicator = mails[("indicator:I1:2026-12-01:1", ANNE)]
    assert button(body(indicator, "html")) == (
        f"https://docs.google.com/spreadsheets/d/{sheet.id}/edit"
        f"#gid={ids['Indikatorer']}&range=A2")
    digest = mails[("digest:2026-W49", "sekretariat@ungeloeftet.example")]
    assert button(body(digest, "html")) == (
        f"https://docs.google.com/spreadsheets/d/{sheet.id}/edit#gid={ids['Handlinger']}")


def test_a_local_workbook_opens_at_sheet_link(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = build(tmp_path, XlsxSheet(tmp_path), link=LINK)
    mails = run(capsys, config, "2026-12-02T09:00")

    for key in (("reminder:A2:2026-12-04", BO), ("overdue:A1:2026-11-27:1", BO),
                ("indicator:I1:2026-12-01:1", ANNE)):
        assert button(body(mails[key], "html")) == LINK, key
        assert f"Åbn arket: {LINK}" in body(mails[key])
    english = mails[("reminder:A3:2026-12-03", DORTE)]
    assert button(body(english, "html")) == LINK
    assert f"Open the sheet: {LINK}" in body(english)


def test_no_button_without_sheet_link(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mails = run(capsys, build(tmp_path, XlsxSheet(tmp_path)), "2026-12-02T09:00")
    reminder = mails[("reminder:A2:2026-12-04", BO)]
    assert button(body(reminder, "html")) is None
    assert "Åbn arket" not in body(reminder)


@pytest.mark.parametrize("link", ["sharepoint.com/initiative.xlsx", "ftp://x.example/a.xlsx",
                                  "https://x.example/a b.xlsx"])
def test_sheet_link_must_be_a_web_address(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], link: str) -> None:
    config = build(tmp_path, XlsxSheet(tmp_path), link=link)
    result = rygrad(capsys, "check", "--config", str(config))
    assert result.status == 2
    assert f"sheet.link: {link!r} is not an http:// or https:// address" in result.err


# -- what to do, by when ---------------------------------------------------------------

def test_the_reminder_puts_the_date_first_and_says_what_to_set(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mails = run(capsys, build(tmp_path, XlsxSheet(tmp_path)), "2026-12-02T09:00")
    reminder = mails[("reminder:A2:2026-12-04", BO)]
    assert reminder["Subject"] == "Frist fredag 4. dec.: Inviter Ungepanelet"
    text = body(reminder)
    assert "Fristen er om to dage, fredag den 4. december." in text
    assert "sæt Status til »Færdig« på fanen Handlinger" in text
    assert "skriv det i kolonnen" not in text and "„" not in text
    tomorrow = mails[("reminder:A3:2026-12-03", DORTE)]
    assert tomorrow["Subject"] == "Due Thursday 3 Dec: Aftal data"
    assert "It is due tomorrow, Thursday 3 December." in body(tomorrow)
    assert 'set Status to "Færdig (Done)"' in body(tomorrow)
    overdue = mails[("overdue:A1:2026-11-27:1", BO)]
    assert overdue["Subject"] == "Fristen var fredag 27. nov.: Skriv budget"
    assert "FORSINKET" not in body(overdue) and "forsinket" not in body(overdue)


def test_the_inbox_preview_is_the_request_and_the_deadline(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mails = run(capsys, build(tmp_path, XlsxSheet(tmp_path)), "2026-12-02T09:00")
    html = body(mails[("reminder:A2:2026-12-04", BO)], "html")
    first = re.search(r"<body[^>]*>\s*(<[^>]+>)([^<]*)", html)
    assert first is not None
    assert "display:none" in first[1] and "mso-hide:all" in first[1]
    assert first[2].startswith("Fristen er om to dage, fredag den 4. december. "
                               "Sæt Status til »Færdig«")


def preview(mail: EmailMessage) -> str:
    """The hidden preheader: what the inbox shows after the subject."""
    found = re.search(r"<body[^>]*>\s*<[^>]*display:none[^>]*>([^<]*)", body(mail, "html"))
    assert found is not None
    return found[1]


def test_an_invitation_and_a_cancellation_preview_the_meeting_not_the_subject(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workbook_tabs = tabs()
    workbook_tabs["Møder"] = [{"Møde-ID": "M1", "Gruppe": "Styregruppe",
                               "Dato": date(2026, 12, 10), "Start": "9:00", "Slut": "11:00",
                               "Sted": "Rådhuset"}]
    workbook = write_workbook(tmp_path / "source.xlsx", workbook_tabs)
    config = write_config(tmp_path, workbook, sheet={"path": str(workbook)})
    mails = run(capsys, config, "2026-12-02T09:00")
    assert preview(mails[("invitation:M1:0", BO)]).startswith(
        "Torsdag den 10. december 2026 kl. 9.00–11.00, Rådhuset. "
        "Svar på kalenderinvitationen, så vi ved, om du kommer.")
    assert preview(mails[("invitation:M1:0", DORTE)]).startswith(
        "Thursday 10 December 2026, 09:00–11:00, Rådhuset. Please accept or decline")
    workbook_tabs["Møder"][0]["Aflyst"] = "Formanden er syg"
    write_workbook(workbook, workbook_tabs)
    mails = run(capsys, config, "2026-12-03T09:00")
    cancel = mails[("cancel:M1", BO)]
    assert preview(cancel).startswith(
        "Styregruppemødet torsdag den 10. december kl. 9.00 er aflyst. "
        "Begrundelse: Formanden er syg")
    assert "Vi må desværre aflyse mødet:" in body(cancel)
    assert "Med den vedhæftede aflysning kan du fjerne mødet fra din kalender." in body(cancel)
    assert preview(mails[("cancel:M1", DORTE)]).startswith(
        "The Styregruppe meeting on Thursday 10 December at 09:00 is cancelled.")


# -- the escalation: status, with what the owner was already sent ------------------------

def test_the_escalation_tells_the_chair_which_notices_the_owner_had(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = build(tmp_path, XlsxSheet(tmp_path))
    run(capsys, config, "2026-11-28T09:00")  # the first notice
    run(capsys, config, "2026-12-05T09:00")  # the second, seven days later
    mails = run(capsys, config, "2026-12-11T09:00")  # 14 days over: to the chair

    escalation = mails[("escalation:A1:2026-11-27", ANNE)]
    assert escalation["Cc"] is None  # a status note to the chair, not a copy to the owner
    assert escalation["Subject"] == "Status på en opgave for styregruppen: Skriv budget"
    text = body(escalation)
    assert "Som formand for styregruppen får du her status på en opgave" in text
    assert "Bo Berg har fået to påmindelser efter fristen: 28. nov. og 5. dec." in text
    assert "forsinket" not in text.lower()
    # what the sheet should say, not officialese: »skal Status stå på«, not »sættes Status til«
    assert "Når opgaven er klaret, skal Status stå på »Færdig« på fanen Handlinger" in text
    assert "sættes" not in text


def test_an_overdue_indicator_request_says_what_we_miss(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mails = run(capsys, build(tmp_path, XlsxSheet(tmp_path)), "2026-12-02T09:00")
    request = mails[("indicator:I1:2026-12-01:1", ANNE)]
    assert request["Subject"] == "Fristen var tirsdag 1. dec.: ny værdi for »Unge i job«"
    text = body(request)
    assert ("Vi skulle have haft en ny værdi senest tirsdag den 1. december, men har ikke "
            "fået den endnu.") in text
    assert "indberettet" not in text and "tid til en ny måling" not in text
    assert preview(request).startswith("Vi mangler en ny værdi for »Unge i job«. "
                                       "Fristen var tirsdag den 1. december.")


# -- send-test greets a person; the digest's times read as people write them ----------------

def test_send_test_greets_a_person_not_the_address(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = build(tmp_path, XlsxSheet(tmp_path))
    result = rygrad(capsys, "send-test", "--to", "test@example.dk", "--kind", "reminder",
                    "--config", str(config))
    assert result.status == 0, result.err
    [mail] = read_outbox(tmp_path / "outbox")
    assert mail["To"].addresses[0].addr_spec == "test@example.dk"
    assert body(mail).startswith("Kære Anne\n")  # the sheet's first person, Anne Holm
    assert "test@example.dk" not in body(mail).split("\n")[0]


def test_send_test_digest_is_this_weeks(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = build(tmp_path, XlsxSheet(tmp_path))
    result = rygrad(capsys, "send-test", "--to", "test@example.dk", "--kind", "digest",
                    "--config", str(config))
    assert result.status == 0, result.err
    [mail] = read_outbox(tmp_path / "outbox")
    assert re.match(r"Ugeoversigt for uge \d{1,2}, \d{4}: ", str(mail["Subject"]))
    assert "sample" not in str(mail["Subject"]) and "sample" not in body(mail)


def test_the_digest_shows_when_mail_went_out_as_people_write_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workbook_tabs = tabs()
    workbook_tabs["Møder"] = [{"Møde-ID": "M1", "Gruppe": "Styregruppe",
                               "Dato": date(2026, 12, 10), "Start": "9:00", "Sted": "Rådhuset"}]
    workbook = write_workbook(tmp_path / "source.xlsx", workbook_tabs)
    config = write_config(tmp_path, workbook, sheet={"path": str(workbook)})
    run(capsys, config, "2026-12-02T05:24")  # the invitation goes out
    mails = run(capsys, config, "2026-12-07T08:00")  # Monday: the digest
    digest = mails[("digest:2026-W50", "sekretariat@ungeloeftet.example")]
    assert "Invitation: 2. dec. kl. 5.24 · Dagsorden: ikke sendt" in body(digest)
    assert "2026-12-02 05:24" not in body(digest)
    assert "kl. 9.00" in body(digest)
