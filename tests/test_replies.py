"""Replies do the typing (README, "Replies by mail"): whole cycles against a real Dovecot.

The small initiative's mails go to the outbox; partners' replies to them are appended to
the secretariat's mailbox on Dovecot as mail programs write them; the next cycle reads
them over IMAP, changes the sheet, answers each partner and tells the secretariat.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import ssl
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest

from automation.ledger import open_ledger
from tests.imapserver import ImapServer
from tests.test_cli import small_initiative
from tests.workbook import by_key, cells, read_outbox, rygrad, write_config, write_workbook

SECRETARIAT = "sekretariat@ungeloeftet.example"
PASSWORD = "hemmelig-postkasse"
FIRST = "2026-12-02T09:00:00+01:00"
WEEK_LATER = "2026-12-09T09:00:00+01:00"


@pytest.fixture
def setup(tmp_path: Path, imap_server: ImapServer, imap_certificates: Any,
          monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    user = imap_server.add_user(f"sek-{tmp_path.name[-20:].lower()}", password=PASSWORD)
    monkeypatch.setenv("RYGRAD_TEST_INBOX_PASSWORD", PASSWORD)
    workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative())
    config = write_config(tmp_path, workbook, inbox={
        "host": imap_server.host, "port": imap_server.port, "security": "ssl",
        "username": user, "password_env": "RYGRAD_TEST_INBOX_PASSWORD",
        "ca_file": str(imap_certificates.ca)})
    return {"user": user, "workbook": workbook, "config": config, "outbox": tmp_path / "outbox",
            "state": tmp_path / "state", "server": imap_server}


def run(capsys: Any, config: Path, now: str) -> Any:
    done = rygrad(capsys, "run", "--once", "--now", now, "--config", str(config))
    assert done.status in (0, 1), done.err
    return done


def sent(outbox: Path, prefix: str, to: str) -> EmailMessage:
    """The one mail whose key starts with ``prefix`` (``overdue:H-2:``) that went to ``to``."""
    found = [m for (k, who), m in by_key(read_outbox(outbox)).items()
             if k.startswith(prefix) and who == to]
    assert len(found) == 1, (prefix, to, sorted(k for k, _ in by_key(read_outbox(outbox))))
    return found[0]


def reply(to_mail: EmailMessage, sender: str, text: str, when: str = "2026-12-03T10:15:00",
          subject_prefix: str = "SV: ", **headers: str) -> bytes:
    """A reply as Outlook writes one: the answer, then the original below a header block."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = SECRETARIAT
    message["Subject"] = subject_prefix + str(to_mail["Subject"])
    message["Date"] = format_datetime(datetime.fromisoformat(when).replace(tzinfo=UTC))
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message["In-Reply-To"] = str(to_mail["Message-ID"])
    message["References"] = str(to_mail["Message-ID"])
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    original = to_mail.get_body(("plain",)).get_content()
    message.set_content(f"{text}\n\nFra: Sekretariatet <{SECRETARIAT}>\nSendt: 2. december "
                        f"2026 09:00\nTil: {sender}\nEmne: {to_mail['Subject']}\n\n{original}")
    return message.as_bytes()


def row(workbook: Path, tab: str, key: str, value: str) -> dict[str, Any]:
    return next(r for r in cells(workbook, tab) if r[key] == value)


def flags(server: ImapServer, user: str) -> dict[bytes, set[str]]:
    """Message-ID → the flags the message has on the server."""
    found = {}
    for _uid, flagset, raw in server.messages(user):
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        found[str(parsed["Message-ID"]).encode()] = set(flagset)
    return found


