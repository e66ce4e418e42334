"""OAuth 2.0 mail login end to end (issue 12): the real MSAL and google-auth code against a
local identity endpoint over HTTPS, and an SMTP server that accepts SASL XOAUTH2 only
with an unexpired token that endpoint issued for that mailbox.

Nothing here mocks MSAL or smtplib: the CLI runs on a real workbook and ledger, and each
case checks what the server received, what the identity endpoint was asked, and what
rygrad said.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from automation import cli, config
from tests.emulators.certificates import Certificates, make_app_certificate
from tests.emulators.identity import IdentityEndpoint
from tests.emulators.sheets_emulator import start_emulator
from tests.smtpserver import (
    EXCHANGE_CLIENT_SUBMISSION,
    EXCHANGE_SMTP_AUTH_DISABLED,
    SmtpServer,
)
from tests.test_cli import small_initiative
from tests.workbook import rygrad, write_config, write_workbook

TENANT = "kommune.onmicrosoft.com"
CLIENT_ID = "3f1c9a52-7d0e-4b8a-9c41-2e6f0b7d5a19"
SECRET = "Qx8~rygrad.Hemmelig-Værdi_123"
MAILBOX = "sekretariat@ungeloeftet.example"
NOW = "2026-12-07T09:00"


@pytest.fixture
def identity(certificates: Certificates) -> Iterator[IdentityEndpoint]:
    with IdentityEndpoint(certificates.cert, certificates.key, tenants=(TENANT,)) as started:
        started.register_app(TENANT, CLIENT_ID, secret=SECRET)
        yield started


@pytest.fixture
def exchange(certificates: Certificates, identity: IdentityEndpoint) -> Iterator[SmtpServer]:
    """Exchange Online as rygrad meets it: STARTTLS, XOAUTH2 for the app's mailbox only,
    and passwords refused (Basic authentication off)."""
    with SmtpServer("starttls", certificates, identity=identity,
                    mailboxes={CLIENT_ID: {MAILBOX}}, refuse_passwords=True) as started:
        yield started


def microsoft_config(folder: Path, server: SmtpServer, identity: IdentityEndpoint,
                     certificates: Certificates, **mail: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    workbook = write_workbook(folder / "initiative.xlsx", small_initiative())
    settings = {"transport": "smtp", "host": server.host, "port": server.port,
                "security": "starttls", "username": MAILBOX, "auth": "microsoft",
                "tenant": TENANT, "client_id": CLIENT_ID, "authority": identity.authority,
                "ca_file": str(certificates.ca), "per_minute": 1000,
                "client_secret_env": "RYGRAD_OAUTH_SECRET"}
    settings.update(mail)
    settings = {k: v for k, v in settings.items() if v is not None}
    return write_config(folder, workbook, mail=settings)


def delivered(server: SmtpServer) -> int:
    return len(server.messages)


def sent_in_ledger(folder: Path) -> int:
    path = folder / "state" / "ledger.sqlite3"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM deliveries WHERE state = 'sent'")
                   .fetchone()[0])


# --- a whole cycle, each credential ----------------------------------------------------


@pytest.mark.parametrize("credential", ["env", "file", "certificate"])
def test_a_whole_cycle_over_xoauth2(tmp_path, capsys, monkeypatch, certificates, identity,
                                    exchange, credential):
    mail: dict[str, object] = {}
    if credential == "env":
        monkeypatch.setenv("RYGRAD_OAUTH_SECRET", SECRET)
    elif credential == "file":
        secret_file = tmp_path / "secret.txt"
        secret_file.touch(mode=0o600)
        secret_file.write_text(SECRET + "\n", encoding="utf-8")
        mail = {"client_secret_env": None, "client_secret_file": str(secret_file)}
    else:
        app_certificate = make_app_certificate(tmp_path / "app")
        identity.register_app(TENANT, CLIENT_ID, certificate_pem=app_certificate.cert_pem)
        mail = {"client_secret_env": None, "certificate_file": str(app_certificate.pem)}
    config_file = microsoft_config(tmp_path, exchange, identity, certificates, **mail)

    run = rygrad(capsys, "run", "--once", "--now", NOW, "--config", str(config_file))

    assert run.status == 0, run.err
    assert delivered(exchange) > 5
    assert delivered(exchange) == sent_in_ledger(tmp_path)
    assert exchange.logins == [("XOAUTH2", MAILBOX, True)]  # one login for the cycle
    assert identity.token_requests == 1  # one token for the cycle
    assert all(m.mail_from == MAILBOX for m in exchange.messages)


def test_one_token_serves_every_cycle_while_it_is_valid(tmp_path, capsys, monkeypatch,
                                                        certificates, identity, exchange):
    monkeypatch.setenv("RYGRAD_OAUTH_SECRET", SECRET)
    config_file = microsoft_config(tmp_path, exchange, identity, certificates)
    settings = config.load(config_file)
    job = cli.serve_job(settings)
    ledger, cycle = job.build(lambda: False)
    try:
        first = cycle.run(at(settings, NOW))
        assert first.sent > 0
        # a new action falls due; the next cycle logs in again with the same token
        add_action(tmp_path / "initiative.xlsx", "H-9", date(2026, 12, 9))
        second = cycle.run(at(settings, "2026-12-07T09:15"))
        assert second.sent == 1
    finally:
        ledger.close()
    assert identity.token_requests == 1
    assert [login[2] for login in exchange.logins] == [True, True]


def test_a_token_that_expires_between_two_cycles_of_serve_is_replaced(
        tmp_path, monkeypatch, certificates, identity, exchange):
    monkeypatch.setenv("RYGRAD_OAUTH_SECRET", SECRET)
    config_file = microsoft_config(tmp_path, exchange, identity, certificates)
    settings = config.load(config_file)
    job = cli.serve_job(settings)
    ledger, cycle = job.build(lambda: False)
    try:
        assert cycle.run(at(settings, NOW)).sent > 0
        identity.expire_all()  # the server now refuses the token MSAL still holds
        add_action(tmp_path / "initiative.xlsx", "H-9", date(2026, 12, 9))
        second = cycle.run(at(settings, "2026-12-07T09:15"))
    finally:
        ledger.close()
    assert second.sent == 1 and second.exit_status == 0
    assert [login[2] for login in exchange.logins] == [True, False, True]
    assert identity.token_requests == 2


def test_a_token_refused_once_is_replaced_and_the_login_tried_again(
        tmp_path, capsys, monkeypatch, certificates, identity, exchange):
    monkeypatch.setenv("RYGRAD_OAUTH_SECRET", SECRET)
    exchange.refuse_next_tokens = 1
    config_file = microsoft_config(tmp_path, exchange, identity, certificates)
    run = rygrad(capsys, "run", "--once", "--now", NOW, "--config", str(config_file))
    assert run.status == 0, run.err
    assert [login[2] for login in exchange.logins] == [False, True]
    assert identity.token_requests == 2
    assert delivered(exchange) == sent_in_ledger(tmp_path) > 0


# --- what the admin is told --------------------------------------------------------------


def refused_run(capsys, folder: Path, config_file: Path, server: SmtpServer) -> str:
    before = delivered(server)
    run = rygrad(capsys, "run", "--once", "--now", NOW, "--config", str(config_file))
    assert run.status == 2, run.out + run.err
    assert run.err.startswith("rygrad: ") and run.err.count("\n") == 1, run.err
    assert delivered(server) == before
    assert sent_in_ledger(folder) == 0
    return run.err


@pytest.mark.parametrize(("change", "expected"), [
    ({"secret": "not-the-secret"}, "the client secret is wrong (AADSTS7000215); put the "
                                   "secret's Value, not its Secret ID, in the environment "
                                   "variable RYGRAD_OAUTH_SECRET"),
    ({"client_id": "0000-unknown"}, "the app 0000-unknown is not registered in the tenant "
                                    "kommune.onmicrosoft.com"),
    ({"tenant": "andet.onmicrosoft.com"}, "the tenant andet.onmicrosoft.com does not exist; "
                                          "check mail.tenant"),
])
def test_what_entra_refuses_is_said_in_one_sentence(tmp_path, capsys, monkeypatch,
                                                    certificates, identity, exchange,
                                                    change, expected):
    monkeypatch.setenv("RYGRAD_OAUTH_SECRET", change.pop("secret", SECRET))
    config_file = microsoft_config(tmp_path, exchange, identity, certificates, **change)
    err = refused_run(capsys, tmp_path, config_file, exchange)
    assert expected in err
    assert exchange.logins == []  # no token, no login


def test_an_expired_secret_is_named(tmp_path, capsys, monkeypatch, certificates, identity,
                                    exchange):
    identity.register_app(TENANT, CLIENT_ID, secret=SECRET, secret_expired=True)
    monkeypatch.setenv("RYGRAD_OAUTH_SECRET", SECRET)
    config_file = microsoft_config(tmp_path, exchange, identity, certificates)
    assert "the client secret has expired (AADSTS7000222)" in refused_run(
        capsys, tmp_path, config_file, exchange)


def test_a_token_the_mailbox_refuses_names_the_exchange_commands(
        tmp_path, capsys, monkeypatch, certificates, identity, exchange):
    monkeypatch.setenv("RYGRAD_OAUTH_SECRET", SECRET)
    exchange.mailboxes = {CLIENT_ID: set()}  # no Add-MailboxPermission yet
    config_file = microsoft_config(tmp_path, exchange, identity, certificates)
    err = refused_run(capsys, tmp_path, config_file, exchange)
    assert "535 5.7.3" in err
    assert "New-ServicePrincipal" in err and "Add-MailboxPermission" in err
    assert [login[2] for login in exchange.logins] == [False, False]  # tried a fresh one
    assert identity.token_requests == 2


def test_smtp_auth_switched_off_names_set_casmailbox(tmp_path, capsys, monkeypatch,
                                                     certificates, identity):
    monkeypatch.setenv("RYGRAD_OAUTH_SECRET", SECRET)
    with SmtpServer("starttls", certificates, identity=identity,
                    mailboxes={CLIENT_ID: {MAILBOX}},
                    auth_disabled=EXCHANGE_SMTP_AUTH_DISABLED) as server:
        config_file = microsoft_config(tmp_path, server, identity, certificates)
        err = refused_run(capsys, tmp_path, config_file, server)
    assert "5.7.139" in err
    assert f"Set-CASMailbox -Identity {MAILBOX} -SmtpClientAuthenticationDisabled $false" in err


def test_a_server_without_xoauth2_is_said_so(tmp_path, capsys, monkeypatch, certificates,
                                             identity):
    monkeypatch.setenv("RYGRAD_OAUTH_SECRET", SECRET)
    with SmtpServer("starttls", certificates, identity=identity,
                    mailboxes={CLIENT_ID: {MAILBOX}}, auth_exclude=["XOAUTH2"]) as server:
        config_file = microsoft_config(tmp_path, server, identity, certificates)
        err = refused_run(capsys, tmp_path, config_file, server)
    assert "does not offer OAuth 2.0 login (SASL XOAUTH2" in err


def test_a_password_where_basic_auth_is_gone_says_switch_to_microsoft(
        tmp_path, capsys, monkeypatch, certificates, identity):
    monkeypatch.setenv("RYGRAD_SMTP_PASSWORD", "gammelt-kodeord")
    with SmtpServer("starttls", certificates, users={MAILBOX: "gammelt-kodeord"},
                    refuse_passwords=EXCHANGE_CLIENT_SUBMISSION) as server:
        config_file = microsoft_config(
            tmp_path, server, identity, certificates, auth=None, tenant=None,
            client_id=None, authority=None, client_secret_env=None,
            password_env="RYGRAD_SMTP_PASSWORD")
        err = refused_run(capsys, tmp_path, config_file, server)
    assert "550 5.7.30" in err and 'mail.auth = "microsoft"' in err


def test_ca_file_is_trusted_for_the_identity_endpoint_whatever_the_environment_says(
        tmp_path, capsys, monkeypatch, certificates, identity, exchange):
    """REQUESTS_CA_BUNDLE wins over a requests session's own verify; ca_file must not lose."""
    monkeypatch.setenv("RYGRAD_OAUTH_SECRET", SECRET)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificates.rogue_cert))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(certificates.rogue_cert))
    config_file = microsoft_config(tmp_path, exchange, identity, certificates)
    run = rygrad(capsys, "run", "--once", "--now", NOW, "--config", str(config_file))
    assert run.status == 0, run.err
    # an endpoint whose certificate no trusted CA signed is refused, even though the
    # environment's bundle holds that very certificate
    with IdentityEndpoint(certificates.rogue_cert, certificates.rogue_key,
                          tenants=(TENANT,)) as rogue:
        rogue.register_app(TENANT, CLIENT_ID, secret=SECRET)
        other = tmp_path / "other"
        config_file = microsoft_config(other, exchange, rogue, certificates)
        err = refused_run(capsys, other, config_file, exchange)
    assert "the identity endpoint's certificate is not trusted" in err
    assert rogue.token_requests == 0


