"""Opening an SMTP session: the password from the environment or a file, a TLS
context that verifies the server, connect + EHLO + STARTTLS (or TLS from the start),
and the login, in UTF-8 when the password needs it.

Separate from smtp.py, which sends the messages over the session this opens and
decides what each reply means for a message. Everything that fails here is about
the server or the settings, not a message: a ConfigError, or a DeliveryError of one
sentence naming host:port and what to check. The password is never put in a message
or a traceback (`from None`).
"""

from __future__ import annotations

import base64
import logging
import os
import re
import smtplib
import socket
import ssl
from collections.abc import Mapping

from automation.config import InboxSettings, MailSettings
from automation.errors import ConfigError, DeliveryError, error_text
from automation.files import read_secret_file, secret_from_env
from automation.oauth import OAuthError, TokenSource, xoauth2

log = logging.getLogger(__name__)


def smtp_password(settings: MailSettings, environ: Mapping[str, str] | None = None) -> str | None:
    """The SMTP password from `mail.password_env`, else `mail.password_file`, else None."""
    environ = os.environ if environ is None else environ
    if settings.password_env:
        return secret_from_env(environ, settings.password_env, "mail.password_env")
    if settings.password_file is not None:
        text = read_secret_file(settings.password_file, "mail.password_file")
        # an editor's final newline is not part of the password; spaces may be
        password = text.rstrip("\r\n")
        if not password:
            raise ConfigError(f"mail.password_file: {settings.password_file} is empty")
        return password
    return None


def connect(settings: MailSettings, password: str | None,
            tokens: TokenSource | None = None) -> smtplib.SMTP:
    """A session that said EHLO, is encrypted as `mail.security` says and is logged in:
    with the password, or with an OAuth 2.0 token (SASL XOAUTH2) when `tokens` is given.

    An unreadable `mail.ca_file` is a ConfigError; anything else that fails is a
    DeliveryError of one sentence naming host:port and what to check.
    """
    helo = settings.helo or None  # None: smtplib uses the local host name
    timeout = settings.timeout
    context = tls_context(settings) if settings.security != "none" else None
    smtp: smtplib.SMTP | None = None
    try:
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, local_hostname=helo,
                                    timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, local_hostname=helo,
                                timeout=timeout)
        # a message's last segment must not wait for the server's delayed ACK of the
        # one before it (Nagle): that stalls every message ~40 ms on any link
        if smtp.sock is not None:  # connected by the constructor
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if log.isEnabledFor(logging.DEBUG):  # --debug: the conversation, without secrets
            smtp._print_debug = _Conversation()  # type: ignore[attr-defined]
            smtp.set_debuglevel(1)
        smtp.ehlo()
        if settings.security == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()  # the capabilities may differ once encrypted (AUTH often does)
        if tokens is not None:
            _login_xoauth2(smtp, settings.username, tokens)
        elif settings.username:
            _login(smtp, settings.username, password or "")
    except OAuthError:
        if smtp is not None:
            smtp.close()
        raise
    except Exception as err:
        if smtp is not None:
            smtp.close()
        raise DeliveryError(_cannot_connect(settings, err)) from None
    return smtp


class _Conversation:
    """smtplib's debug output, logged at DEBUG with what must never be shown taken out:
    everything a login sends (a password, an XOAUTH2 string holding a token) and the
    text of the messages (the partners' mail is not for logs)."""

    def __init__(self) -> None:
        self.secret = False  # inside a login: every line sent is a credential
        self.data = False  # inside DATA: every line sent is the message

    def __call__(self, *parts: object) -> None:
        text = " ".join(str(part) for part in parts)
        if parts and parts[0] == "send:":
            line = str(parts[1]).strip("'\"b").upper()
            if line.startswith("AUTH") or self.secret:
                self.secret = True
                verb = " ".join(str(parts[1]).strip("'\"b").split()[:2])
                text = f"send: {verb if verb.upper().startswith('AUTH') else ''} [withheld]"
            elif self.data:
                text = f"send: [the message, {len(str(parts[1]))} characters]"
            self.data = self.data or line.startswith("DATA")
        elif parts and parts[0] in ("reply:", "data:"):
            if re.search(r"\b(235|[45]\d\d)\b", text):
                self.secret = False
            self.data = self.data and "354" in text
        log.debug("smtp %s", text)


class _TokenRefused(smtplib.SMTPAuthenticationError):
    """The server refused an OAuth 2.0 token, after one fresh token was tried too."""


class _NoXoauth2(smtplib.SMTPException):
    """The server does not offer SASL XOAUTH2."""


