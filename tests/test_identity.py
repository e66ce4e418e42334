"""The OAuth test infrastructure itself (issue 12): the local Entra ID endpoint driven by the
real MSAL, the Sheets emulator's token endpoint driven by the real google-auth with
domain-wide delegation, and XOAUTH2 on the test SMTP server driven by plain smtplib."""

from __future__ import annotations

import base64
import json
import logging
import smtplib
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msal
import pytest
import requests
from google.auth import exceptions as google_exceptions
from google.auth.transport.requests import Request
from google.oauth2 import service_account

from tests.emulators import start_emulator
from tests.emulators.certificates import AppCertificate, make_app_certificate
from tests.emulators.identity import OUTLOOK_SCOPE, IdentityEndpoint, tenant_guid, trusting
from tests.emulators.sheets_auth import Authority
from tests.smtpserver import (
    EXCHANGE_CLIENT_SUBMISSION,
    EXCHANGE_SMTP_AUTH_DISABLED,
    Certificates,
    SmtpServer,
)

TENANT = "kommune.onmicrosoft.com"
CLIENT_ID = "8a4f2c1e-0b7d-4e59-9c3a-2f1d6e8b7a90"
OTHER_APP = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
SECRET = "Qx8~hemmelig.Secret-value_0123456789"
MAILBOX = "sekretariat@kommune.example"
GMAIL_SCOPE = "https://mail.google.com/"
SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"


@pytest.fixture(autouse=True)
def _no_ambient_ca(monkeypatch: pytest.MonkeyPatch) -> None:
    # these machines set REQUESTS_CA_BUNDLE; the tests must not depend on it either way
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def app_certificate(tmp_path_factory: pytest.TempPathFactory) -> AppCertificate:
    return make_app_certificate(tmp_path_factory.mktemp("app"))


@pytest.fixture
def identity(certificates: Certificates, app_certificate: AppCertificate
             ) -> Iterator[IdentityEndpoint]:
    with IdentityEndpoint(certificates.cert, certificates.key) as endpoint:
        endpoint.register_app(TENANT, CLIENT_ID, secret=SECRET)
        yield endpoint


def msal_app(identity: IdentityEndpoint, ca: Path, credential: Any = SECRET,
             client_id: str = CLIENT_ID, tenant: str = TENANT
             ) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client_id, client_credential=credential, authority=f"{identity.authority}/{tenant}",
        instance_discovery=False, http_client=trusting(ca))


def sasl(user: str, token: str) -> str:
    return base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode()


def connect(server: SmtpServer, ca: Path) -> smtplib.SMTP:
    smtp = smtplib.SMTP(server.host, server.port, timeout=10)
    smtp.starttls(context=ssl.create_default_context(cafile=str(ca)))
    smtp.ehlo()
    return smtp


def xoauth2(server: SmtpServer, ca: Path, user: str, token: str) -> tuple[int, bytes]:
    with connect(server, ca) as smtp:
        return smtp.docmd("AUTH", "XOAUTH2 " + sasl(user, token))


# -- the identity endpoint, through MSAL -------------------------------------------------


def test_msal_gets_a_token_with_the_secret_and_then_uses_its_cache(
        identity: IdentityEndpoint, certificates: Certificates) -> None:
    app = msal_app(identity, certificates.ca)
    result = app.acquire_token_for_client(scopes=[OUTLOOK_SCOPE])

    assert result["token_type"] == "Bearer"
    assert result["expires_in"] == 3599
    assert result["token_source"] == "identity_provider"
    issued = identity.check(result["access_token"])
    assert issued is not None
    assert (issued.client_id, issued.tenant, issued.scope) == (CLIENT_ID, TENANT, OUTLOOK_SCOPE)
    assert identity.token_requests == 1

    again = app.acquire_token_for_client(scopes=[OUTLOOK_SCOPE])
    assert again["token_source"] == "cache"
    assert again["access_token"] == result["access_token"]
    assert identity.token_requests == 1


