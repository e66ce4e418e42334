"""The IMAP adapter (automation/inbox/imap.py) against a real Dovecot (tests/imapserver.py):
logins by password and by OAuth over IMAPS and STARTTLS, headers in batches, bodies
without marking anything read, the $rygrad keyword, and each fault as one sentence."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import socket
import ssl
import threading
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from automation.config import InboxSettings
from automation.errors import InboxError
from automation.inbox import imap_wire
from automation.inbox.imap import HEADER_BATCH, KEYWORD, PARTIAL_BYTES, Mailbox, MailHeader
from automation.oauth import GoogleTokens, MicrosoftTokens
from tests.emulators.certificates import Certificates
from tests.emulators.identity import IdentityEndpoint
from tests.emulators.sheets_emulator import Emulator
from tests.imapserver import HOST, NO_KEYWORDS, TENANT, CuttingProxy, ImapServer

PASSWORD = "hemmelig"
ENV = {"RYGRAD_IMAP_PASSWORD": PASSWORD, "RYGRAD_OAUTH_SECRET": "s3cret"}


def settings(server: ImapServer, user: str, security: str = "ssl", **changes: object
             ) -> InboxSettings:
    port = server.port if security == "ssl" else server.starttls_port
    inbox = InboxSettings(host=HOST, port=port, security=security, username=user,
                          password_env="RYGRAD_IMAP_PASSWORD",
                          ca_file=server.certificates.ca, timeout=20)
    return dataclasses.replace(inbox, **changes)  # type: ignore[arg-type]


def reply(number: int, answers: str = "", references: str = "", text: str = "Færdig",
          calendar: bool = False) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Sofie Holm <sofie@kommune.dk>"
    mail["To"] = "sekretariat@kommune.dk"
    mail["Subject"] = f"SV: Påmindelse {number}"
    mail["Message-ID"] = f"<svar-{number}@kommune.dk>"
    if answers:
        mail["In-Reply-To"] = answers
    if references:
        mail["References"] = references
    mail.set_content(f"{text}\n\n> Vi minder om opgave H-{number:03d}.\n")
    if calendar:
        mail.add_alternative("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n",
                             subtype="calendar", params={"method": "REPLY"})
    return mail.as_bytes(policy=SMTP)


def forwarded_invitation() -> bytes:
    inner = EmailMessage()
    inner["Subject"] = "Invitation"
    inner.set_content("se vedhæftet")
    inner.add_alternative("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
                          subtype="calendar")
    outer = EmailMessage()
    outer["Subject"] = "VS: Invitation"
    outer["Message-ID"] = "<videresendt@kommune.dk>"
    outer.set_content("Til orientering")
    outer.add_attachment(inner)
    return outer.as_bytes(policy=SMTP)


@pytest.fixture
def user(imap_server: ImapServer, request: pytest.FixtureRequest) -> str:
    """A fresh password mailbox for each test."""
    return imap_server.add_user(f"u{abs(hash(request.node.nodeid)) % 10**8}", PASSWORD)


def test_password_login_over_ssl_and_starttls_reads_the_headers(
        imap_server: ImapServer, user: str) -> None:
    first = imap_server.append(user, reply(1, "<a@rygrad>", "<b@rygrad> <a@rygrad>"))
    second = imap_server.append(user, reply(2, calendar=True), flags=("\\Seen",))
    for security in ("ssl", "starttls"):
        with Mailbox(settings(imap_server, user, security), environ=ENV) as box:
            assert isinstance(box._imap.sock, ssl.SSLSocket)  # encrypted before the login
            headers = box.headers()
        assert headers == [
            MailHeader(first, "<svar-1@kommune.dk>", ("<a@rygrad>", "<b@rygrad>"), False,
                       len(reply(1, "<a@rygrad>", "<b@rygrad> <a@rygrad>")), frozenset()),
            MailHeader(second, "<svar-2@kommune.dk>", (), True,
                       len(reply(2, calendar=True)), frozenset({"\\Seen"}))]


def test_headers_come_in_batches_not_one_command_per_message(
        imap_server: ImapServer, user: str) -> None:
    uids = imap_server.append_many(user, (reply(n, f"<m{n}@rygrad>") for n in range(450)))
    with Mailbox(settings(imap_server, user), environ=ENV) as box:
        opened = box.round_trips
        headers = box.headers()
        # one SEARCH and one FETCH per 200
        assert box.round_trips - opened == 1 + -(-450 // HEADER_BATCH) == 4
        before = box.round_trips
        bodies = dict(box.bodies(uids))
        assert box.round_trips - before == 450 // 50
        before = box.round_trips
        assert box.mark_handled(uids)
        assert box.round_trips - before == 1  # UID STORE 1:450
    assert [h.uid for h in headers] == uids
    assert [h.answers for h in headers] == [(f"<m{n}@rygrad>",) for n in range(450)]
    assert bodies[uids[17]] == reply(17, "<m17@rygrad>")


def test_reading_leaves_seen_as_it_was(imap_server: ImapServer, user: str) -> None:
    unread = imap_server.append(user, reply(1))
    read = imap_server.append(user, reply(2), flags=("\\Seen", "$label1"))
    before = imap_server.messages(user)
    with Mailbox(settings(imap_server, user), environ=ENV) as box:
        box.headers()
        assert dict(box.bodies([unread, read])) == {unread: reply(1), read: reply(2)}
    assert imap_server.messages(user) == before
    assert [m[1] for m in before] == [frozenset(), frozenset({"\\Seen", "$label1"})]


def test_since_searches_by_arrival_date(imap_server: ImapServer, user: str) -> None:
    imap_server.append(user, reply(1), when=datetime(2026, 9, 1, 12, tzinfo=UTC))
    recent = imap_server.append(user, reply(2), when=datetime(2026, 11, 20, 12, tzinfo=UTC))
    with Mailbox(settings(imap_server, user), environ=ENV) as box:
        assert [h.uid for h in box.headers(since=date(2026, 11, 1))] == [recent]
        assert len(box.headers()) == 2


def test_calendar_parts_and_odd_structures(imap_server: ImapServer, user: str) -> None:
    forwarded = imap_server.append(user, forwarded_invitation())
    attachment = EmailMessage()
    attachment["Message-ID"] = "<bilag@kommune.dk>"
    attachment["In-Reply-To"] = "<x@rygrad>"
    attachment.set_content("Se bilag")
    attachment.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf",
                              filename="Årsrapport \"endelig\" (2026).pdf")
    odd = imap_server.append(user, attachment.as_bytes(policy=SMTP))
    top = imap_server.append(user, b"Message-ID: <ics@x>\r\nContent-Type: text/calendar; "
                             b"method=REPLY\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    bare = imap_server.append(user, b"Subject: no ids at all\r\n\r\nhej\r\n")
    with Mailbox(settings(imap_server, user), environ=ENV) as box:
        found = {h.uid: h for h in box.headers()}
    assert not found[forwarded].calendar  # a forwarded invitation is no answer
    assert found[odd].answers == ("<x@rygrad>",) and not found[odd].calendar
    assert found[top].calendar and found[top].message_id == "<ics@x>"
    assert (found[bare].message_id, found[bare].answers) == ("", ())


def test_mark_handled_sets_the_keyword_only(imap_server: ImapServer, user: str) -> None:
    one = imap_server.append(user, reply(1))
    two = imap_server.append(user, reply(2))
    with Mailbox(settings(imap_server, user), environ=ENV) as box:
        assert box.mark_handled([one])
    assert [m[1] for m in imap_server.messages(user)] == [frozenset({KEYWORD}), frozenset()]
    assert two


def test_a_folder_without_keywords_is_not_marked(imap_server: ImapServer, user: str) -> None:
    uid = imap_server.append(user, reply(1), folder=NO_KEYWORDS)
    with Mailbox(settings(imap_server, user, folder=NO_KEYWORDS), environ=ENV) as box:
        assert [h.uid for h in box.headers()] == [uid]
        sent = box.round_trips
        assert box.mark_handled([uid]) is False
        assert box.round_trips == sent  # nothing was sent
    assert imap_server.messages(user, NO_KEYWORDS)[0][1] == frozenset()


def test_a_danish_folder_name(imap_server: ImapServer, user: str) -> None:
    imap_server.create_folder(user, imap_wire.encode_folder("Svar på mails"))
    uid = imap_server.append(user, reply(1), folder=imap_wire.encode_folder("Svar på mails"))
    with Mailbox(settings(imap_server, user, folder="Svar på mails"), environ=ENV) as box:
        assert [h.uid for h in box.headers()] == [uid]


def test_a_missing_folder_names_the_key_and_the_folders(imap_server: ImapServer,
                                                        user: str) -> None:
    imap_server.create_folder(user, imap_wire.encode_folder("Svar på mails"))
    with pytest.raises(InboxError) as caught:
        Mailbox(settings(imap_server, user, folder="Svar"), environ=ENV)
    text = str(caught.value)
    assert text.startswith(f"inbox.folder: {HOST}:{imap_server.port} has no folder »Svar« "
                           f"for {user} (NO Mailbox doesn't exist: Svar); the folders are ")
    assert "»INBOX«" in text and "»Svar på mails«" in text and f"»{NO_KEYWORDS}«" in text


def test_a_wrong_password_is_one_sentence_without_the_password(
        imap_server: ImapServer, user: str) -> None:
    with pytest.raises(InboxError) as caught:
        Mailbox(settings(imap_server, user), environ={"RYGRAD_IMAP_PASSWORD": "forkert"})
    text = str(caught.value)
    assert text == (f"{HOST}:{imap_server.port} refused the login of {user} "
                    "([AUTHENTICATIONFAILED] Authentication failed.); check inbox.username "
                    "and the password in inbox.password_env")
    assert "forkert" not in text


def test_a_danish_password(imap_server: ImapServer) -> None:
    user = imap_server.add_user("dansk", "blåbærgrød")
    with Mailbox(settings(imap_server, user), environ={"RYGRAD_IMAP_PASSWORD": "blåbærgrød"}
                 ) as box:
        assert box.headers() == []


def _microsoft(server: ImapServer, identity: IdentityEndpoint, mailbox: str,
               client_id: str, **changes: object) -> InboxSettings:
    identity.register_app(TENANT, client_id, secret="s3cret")
    return settings(server, mailbox, auth="microsoft", tenant=TENANT, client_id=client_id,
                    client_secret_env="RYGRAD_OAUTH_SECRET", authority=identity.authority,
                    password_env="", **changes)


def test_xoauth2_login_with_a_microsoft_token(imap_server: ImapServer,
                                              imap_identity: IdentityEndpoint) -> None:
    mailbox = imap_server.add_user("oauth-laeser@kommune.dk")
    imap_identity.grant_mailbox("app-imap-read", mailbox)
    uid = imap_server.append(mailbox, reply(1, "<a@rygrad>"))
    for security in ("ssl", "starttls"):
        inbox = _microsoft(imap_server, imap_identity, mailbox, "app-imap-read",
                           security=security)
        tokens = MicrosoftTokens(inbox, ENV)
        with Mailbox(inbox, tokens.token) as box:
            assert [h.uid for h in box.headers()] == [uid]
            assert box.mark_handled([uid])
        assert tokens.requests == 1


def test_a_refused_token_is_replaced_once(imap_server: ImapServer,
                                         imap_identity: IdentityEndpoint) -> None:
    mailbox = imap_server.add_user("oauth-udloeb@kommune.dk")
    imap_identity.grant_mailbox("app-imap-expiry", mailbox)
    inbox = _microsoft(imap_server, imap_identity, mailbox, "app-imap-expiry")
    tokens = MicrosoftTokens(inbox, ENV)
    with Mailbox(inbox, tokens.token):
        pass
    issued = imap_identity.issued
    imap_identity.expire_all()  # MSAL still holds the token and offers it first
    with Mailbox(inbox, tokens.token) as box:
        assert box.headers() == []
    assert imap_identity.issued == issued + 1


def test_a_mailbox_the_app_may_not_open(imap_server: ImapServer,
                                       imap_identity: IdentityEndpoint) -> None:
    mailbox = imap_server.add_user("oauth-fremmed@kommune.dk")
    inbox = _microsoft(imap_server, imap_identity, mailbox, "app-imap-nogrant")
    tokens = MicrosoftTokens(inbox, ENV)
    with pytest.raises(InboxError) as caught:
        Mailbox(inbox, tokens.token)
    text = str(caught.value)
    assert text.startswith(f"{HOST}:{imap_server.port} refused the login of {mailbox} "
                           "([AUTHENTICATIONFAILED] Authentication failed.): the mailbox "
                           "refused the app's token")
    assert "IMAP.AccessAsApp" in text and f"Add-MailboxPermission -Identity {mailbox}" in text
    assert tokens.requests == 2  # the token was replaced once before giving up


def _google(server: ImapServer, google: Emulator, mailbox: str, folder: Path
            ) -> InboxSettings:
    key = google.state.authority.service_account(f"{google.base_url}/token")
    key_file = folder / "mail-service-account.json"
    key_file.touch(mode=0o600)
    key_file.write_text(json.dumps(key), encoding="utf-8")
    return settings(server, mailbox, auth="google", credentials=key_file, password_env="")


def test_xoauth2_login_with_a_google_token(imap_server: ImapServer, imap_google: Emulator,
                                           tmp_path: Path) -> None:
    mailbox = imap_server.add_user("gmail-laeser@ngo.example")
    uid = imap_server.append(mailbox, reply(1, "<a@rygrad>"))
    inbox = _google(imap_server, imap_google, mailbox, tmp_path)
    tokens = GoogleTokens(inbox)
    with Mailbox(inbox, tokens.token) as box:
        assert [h.uid for h in box.headers()] == [uid]
    imap_google.state.authority.expire_all()  # google-auth's token is kept until it expires
    with Mailbox(inbox, tokens.token) as box:
        assert [h.uid for h in box.headers()] == [uid]
    assert tokens.requests == 2  # refused once, replaced once


def test_a_google_token_refused(imap_server: ImapServer, imap_google: Emulator,
                                tmp_path: Path) -> None:
    mailbox = imap_server.add_user("gmail-afvist@ngo.example")
    inbox = _google(imap_server, imap_google, mailbox, tmp_path)
    asked: list[bool] = []

    def forged(fresh: bool) -> str:
        asked.append(fresh)
        return "ya29.emulator-not-issued"

    with pytest.raises(InboxError) as caught:
        Mailbox(inbox, forged)
    assert asked == [False, True]
    assert str(caught.value).startswith(
        f"{HOST}:{imap_server.port} refused the login of {mailbox} (")
    assert str(caught.value).endswith(
        ": Gmail refused the token; check that inbox.username is the mailbox the service "
        "account acts as, that its domain-wide delegation includes https://mail.google.com/, "
        "and that IMAP is on for the mailbox")


def test_the_debug_log_withholds_password_and_token(
        imap_server: ImapServer, imap_identity: IdentityEndpoint, user: str,
        caplog: pytest.LogCaptureFixture) -> None:
    mailbox = imap_server.add_user("oauth-log@kommune.dk")
    imap_identity.grant_mailbox("app-imap-log", mailbox)
    inbox = _microsoft(imap_server, imap_identity, mailbox, "app-imap-log")
    tokens = MicrosoftTokens(inbox, ENV)
    imap_server.append(user, reply(1, "<hemmeligt-indhold@rygrad>"))
    with caplog.at_level(logging.DEBUG, logger="automation.inbox.imap"):
        with Mailbox(inbox, tokens.token) as box:
            box.headers()
        with Mailbox(settings(imap_server, user), environ=ENV) as box:
            list(box.bodies([h.uid for h in box.headers()]))
    assert "> AUTHENTICATE XOAUTH2 [withheld]" in caplog.text
    assert f"> LOGIN {user} [withheld]" in caplog.text
    assert "UID FETCH" in caplog.text
    for secret in (PASSWORD, tokens.token(), "s3cret", "Færdig", "hemmeligt-indhold"):
        assert secret not in caplog.text


def test_a_connection_lost_mid_session(imap_server: ImapServer, user: str) -> None:
    uid = imap_server.append(user, reply(1))
    with Mailbox(settings(imap_server, user), environ=ENV) as box:
        box.headers()
        assert imap_server.kick(user)
        with pytest.raises(InboxError) as caught:
            list(box.bodies([uid]))
    assert str(caught.value).startswith(
        f"the connection to imap {HOST}:{imap_server.port} was lost while reading the "
        "replies' content (")
    assert str(caught.value).endswith("; rygrad tries again at the next cycle")


def test_a_connection_lost_in_the_middle_of_the_bodies(imap_server: ImapServer,
                                                       user: str) -> None:
    uids = imap_server.append_many(user, (reply(n, text="Færdig " * 2000) for n in range(60)))
    with CuttingProxy(imap_server.port, after=300_000) as proxy, \
            Mailbox(settings(imap_server, user, port=proxy.port), environ=ENV) as box:
        box.headers()
        with pytest.raises(InboxError) as caught:
            for _ in box.bodies(uids):
                pass
    assert proxy.relayed == 300_000  # the cut came inside the bodies' answer
    assert str(caught.value) == (
        f"the connection to imap {HOST}:{proxy.port} was lost while reading the replies' "
        "content (it was closed mid-answer); rygrad tries again at the next cycle")


def test_nothing_listening(imap_server: ImapServer, user: str) -> None:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    with pytest.raises(InboxError, match=rf"^{HOST}:{port}: cannot connect \(.*refused.*\); "
                       "check inbox.host, inbox.port and inbox.security$"):
        Mailbox(settings(imap_server, user, port=port), environ=ENV)


def test_a_server_that_never_greets(imap_server: ImapServer, user: str) -> None:
    with socket.socket() as silent:
        silent.bind((HOST, 0))
        silent.listen()  # the kernel completes the handshake; nobody ever answers
        port = silent.getsockname()[1]
        with pytest.raises(InboxError, match=rf"^{HOST}:{port}: no answer within 1 s; "
                           "check inbox.host, inbox.port, inbox.security and the firewall$"):
            Mailbox(settings(imap_server, user, port=port, timeout=1), environ=ENV)


def test_a_server_without_starttls_gets_no_password(imap_server: ImapServer, user: str
                                                    ) -> None:
    heard: list[bytes] = []

    def plain_server(listener: socket.socket) -> None:
        connection, _ = listener.accept()
        with connection, contextlib.suppress(OSError):
            connection.sendall(b"* OK ready\r\n")
            connection.settimeout(5)
            while data := connection.recv(4096):
                heard.append(data)
                tag = data.split(b" ")[0]
                if b" CAPABILITY" in data.upper():
                    connection.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag +
                                       b" OK done\r\n")
                else:
                    connection.sendall(tag + b" BAD no\r\n")

    with socket.create_server((HOST, 0)) as listener:
        thread = threading.Thread(target=plain_server, args=(listener,), daemon=True)
        thread.start()
        port = listener.getsockname()[1]
        with pytest.raises(InboxError, match=rf"^{HOST}:{port} does not offer STARTTLS; check "
                           r"inbox.security and inbox.port \(993 for ssl, 143 for starttls\)$"):
            Mailbox(settings(imap_server, user, "starttls", port=port), environ=ENV)
        thread.join(timeout=10)
    assert b"CAPABILITY" in b"".join(heard)  # it was spoken to, but never given the password
    assert PASSWORD.encode() not in b"".join(heard)


def test_a_server_without_xoauth2(imap_certificates: Certificates,
                                  imap_identity: IdentityEndpoint) -> None:
    with ImapServer(imap_certificates) as plain:  # no identity endpoint: no XOAUTH2
        mailbox = plain.add_user("ingen-oauth@kommune.dk")
        inbox = _microsoft(plain, imap_identity, mailbox, "app-imap-plain")
        with pytest.raises(InboxError, match=r"does not offer OAuth 2.0 login \(SASL "
                           r"XOAUTH2; it offers: AUTH=PLAIN AUTH=LOGIN\); check inbox.host, "
                           r"or set inbox.auth = \"password\" for this server$"):
            Mailbox(inbox, MicrosoftTokens(inbox, ENV).token)


def test_an_untrusted_certificate_names_ca_file(imap_server: ImapServer, user: str) -> None:
    with pytest.raises(InboxError, match=r"certificate is not trusted .*; check inbox.host, "
                       r"or inbox.ca_file for a company CA$"):
        Mailbox(settings(imap_server, user, ca_file=None), environ=ENV)


def test_ssl_against_the_starttls_port(imap_server: ImapServer, user: str) -> None:
    with pytest.raises(InboxError, match=r"check inbox.security and inbox.port \(993 for "
                       r"ssl, 143 for starttls\)$"):
        Mailbox(settings(imap_server, user, port=imap_server.starttls_port), environ=ENV)


def test_a_large_message_is_read_only_in_part(imap_server: ImapServer, user: str) -> None:
    big = EmailMessage()
    big["Message-ID"] = "<stor@kommune.dk>"
    big["In-Reply-To"] = "<a@rygrad>"
    big.set_content("Færdig, se bilaget")
    big.add_attachment(b"\x00" * 20_000_000, maintype="application",
                       subtype="octet-stream", filename="film.bin")
    raw = big.as_bytes(policy=SMTP)
    large = imap_server.append(user, raw)
    small = imap_server.append(user, reply(1))
    with Mailbox(settings(imap_server, user), environ=ENV) as box:
        headers = {h.uid: h for h in box.headers()}
        bodies = dict(box.bodies([large, small]))
    assert headers[large].size == len(raw) > box.inbox.max_message_bytes
    assert bodies[large] == raw[:PARTIAL_BYTES]
    assert b"F=C3=A6rdig, se bilaget" in bodies[large] or "Færdig".encode() in bodies[large]
    assert bodies[small] == reply(1)
    assert all(flags == frozenset() for _, flags, _ in imap_server.messages(user))  # unread


def test_bodies_without_headers_first(imap_server: ImapServer, user: str) -> None:
    uid = imap_server.append(user, reply(1))
    with Mailbox(settings(imap_server, user), environ=ENV) as box:
        assert list(box.bodies([uid, uid + 99])) == [(uid, reply(1))]
