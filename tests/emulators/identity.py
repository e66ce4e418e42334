"""A local Microsoft Entra ID (Azure AD v2.0) identity endpoint, over HTTPS, for tests.

    certificates = make_certificates(folder)
    with IdentityEndpoint(certificates.cert, certificates.key) as identity:
        identity.register_app("kommune.onmicrosoft.com", CLIENT_ID, secret="s3cret")
        session = requests.Session()
        session.trust_env = False          # see "REQUESTS_CA_BUNDLE" below
        session.verify = str(certificates.ca)
        app = msal.ConfidentialClientApplication(
            CLIENT_ID, client_credential="s3cret",
            authority=f"{identity.authority}/kommune.onmicrosoft.com",
            instance_discovery=False, http_client=session)
        result = app.acquire_token_for_client(scopes=[OUTLOOK_SCOPE])
        identity.check(result["access_token"])   # Issued(client_id, tenant, scope, expires_at)

It serves what MSAL's client-credentials flow uses, answered as Entra answers:

- ``GET /{tenant}/v2.0/.well-known/openid-configuration``: the OpenID configuration.
  As Entra does, it names the tenant by its id (a GUID; ``tenant_id(name)``) in
  ``issuer`` and every endpoint, whether it was asked by the domain name or the id, so
  MSAL posts to ``{authority}/{guid}/oauth2/v2.0/token`` and a certificate's client
  assertion is addressed (``aud``) to that URL. An unknown tenant is HTTP 400,
  ``invalid_tenant``, AADSTS90002.
- ``POST /{tenant}/oauth2/v2.0/token``, ``grant_type=client_credentials``: the client
  authenticates with ``client_secret`` (form field, or HTTP Basic) or with a
  ``client_assertion`` (``private_key_jwt``: a JWT signed RS256 or PS256 with the key of
  a certificate registered for the app, identified by its ``x5t`` or ``x5t#S256``
  header). The only resource is Exchange Online: ``scope`` must be
  ``https://outlook.office365.com/.default``. The answer is ``{"token_type": "Bearer",
  "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": …}``; the token
  is opaque (check it with ``check``, as the SMTP server does).
- ``GET /{tenant}/discovery/v2.0/keys``: an empty key set (the tokens are opaque here).
- ``POST /{tenant}/oauth2/v2.0/introspect``, form ``token=…`` (RFC 7662): what a mail
  server asks about a token, as Exchange Online decides it (Entra has no such public
  endpoint; the test IMAP server, Dovecot's ``oauth2`` passdb, needs one).
  ``{"active": true, "token_type": "Bearer", "client_id", "scope", "exp", "iat",
  "upn", "email", "username"}`` for a token this endpoint issued and that has not
  expired, where the three names are the mailbox the app may open
  (``grant_mailbox(client_id, address)``, what ``Add-MailboxPermission`` grants);
  ``{"active": false}`` for anything else: expired (see ``expire_all``), forged,
  unknown, or the token of an app that may open no mailbox (Exchange refuses that token
  as it refuses an invalid one). ``introspection_url(tenant)`` is its address;
  ``introspections`` counts the questions.

Errors (every body has ``error``, ``error_description`` starting with the AADSTS code
and ending in Entra's ``\\r\\nTrace ID: …\\r\\nCorrelation ID: …\\r\\nTimestamp: …``,
``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id`` (the request's
``client-request-id`` when it sent one, as Entra echoes it) and ``error_uri``):

======  ======================  =========  ==============================================
status  error                   AADSTS     when
======  ======================  =========  ==============================================
400     invalid_tenant          90002      unknown tenant (discovery)
400     invalid_request         90002      unknown tenant (token endpoint)
400     unsupported_grant_type  70003      a grant other than client_credentials
400     unauthorized_client     700016     unknown client_id in that tenant
401     invalid_client          7000218    neither client_secret nor client_assertion
401     invalid_client          7000215    wrong secret (or the app has none)
401     invalid_client          7000222    the right secret, registered as expired
401     invalid_client          700027     an assertion: unknown certificate, bad
                                           signature, wrong aud/iss/sub, no jti
401     invalid_client          700024     an assertion outside its valid time (exp)
400     invalid_scope           70011      any scope but the outlook .default one
======  ======================  =========  ==============================================

What MSAL 1.39 does with these (checked by tests/test_identity.py): a token-endpoint
error is *returned*, not raised: ``acquire_token_for_client`` gives the body as a dict
(``result["error"]``, ``result["error_codes"] == [7000215]``, …). An unknown tenant
fails earlier, in ``ConfidentialClientApplication(...)`` itself (it reads the OpenID
configuration when it is built): MSAL's ``tenant_discovery`` raises ``ValueError("OIDC
Discovery failed on <url>. HTTP status: 400, Error: <Entra's body>")``, and
``msal.authority.Authority`` catches it and raises a *new* ``ValueError("Unable to get
authority configuration for <authority>. Authority would typically be in a format of
https://login.microsoftonline.com/your_tenant … Also please double check your tenant name
or GUID is correct.")``; Entra's body (AADSTS90002) is only on its ``__context__``.

REQUESTS_CA_BUNDLE: these machines set it, and requests lets it (or CURL_CA_BUNDLE) win
over ``Session.verify`` (requests merges the environment into each request's settings
when ``trust_env`` is on). The tests here build MSAL's ``http_client`` as a
``requests.Session`` with ``trust_env = False`` and ``verify = <the test CA>``
(``trusting(ca)``), so the CA is honoured whatever the environment says; a session that
keeps ``trust_env`` must pass ``verify=`` on every request instead.

Secrets: nothing here logs a request, a secret, an assertion or a token
(``log_message`` is silenced; the secret is compared, never stored in an error).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hmac
import json
import secrets
import ssl
import sys
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes

HOST = "127.0.0.1"
OUTLOOK_SCOPE = "https://outlook.office365.com/.default"
CLIENT_CREDENTIALS = "client_credentials"
JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class Issued:
    """An access token this endpoint issued."""

    client_id: str
    tenant: str  # the tenant's name as given to IdentityEndpoint (not its GUID)
    scope: str
    expires_at: float  # time.time() after which it is no longer valid


@dataclass
class _App:
    client_id: str
    secret: str | None
    secret_expired: bool
    certificates: dict[str, x509.Certificate] = field(default_factory=dict)  # thumbprint →


class EntraError(Exception):
    def __init__(self, status: int, error: str, code: int, description: str) -> None:
        super().__init__(f"AADSTS{code}")
        self.status, self.error, self.code, self.description = status, error, code, description


def tenant_guid(tenant: str) -> str:
    """The id Entra would give this tenant (stable for a name)."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, tenant.lower()))