# --- send-test: the chain, link by link --------------------------------------------------


def test_send_test_proves_the_chain_and_names_the_broken_link(
        tmp_path, capsys, monkeypatch, certificates, identity, exchange):
    monkeypatch.setenv("RYGRAD_OAUTH_SECRET", SECRET)
    config_file = microsoft_config(tmp_path, exchange, identity, certificates)
    ok = rygrad(capsys, "send-test", "--to", "anne@kommune.example", "--kind", "reminder",
                "--config", str(config_file))
    assert ok.status == 0, ok.err
    assert ok.out.splitlines() == [
        f"token: ok (microsoft, for {MAILBOX})",
        f"login: ok ({MAILBOX} at {exchange.host}:{exchange.port})",
        "sent reminder to anne@kommune.example"]

    monkeypatch.setenv("RYGRAD_OAUTH_SECRET", "forkert")
    token = rygrad(capsys, "send-test", "--to", "anne@kommune.example", "--config",
                   str(config_file))
    assert token.status == 2 and token.err.startswith("rygrad: send-test stopped at the token:")

    monkeypatch.setenv("RYGRAD_OAUTH_SECRET", SECRET)
    exchange.mailboxes = {CLIENT_ID: set()}
    login = rygrad(capsys, "send-test", "--to", "anne@kommune.example", "--config",
                   str(config_file))
    assert login.status == 2 and login.err.startswith("rygrad: send-test stopped at the login:")
    assert "token: ok" in login.out