def test_expire_all_ends_every_token_but_msal_still_holds_its_copy(
        identity: IdentityEndpoint, certificates: Certificates) -> None:
    app = msal_app(identity, certificates.ca)
    token = app.acquire_token_for_client(scopes=[OUTLOOK_SCOPE])["access_token"]
    identity.expire_all()

    assert identity.check(token) is None
    # what a token source must know: MSAL's cache does not know the server expired it
    cached = app.acquire_token_for_client(scopes=[OUTLOOK_SCOPE])
    assert cached["access_token"] == token
    # it forgets it when told to (msal >= 1.23), and then asks again
    app.remove_tokens_for_client()
    fresh = app.acquire_token_for_client(scopes=[OUTLOOK_SCOPE])
    assert fresh["token_source"] == "identity_provider"
    assert identity.check(fresh["access_token"]) is not None
    assert identity.token_requests == 2


@pytest.mark.parametrize(("secret", "expired", "error", "code"), [
    ("wrong", False, "invalid_client", 7000215),
    (SECRET, True, "invalid_client", 7000222),
])
def test_a_wrong_or_expired_secret_comes_back_as_entras_error(
        identity: IdentityEndpoint, certificates: Certificates, secret: str, expired: bool,
        error: str, code: int) -> None:
    identity.register_app(TENANT, OTHER_APP, secret=SECRET, secret_expired=expired)
    result = msal_app(identity, certificates.ca, secret, OTHER_APP).acquire_token_for_client(
        scopes=[OUTLOOK_SCOPE])

    assert "access_token" not in result
    assert result["error"] == error
    assert result["error_codes"] == [code]
    assert result["error_description"].startswith(f"AADSTS{code}: ")
    assert OTHER_APP in result["error_description"]
    assert "\r\nTrace ID: " in result["error_description"]
    assert {"timestamp", "trace_id", "correlation_id"} <= result.keys()
    assert identity.token_requests == 1
    assert identity.issued == 0


def test_an_unknown_app_is_unauthorized_client_700016(
        identity: IdentityEndpoint, certificates: Certificates) -> None:
    result = msal_app(identity, certificates.ca, client_id=OTHER_APP).acquire_token_for_client(
        scopes=[OUTLOOK_SCOPE])

    assert result["error"] == "unauthorized_client"
    assert result["error_codes"] == [700016]
    assert (f"Application with identifier '{OTHER_APP}' was not found in the directory "
            f"'{TENANT}'") in result["error_description"]


def test_another_scope_is_invalid_scope_70011(
        identity: IdentityEndpoint, certificates: Certificates) -> None:
    result = msal_app(identity, certificates.ca).acquire_token_for_client(
        scopes=["https://graph.microsoft.com/.default"])

    assert result["error"] == "invalid_scope"
    assert result["error_codes"] == [70011]


def test_an_unknown_tenant_fails_when_msal_builds_the_app(
        identity: IdentityEndpoint, certificates: Certificates) -> None:
    with pytest.raises(ValueError, match="Unable to get authority configuration") as raised:
        msal_app(identity, certificates.ca, tenant="nowhere.onmicrosoft.com")

    # MSAL replaces the discovery error; Entra's answer is only on the one it replaced
    assert "AADSTS90002" not in str(raised.value)
    context = str(raised.value.__context__)
    assert "HTTP status: 400" in context
    assert "AADSTS90002: Tenant 'nowhere.onmicrosoft.com' not found." in context
    assert identity.token_requests == 0


def test_the_discovery_document_names_the_tenant_by_id(
        identity: IdentityEndpoint, certificates: Certificates) -> None:
    session = trusting(certificates.ca)
    config = session.get(
        f"{identity.authority}/{TENANT}/v2.0/.well-known/openid-configuration").json()
    guid = tenant_guid(TENANT)
    assert config["token_endpoint"] == f"{identity.authority}/{guid}/oauth2/v2.0/token"
    assert config["issuer"] == f"{identity.authority}/{guid}/v2.0"
    assert config["token_endpoint_auth_methods_supported"] == [
        "client_secret_post", "private_key_jwt", "client_secret_basic"]
    for key in ("authorization_endpoint", "device_authorization_endpoint", "jwks_uri",
                "response_types_supported", "subject_types_supported",
                "id_token_signing_alg_values_supported", "tenant_region_scope"):
        assert key in config

    unknown = session.get(f"{identity.authority}/x.example/v2.0/.well-known/openid-configuration")
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "invalid_tenant"
    assert unknown.json()["error_codes"] == [90002]

    # and MSAL works with the GUID as the authority as well
    result = msal_app(identity, certificates.ca, tenant=guid).acquire_token_for_client(
        scopes=[OUTLOOK_SCOPE])
    assert identity.check(result["access_token"]) is not None