def trusting(ca: Path | str) -> Any:
    """A requests.Session for MSAL's ``http_client`` that verifies with ``ca`` only,
    whatever REQUESTS_CA_BUNDLE says (``trust_env = False``)."""
    import requests

    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca)
    return session


class IdentityEndpoint:
    """Entra ID's discovery and token endpoints on https://127.0.0.1:<ephemeral port>."""

    def __init__(self, cert: Path, key: Path,
                 tenants: Iterable[str] = ("kommune.onmicrosoft.com",),
                 lifetime: int = 3599) -> None:
        self.lifetime = lifetime
        self._tenants = {t.lower(): t for t in tenants}
        self._guids = {tenant_guid(t): t for t in self._tenants.values()}
        self._apps: dict[tuple[str, str], _App] = {}  # (tenant, client_id) →
        self._tokens: dict[str, Issued] = {}
        self._mailboxes: dict[str, str] = {}  # client_id → the mailbox it may open
        self._issued_at: dict[str, float] = {}
        self.introspections = 0
        self._lock = threading.Lock()
        self.token_requests = 0
        self.discovery_requests = 0
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert, key)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.authority = ""

    # -- set-up ---------------------------------------------------------------------------

    def tenant_id(self, tenant: str) -> str:
        return tenant_guid(self._tenant(tenant) or tenant)

    def register_app(self, tenant: str, client_id: str, secret: str | None = None,
                     certificate_pem: bytes | None = None,
                     secret_expired: bool = False) -> None:
        """An app registration in ``tenant`` with a client secret and/or a certificate
        (PEM; several calls add certificates to the same app)."""
        name = self._tenant(tenant)
        if name is None:
            raise ValueError(f"unknown tenant {tenant!r}")
        with self._lock:
            app = self._apps.get((name, client_id))
            if app is None or secret is not None:
                app = _App(client_id, secret, secret_expired,
                           dict(app.certificates) if app else {})
                self._apps[(name, client_id)] = app
            if certificate_pem is not None:
                cert = x509.load_pem_x509_certificate(certificate_pem)
                app.certificates[_thumbprint(cert, hashes.SHA1())] = cert
                app.certificates[_thumbprint(cert, hashes.SHA256())] = cert

    def grant_mailbox(self, client_id: str, address: str) -> None:
        """The app may open ``address`` (Exchange's ``Add-MailboxPermission``): the
        introspection answer names it as the token's user."""
        with self._lock:
            self._mailboxes[client_id] = address

    def introspection_url(self, tenant: str = "kommune.onmicrosoft.com") -> str:
        return f"{self.authority}/{tenant}/oauth2/v2.0/introspect"

    # -- what was issued ------------------------------------------------------------------

    def check(self, token: str) -> Issued | None:
        """The token's grant if this endpoint issued it and it has not expired."""
        with self._lock:
            issued = self._tokens.get(token)
        if issued is None or issued.expires_at <= time.time():
            return None
        return issued

    def expire_all(self) -> None:
        """Every token issued so far is expired from now on (MSAL's cache still holds it)."""
        now = time.time()
        with self._lock:
            for token, issued in self._tokens.items():
                self._tokens[token] = Issued(issued.client_id, issued.tenant, issued.scope,
                                             min(issued.expires_at, now))

    @property
    def issued(self) -> int:
        """How many tokens were issued."""
        with self._lock:
            return len(self._tokens)

    # -- running --------------------------------------------------------------------------

    def start(self) -> IdentityEndpoint:
        handler = type("IdentityHandler", (_Handler,), {"endpoint": self})
        self._server = _Server((HOST, 0), handler, self._context)
        port = self._server.server_address[1]
        self.authority = f"https://{HOST}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="identity-endpoint")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> IdentityEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the protocol ---------------------------------------------------------------------

    def _tenant(self, tenant: str) -> str | None:
        tenant = tenant.lower()
        return self._tenants.get(tenant) or self._guids.get(tenant)

    def _known_tenant(self, tenant: str, error: str) -> str:
        name = self._tenant(tenant)
        if name is None:
            raise EntraError(
                400, error, 90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct "
                "tenant ID and are signing into the correct cloud. Check with your "
                "subscription administrator, this may happen if there are no active "
                "subscriptions for the tenant.")
        return name

    def openid_configuration(self, tenant: str) -> dict[str, Any]:
        with self._lock:
            self.discovery_requests += 1
        name = self._known_tenant(tenant, "invalid_tenant")
        base = f"{self.authority}/{tenant_guid(name)}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                      "client_secret_basic"],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token",
                                         "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "cloud_instance_name",
                                 "cloud_instance_host_name", "cloud_graph_host_name",
                                 "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
                                 "nonce", "preferred_username", "name", "tid", "ver",
                                 "at_hash", "c_hash", "email"],
            "kerberos_endpoint": f"{base}/kerberos",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }

    def token(self, tenant: str, form: dict[str, str], basic: tuple[str, str] | None
              ) -> dict[str, Any]:
        with self._lock:
            self.token_requests += 1
        name = self._known_tenant(tenant, "invalid_request")
        grant = form.get("grant_type", "")
        if not grant:
            raise EntraError(400, "invalid_request", 900144,
                             "The request body must contain the following parameter: "
                             "'grant_type'.")
        if grant != CLIENT_CREDENTIALS:
            raise EntraError(400, "unsupported_grant_type", 70003,
                             f"The app requested an unsupported grant type '{grant}'.")
        client_id = form.get("client_id") or (basic[0] if basic else "")
        if not client_id:
            raise EntraError(400, "invalid_request", 900144,
                             "The request body must contain the following parameter: "
                             "'client_id'.")
        with self._lock:
            app = self._apps.get((name, client_id))
        if app is None:
            raise EntraError(
                400, "unauthorized_client", 700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{name}'. This can happen if the application has not been installed by "
                "the administrator of the tenant or consented to by any user in the tenant. "
                "You may have sent your authentication request to the wrong tenant.")
        secret = form.get("client_secret") or (basic[1] if basic else None)
        if form.get("client_assertion"):
            self._check_assertion(app, name, form)
        elif secret is not None:
            _check_secret(app, secret)
        else:
            raise EntraError(401, "invalid_client", 7000218,
                             "The request body must contain the following parameter: "
                             "'client_assertion' or 'client_secret'.")
        scope = form.get("scope", "")
        if scope.split() != [OUTLOOK_SCOPE]:
            raise EntraError(
                400, "invalid_scope", 70011,
                f"The provided request must include a 'scope' input parameter. The provided "
                f"value for the input parameter 'scope' is not valid. The scope {scope} is "
                "not valid. The only resource this endpoint knows is "
                f"{OUTLOOK_SCOPE}.")
        token = "eyJ0eXAi" + secrets.token_urlsafe(48)
        with self._lock:
            self._tokens[token] = Issued(client_id, name, OUTLOOK_SCOPE,
                                         time.time() + self.lifetime)
            self._issued_at[token] = time.time()
        return {"token_type": "Bearer", "expires_in": self.lifetime,
                "ext_expires_in": self.lifetime, "access_token": token}

    def introspect(self, tenant: str, form: dict[str, str]) -> dict[str, Any]:
        """RFC 7662's answer about ``form["token"]`` (see the module docstring)."""
        with self._lock:
            self.introspections += 1
        self._known_tenant(tenant, "invalid_request")
        token = form.get("token", "")
        issued = self.check(token)
        with self._lock:
            mailbox = self._mailboxes.get(issued.client_id) if issued else None
            iat = self._issued_at.get(token, 0.0)
        if issued is None or mailbox is None:
            return {"active": False}
        return {"active": True, "token_type": "Bearer", "client_id": issued.client_id,
                "scope": issued.scope, "exp": int(issued.expires_at), "iat": int(iat),
                "tid": tenant_guid(issued.tenant), "upn": mailbox, "email": mailbox,
                "username": mailbox}

    def _check_assertion(self, app: _App, tenant: str, form: dict[str, str]) -> None:
        if form.get("client_assertion_type") != JWT_BEARER_ASSERTION:
            raise EntraError(400, "invalid_request", 50027,
                             "The client_assertion_type is not supported; use "
                             f"'{JWT_BEARER_ASSERTION}'.")
        assertion = form["client_assertion"]
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise _bad_assertion("The client assertion is not a JWT.") from None
        # base64url, with or without padding (MSAL keeps it)
        thumbprint = str(header.get("x5t#S256") or header.get("x5t") or "").rstrip("=")
        cert = app.certificates.get(thumbprint)
        if cert is None:
            raise _bad_assertion(
                "Client assertion contains an invalid signature. [Reason - The key was not "
                f"found., Thumbprint of key used by client: '{_hex(thumbprint)}', Please "
                "visit the Azure Portal, Graph Explorer or directly use MS Graph to see "
                f"configured keys for app Id '{app.client_id}'.]")
        audiences = [f"{self.authority}/{t}/oauth2/v2.0/token"
                     for t in (tenant, tenant_guid(tenant))]
        try:
            claims = jwt.decode(assertion, cert.public_key(),  # type: ignore[arg-type]
                                algorithms=["RS256", "PS256"], audience=audiences,
                                options={"require": ["exp", "aud", "iss", "sub", "jti"]})
        except jwt.ExpiredSignatureError:
            raise EntraError(401, "invalid_client", 700024,
                             "Client assertion is not within its valid time range.") from None
        except jwt.InvalidSignatureError:
            raise _bad_assertion(
                "Client assertion contains an invalid signature. [Reason - The provided "
                "signature value did not match the expected signature value.]") from None
        except jwt.InvalidAudienceError:
            raise _bad_assertion(
                "Client assertion audience claim does not match Realm issuer.") from None
        except jwt.PyJWTError as err:
            raise _bad_assertion(f"Client assertion failed validation: {err}.") from None
        if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
            raise EntraError(401, "invalid_client", 700021,
                             "Client assertion application identifier doesn't match "
                             "'client_id' parameter.")