def test_no_secret_or_token_is_printed_or_logged_with_debug(tmp_path, certificates, identity,
                                                             exchange):
    """A real process with --debug (every logger at DEBUG, the SMTP conversation shown):
    neither the secret, nor a token, nor the XOAUTH2 string appears anywhere."""
    config_file = microsoft_config(tmp_path, exchange, identity, certificates)
    exchange.refuse_next_tokens = 1  # a refused login and a second token as well
    environment = {"RYGRAD_OAUTH_SECRET": SECRET, "PATH": "/usr/bin:/bin",
                   "REQUESTS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt"}
    outputs = []
    for args in (("send-test", "--to", "anne@kommune.example", "--kind", "reminder"),
                 ("run", "--once", "--now", NOW)):
        done = subprocess.run([sys.executable, "-m", "automation", "--debug", *args,
                               "--config", str(config_file)], capture_output=True, text=True,
                              env=environment, timeout=120, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append(done.stdout + done.stderr)
    text = "\n".join(outputs)
    assert "smtp send: AUTH XOAUTH2 [withheld]" in text  # the conversation is there
    tokens = list(identity._tokens)  # every token the endpoint issued
    assert len(tokens) >= 3
    for secret in [SECRET, *tokens]:
        assert secret not in text
        for user in (MAILBOX,):
            sasl = base64.b64encode(f"user={user}\x01auth=Bearer {secret}\x01\x01".encode())
            assert sasl.decode() not in text
            assert sasl.decode()[:24] not in text
    # nor the messages themselves (they hold partners' names and work)
    assert "Kortlæg tilbud" not in text


# --- Google Workspace ----------------------------------------------------------------------


def test_google_workspace_over_xoauth2(tmp_path, capsys, certificates):
    with start_emulator() as emulator:
        authority = emulator.state.authority
        key = authority.service_account(f"{emulator.base_url}/token")
        key_file = tmp_path / "mail-service-account.json"
        key_file.touch(mode=0o600)
        key_file.write_text(json.dumps(key), encoding="utf-8")
        with SmtpServer("starttls", certificates, google=authority) as gmail:
            workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative())
            config_file = write_config(tmp_path, workbook, mail={
                "transport": "smtp", "host": gmail.host, "port": gmail.port,
                "security": "starttls", "username": MAILBOX, "auth": "google",
                "credentials": str(key_file), "ca_file": str(certificates.ca),
                "per_minute": 1000})
            run = rygrad(capsys, "run", "--once", "--now", NOW, "--config", str(config_file))
            assert run.status == 0, run.err
            assert gmail.logins == [("XOAUTH2", MAILBOX, True)]
            assert len(gmail.messages) == sent_in_ledger(tmp_path) > 0
            # the token was granted for the mailbox (sub) and the mail scope
            [grant] = [authority.check(token) for token in authority._tokens]
            assert grant is not None and grant.sub == MAILBOX
            assert "https://mail.google.com/" in grant.scopes

            # delegation not set up for the mail scope: the admin is told where
            authority.delegation = set()
            other = tmp_path / "other"
            other.mkdir()
            workbook = write_workbook(other / "initiative.xlsx", small_initiative())
            config_file = write_config(other, workbook, mail={
                "transport": "smtp", "host": gmail.host, "port": gmail.port,
                "security": "starttls", "username": MAILBOX, "auth": "google",
                "credentials": str(key_file), "ca_file": str(certificates.ca)})
            err = refused_run(capsys, other, config_file, gmail)
            assert "domain-wide delegation is not set up" in err