def test_replies_change_the_sheet_once_and_each_partner_gets_one_answer(setup, capsys):
    """The whole loop: an overdue action marked done, a new due date, an indicator value,
    a reply from someone the mail did not go to and an out-of-office reply; then a second
    cycle that changes and sends nothing."""
    config, outbox, workbook = setup["config"], setup["outbox"], setup["workbook"]
    server, user = setup["server"], setup["user"]
    run(capsys, config, FIRST)
    overdue = sent(outbox, "overdue:H-2:", "clara@partner.example")
    reminder = sent(outbox, "reminder:H-1:", "bo@ngo.example")
    request = sent(outbox, "indicator:I-1", "anne@kommune.example")
    replies = {
        "done": reply(overdue, "clara@partner.example", "Done.\n\nThanks,\nClara",
                      subject_prefix="Re: "),
        "due": reply(reminder, "bo@ngo.example", "Hej\n\nny frist 15.12.2026\n\nMvh Bo"),
        "value": reply(request, "anne@kommune.example", "værdi: 74,5 %"),
        "wrong": reply(reminder, "dorte@fond.example", "Færdig"),
        "away": reply(request, "anne@kommune.example", "Jeg er på ferie til 4. januar.",
                      subject_prefix="Automatisk svar: ", Auto_Submitted="auto-replied"),
    }
    for raw in replies.values():
        server.append(user, raw)
    unrelated = EmailMessage()
    unrelated["From"] = "nyhedsbrev@example.org"
    unrelated["Message-ID"] = "<nyhed-1@example.org>"
    unrelated["Subject"] = "Nyhedsbrev"
    unrelated.set_content("Intet med rygrad at gøre.")
    server.append(user, unrelated.as_bytes())
    before = len(read_outbox(outbox))

    second = run(capsys, config, WEEK_LATER)
    assert "5 new replies (3 applied, 0 calendar answers, 2 not used)" in second.out

    # the sheet: exactly what the replies said
    assert row(workbook, "Handlinger", "Handling-ID", "H-2")["Status"] == "Færdig"
    assert row(workbook, "Handlinger", "Handling-ID", "H-1")["Frist"] == "15.12.2026"
    indicator = row(workbook, "Indikatorer", "Indikator-ID", "I-1")
    assert indicator["Aktuel værdi"] == 74.5 and indicator["Opdateret"] == "3.12.2026"
    assert row(workbook, "Handlinger", "Handling-ID", "H-1")["Status"] == "I gang"
    # the done action got no second overdue notice in the cycle that read the reply
    assert [k for k, _ in by_key(read_outbox(outbox)) if k.startswith("overdue:H-2:")] == [
        str(overdue["X-Rygrad-Key"])]
    # one answer per reply from a person, none to the out-of-office reply
    answers = {str(m["In-Reply-To"]): m for m in read_outbox(outbox)
               if str(m["X-Rygrad-Key"]).startswith("answer:")}
    ids = {name: email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"]
           for name, raw in replies.items()}
    assert set(answers) == {str(ids[n]) for n in ("done", "due", "value", "wrong")}
    done_answer = answers[str(ids["done"])]
    assert done_answer["Auto-Submitted"] == "auto-replied"
    assert done_answer["References"] == str(ids["done"])
    assert str(done_answer["Subject"]).startswith("Re: ")
    assert "H-2 is marked done in the sheet." in done_answer.get_body(("plain",)).get_content()
    assert "Fristen for H-1 er nu" in answers[str(ids["due"])].get_body(
        ("plain",)).get_content()
    wrong = answers[str(ids["wrong"])].get_body(("plain",)).get_content()
    assert "gik til en anden" in wrong and "ikke ændret noget" in wrong
    # the mailbox: read replies marked, nothing read as seen, the newsletter untouched
    marks = flags(server, user)
    assert all("\\Seen" not in f for f in marks.values())
    assert "$rygrad" in marks[str(ids["done"]).encode()]
    assert "$rygrad" not in marks[b"<nyhed-1@example.org>"]

    # a second cycle: nothing changes, nothing is sent
    snapshot = {tab: cells(workbook, tab) for tab in ("Handlinger", "Indikatorer")}
    count = len(read_outbox(outbox))
    run(capsys, config, "2026-12-09T09:05:00+01:00")
    assert len(read_outbox(outbox)) == count
    assert {tab: cells(workbook, tab) for tab in snapshot} == snapshot
    assert count > before