def _login_xoauth2(smtp: smtplib.SMTP, user: str, tokens: TokenSource) -> None:
    """AUTH XOAUTH2 with the current token; a refused token is replaced once and tried
    again (it may have been revoked or expired early), then the login fails."""
    offered = smtp.esmtp_features.get("auth", "").upper().split()
    if "XOAUTH2" not in offered:
        raise _NoXoauth2(" ".join(offered) or "no AUTH at all")
    for fresh in (False, True):
        code, reply = smtp.docmd("AUTH", "XOAUTH2 " + xoauth2(user, tokens.token(fresh)))
        if code == 334:
            # Gmail's challenge carries a JSON error; an empty answer gets the final reply
            code, reply = smtp.docmd("")
        if code == 235:
            return
        if code != 535 or fresh:
            raise _TokenRefused(code, reply)
    raise AssertionError("unreachable")


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    if (user + password).isascii():
        smtp.login(user, password)
        return
    # smtplib encodes credentials as ASCII; PLAIN (RFC 4616) and LOGIN carry UTF-8,
    # and a Danish password may well hold æ, ø or å
    offered = smtp.esmtp_features.get("auth", "").upper().split()
    if "PLAIN" in offered:
        code, reply = smtp.docmd("AUTH", "PLAIN " + _base64(f"\0{user}\0{password}"))
    elif "LOGIN" in offered:
        code, reply = smtp.docmd("AUTH", "LOGIN " + _base64(user))
        if code == 334:
            code, reply = smtp.docmd(_base64(password))
    else:
        raise smtplib.SMTPException("No suitable AUTH mechanism (PLAIN or LOGIN)")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def tls_context(settings: MailSettings | InboxSettings) -> ssl.SSLContext:
    """Verify the certificate and host name against the system store plus `ca_file`."""
    cafile = settings.ca_file
    section = "inbox" if isinstance(settings, InboxSettings) else "mail"
    try:
        context = ssl.create_default_context()
        if cafile is not None:
            context.load_verify_locations(cafile=str(cafile))
    except (OSError, ssl.SSLError) as err:
        raise ConfigError(f"{section}.ca_file: cannot load {cafile} as PEM certificates "
                          f"({error_text(getattr(err, 'strerror', None) or err)})") from None
    return context


def _cannot_connect(settings: MailSettings, err: Exception) -> str:
    """One sentence naming host:port and what to check; no password, no traceback."""
    where = f"{settings.host}:{settings.port}"
    if isinstance(err, _NoXoauth2):
        return (f"{where} does not offer OAuth 2.0 login (SASL XOAUTH2; it offers: {err}); "
                f"check mail.host, or set mail.auth = \"password\" for this server")
    if isinstance(err, smtplib.SMTPAuthenticationError):
        advice = _login_advice(settings, err.smtp_code, err.smtp_error)
        if advice:
            return (f"{where} refused the login of {settings.username} "
                    f"({server_reply(err.smtp_code, err.smtp_error)}): {advice}")
        return (f"{where} refused the login of {settings.username} "
                f"({server_reply(err.smtp_code, err.smtp_error)}); check mail.username "
                f"and the password")
    if isinstance(err, ssl.SSLCertVerificationError):
        return (f"{where}: the server's certificate is not trusted "
                f"({err.verify_message}); check mail.host, or mail.ca_file for a "
                f"company CA")
    if isinstance(err, ssl.SSLError):
        return (f"{where}: the TLS handshake failed ({error_text(err.reason or err)}); check "
                f"mail.security and mail.port (usually 587 for starttls, 465 for ssl)")
    if isinstance(err, smtplib.SMTPNotSupportedError):
        wanted = "STARTTLS" if "STARTTLS" in str(err) else "AUTH"
        return (f"{where} does not offer {wanted}; check mail.security and mail.port")
    if isinstance(err, smtplib.SMTPException) and "AUTH" in str(err):
        return f"{where} offers no login method smtplib knows; check mail.port"
    if isinstance(err, smtplib.SMTPResponseException):
        return (f"{where} refused the session ({server_reply(err.smtp_code, err.smtp_error)}); "
                f"try again later or check mail.host")
    if isinstance(err, socket.gaierror):
        return f"{where}: the host name cannot be resolved; check mail.host"
    if isinstance(err, TimeoutError):
        return (f"{where}: no answer within {settings.timeout:g} s; check mail.host, "
                f"mail.port and the firewall")
    if isinstance(err, OSError):
        reason = error_text(err.strerror or err)
        return (f"{where}: cannot connect ({reason}); check mail.host, mail.port and "
                f"mail.security")
    return f"{where}: cannot connect ({error_text(err)}); check mail.host"


def _login_advice(settings: MailSettings, code: int, text: bytes | str) -> str:
    """What the admin must do about a refused login, from the server's enhanced status
    code (Exchange Online's in particular); "" when there is nothing specific to say."""
    reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    mailbox = settings.username
    if "5.7.139" in reply:
        return ("SMTP AUTH is switched off for the mailbox or the tenant; an Exchange admin "
                f"turns it on with `Set-CASMailbox -Identity {mailbox} "
                "-SmtpClientAuthenticationDisabled $false` (and, tenant-wide, "
                "`Set-TransportConfig -SmtpClientAuthenticationDisabled $false`)")
    if "5.7.30" in reply:
        return ("the server no longer accepts passwords (Basic authentication); set "
                "mail.auth = \"microsoft\" and follow the README, \"Microsoft 365 and Google "
                "Workspace without passwords\"")
    if settings.auth == "microsoft" and ("5.7.3" in reply or code == 535):
        return ("the mailbox refused the app's token: the app's service principal must be "
                "registered in Exchange Online and may send as the mailbox; an Exchange admin "
                "runs `New-ServicePrincipal -AppId <client id> -ObjectId <enterprise app's "
                f"object id>` and `Add-MailboxPermission -Identity {mailbox} -User "
                "<service principal id> -AccessRights FullAccess`, and checks that the app "
                "has the SMTP.SendAsApp permission with admin consent")
    if settings.auth == "google":
        return ("Gmail refused the token; check that mail.username is the mailbox the "
                "service account acts as, and that its domain-wide delegation includes "
                "https://mail.google.com/")
    return ""


def server_reply(code: int, text: bytes | str) -> str:
    """`550 5.1.1 <x@y>: no such user`, as the server said it, on one line."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}"


def _base64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")