# --- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(("mail", "message"), [
    ({"auth": "microsoft", "client_id": CLIENT_ID, "client_secret_env": "X"},
     'mail.tenant: is required when auth = "microsoft"'),
    ({"auth": "microsoft", "tenant": TENANT, "client_id": CLIENT_ID},
     'auth = "microsoft" takes exactly one of mail.client_secret_env, '
     "mail.client_secret_file, mail.certificate_file"),
    ({"auth": "microsoft", "tenant": TENANT, "client_id": CLIENT_ID, "client_secret_env": "X",
      "certificate_file": "app.pem"}, "takes exactly one of"),
    ({"auth": "microsoft", "tenant": TENANT, "client_id": CLIENT_ID, "client_secret_env": "X",
      "password_env": "P"}, 'mail.password_env: belongs to auth = "password"'),
    ({"tenant": TENANT}, 'mail.tenant: belongs to auth = "microsoft", but mail.auth is '
                         '"password"'),
    ({"auth": "google"}, 'mail.credentials: is required when auth = "google"'),
    ({"auth": "google", "credentials": "k.json", "client_id": "1"},
     'mail.client_id: belongs to auth = "microsoft"'),
    ({"auth": "oauth"}, "mail.auth: 'oauth' is not allowed; use one of: password, "
                        "microsoft, google"),
    ({"auth": "microsoft", "tenant": TENANT, "client_id": CLIENT_ID, "client_secret_env": "X",
      "authority": "http://127.0.0.1:1"}, "mail.authority: 'http://127.0.0.1:1' is not an "
                                          "https:// address"),
])
def test_login_keys_that_do_not_fit_are_config_errors(tmp_path, capsys, mail, message):
    workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative())
    config_file = write_config(tmp_path, workbook, mail={
        "transport": "smtp", "host": "smtp.office365.com", "username": MAILBOX, **mail})
    run = rygrad(capsys, "check", "--config", str(config_file))
    assert run.status == 2
    assert message in run.err


# --- helpers ---------------------------------------------------------------------------


def add_action(workbook: Path, action_id: str, due: date) -> None:
    book = openpyxl.load_workbook(workbook)
    sheet = book["Handlinger"]
    header = [cell.value for cell in sheet[1]]
    row = {"Handling-ID": action_id, "Gruppe": "AG Uddannelse", "Handling": "Book lokale",
           "Ansvarlig": "Bo Berg", "Frist": due, "Status": "I gang"}
    sheet.append([row.get(str(title)) for title in header])
    book.save(workbook)


def at(settings: config.Settings, moment: str) -> datetime:
    return cli.local_now(settings, cli.parse_now(moment))