def test_the_secret_may_come_as_http_basic(identity: IdentityEndpoint,
                                           certificates: Certificates) -> None:
    url = f"{identity.authority}/{TENANT}/oauth2/v2.0/token"
    form = {"grant_type": "client_credentials", "scope": OUTLOOK_SCOPE}
    session = trusting(certificates.ca)

    good = session.post(url, data=form, auth=(CLIENT_ID, SECRET))
    bad = session.post(url, data=form, auth=(CLIENT_ID, "nope"))
    neither = session.post(url, data={**form, "client_id": CLIENT_ID})

    assert good.status_code == 200
    assert identity.check(good.json()["access_token"]) is not None
    assert (bad.status_code, bad.json()["error_codes"]) == (401, [7000215])
    assert (neither.status_code, neither.json()["error_codes"]) == (401, [7000218])
    assert good.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("how", ["public_certificate", "thumbprint"])
def test_msal_gets_a_token_with_the_apps_certificate(
        identity: IdentityEndpoint, certificates: Certificates, app_certificate: AppCertificate,
        how: str) -> None:
    # public_certificate: MSAL signs PS256 with x5t#S256; thumbprint: RS256 with x5t
    identity.register_app(TENANT, OTHER_APP, certificate_pem=app_certificate.cert_pem)
    credential = {"private_key": app_certificate.key_pem.decode(),
                  how: (app_certificate.cert_pem.decode() if how == "public_certificate"
                        else app_certificate.thumbprint)}
    result = msal_app(identity, certificates.ca, credential, OTHER_APP
                      ).acquire_token_for_client(scopes=[OUTLOOK_SCOPE])

    issued = identity.check(result.get("access_token", ""))
    assert issued is not None, result
    assert issued.client_id == OTHER_APP


def test_a_certificate_the_app_does_not_have_is_700027(
        identity: IdentityEndpoint, certificates: Certificates, app_certificate: AppCertificate,
        tmp_path: Path) -> None:
    identity.register_app(TENANT, OTHER_APP, certificate_pem=app_certificate.cert_pem)
    stranger = make_app_certificate(tmp_path, "stranger")
    credential = {"private_key": stranger.key_pem.decode(),
                  "public_certificate": stranger.cert_pem.decode()}
    result = msal_app(identity, certificates.ca, credential, OTHER_APP
                      ).acquire_token_for_client(scopes=[OUTLOOK_SCOPE])

    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [700027]
    assert "The key was not found" in result["error_description"]
    assert identity.issued == 0


def test_a_right_thumbprint_on_a_wrong_signature_is_700027(
        identity: IdentityEndpoint, certificates: Certificates, app_certificate: AppCertificate,
        tmp_path: Path) -> None:
    identity.register_app(TENANT, OTHER_APP, certificate_pem=app_certificate.cert_pem)
    stranger = make_app_certificate(tmp_path, "stranger")
    credential = {"private_key": stranger.key_pem.decode(),
                  "thumbprint": app_certificate.thumbprint}
    result = msal_app(identity, certificates.ca, credential, OTHER_APP
                      ).acquire_token_for_client(scopes=[OUTLOOK_SCOPE])

    assert result["error_codes"] == [700027]
    assert "signature" in result["error_description"]