def test_the_ledger_keeps_each_reply_with_the_cells_it_changed(setup, capsys):
    """The audit trail: reply:{Message-ID} with sender, what it answered, the decision and
    each cell's old and new value."""
    config, outbox = setup["config"], setup["outbox"]
    run(capsys, config, FIRST)
    overdue = sent(outbox, "overdue:H-2:", "clara@partner.example")
    raw = reply(overdue, "clara@partner.example", "Done")
    setup["server"].append(setup["user"], raw)
    run(capsys, config, WEEK_LATER)
    ledger = open_ledger("", "Ungeløftet Test", setup["state"])
    try:
        records = ledger.replies()
    finally:
        ledger.close()
    assert len(records) == 1
    record = records[0]
    assert record.sender == "clara@partner.example"
    assert record.answered_key == "overdue:H-2:2026-11-20:1"
    assert record.decision == "applied"
    assert [(c.tab, c.row_id, c.column, c.old, c.new) for c in record.changes] == [
        ("actions", "H-2", "status", "Ikke startet", "Færdig")]


def test_a_partner_who_changed_the_due_date_meanwhile_wins(setup, capsys):
    """A conflict: the Frist changed in the sheet after the reminder went out, so a
    reply's new due date is not written; the partner hears that nothing changed."""
    import openpyxl

    config, outbox, workbook = setup["config"], setup["outbox"], setup["workbook"]
    run(capsys, config, FIRST)
    reminder = sent(outbox, "reminder:H-1:", "bo@ngo.example")
    book = openpyxl.load_workbook(workbook)
    sheet = book["Handlinger"]
    for cells_row in sheet.iter_rows(min_row=2):
        if cells_row[0].value == "H-1":
            cells_row[4].value = date(2026, 12, 20)
    book.save(workbook)
    setup["server"].append(setup["user"], reply(reminder, "bo@ngo.example",
                                                "ny frist 15.12.2026"))
    run(capsys, config, "2026-12-03T11:00:00+01:00")
    assert row(workbook, "Handlinger", "Handling-ID", "H-1")["Frist"].date() == \
        date(2026, 12, 20)
    answer = next(m for m in read_outbox(outbox) if str(m["X-Rygrad-Key"]).startswith(
        "answer:"))
    assert "er ændret i arket, siden vi skrev til dig" in answer.get_body(
        ("plain",)).get_content()


def test_without_a_mailbox_the_cycle_goes_on_and_status_says_why(setup, capsys,
                                                                 monkeypatch):
    """A login the server refuses: the sheet and mail are handled as always, the digest
    and status name the mailbox."""
    config, outbox = setup["config"], setup["outbox"]
    monkeypatch.setenv("RYGRAD_TEST_INBOX_PASSWORD", "forkert")
    run(capsys, config, FIRST)
    assert any(k.startswith("overdue:H-2") for k, _ in by_key(read_outbox(outbox)))
    status = rygrad(capsys, "status", "--now", FIRST, "--config", str(config))
    assert status.status == 1
    assert "mailbox could not be read" in status.out


def test_nothing_is_read_as_seen_over_imap(setup, capsys):
    """BODY.PEEK only: a partner's reply stays unread for the secretariat's own eyes."""
    config, outbox = setup["config"], setup["outbox"]
    run(capsys, config, FIRST)
    overdue = sent(outbox, "overdue:H-2:", "clara@partner.example")
    setup["server"].append(setup["user"], reply(overdue, "clara@partner.example", "Done"))
    run(capsys, config, WEEK_LATER)
    context = ssl.create_default_context(cafile=str(setup["server"].certificates.ca))
    with imaplib.IMAP4_SSL(setup["server"].host, setup["server"].port,
                           ssl_context=context) as imap:
        imap.login(setup["user"], PASSWORD)
        imap.select("INBOX", readonly=True)
        typ, data = imap.search(None, "UNSEEN")
        assert typ == "OK" and data[0].split()


