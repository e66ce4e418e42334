"""Service-account keys and the OAuth token endpoint of the emulator.

``service_account()`` hands out a fresh RSA key as a Google key file whose
``token_uri`` is the emulator; google-auth signs a JWT with it and trades it at
``POST /token`` (the JWT-bearer grant); the signature is checked against the public
half of a key this emulator issued. The access token it returns is what the API
endpoints then accept as ``Authorization: Bearer …``.

Each token keeps the grant it came from (``check(token)`` → ``Granted(sub, scopes,
expires_at)``): a service account with domain-wide delegation signs ``sub`` = the user
it acts for and ``scope`` = what it asks for (google-auth's ``with_subject`` /
``subject=``), which is how the test SMTP server decides a Gmail ``XOAUTH2`` login.
``delegation`` (None: anything) is the set of scopes the admin granted the service
account for other users; asking for another one as a ``sub`` is Google's 401
``unauthorized_client``. ``tokeninfo(token)`` is Google's tokeninfo answer (served at
``GET /tokeninfo?access_token=…``). ``users`` (None: anyone) are the accounts a ``sub`` may name;
another is 400 ``invalid_grant`` "Invalid email or User ID". ``expire_all()`` expires
every token issued so far.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import exceptions as auth_exceptions
from google.auth import jwt

PROJECT = "emulator"
EMAIL = f"rygrad@{PROJECT}.iam.gserviceaccount.com"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_LIFETIME = 3599
# google-auth addresses its JWT to Google's token endpoint whatever token_uri says.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
UNAUTHORIZED_CLIENT = (
    "Client is unauthorized to retrieve access tokens using this method, or client not "
    "authorized for any of the scopes requested."
)


@dataclass(frozen=True)
class Granted:
    """What an access token was granted for."""

    sub: str | None  # the user a delegated service account acts for; None: itself
    scopes: tuple[str, ...]
    expires_at: float  # time.time() after which the token is refused


class TokenError(Exception):
    """A refused grant: Google's OAuth error code and description."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class Authority:
    """The keys the emulator issued and the access tokens it granted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._public_keys: dict[str, str] = {}
        self._tokens: dict[str, Granted] = {}
        self.delegation: set[str] | None = None
        self.users: set[str] | None = None
        self.grants = 0  # token requests, granted or not

    def service_account(self, token_uri: str) -> dict[str, Any]:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_id = secrets.token_hex(20)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public_pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        with self._lock:
            self._public_keys[key_id] = public_pem
        return {
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": key_id,
            "private_key": private_pem,
            "client_email": EMAIL,
            "client_id": str(secrets.randbelow(10**20)),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "universe_domain": "googleapis.com",
        }

    def grant(self, form: bytes, token_uri: str) -> dict[str, Any]:
        """Trade a signed JWT (the service-account grant) for an access token."""
        with self._lock:
            self.grants += 1
        fields = parse_qs(form.decode("utf-8", "replace"))
        if fields.get("grant_type", [""])[0] != JWT_BEARER:
            raise TokenError("unsupported_grant_type", "Invalid grant_type: ")
        assertion = fields.get("assertion", [""])[0]
        with self._lock:
            keys = dict(self._public_keys)
        try:
            claims = jwt.decode(assertion, certs=keys, audience=[token_uri, GOOGLE_TOKEN_AUDIENCE])
        except (ValueError, auth_exceptions.GoogleAuthError) as err:
            message = str(err)
            if "signature" in message.lower() or "certificate" in message.lower():
                raise TokenError("invalid_grant", "Invalid JWT Signature.") from None
            raise TokenError("invalid_grant", f"Invalid JWT: {message}") from None
        if claims.get("iss") != EMAIL:
            raise TokenError("invalid_grant", "Invalid JWT: issuer is not a known account.")
        sub = claims.get("sub")
        sub = str(sub) if sub and sub != EMAIL else None
        scopes = tuple(str(claims.get("scope") or "").split())
        if sub is not None:
            if self.users is not None and sub.lower() not in {u.lower() for u in self.users}:
                raise TokenError("invalid_grant", "Invalid email or User ID")
            if self.delegation is not None and not set(scopes) <= self.delegation:
                raise TokenError("unauthorized_client", UNAUTHORIZED_CLIENT, status=401)
        token = "ya29.emulator-" + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = Granted(sub, scopes, time.time() + TOKEN_LIFETIME)
        return {"access_token": token, "expires_in": TOKEN_LIFETIME, "token_type": "Bearer"}

    def valid(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        return self.check(authorization[len("Bearer ") :]) is not None

    def check(self, token: str) -> Granted | None:
        """The token's grant if this authority issued it and it has not expired."""
        with self._lock:
            granted = self._tokens.get(token)
        if granted is None or granted.expires_at <= time.time():
            return None
        return granted

    def tokeninfo(self, token: str) -> dict[str, Any]:
        """Google's ``GET /tokeninfo?access_token=…`` answer: what a mail server (the test
        Dovecot's oauth2 passdb) asks about a token. ``email`` is the user a delegated
        token acts for; an unknown or expired token is 400 ``invalid_token``."""
        granted = self.check(token)
        if granted is None:
            raise TokenError("invalid_token", "Invalid Value")
        left = int(granted.expires_at - time.time())
        answer: dict[str, Any] = {"azp": EMAIL, "aud": EMAIL, "scope": " ".join(granted.scopes),
                                  "exp": str(int(granted.expires_at)),
                                  "expires_in": str(left), "access_type": "online"}
        if granted.sub is not None:
            answer.update(email=granted.sub, email_verified="true")
        return answer

    def expire_all(self) -> None:
        """Every token issued so far is expired from now on."""
        now = time.time()
        with self._lock:
            for token, granted in self._tokens.items():
                self._tokens[token] = Granted(granted.sub, granted.scopes,
                                              min(granted.expires_at, now))


def unauthenticated(missing: bool) -> dict[str, Any]:
    """Google's 401 body: no credentials at all, or credentials it does not accept."""
    if missing:
        message = (
            "Request is missing required authentication credential. Expected OAuth 2 "
            "access token, login cookie or other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project."
        )
        reason = "CREDENTIALS_MISSING"
    else:
        message = (
            "Request had invalid authentication credentials. Expected OAuth 2 access "
            "token, login cookie or other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project."
        )
        reason = "ACCESS_TOKEN_TYPE_UNSUPPORTED"
    return {
        "error": {
            "code": 401,
            "message": message,
            "status": "UNAUTHENTICATED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": reason,
                    "domain": "googleapis.com",
                    "metadata": {
                        "service": "sheets.googleapis.com",
                        "method": "google.apps.sheets.v4.SpreadsheetsService",
                    },
                }
            ],
        }
    }