def test_requests_ca_bundle_wins_over_session_verify_but_not_over_trusting(
        identity: IdentityEndpoint, certificates: Certificates, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Why trusting() sets trust_env = False: the environment's bundle (here one without
    the test CA) replaces a Session's verify."""
    other = tmp_path / "other-ca.pem"
    other.write_bytes(certificates.rogue_cert.read_bytes())
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    url = f"{identity.authority}/{TENANT}/v2.0/.well-known/openid-configuration"

    plain = requests.Session()
    plain.verify = str(certificates.ca)
    with pytest.raises(requests.exceptions.SSLError):
        plain.get(url)
    assert trusting(certificates.ca).get(url).status_code == 200
    result = msal_app(identity, certificates.ca).acquire_token_for_client(scopes=[OUTLOOK_SCOPE])
    assert "access_token" in result


def test_the_endpoint_logs_no_secret_and_no_token(
        identity: IdentityEndpoint, certificates: Certificates,
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    token = msal_app(identity, certificates.ca).acquire_token_for_client(
        scopes=[OUTLOOK_SCOPE])["access_token"]
    msal_app(identity, certificates.ca, "wrong-" + SECRET).acquire_token_for_client(
        scopes=[OUTLOOK_SCOPE])

    printed = capfd.readouterr()
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("automation")]
    for text in (printed.out, printed.err, *ours):
        assert SECRET not in text
        assert token not in text


# -- the Sheets emulator's token endpoint, through google-auth ---------------------------


@pytest.fixture
def emulator() -> Iterator[Any]:
    with start_emulator() as running:
        yield running


def delegated(emulator: Any, user: str = MAILBOX, scopes: tuple[str, ...] = (GMAIL_SCOPE,)
              ) -> service_account.Credentials:
    key = emulator.state.authority.service_account(f"{emulator.base_url}/token")
    return service_account.Credentials.from_service_account_info(
        key, subject=user, scopes=list(scopes))


def test_google_auth_delegated_credentials_get_a_token_for_the_user(emulator: Any) -> None:
    authority: Authority = emulator.state.authority
    credentials = delegated(emulator)
    credentials.refresh(Request())

    granted = authority.check(credentials.token)
    assert granted is not None
    assert granted.sub == MAILBOX
    assert granted.scopes == (GMAIL_SCOPE,)
    assert authority.grants == 1

    authority.expire_all()
    assert authority.check(credentials.token) is None
    assert not authority.valid(f"Bearer {credentials.token}")


def test_a_service_account_without_a_subject_has_no_sub(emulator: Any) -> None:
    key = emulator.state.authority.service_account(f"{emulator.base_url}/token")
    credentials = service_account.Credentials.from_service_account_info(
        key, scopes=[SHEETS_SCOPE])
    credentials.refresh(Request())

    granted = emulator.state.authority.check(credentials.token)
    assert granted is not None
    assert (granted.sub, granted.scopes) == (None, (SHEETS_SCOPE,))


def test_delegation_the_admin_did_not_grant_is_unauthorized_client(emulator: Any) -> None:
    emulator.state.authority.delegation = {SHEETS_SCOPE}
    with pytest.raises(google_exceptions.RefreshError, match="unauthorized_client"):
        delegated(emulator).refresh(Request())


def test_a_user_outside_the_domain_is_invalid_grant(emulator: Any) -> None:
    emulator.state.authority.users = {"someone@kommune.example"}
    with pytest.raises(google_exceptions.RefreshError, match="Invalid email or User ID"):
        delegated(emulator).refresh(Request())


# -- XOAUTH2 on the SMTP server ----------------------------------------------------------


@pytest.fixture
def exchange(identity: IdentityEndpoint, certificates: Certificates) -> Iterator[SmtpServer]:
    with SmtpServer("starttls", certificates, identity=identity,
                    mailboxes={CLIENT_ID: {MAILBOX}}) as server:
        yield server


def outlook_token(identity: IdentityEndpoint, ca: Path, client_id: str = CLIENT_ID) -> str:
    result = msal_app(identity, ca, client_id=client_id).acquire_token_for_client(
        scopes=[OUTLOOK_SCOPE])
    return str(result["access_token"])


