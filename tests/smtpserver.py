"""A real SMTP server on 127.0.0.1 for tests and benches: aiosmtpd with faults on demand.

    certificates = make_certificates(folder)          # a CA, a server cert it signed, a rogue
    with SmtpServer(security="starttls", certificates=certificates,
                    users={"sekretariat": "hemmelig"},
                    faults=[Fault("RCPT", "451 4.7.1 Try again later", address="b@x.example")]
                    ) as server:
        ... mail_settings(server, username="sekretariat", ca_file=certificates.ca) ...
        server.connections, server.messages

The server listens on an ephemeral port. `connections` counts SMTP sessions (a
connection that said EHLO/HELO), so STARTTLS's second EHLO is not a new one.
`delay` holds back the last line of every reply, like a provider's round trip.

OAuth 2.0 (SASL XOAUTH2, base64 of ``user=<user>\x01auth=Bearer <token>\x01\x01``, as
the AUTH command's initial response or after an empty ``334 ``), offered when one of
these is given (``auth_exclude=["XOAUTH2"]`` still hides it):

    with IdentityEndpoint(certificates.cert, certificates.key) as identity, \
            SmtpServer("starttls", certificates, identity=identity,
                       mailboxes={CLIENT_ID: {"sekretariat@kommune.dk"}}) as server: ...

- ``identity`` (Exchange Online): accepted iff ``identity.check(token)`` is an unexpired
  token for ``https://outlook.office365.com/.default`` whose app may send as ``user``
  (``mailboxes``: client_id → addresses, case-insensitive; what ``Add-MailboxPermission``
  grants). ``235 2.7.0 Authentication successful``; refused: ``535 5.7.3 Authentication
  unsuccessful``.
- ``google`` (Gmail; the Sheets emulator's ``Authority``, ``emulator.state.authority``):
  accepted iff ``google.check(token)`` is unexpired, its ``sub`` is ``user`` and its
  scopes hold ``https://mail.google.com/``. ``235 2.7.0 Accepted``; refused as Gmail
  does: ``334 <base64 {"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}>``,
  the client answers with an empty line, then ``535-5.7.8 Username and Password not
  accepted. …``.
- ``oauth``: any ``(user, token) -> bool``, with Exchange's replies.

``refuse_next_tokens`` refuses that many tokens that would have been accepted (a token
refused once, then a new one accepted). ``refuse_passwords`` makes every password login
(PLAIN, LOGIN) fail: True → ``EXCHANGE_BASIC_DISABLED`` (Gmail's 535 5.7.8 with
``google``), or the reply given (e.g. ``EXCHANGE_CLIENT_SUBMISSION``). ``auth_disabled``
is the reply to every AUTH, token or password (``EXCHANGE_SMTP_AUTH_DISABLED``: SMTP
AUTH off for the tenant or mailbox). Every attempt is in ``server.logins`` as
(mechanism, user, accepted). No token or password is logged (aiosmtpd masks AUTH lines
itself; nothing here logs one).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, LoginPassword

from automation.config import MailSettings
from tests.emulators.certificates import HOST, Certificates, make_certificates
from tests.emulators.identity import OUTLOOK_SCOPE, IdentityEndpoint
from tests.emulators.sheets_auth import Authority

__all__ = [
    "EXCHANGE_BASIC_DISABLED",
    "EXCHANGE_CLIENT_SUBMISSION",
    "EXCHANGE_SMTP_AUTH_DISABLED",
    "EXCHANGE_TOKEN_REFUSED",
    "GMAIL_REFUSED",
    "HOST",
    "Certificates",
    "Fault",
    "Received",
    "SmtpServer",
    "mail_settings",
    "make_certificates",
]

GMAIL_SCOPE = "https://mail.google.com/"
EXCHANGE_ACCEPTED = "235 2.7.0 Authentication successful"
GMAIL_ACCEPTED = "235 2.7.0 Accepted"
# a token Exchange does not take: not valid, or its app has no right on the mailbox
EXCHANGE_TOKEN_REFUSED = "535 5.7.3 Authentication unsuccessful"
# password login when the tenant or mailbox allows only OAuth
EXCHANGE_BASIC_DISABLED = (
    "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.")
EXCHANGE_CLIENT_SUBMISSION = (
    "550 5.7.30 Basic authentication is not supported for Client Submission.")
# SMTP AUTH itself turned off (Set-TransportConfig / Set-CASMailbox): every mechanism
EXCHANGE_SMTP_AUTH_DISABLED = (
    "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for "
    "the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.")
GMAIL_REFUSED = (
    "535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
    "535 5.7.8  https://support.google.com/mail/?p=BadCredentials rygrad - gsmtp")
GMAIL_CHALLENGE = json.dumps({"status": "400", "schemes": "Bearer", "scope": GMAIL_SCOPE},
                             separators=(",", ":"))


# faults


@dataclass
class Fault:
    """What the server does instead of its normal reply to one kind of command.

    verb: MAIL, RCPT, DATA (after the message's content has arrived), DATA-COMMAND
    (the DATA command itself, before its 354: no content has been sent yet) or NOOP.
    reply: said instead of the normal reply ("" with close: hang up without a word).
    close: hang up after the reply. stall: seconds of silence before replying.
    accept: for DATA, keep the message first — a server that took it and whose reply
    was lost, so a client that sends it again delivers it twice.
    address: for RCPT, only this recipient. skip: let this many matching commands
    through first. times: fire this many times (0: every time).
    """

    verb: str
    reply: str = ""
    close: bool = False
    stall: float = 0.0
    accept: bool = False
    address: str = ""
    skip: int = 0
    times: int = 1
    fired: int = field(default=0, compare=False)
    seen: int = field(default=0, compare=False)

    def matches(self, verb: str, address: str) -> bool:
        if verb != self.verb or (self.address and address != self.address):
            return False
        self.seen += 1
        if self.seen <= self.skip or (self.times and self.fired >= self.times):
            return False
        self.fired += 1
        return True


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    connection: int  # 1 for the first session, 2 for the next …


class Handler:
    """aiosmtpd handler: keeps what arrived, counts sessions and plays the faults."""

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self.faults = list(faults)
        self.messages: list[Received] = []
        self.commands: list[str] = []  # MAIL/RCPT/DATA/NOOP/RSET in order, for tests
        self._sessions: list[SMTP] = []
        self._lock = threading.Lock()

    @property
    def connections(self) -> int:
        return len(self._sessions)

    def _session_number(self, server: SMTP) -> int:
        with self._lock:
            for number, known in enumerate(self._sessions, start=1):
                if known is server:
                    return number
            self._sessions.append(server)
            return len(self._sessions)

    async def handle_HELO(self, server: SMTP, session: Any, envelope: Any,
                          hostname: str) -> str:
        self._session_number(server)
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_EHLO(self, server: SMTP, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        self._session_number(server)
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server: SMTP, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        self.commands.append("MAIL")
        if (reply := await self._fault(server, "MAIL", address)) is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server: SMTP, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        self.commands.append("RCPT")
        if (reply := await self._fault(server, "RCPT", address)) is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        self.commands.append("DATA")
        fault = self._matching("DATA", "")
        if fault is None or fault.accept:
            self.messages.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos),
                                          envelope.original_content or envelope.content,
                                          self._session_number(server)))
        if fault is not None:
            return await self._play(server, fault)
        return "250 2.0.0 Accepted"

    async def handle_NOOP(self, server: SMTP, session: Any, envelope: Any, arg: str) -> str:
        self.commands.append("NOOP")
        if (reply := await self._fault(server, "NOOP", "")) is not None:
            return reply
        return "250 2.0.0 OK"

    async def handle_RSET(self, server: SMTP, session: Any, envelope: Any) -> str:
        self.commands.append("RSET")
        return "250 2.0.0 OK"

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        """SASL XOAUTH2; offered only when the SmtpServer was given a way to check tokens."""
        assert self.xoauth2 is not None
        return await self.xoauth2(server, args)

    xoauth2: Callable[[SMTP, list[str]], Any] | None = None

    def _matching(self, verb: str, address: str) -> Fault | None:
        return next((f for f in self.faults if f.matches(verb, address)), None)

    async def _fault(self, server: SMTP, verb: str, address: str) -> str | None:
        fault = self._matching(verb, address)
        return None if fault is None else await self._play(server, fault)

    async def _play(self, server: SMTP, fault: Fault) -> str:
        if fault.stall:
            await asyncio.sleep(fault.stall)
        if fault.close:
            if fault.reply:
                await server.push(fault.reply)
            assert server.transport is not None
            server.transport.close()
            # connection_lost cancels this task; nothing more is said
            await asyncio.sleep(3600)
        return fault.reply


# the server


class _DelayingSMTP(SMTP):
    def __init__(self, handler: Any, delay: float, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.delay = delay

    async def smtp_DATA(self, arg: str) -> None:
        # aiosmtpd has no hook between the DATA command and its 354; faults go here
        handler = self.event_handler
        if isinstance(handler, Handler) and (
                reply := await handler._fault(self, "DATA-COMMAND", "")) is not None:
            await self.push(reply)
            return
        await super().smtp_DATA(arg)

    async def push(self, status: Any) -> None:
        # hold back only the last line of a reply, as a round trip would
        last = status.splitlines()[-1] if status else status
        final = len(last) < 4 or last[3:4] in (" ", b" ")
        if self.delay and final:
            await asyncio.sleep(self.delay)
        await super().push(status)


class _Controller(Controller):
    def __init__(self, handler: Handler, delay: float, **kwargs: Any) -> None:
        super().__init__(handler, hostname=HOST, port=0, **kwargs)
        self.delay = delay

    def factory(self) -> SMTP:
        return _DelayingSMTP(self.handler, self.delay, **self.SMTP_kwargs)

    def _trigger_server(self) -> None:
        # port 0 asked for an ephemeral port: learn which before aiosmtpd connects to it
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer:
    def __init__(
        self,
        security: str = "none",
        certificates: Certificates | None = None,
        users: dict[str, str] | None = None,
        faults: Iterable[Fault] = (),
        delay: float = 0.0,
        rogue: bool = False,
        auth_exclude: Iterable[str] = (),
        data_size_limit: int | None = None,
        *,
        identity: IdentityEndpoint | None = None,
        mailboxes: dict[str, set[str]] | None = None,
        google: Authority | None = None,
        oauth: Callable[[str, str], bool] | None = None,
        refuse_next_tokens: int = 0,
        refuse_passwords: bool | str = False,
        auth_disabled: str | None = None,
    ) -> None:
        """security: starttls | ssl | none. rogue: present the certificate the CA did not sign.

        identity / google / oauth: offer XOAUTH2 and check tokens so (one of them; see the
        module's docstring), with mailboxes, refuse_next_tokens, refuse_passwords and
        auth_disabled. mailboxes and refuse_next_tokens may be changed while it runs.
        """
        if sum(x is not None for x in (identity, google, oauth)) > 1:
            raise ValueError("identity, google and oauth are alternatives: give one")
        self.security = security
        self.users = dict(users or {})
        self.identity, self.google, self.oauth = identity, google, oauth
        self.mailboxes: dict[str, set[str]] = {k: set(v) for k, v in (mailboxes or {}).items()}
        self.refuse_next_tokens = refuse_next_tokens
        self.refuse_passwords = refuse_passwords
        self.auth_disabled = auth_disabled
        tokens = identity is not None or google is not None or oauth is not None
        self.handler = Handler(faults)
        exclude = list(auth_exclude)
        if tokens:
            self.handler.xoauth2 = self._xoauth2
        elif "XOAUTH2" not in exclude:
            exclude.append("XOAUTH2")
        context = None
        if security != "none":
            assert certificates is not None, "TLS needs make_certificates()"
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            if rogue:
                context.load_cert_chain(certificates.rogue_cert, certificates.rogue_key)
            else:
                context.load_cert_chain(certificates.cert, certificates.key)
        kwargs: dict[str, Any] = {"server_hostname": "mail.rygrad.example",
                                  "enable_SMTPUTF8": True, "data_size_limit": data_size_limit}
        if security == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        elif security == "ssl":
            kwargs.update(ssl_context=context, auth_require_tls=False)
        if self.users or tokens or refuse_passwords or auth_disabled:
            # aiosmtpd cannot tell that an implicit-TLS session is encrypted, so there it
            # offers AUTH without demanding it (demanding it would warn on every session)
            kwargs.update(authenticator=self._authenticate, auth_required=security != "ssl",
                          auth_exclude_mechanism=exclude)
        else:
            kwargs.update(auth_exclude_mechanism=exclude)
        self.controller = _Controller(self.handler, delay, **kwargs)
        self.logins: list[tuple[str, str, bool]] = []  # (mechanism, user, accepted)

    @property
    def host(self) -> str:
        return HOST

    @property
    def port(self) -> int:
        return int(self.controller.port)

    @property
    def connections(self) -> int:
        return self.handler.connections

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def _authenticate(self, server: SMTP, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode()
        if self.auth_disabled:
            self.logins.append((mechanism, user, False))
            return AuthResult(success=False, handled=False, message=self.auth_disabled)
        if self.refuse_passwords:
            self.logins.append((mechanism, user, False))
            reply = (self.refuse_passwords if isinstance(self.refuse_passwords, str)
                     else GMAIL_REFUSED if self.google is not None
                     else EXCHANGE_BASIC_DISABLED)
            return AuthResult(success=False, handled=False, message=reply)
        accepted = self.users.get(user) == auth_data.password.decode()
        self.logins.append((mechanism, user, accepted))
        return AuthResult(success=accepted, handled=False)

    async def _xoauth2(self, server: SMTP, args: list[str]) -> AuthResult:
        if len(args) > 1:
            try:
                blob: Any = base64.b64decode(args[1], validate=True)
            except binascii.Error:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        else:
            blob = await server.challenge_auth("", encode_to_b64=False)
            if blob is MISSING:
                return AuthResult(success=False, handled=True)
        user, token = _sasl_xoauth2(blob)
        if self.auth_disabled:
            self.logins.append(("XOAUTH2", user, False))
            return AuthResult(success=False, handled=False, message=self.auth_disabled)
        accepted = token is not None and self._token_accepted(user, token)
        if accepted and self.refuse_next_tokens > 0:
            self.refuse_next_tokens -= 1
            accepted = False
        self.logins.append(("XOAUTH2", user, accepted))
        if accepted:
            return AuthResult(success=True, auth_data=LoginPassword(user.encode(), b""),
                              message=GMAIL_ACCEPTED if self.google is not None
                              else EXCHANGE_ACCEPTED)
        if self.google is None:
            return AuthResult(success=False, handled=False, message=EXCHANGE_TOKEN_REFUSED)
        # Gmail: a JSON error as a challenge; the client answers with an empty line
        if await server.challenge_auth(GMAIL_CHALLENGE) is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False, message=GMAIL_REFUSED)

    def _token_accepted(self, user: str, token: str) -> bool:
        if self.oauth is not None:
            return self.oauth(user, token)
        if self.identity is not None:
            issued = self.identity.check(token)
            allowed = {m.lower() for m in self.mailboxes.get(issued.client_id, ())} \
                if issued is not None else set()
            return (issued is not None and issued.scope == OUTLOOK_SCOPE
                    and user.lower() in allowed)
        assert self.google is not None
        granted = self.google.check(token)
        return (granted is not None and granted.sub is not None
                and granted.sub.lower() == user.lower() and GMAIL_SCOPE in granted.scopes)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _sasl_xoauth2(blob: bytes) -> tuple[str, str | None]:
    """(user, token) of ``user=…\x01auth=Bearer …\x01\x01``; token None if malformed."""
    text = blob.decode("utf-8", "replace")
    fields = dict(part.partition("=")[::2] for part in text.split("\x01") if part)
    auth = fields.get("auth", "")
    token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
    if not text.endswith("\x01\x01"):
        token = None
    return fields.get("user", ""), token or None


def mail_settings(server: SmtpServer, **overrides: Any) -> MailSettings:
    """MailSettings for this server (security as the server's), plus any overrides."""
    settings = MailSettings(transport="smtp", host=server.host, port=server.port,
                            security=server.security, per_minute=100_000)
    return replace(settings, **overrides)
