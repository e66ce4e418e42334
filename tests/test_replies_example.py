"""The example initiative (`rygrad init`) answered as partners' mail programs answer it.

The replies are the samples of tests/fixtures/replies (Outlook, Gmail, Apple Mail, iTIP
from Outlook and Google Calendar, an out-of-office, the wrong person), readdressed to
the mails this initiative really sent: the sender becomes the person the mail went to,
In-Reply-To and References its Message-ID, a calendar answer's UID and ATTENDEE the
meeting's and the invitee's. Their MIME structure, charsets and quoting stay as the
mail program wrote them. All go into Dovecot; one cycle reads them.
"""

from __future__ import annotations

import base64
import email
import email.policy
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from automation.mail.render import builtin_templates_dir
from automation.scaffold import init
from tests.imapserver import ImapServer
from tests.test_example import read_workbook
from tests.workbook import read_outbox, rygrad

SAMPLES = Path(__file__).parent / "fixtures" / "replies"
PASSWORD = "eksempel-postkasse"
FIRST = "2026-12-02T10:00:00+01:00"
NEXT_DAY = "2026-12-03T10:00:00+01:00"


def readdressed(sample: str, answered: EmailMessage, sender: str | None = None,
                uid: str = "") -> bytes:
    """A sample as if it answered ``answered``: From, In-Reply-To and References, and in
    a calendar part the UID and the ATTENDEE; the rest as the mail program wrote it."""
    message = email.message_from_bytes((SAMPLES / sample).read_bytes(),
                                       policy=email.policy.default)
    old = message["From"].addresses[0].addr_spec
    new = sender or answered["To"].addresses[0].addr_spec
    name = answered["To"].addresses[0].display_name
    message.replace_header("From", f"{name} <{new}>" if sender is None else new)
    for header in ("In-Reply-To", "References"):
        if header in message:
            message.replace_header(header, str(answered["Message-ID"]))
    for part in message.walk():
        if part.get_content_type() in ("text/calendar", "application/ics"):
            text = part.get_payload(decode=True).decode("utf-8")
            text = text.replace(old, new).replace(old.upper(), new)
            text = "\r\n".join(line if not line.startswith("UID:") else f"UID:{uid}"
                               for line in text.replace("\r\n", "\n").split("\n"))
            del part["Content-Transfer-Encoding"]
            part["Content-Transfer-Encoding"] = "base64"
            part.set_payload(base64.encodebytes(text.encode("utf-8")).decode("ascii"))
    return message.as_bytes(policy=email.policy.SMTP)


@pytest.fixture
def example(tmp_path: Path, imap_server: ImapServer, imap_certificates: Any,
            monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    init(tmp_path, date(2026, 12, 2), builtin_templates_dir())
    user = imap_server.add_user(f"ex-{tmp_path.name[-16:].lower()}", password=PASSWORD)
    monkeypatch.setenv("RYGRAD_EXAMPLE_INBOX_PASSWORD", PASSWORD)
    config = tmp_path / "config" / "rygrad.toml"
    with config.open("a", encoding="utf-8") as file:
        file.write(f'\n[inbox]\nhost = "{imap_server.host}"\nport = {imap_server.port}\n'
                   f'security = "ssl"\nusername = "{user}"\n'
                   f'password_env = "RYGRAD_EXAMPLE_INBOX_PASSWORD"\n'
                   f'ca_file = "{imap_certificates.ca}"\n')
    workbook = next(tmp_path.rglob("*.xlsx"))
    return {"config": config, "user": user, "server": imap_server, "workbook": workbook}


def cycle(capsys: Any, config: Path, now: str) -> str:
    done = rygrad(capsys, "run", "--once", "--allow-burst", "--now", now, "--config",
                  str(config))
    assert done.status in (0, 1), done.err
    return done.out


def first(outbox: Path, kind: str) -> EmailMessage:
    return next(m for m in read_outbox(outbox)
                if str(m["X-Rygrad-Key"]).startswith(kind + ":"))


def test_the_example_initiative_answered_by_mail_programs(example, capsys):
    config, server, user = example["config"], example["server"], example["user"]
    cycle(capsys, config, FIRST)
    outbox = next(p for p in config.parent.parent.rglob("outbox") if p.is_dir())
    reminder = next(m for m in read_outbox(outbox)
                    if str(m["X-Rygrad-Key"]).split(":")[0] in ("reminder", "overdue"))
    request = first(outbox, "indicator")
    invitation = first(outbox, "invitation")
    action_id = str(reminder["X-Rygrad-Key"]).split(":")[1]
    indicator_id = str(request["X-Rygrad-Key"]).split(":")[1]
    meeting_id = str(invitation["X-Rygrad-Key"]).split(":")[1]
    uid = _uid_of(invitation)
    replies = {
        "done": readdressed("outlook_da_done.eml", reminder),
        "value": readdressed("gmail_da_value.eml", request),
        "accept": readdressed("itip_outlook_da_accepted.eml", invitation, uid=uid),
        "away": readdressed("auto_outlook_out_of_office.eml", reminder),
        "wrong": readdressed("wrong_person.eml", reminder,
                             sender="jesper.krogh@danskerhverv.example"),
    }
    for raw in replies.values():
        server.append(user, raw)
    sent_before = len(read_outbox(outbox))

    out = cycle(capsys, config, NEXT_DAY)

    assert "5 new replies (2 applied, 1 calendar answer, 2 not used)" in out, out
    tables = read_workbook(example["workbook"])
    action = next(r for r in tables["actions"] if r["action_id"] == action_id)
    assert action["status"] == "Færdig"
    indicator = next(r for r in tables["indicators"] if r["indicator_id"] == indicator_id)
    assert indicator["current"] == 42.5 and indicator["updated"] == "3.12.2026"
    meeting = next(r for r in tables["meetings"] if r["meeting_id"] == meeting_id)
    invitee = invitation["To"].addresses[0].display_name
    assert invitee in (meeting.get("attending") or "")
    answers = [m for m in read_outbox(outbox) if str(m["X-Rygrad-Key"]).startswith("answer:")]
    answered = {str(m["In-Reply-To"]).strip() for m in answers}
    parsed = {name: email.message_from_bytes(raw, policy=email.policy.default)
              for name, raw in replies.items()}
    ids = {name: str(message["Message-ID"]).strip() for name, message in parsed.items()}
    assert answered == {ids["done"], ids["value"], ids["wrong"]}
    done_text = next(m for m in answers if str(m["In-Reply-To"]).strip() == ids["done"]).get_body(
        ("plain",)).get_content()
    assert f"{action_id} er markeret som udført i arket." in done_text

    # the next cycle changes nothing and sends nothing
    count, before = len(read_outbox(outbox)), read_workbook(example["workbook"])
    cycle(capsys, config, "2026-12-03T10:05:00+01:00")
    assert len(read_outbox(outbox)) == count > sent_before
    assert read_workbook(example["workbook"]) == before


def _uid_of(invitation: EmailMessage) -> str:
    for part in invitation.walk():
        if part.get_content_type() == "text/calendar":
            for line in part.get_content().splitlines():
                if line.startswith("UID:"):
                    return line[4:].strip()
    raise AssertionError("the invitation has no UID")
