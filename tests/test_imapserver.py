"""The test IMAP server itself (tests/imapserver.py): Dovecot starts, a password user
and an XOAUTH2 user log in, a token the identity endpoint did not issue, or one that
has expired, is refused, a Google token counts only with the mail scope and for its own
user, and the helpers see what is in a mailbox without reading it."""

from __future__ import annotations

import imaplib
import ssl
import time

import msal
import pytest

from tests.emulators.identity import OUTLOOK_SCOPE, IdentityEndpoint, trusting
from tests.emulators.sheets_auth import Granted
from tests.emulators.sheets_emulator import Emulator
from tests.imapserver import HOST, NO_KEYWORDS, TENANT, ImapServer


def _client(server: ImapServer, starttls: bool = False) -> imaplib.IMAP4:
    context = ssl.create_default_context(cafile=str(server.certificates.ca))
    if starttls:
        imap = imaplib.IMAP4(HOST, server.starttls_port, timeout=30)
        imap.starttls(context)
        return imap
    return imaplib.IMAP4_SSL(HOST, server.port, ssl_context=context, timeout=30)


def _token(identity: IdentityEndpoint, server: ImapServer, client_id: str) -> str:
    app = msal.ConfidentialClientApplication(
        client_id, client_credential="s3cret", authority=f"{identity.authority}/{TENANT}",
        instance_discovery=False, http_client=trusting(server.certificates.ca))
    return str(app.acquire_token_for_client(scopes=[OUTLOOK_SCOPE])["access_token"])


def test_password_user_logs_in_over_ssl_and_starttls(imap_server: ImapServer) -> None:
    user = imap_server.add_user("adgang", password="hemmelig æøå")
    for starttls in (False, True):
        imap = _client(imap_server, starttls)
        assert imap._encoding == "ascii"
        imap._encoding = "utf-8"  # a Danish password
        assert imap.login(user, "hemmelig æøå")[0] == "OK"
        assert imap.select("INBOX")[0] == "OK"
        imap.logout()
    imap = _client(imap_server)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imap.login(user, "forkert")


def test_starttls_port_offers_starttls_and_then_speaks_tls(imap_server: ImapServer) -> None:
    # Dovecot counts 127.0.0.1 -> 127.0.0.1 as secured and would allow a login before
    # STARTTLS here; what the tests rely on is that STARTTLS is offered and works
    imap = imaplib.IMAP4(HOST, imap_server.starttls_port, timeout=30)
    assert "STARTTLS" in imap.capabilities
    assert not isinstance(imap.sock, ssl.SSLSocket)
    imap.starttls(ssl.create_default_context(cafile=str(imap_server.certificates.ca)))
    assert isinstance(imap.sock, ssl.SSLSocket)
    imap.logout()


def test_xoauth2_user_logs_in_with_a_token_from_the_identity_endpoint(
        imap_server: ImapServer, imap_identity: IdentityEndpoint) -> None:
    imap_identity.register_app(TENANT, "app-login", secret="s3cret")
    imap_identity.grant_mailbox("app-login", "postkasse@kommune.dk")
    user = imap_server.add_user("postkasse@kommune.dk")
    token = _token(imap_identity, imap_server, "app-login")
    before = imap_identity.introspections
    imap = _client(imap_server)
    assert imap.authenticate("XOAUTH2", lambda _: f"user={user}\x01auth=Bearer {token}"
                             "\x01\x01".encode())[0] == "OK"
    assert imap.select("INBOX")[0] == "OK"
    imap.logout()
    assert imap_identity.introspections == before + 1  # Dovecot asked the endpoint
    # the same token for a mailbox the app was not granted
    other = imap_server.add_user("andenkasse@kommune.dk")
    imap = _client(imap_server)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imap.authenticate("XOAUTH2", lambda _: f"user={other}\x01auth=Bearer {token}"
                          "\x01\x01".encode())