def test_a_folder_that_does_not_exist_is_named_and_the_cycle_goes_on(setup, capsys):
    text = setup["config"].read_text(encoding="utf-8").replace(
        'username = ', 'folder = "Svar fra partnere"\nusername = ')
    setup["config"].write_text(text, encoding="utf-8")
    first = run(capsys, setup["config"], FIRST)
    assert "Svar fra partnere" in first.out and "not read" in first.out
    assert any(k.startswith("overdue:H-2") for k, _ in by_key(read_outbox(setup["outbox"])))


def test_a_server_without_keywords_still_handles_each_reply_once(setup, capsys):
    """The folder's rights allow no keywords: nothing is marked, and the ledger alone
    keeps a reply from being applied or answered twice."""
    from tests.imapserver import NO_KEYWORDS

    config, outbox, server, user = (setup["config"], setup["outbox"], setup["server"],
                                    setup["user"])
    text = config.read_text(encoding="utf-8").replace(
        'username = ', f'folder = "{NO_KEYWORDS}"\nusername = ')
    config.write_text(text, encoding="utf-8")
    run(capsys, config, FIRST)
    overdue = sent(outbox, "overdue:H-2:", "clara@partner.example")
    server.append(user, reply(overdue, "clara@partner.example", "Done"), folder=NO_KEYWORDS)
    run(capsys, config, WEEK_LATER)
    run(capsys, config, "2026-12-09T09:05:00+01:00")
    answers = [m for m in read_outbox(outbox) if str(m["X-Rygrad-Key"]).startswith("answer:")]
    assert len(answers) == 1
    assert all("$rygrad" not in f for _, f, _ in server.messages(user, NO_KEYWORDS))
    assert row(setup["workbook"], "Handlinger", "Handling-ID", "H-2")["Status"] == "Færdig"


def test_a_huge_reply_and_an_attachment_only_reply_change_nothing_but_get_an_answer(
        setup, capsys):
    """20 MB (a scanned report) is read only in part; a mail with only an attachment has
    no text: neither changes the sheet, both are answered, the cycle goes on."""
    config, outbox, server, user = (setup["config"], setup["outbox"], setup["server"],
                                    setup["user"])
    run(capsys, config, FIRST)
    overdue = sent(outbox, "overdue:H-2:", "clara@partner.example")
    reminder = sent(outbox, "reminder:H-1:", "bo@ngo.example")
    huge = email.message_from_bytes(reply(overdue, "clara@partner.example", "See the scan"),
                                    policy=email.policy.default)
    huge.make_mixed()
    huge.add_attachment(b"\0" * 20_000_000, maintype="application", subtype="pdf",
                        filename="scan.pdf")
    server.append(user, huge.as_bytes())
    only = email.message_from_bytes(reply(reminder, "bo@ngo.example", ""),
                                    policy=email.policy.default)
    only.clear_content()
    only.add_attachment(b"%PDF-1.4 rapport", maintype="application", subtype="pdf",
                        filename="rapport.pdf")
    server.append(user, only.as_bytes())
    run(capsys, config, WEEK_LATER)
    assert row(setup["workbook"], "Handlinger", "Handling-ID", "H-2")["Status"] == \
        "Ikke startet"
    answers = [m for m in read_outbox(outbox) if str(m["X-Rygrad-Key"]).startswith("answer:")]
    assert {m["To"].addresses[0].addr_spec for m in answers} == {
        "clara@partner.example", "bo@ngo.example"}


