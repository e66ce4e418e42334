"""Access tokens for logging in to a mailbox with OAuth 2.0 (README, "Microsoft 365 and
Google Workspace without passwords").

Two sources, one interface: ``token()`` gives a valid access token, kept in memory until
shortly before it expires; ``token(fresh=True)`` asks for a new one (a server refused the
last). SMTP uses them now; reading replies over IMAP will use the same ones.

- ``MicrosoftTokens``: an Entra ID app registration's client-credentials flow through
  MSAL, with a client secret (from an environment variable or a file) or a certificate
  (a PEM file holding the private key and the certificate).
- ``GoogleTokens``: a Google service account with domain-wide delegation, acting as the
  mailbox (``subject``), through google-auth.

Every failure is an ``OAuthError`` of one sentence that says what the admin must do. No
secret, key or token is ever put in a message, a log line or a traceback.

TLS to the identity endpoint is verified against the system's CAs plus ``mail.ca_file``,
exactly as the mail server is, also when ``REQUESTS_CA_BUNDLE`` is set in the
environment (requests would let that win over the session's own setting).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import ssl
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter

from automation.config import InboxSettings, MailSettings
from automation.errors import ConfigError, DeliveryError, error_text
from automation.files import check_secret_file, read_secret_file, secret_from_env

# [mail] and [inbox] log in the same ways with the same keys
Account = MailSettings | InboxSettings

MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
GOOGLE_SCOPE = "https://mail.google.com/"
EARLY = 300.0  # seconds before its expiry a token is replaced, so none expires mid-cycle
TIMEOUT = 30.0

# Entra ID's answers (AADSTS codes) → what the admin must do
MICROSOFT_ERRORS = {
    90002: "the tenant {tenant} does not exist; check {section}.tenant (the tenant's domain, "
           "e.g. kommune.onmicrosoft.com, or its directory (tenant) ID)",
    700016: "the app {client_id} is not registered in the tenant {tenant}; check "
            "{section}.client_id (the app's Application (client) ID in Entra ID) and "
            "{section}.tenant",
    7000215: "the client secret is wrong (AADSTS7000215); put the secret's Value, not its "
             "Secret ID, in {secret}",
    7000222: "the client secret has expired (AADSTS7000222); create a new one under the "
             "app's Certificates & secrets in Entra ID and put it in {secret}",
    700027: "the certificate was not accepted (AADSTS700027); upload {secret}'s certificate "
            "under the app's Certificates & secrets in Entra ID",
    70011: "the scope {scope} was refused (AADSTS70011); the app needs the application "
           "permission {permission} (Office 365 Exchange Online) with admin consent",
    7000229: "the app has no service principal in the tenant (AADSTS7000229); grant admin "
             "consent for the app in Entra ID",
}


class OAuthError(DeliveryError):
    """A token could not be had: the identity endpoint or the account's set-up."""


class TokenSource(Protocol):
    """Where a mail login gets its access tokens; ``requests`` counts token requests."""

    requests: int

    def token(self, fresh: bool = False) -> str: ...


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response: base64 of ``user=…^Aauth=Bearer …^A^A``."""
    raw = f"user={user}\x01auth=Bearer {token}\x01\x01"
    return base64.b64encode(raw.encode("utf-8")).decode("ascii")


def token_source(settings: Account, environ: Mapping[str, str] | None = None
                 ) -> TokenSource | None:
    """The token source `mail.auth` names, or None for a password login."""
    if settings.auth == "microsoft":
        return MicrosoftTokens(settings, environ)
    if settings.auth == "google":
        return GoogleTokens(settings)
    return None


def section(settings: Account) -> str:
    """The config section whose keys an error names: [mail] and [inbox] share this code."""
    return "inbox" if isinstance(settings, InboxSettings) else "mail"


class _Cached:
    """A token kept until ``EARLY`` seconds before it expires."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.requests = 0
        self._token = ""
        self._until = 0.0

    def token(self, fresh: bool = False) -> str:
        if fresh or not self._token or self.clock() >= self._until:
            self.requests += 1
            token, lifetime = self.fetch()
            self._token, self._until = token, self.clock() + max(0.0, lifetime - EARLY)
        return self._token

    def fetch(self) -> tuple[str, float]:
        """A new token and its lifetime in seconds."""
        raise NotImplementedError