def test_forged_and_expired_tokens_are_refused(imap_server: ImapServer,
                                               imap_identity: IdentityEndpoint) -> None:
    imap_identity.register_app(TENANT, "app-expiry", secret="s3cret")
    imap_identity.grant_mailbox("app-expiry", "udloeb@kommune.dk")
    user = imap_server.add_user("udloeb@kommune.dk")
    token = _token(imap_identity, imap_server, "app-expiry")
    for forged in ("eyJ0eXAiforged", token[:-4] + "AAAA"):
        imap = _client(imap_server)
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            imap.authenticate("XOAUTH2", lambda _, t=forged: f"user={user}\x01auth=Bearer "
                              f"{t}\x01\x01".encode())
    imap = _client(imap_server)
    assert imap.authenticate("XOAUTH2", lambda _: f"user={user}\x01auth=Bearer {token}"
                             "\x01\x01".encode())[0] == "OK"
    imap.logout()
    imap_identity.expire_all()
    imap = _client(imap_server)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imap.authenticate("XOAUTH2", lambda _: f"user={user}\x01auth=Bearer {token}"
                          "\x01\x01".encode())
    # a password is no way into an XOAUTH2 mailbox
    imap = _client(imap_server)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imap.login(user, "")


def test_helpers_append_and_read_without_setting_seen(imap_server: ImapServer) -> None:
    user = imap_server.add_user("hjaelper", password="hemmelig")
    first = imap_server.append(user, b"Subject: en\r\n\r\nen\r\n")
    second = imap_server.append(user, b"Subject: to\r\n\r\nto\r\n", flags=("\\Seen", "$x"))
    assert imap_server.messages(user) == [
        (first, frozenset(), b"Subject: en\r\n\r\nen\r\n"),
        (second, frozenset({"\\Seen", "$x"}), b"Subject: to\r\n\r\nto\r\n")]
    assert imap_server.messages(user)[0][1] == frozenset()  # reading did not mark it read


def test_the_no_keywords_folder_keeps_no_keyword(imap_server: ImapServer) -> None:
    user = imap_server.add_user("noegleord", password="hemmelig")
    uid = imap_server.append(user, b"Subject: x\r\n\r\nx\r\n", folder=NO_KEYWORDS)
    imap = _client(imap_server)
    imap.login(user, "hemmelig")
    imap.select(NO_KEYWORDS)
    assert imap.response("PERMANENTFLAGS")[1] == [b"(\\Deleted \\Seen)"]
    imap.uid("STORE", str(uid), "+FLAGS.SILENT", "($rygrad)")
    imap.logout()
    assert imap_server.messages(user, NO_KEYWORDS)[0][1] == frozenset()


def test_kick_drops_the_session(imap_server: ImapServer) -> None:
    user = imap_server.add_user("smidud", password="hemmelig")
    imap = _client(imap_server)
    imap.login(user, "hemmelig")
    imap.select("INBOX")
    assert imap_server.kick(user)
    with pytest.raises(imaplib.IMAP4.abort):
        imap.noop()
        imap.noop()


def test_google_tokens_need_the_mail_scope_and_the_right_user(
        imap_server: ImapServer, imap_google: Emulator) -> None:
    authority = imap_google.state.authority
    user = imap_server.add_user("gmail-scope@ngo.example")
    other = imap_server.add_user("gmail-anden@ngo.example")

    def issued(sub: str, scope: str) -> str:
        token = f"ya29.emulator-test-{sub}-{len(scope)}"
        with authority._lock:
            authority._tokens[token] = Granted(sub, (scope,), time.time() + 600)
        return token

    def login(name: str, token: str) -> None:
        _client(imap_server).authenticate(
            "XOAUTH2", lambda _: f"user={name}\x01auth=Bearer {token}\x01\x01".encode())

    login(user, issued(user, "https://mail.google.com/"))
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        login(user, issued(user, "https://www.googleapis.com/auth/spreadsheets"))
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        login(other, issued(user, "https://mail.google.com/"))