def test_a_microsoft_365_mailbox_read_with_an_app_token(tmp_path, imap_server, imap_identity,
                                                         imap_certificates, capsys,
                                                         monkeypatch):
    """The Microsoft path end to end: the app's token from the (local) Entra ID, XOAUTH2
    to Dovecot, which asks the identity endpoint whether the app may open the mailbox."""
    from tests.imapserver import TENANT

    mailbox = imap_server.add_user(f"postkasse-{tmp_path.name[-12:].lower()}@kommune.dk")
    imap_identity.register_app(TENANT, "app-rygrad-cycle", secret="s3cret")
    imap_identity.grant_mailbox("app-rygrad-cycle", mailbox)
    monkeypatch.setenv("RYGRAD_TEST_OAUTH_SECRET", "s3cret")
    workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative())
    config = write_config(tmp_path, workbook, inbox={
        "host": imap_server.host, "port": imap_server.port, "security": "ssl",
        "username": mailbox, "auth": "microsoft", "tenant": TENANT,
        "client_id": "app-rygrad-cycle", "client_secret_env": "RYGRAD_TEST_OAUTH_SECRET",
        "authority": imap_identity.authority, "ca_file": str(imap_certificates.ca)})
    run(capsys, config, FIRST)
    overdue = sent(tmp_path / "outbox", "overdue:H-2:", "clara@partner.example")
    imap_server.append(mailbox, reply(overdue, "clara@partner.example", "Done"))
    second = run(capsys, config, WEEK_LATER)
    assert "1 new reply (1 applied" in second.out, second.out
    assert row(workbook, "Handlinger", "Handling-ID", "H-2")["Status"] == "Færdig"


def test_on_a_google_sheet_the_reply_goes_in_the_cycles_one_write(
        tmp_path, imap_server, imap_certificates, sheets_emulator, capsys, monkeypatch):
    """The partners' cells a reply changes are written in the same values:batchUpdate as
    the W cells: a cycle reading replies costs the Sheets API no extra call."""
    import requests

    from tests.backends import GoogleSheetOnEmulator
    from tests.backends import cells as sheet_cells

    user = imap_server.add_user(f"g-{tmp_path.name[-18:].lower()}", password=PASSWORD)
    monkeypatch.setenv("RYGRAD_TEST_INBOX_PASSWORD", PASSWORD)
    sheet = GoogleSheetOnEmulator(tmp_path, sheets_emulator)
    workbook = write_workbook(tmp_path / "source.xlsx", small_initiative())
    config = write_config(tmp_path, workbook, sheet=sheet.sheet_settings(workbook), inbox={
        "host": imap_server.host, "port": imap_server.port, "security": "ssl",
        "username": user, "password_env": "RYGRAD_TEST_INBOX_PASSWORD",
        "ca_file": str(imap_certificates.ca)})
    run(capsys, config, FIRST)
    overdue = sent(tmp_path / "outbox", "overdue:H-2:", "clara@partner.example")
    request = sent(tmp_path / "outbox", "indicator:I-1", "anne@kommune.example")
    imap_server.append(user, reply(overdue, "clara@partner.example", "Done"))
    imap_server.append(user, reply(request, "anne@kommune.example", "74,5"))
    requests.post(f"{sheets_emulator}/_emulator/stats/reset", timeout=10)
    run(capsys, config, WEEK_LATER)
    stats = requests.get(f"{sheets_emulator}/_emulator/stats", timeout=10).json()
    assert stats == {"reads": 2, "writes": 1}
    actions = {r["Handling-ID"]: r for r in sheet_cells(sheet, "Handlinger")}
    indicators = {r["Indikator-ID"]: r for r in sheet_cells(sheet, "Indikatorer")}
    assert actions["H-2"]["Status"] == "Færdig"
    assert indicators["I-1"]["Aktuel værdi"] == 74.5