def _check_secret(app: _App, secret: str) -> None:
    if app.secret is None or not hmac.compare_digest(app.secret.encode(), secret.encode()):
        raise EntraError(
            401, "invalid_client", 7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is "
            "the client secret value, not the client secret ID, for a secret added to app "
            f"'{app.client_id}'.")
    if app.secret_expired:
        raise EntraError(
            401, "invalid_client", 7000222,
            f"The provided client secret keys for app '{app.client_id}' are expired. Visit "
            "the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, "
            "or consider using certificate credentials for added security: "
            "https://aka.ms/certCreds.")


def _bad_assertion(description: str) -> EntraError:
    return EntraError(401, "invalid_client", 700027, description)


def _thumbprint(cert: x509.Certificate, algorithm: hashes.HashAlgorithm) -> str:
    return base64.urlsafe_b64encode(cert.fingerprint(algorithm)).decode().rstrip("=")


def _hex(thumbprint: str) -> str:
    try:
        return base64.urlsafe_b64decode(thumbprint + "=" * (-len(thumbprint) % 4)).hex().upper()
    except (ValueError, binascii.Error):
        return thumbprint


# -- HTTP ---------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 context: ssl.SSLContext) -> None:
        self.context = context
        super().__init__(address, handler)

    def get_request(self) -> tuple[Any, Any]:
        # the TLS handshake happens on the first read, in the request's own thread
        sock, address = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that refused our certificate, or went away, is not the server's fault
        if isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    endpoint: IdentityEndpoint
    protocol_version = "HTTP/1.1"
    server_version = "rygrad-identity"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # never log: a request line is harmless, but nothing is printed at all

    def do_GET(self) -> None:
        parts = [unquote(p) for p in urlsplit(self.path).path.strip("/").split("/")]
        try:
            if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                self._reply(200, self.endpoint.openid_configuration(parts[0]))
            elif len(parts) == 4 and parts[1:] == ["discovery", "v2.0", "keys"]:
                self.endpoint._known_tenant(parts[0], "invalid_tenant")
                self._reply(200, {"keys": []})
            else:
                self._reply(404, {"error": "not_found"})
        except EntraError as err:
            self._error(err)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = [unquote(p) for p in urlsplit(self.path).path.strip("/").split("/")]
        if len(parts) != 4 or parts[1:3] != ["oauth2", "v2.0"] or \
                parts[3] not in ("token", "introspect"):
            self._reply(404, {"error": "not_found"})
            return
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"),
                                              keep_blank_values=True).items()}
        try:
            if parts[3] == "introspect":
                self._reply(200, self.endpoint.introspect(parts[0], form))
                return
            self._reply(200, self.endpoint.token(parts[0], form, self._basic()))
        except EntraError as err:
            self._error(err)

    def _basic(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization") or ""
        if not header.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, binascii.Error):
            return None
        return unquote(user.replace("+", " ")), unquote(password.replace("+", " "))

    def _error(self, err: EntraError) -> None:
        now = datetime.datetime.now(datetime.UTC)
        trace_id = str(uuid.uuid4())
        correlation_id = self.headers.get("client-request-id") or str(uuid.uuid4())
        stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
        self._reply(err.status, {
            "error": err.error,
            "error_description": f"AADSTS{err.code}: {err.description}\r\nTrace ID: "
                                 f"{trace_id}\r\nCorrelation ID: {correlation_id}\r\n"
                                 f"Timestamp: {stamp}",
            "error_codes": [err.code],
            "timestamp": stamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"{self.endpoint.authority}/error?code={err.code}",
        })

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Cache-Control", "no-store, no-cache")
        self.send_header("Pragma", "no-cache")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