class MicrosoftTokens(_Cached):
    """Entra ID's client-credentials flow through MSAL (see the module docstring)."""

    def __init__(self, settings: Account, environ: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        self.settings = settings
        self.authority = (settings.authority or MICROSOFT_AUTHORITY).rstrip("/")
        self.section = section(settings)
        self._credential, self._secret_name = _microsoft_credential(settings, environ)
        self._session = trusting_session(settings)
        self._app: Any = None

    def fetch(self) -> tuple[str, float]:
        import msal

        words = {"tenant": self.settings.tenant, "client_id": self.settings.client_id,
                 "secret": self._secret_name, "scope": MICROSOFT_SCOPE,
                 "section": self.section,
                 # what the app may do with the mailbox: send (SMTP) or read (IMAP)
                 "permission": "IMAP.AccessAsApp" if self.section == "inbox"
                 else "SMTP.SendAsApp"}
        try:
            if self._app is None:
                self._app = msal.ConfidentialClientApplication(
                    self.settings.client_id, client_credential=self._credential,
                    authority=f"{self.authority}/{self.settings.tenant}",
                    # Microsoft's own endpoint is known to MSAL; another (tests, a
                    # sovereign cloud) is read from its OpenID discovery document
                    instance_discovery=self.authority == MICROSOFT_AUTHORITY,
                    http_client=self._session, timeout=TIMEOUT)
            else:
                # MSAL keeps tokens itself; a new one is asked for because the last failed
                self._app.remove_tokens_for_client()
            result = self._app.acquire_token_for_client(scopes=[MICROSOFT_SCOPE])
        except requests.RequestException as err:
            raise OAuthError(_unreachable(self.authority, err, self.section)) from None
        except ValueError as err:
            # MSAL raises ValueError when the tenant's discovery document is refused; the
            # endpoint's answer is in the error it raised from
            chain = " ".join(str(e) for e in (err, err.__cause__, err.__context__) if e)
            raise OAuthError(self._refused(_codes(chain), str(err), words)) from None
        if "access_token" not in result:
            raise OAuthError(self._refused(result.get("error_codes") or [],
                                           result.get("error_description", ""), words))
        return str(result["access_token"]), float(result.get("expires_in", 3599))

    def _refused(self, codes: list[int], description: str, words: dict[str, str]) -> str:
        where = (f"{self.authority} refused a token for {self.section}.client_id "
                 f"{self.settings.client_id}")
        for code in codes:
            if code in MICROSOFT_ERRORS:
                return f"{where}: {MICROSOFT_ERRORS[code].format(**words)}"
        first = " ".join(description.split()).split(" Trace ID:")[0][:300]
        return (f"{where} ({first or 'no reason given'}); check {self.section}.tenant and "
                f"{self.section}.client_id")


class GoogleTokens(_Cached):
    """A service account with domain-wide delegation, acting as the section's username."""

    def __init__(self, settings: Account,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        from google.oauth2 import service_account

        assert settings.credentials is not None  # config.py requires it for auth = google
        self.section = section(settings)
        check_secret_file(settings.credentials, f"{self.section}.credentials")
        try:
            self._credentials = service_account.Credentials.from_service_account_file(
                str(settings.credentials), scopes=[GOOGLE_SCOPE], subject=settings.username)
        except (OSError, ValueError, KeyError) as err:
            reason = err.strerror if isinstance(err, OSError) else error_text(err)
            raise ConfigError(f"{self.section}.credentials: cannot read "
                              f"{settings.credentials} as a service account's JSON key "
                              f"({reason})") from None
        self.settings = settings
        self._session = trusting_session(settings)

    def fetch(self) -> tuple[str, float]:
        from google.auth import exceptions
        from google.auth.transport.requests import Request

        try:
            self._credentials.refresh(Request(self._session))
        except exceptions.TransportError as err:
            where = self._credentials._token_uri
            raise OAuthError(_unreachable(where, err, self.section)) from None
        except exceptions.RefreshError as err:
            raise OAuthError(self._refused(err)) from None
        token = self._credentials.token
        expiry = self._credentials.expiry
        lifetime = (expiry.timestamp() - time.time()) if expiry else 3599.0
        if expiry is not None and expiry.tzinfo is None:  # google-auth's naive UTC
            from datetime import UTC

            lifetime = expiry.replace(tzinfo=UTC).timestamp() - time.time()
        return str(token), lifetime

    def _refused(self, err: Exception) -> str:
        reason = str(err.args[0]) if err.args else ""
        account = getattr(self._credentials, "service_account_email", "the service account")
        if "unauthorized_client" in reason:
            return (f"Google refused a token for {account} acting as {self.settings.username}: "
                    "domain-wide delegation is not set up; in the Admin console (Security → "
                    "Access and data control → API controls → Manage Domain Wide Delegation) "
                    f"add the service account's client ID with the scope {GOOGLE_SCOPE}")
        if "invalid_grant" in reason:
            return (f"Google refused a token for {account} acting as {self.settings.username} "
                    f"({' '.join(reason.split())[:200]}); check that {self.section}.username is a "
                    f"user of the Workspace domain and that the key in {self.section}.credentials"
                    " is current")
        return (f"Google refused a token for {account} ({' '.join(reason.split())[:200]}); "
                f"check {self.section}.credentials")


def _microsoft_credential(settings: Account, environ: Mapping[str, str] | None
                          ) -> tuple[str | dict[str, str], str]:
    """MSAL's client credential (a secret, or key + thumbprint + certificate) and the
    name of where it came from, for messages."""
    environ = os.environ if environ is None else environ
    if settings.client_secret_env:
        secret = secret_from_env(environ, settings.client_secret_env,
                                 f"{section(settings)}.client_secret_env")
        return secret, f"the environment variable {settings.client_secret_env}"
    if settings.client_secret_file is not None:
        secret = _read_secret(settings.client_secret_file,
                              f"{section(settings)}.client_secret_file")
        return secret.strip(), str(settings.client_secret_file)
    assert settings.certificate_file is not None  # config.py requires one of the three
    return (_certificate(settings.certificate_file, f"{section(settings)}.certificate_file"),
            str(settings.certificate_file))


def _certificate(path: Path, key_name: str) -> dict[str, str]:
    """MSAL's certificate credential from one PEM file holding the key and certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    pem = _read_secret(path, key_name).encode("ascii", "replace")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
        certificate = x509.load_pem_x509_certificate(pem)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"{key_name}: {path} must hold an unencrypted private "
                          f"key and its certificate, both in PEM ({error_text(err)})") from None
    der = certificate.public_bytes(serialization.Encoding.DER)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode("ascii")
    return {
        "private_key": key_pem,
        "thumbprint": hashlib.sha1(der).hexdigest(),  # how Entra ID names a certificate
        "public_certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
    }


def _read_secret(path: Path, key: str) -> str:
    text = read_secret_file(path, key)
    if not text.strip():
        raise ConfigError(f"{key}: {path} is empty")
    return text


def _codes(text: str) -> list[int]:
    """The AADSTS codes in a text MSAL raised (it quotes the endpoint's answer)."""

    return [int(code) for code in re.findall(r"AADSTS(\d+)", text)] or (
        [90002] if "invalid_tenant" in text else [])


def _unreachable(where: str, err: Exception, name: str) -> str:
    reason = error_text(err)
    if isinstance(err, requests.exceptions.SSLError) or "CERTIFICATE_VERIFY_FAILED" in reason:
        return (f"{where}: the identity endpoint's certificate is not trusted; check "
                f"{name}.authority, or {name}.ca_file for a company CA")
    return f"{where}: the identity endpoint cannot be reached ({reason[:200]}); check the " \
           f"network and {name}.authority"


class _TrustingAdapter(HTTPAdapter):
    """An adapter whose TLS trust is ours: the system's CAs plus mail.ca_file, whatever
    REQUESTS_CA_BUNDLE says (requests would let it replace the session's ``verify``)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        super().__init__()

    def build_connection_pool_key_attributes(self, request: Any, verify: Any,
                                             cert: Any = None) -> tuple[dict, dict]:
        host, pool = super().build_connection_pool_key_attributes(request, verify, cert)
        pool.pop("ca_certs", None)
        pool.pop("ca_cert_dir", None)
        pool["cert_reqs"] = "CERT_REQUIRED"
        pool["ssl_context"] = self.context
        return host, pool


def trusting_session(settings: Account) -> requests.Session:
    """A requests session that verifies TLS like the SMTP connection does."""
    from automation.transports.smtp_connect import tls_context

    session = requests.Session()
    session.mount("https://", _TrustingAdapter(tls_context(settings)))
    return session