def test_the_digest_lists_what_replies_changed_and_which_were_not_used(setup, capsys):
    """»Opdateret fra mails« (who, what, old → new) and »Svar, som rygrad ikke brugte«: a
    forward by someone else, and a spoofed sender the trusted server caught."""
    config, outbox, server, user = (setup["config"], setup["outbox"], setup["server"],
                                    setup["user"])
    text = config.read_text(encoding="utf-8").replace(
        'username = ', 'trusted_authserv_id = "mx.ungeloeftet.example"\nusername = ')
    config.write_text(text, encoding="utf-8")
    run(capsys, config, FIRST)
    overdue = sent(outbox, "overdue:H-2:", "clara@partner.example")
    reminder = sent(outbox, "reminder:H-1:", "bo@ngo.example")
    server.append(user, reply(overdue, "clara@partner.example", "Done"))
    server.append(user, reply(reminder, "anne@kommune.example", "Færdig",
                              subject_prefix="VS: "))
    server.append(user, reply(reminder, "bo@ngo.example", "Færdig", Authentication_Results=(
        "mx.ungeloeftet.example; spf=fail smtp.mailfrom=ngo.example; dmarc=fail "
        "header.from=ngo.example")))
    run(capsys, config, WEEK_LATER)
    assert row(setup["workbook"], "Handlinger", "Handling-ID", "H-1")["Status"] == "I gang"
    status = rygrad(capsys, "status", "--now", WEEK_LATER, "--config", str(config))
    assert "inbox read at 2026-12-09" in status.out
    assert "3 new replies (1 applied, 0 calendar answers, 2 not used)" in status.out
    run(capsys, config, "2026-12-14T09:00:00+01:00")  # Monday: the digest
    digest = next(m for m in read_outbox(outbox)
                  if str(m["X-Rygrad-Key"]).startswith("digest:2026-W51"))
    body = digest.get_body(("plain",)).get_content()
    assert "Opdateret fra mails" in body and "Svar, som rygrad ikke brugte" in body
    applied = body.split("Opdateret fra mails")[1].split("Svar, som rygrad ikke brugte")[0]
    assert "Clara Smith, H-2: Status »Ikke startet« → »Færdig«" in applied
    unused = body.split("Svar, som rygrad ikke brugte")[1]
    assert "Anne Holm <anne@kommune.example> (H-1): fra anne@kommune.example, men mailen " \
        "gik til bo@ngo.example; intet ændret" in unused
    assert "dmarc" in unused.lower() or "DMARC" in unused


def test_an_inbox_app_secret_that_is_wrong_names_the_inbox_keys_and_the_cycle_goes_on(
        tmp_path, imap_server, imap_identity, imap_certificates, capsys, monkeypatch):
    from tests.imapserver import TENANT

    mailbox = imap_server.add_user(f"forkert-{tmp_path.name[-12:].lower()}@kommune.dk")
    imap_identity.register_app(TENANT, "app-rygrad-wrong", secret="s3cret")
    monkeypatch.setenv("RYGRAD_TEST_OAUTH_SECRET", "not-the-secret")
    workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative())
    config = write_config(tmp_path, workbook, inbox={
        "host": imap_server.host, "port": imap_server.port, "security": "ssl",
        "username": mailbox, "auth": "microsoft", "tenant": TENANT,
        "client_id": "app-rygrad-wrong", "client_secret_env": "RYGRAD_TEST_OAUTH_SECRET",
        "authority": imap_identity.authority, "ca_file": str(imap_certificates.ca)})
    first = run(capsys, config, FIRST)
    assert "not read" in first.out and "inbox." in first.out and "mail.client" not in first.out
    assert any(k.startswith("overdue:H-2") for k, _ in by_key(read_outbox(tmp_path / "outbox")))


def test_send_test_checks_the_mailbox_too(setup, capsys, monkeypatch):
    """`rygrad send-test` proves the inbox link as it proves the mail links: ok with the
    folder's count, or the one sentence that says what broke."""
    config = setup["config"]
    done = rygrad(capsys, "send-test", "--to", "test@ungeloeftet.example", "--kind",
                  "reminder", "--config", str(config))
    assert done.status == 0, done.err
    assert f"inbox: ok ({setup['user']} at " in done.out and "0 messages in INBOX" in done.out
    monkeypatch.setenv("RYGRAD_TEST_INBOX_PASSWORD", "forkert")
    refused = rygrad(capsys, "send-test", "--to", "test@ungeloeftet.example", "--kind",
                     "reminder", "--config", str(config))
    assert refused.status != 0 and "send-test stopped at the inbox" in refused.err
