"""Service-account keys and the OAuth token endpoint of the emulator.

``service_account()`` hands out a fresh RSA key as a Google key file whose
``token_uri`` is the emulator; google-auth signs a JWT with it and trades it at
``POST /token`` (the JWT-bearer grant); the signature is checked against the public
half of a key this emulator issued. The access token it returns is what the API
endpoints then accept as ``Authorization: Bearer …``.
"""

from __future__ import annotations

import secrets
import threading
import time
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


class TokenError(Exception):
    """A refused grant: Google's OAuth error code and description."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error, self.description = error, description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class Authority:
    """The keys the emulator issued and the access tokens it granted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._public_keys: dict[str, str] = {}
        self._tokens: dict[str, float] = {}

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
        token = "ya29.emulator-" + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.monotonic() + TOKEN_LIFETIME
        return {"access_token": token, "expires_in": TOKEN_LIFETIME, "token_type": "Bearer"}

    def valid(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        with self._lock:
            deadline = self._tokens.get(authorization[len("Bearer ") :])
        return deadline is not None and deadline > time.monotonic()


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