def test_exchange_takes_the_token_for_a_mailbox_its_app_may_send_as(
        exchange: SmtpServer, identity: IdentityEndpoint, certificates: Certificates) -> None:
    token = outlook_token(identity, certificates.ca)
    with connect(exchange, certificates.ca) as smtp:
        assert "XOAUTH2" in smtp.esmtp_features["auth"].split()
        code, reply = smtp.docmd("AUTH", "XOAUTH2 " + sasl(MAILBOX.upper(), token))
        assert (code, reply) == (235, b"2.7.0 Authentication successful")
        smtp.sendmail(MAILBOX, ["partner@example.dk"], b"Subject: hej\r\n\r\nhej\r\n")

    assert exchange.logins == [("XOAUTH2", MAILBOX.upper(), True)]
    assert [m.rcpt_tos for m in exchange.messages] == [("partner@example.dk",)]


def test_the_sasl_response_may_follow_an_empty_challenge(
        exchange: SmtpServer, identity: IdentityEndpoint, certificates: Certificates) -> None:
    token = outlook_token(identity, certificates.ca)
    with connect(exchange, certificates.ca) as smtp:
        assert smtp.docmd("AUTH", "XOAUTH2") == (334, b"")
        assert smtp.docmd(sasl(MAILBOX, token))[0] == 235


def test_smtplib_auth_xoauth2_works_too(
        exchange: SmtpServer, identity: IdentityEndpoint, certificates: Certificates) -> None:
    token = outlook_token(identity, certificates.ca)
    with connect(exchange, certificates.ca) as smtp:
        code, _ = smtp.auth("XOAUTH2",
                            lambda challenge=None: f"user={MAILBOX}\x01auth=Bearer {token}\x01\x01")
    assert code == 235


def test_exchange_refuses_another_user_an_expired_token_and_an_app_without_rights(
        exchange: SmtpServer, identity: IdentityEndpoint, certificates: Certificates) -> None:
    identity.register_app(TENANT, OTHER_APP, secret=SECRET)
    token = outlook_token(identity, certificates.ca)
    stranger = outlook_token(identity, certificates.ca, OTHER_APP)
    refused = (535, b"5.7.3 Authentication unsuccessful")

    assert xoauth2(exchange, certificates.ca, "chef@kommune.example", token) == refused
    assert xoauth2(exchange, certificates.ca, MAILBOX, stranger) == refused
    assert xoauth2(exchange, certificates.ca, MAILBOX, "eyJ0eXAiforged") == refused
    assert xoauth2(exchange, certificates.ca, MAILBOX, token)[0] == 235
    identity.expire_all()
    assert xoauth2(exchange, certificates.ca, MAILBOX, token) == refused
    exchange.mailboxes[OTHER_APP] = {MAILBOX}  # Add-MailboxPermission, while it runs
    assert xoauth2(exchange, certificates.ca, MAILBOX, stranger) == refused  # expired too

    assert [accepted for _, _, accepted in exchange.logins] == [
        False, False, False, True, False, False]


def test_refuse_next_tokens_refuses_a_good_token_that_many_times(
        identity: IdentityEndpoint, certificates: Certificates) -> None:
    token = outlook_token(identity, certificates.ca)
    with SmtpServer("starttls", certificates, identity=identity,
                    mailboxes={CLIENT_ID: {MAILBOX}}, refuse_next_tokens=1) as server:
        assert xoauth2(server, certificates.ca, MAILBOX, token)[0] == 535
        assert xoauth2(server, certificates.ca, MAILBOX, token)[0] == 235
        assert xoauth2(server, certificates.ca, "chef@kommune.example", token)[0] == 535
        assert xoauth2(server, certificates.ca, MAILBOX, token)[0] == 235


def test_a_password_is_refused_as_exchange_does_without_basic_auth(
        identity: IdentityEndpoint, certificates: Certificates) -> None:
    with SmtpServer("starttls", certificates, users={MAILBOX: "pw"}, identity=identity,
                    mailboxes={CLIENT_ID: {MAILBOX}}, refuse_passwords=True) as server, \
            connect(server, certificates.ca) as smtp, \
            pytest.raises(smtplib.SMTPAuthenticationError) as raised:
        smtp.login(MAILBOX, "pw")
    assert raised.value.smtp_code == 535
    assert raised.value.smtp_error.startswith(b"5.7.139 Authentication unsuccessful, basic")
    assert server.logins[-1] == ("LOGIN", MAILBOX, False)

    with SmtpServer("starttls", certificates, users={MAILBOX: "pw"},
                    refuse_passwords=EXCHANGE_CLIENT_SUBMISSION) as server, \
            connect(server, certificates.ca) as smtp:
        code, reply = smtp.docmd("AUTH", "PLAIN " + base64.b64encode(
            f"\0{MAILBOX}\0pw".encode()).decode())
    assert (code, reply) == (550, b"5.7.30 Basic authentication is not supported for "
                                  b"Client Submission.")


def test_smtp_auth_disabled_refuses_tokens_too(
        identity: IdentityEndpoint, certificates: Certificates) -> None:
    token = outlook_token(identity, certificates.ca)
    with SmtpServer("starttls", certificates, identity=identity,
                    mailboxes={CLIENT_ID: {MAILBOX}},
                    auth_disabled=EXCHANGE_SMTP_AUTH_DISABLED) as server:
        code, reply = xoauth2(server, certificates.ca, MAILBOX, token)
    assert code == 535
    assert b"SmtpClientAuthentication is disabled" in reply


def test_xoauth2_is_offered_only_with_a_way_to_check_tokens(
        identity: IdentityEndpoint, certificates: Certificates) -> None:
    servers = [SmtpServer("starttls", certificates, users={MAILBOX: "pw"}),
               SmtpServer("starttls", certificates, identity=identity,
                          auth_exclude=["XOAUTH2"])]
    for server in servers:
        with server, connect(server, certificates.ca) as smtp:
            offered = smtp.esmtp_features["auth"].split()
            assert "XOAUTH2" not in offered
            assert smtp.docmd("AUTH", "XOAUTH2 " + sasl(MAILBOX, "x"))[0] == 504


def test_gmail_takes_a_delegated_token_for_its_user(
        emulator: Any, certificates: Certificates) -> None:
    credentials = delegated(emulator)
    credentials.refresh(Request())
    with SmtpServer("starttls", certificates, google=emulator.state.authority) as server:
        assert xoauth2(server, certificates.ca, MAILBOX, credentials.token) == (
            235, b"2.7.0 Accepted")
    assert server.logins == [("XOAUTH2", MAILBOX, True)]


def test_gmail_refuses_with_its_json_challenge_then_535(
        emulator: Any, certificates: Certificates) -> None:
    authority: Authority = emulator.state.authority
    mail = delegated(emulator)
    mail.refresh(Request())
    sheets_only = delegated(emulator, scopes=(SHEETS_SCOPE,))
    sheets_only.refresh(Request())
    with SmtpServer("starttls", certificates, google=authority) as server:
        for user, token in [("chef@kommune.example", mail.token), (MAILBOX, sheets_only.token),
                            (MAILBOX, "ya29.forged")]:
            with connect(server, certificates.ca) as smtp:
                code, challenge = smtp.docmd("AUTH", "XOAUTH2 " + sasl(user, token))
                assert code == 334
                assert json.loads(base64.b64decode(challenge)) == {
                    "status": "400", "schemes": "Bearer", "scope": GMAIL_SCOPE}
                code, reply = smtp.docmd("")
                assert code == 535
                assert reply.startswith(b"5.7.8 Username and Password not accepted.")
        authority.expire_all()
        with connect(server, certificates.ca) as smtp:
            assert smtp.docmd("AUTH", "XOAUTH2 " + sasl(MAILBOX, mail.token))[0] == 334
            assert smtp.docmd("")[0] == 535
    assert [accepted for _, _, accepted in server.logins] == [False] * 4


def test_the_smtp_server_logs_no_token(
        exchange: SmtpServer, identity: IdentityEndpoint, certificates: Certificates,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = outlook_token(identity, certificates.ca)
    assert xoauth2(exchange, certificates.ca, MAILBOX, token)[0] == 235
    assert xoauth2(exchange, certificates.ca, "x@y.example", token)[0] == 535

    assert any(r.name == "mail.log" for r in caplog.records)  # aiosmtpd did log the session
    assert token not in caplog.text
    assert sasl(MAILBOX, token) not in caplog.text
