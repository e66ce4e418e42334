"""The SMTP transport: one connection per cycle, reused for every message (README, "Delivery").

Providers throttle clients that log in once per message, so `open()` connects,
says EHLO, upgrades with STARTTLS (or starts in TLS), logs in once, and every
`send()` reuses that session; `close()` says QUIT.

What happens to a message:

- accepted → `send()` returns;
- 4xx, or a dropped connection or a timeout before the whole message was handed
  over → tried again inside the call (three tries, 1 s and 2 s apart, reconnecting
  when the connection is gone), then `TemporaryFailure` with the server's last reply:
  the message is due next cycle;
- a dropped connection or a timeout after the message's final "." and before the
  server's reply → `UncertainDelivery`, never tried again here: the server may have
  accepted it, and a retry could deliver it twice. The next message reconnects;
- 5xx for the recipient or the message → `PermanentFailure` with the server's reply,
  and the session goes on with the next message (smtplib sends RSET);
- the server cannot be reached, refuses the login or its certificate, or refuses the
  sender for every message → `DeliveryError`: the cycle stops.

Opening the session (the password, TLS, the login) and saying why it failed is
smtp_connect.py. The password is never logged nor put in an exception message.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import re
import smtplib
import time
from collections.abc import Callable

from automation.config import MailSettings
from automation.errors import ConfigError, DeliveryError, error_text
from automation.oauth import TokenSource
from automation.transports import PermanentFailure, TemporaryFailure, UncertainDelivery
from automation.transports.smtp_connect import connect, server_reply

log = logging.getLogger(__name__)

BACKOFF = (1.0, 2.0)  # seconds before the 2nd and 3rd try of one message
IDLE_AFTER = 60.0  # many servers drop a client that said nothing for a minute or more
WINDOW = 60.0  # per_minute counts messages in a rolling minute
SIZE_REFUSED = 552  # refused at MAIL FROM for this message's size, not for the sender
CRLF = re.compile(rb"\r?\n")
LEADING_DOT = re.compile(rb"(?m)^\.")


class _Retry(Exception):
    """One try of a message failed for now; `reply` says why, `dropped` if reconnecting."""

    def __init__(self, reply: str, dropped: bool) -> None:
        super().__init__(reply)
        self.reply = reply
        self.dropped = dropped


class SmtpTransport:
    """Sends over one SMTP session per cycle; see the module docstring for outcomes."""

    def __init__(
        self,
        settings: MailSettings,
        password: str | None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        backoff: tuple[float, ...] = BACKOFF,
        idle_after: float = IDLE_AFTER,
        tokens: TokenSource | None = None,
    ) -> None:
        """``tokens``: log in with OAuth 2.0 (mail.auth = microsoft or google) instead of
        the password; the same source serves every cycle of ``serve``, so a token is
        asked for once while it is valid."""
        if settings.security == "none" and (settings.username or password):
            raise ConfigError('mail.security: "none" would send the password unencrypted; '
                              'use "starttls" or "ssl", or remove mail.username')
        if settings.username and not password and tokens is None:
            raise ConfigError("mail.username is set but no password is: set "
                              "mail.password_env or mail.password_file")
        self.settings = settings
        self._password = password
        self.tokens = tokens
        self.sleep = sleep
        self.clock = clock
        self.backoff = backoff
        self.idle_after = idle_after
        self.where = f"{settings.host}:{settings.port}"
        self._smtp: smtplib.SMTP | None = None
        self._last_command = 0.0
        self._recent: collections.deque[float] = collections.deque()
        self.connections = 0  # how many sessions this transport opened, for the summary

    def __repr__(self) -> str:  # never show the password, not even in a debugger
        return f"SmtpTransport({self.where}, security={self.settings.security})"

    # the session

    def open(self) -> None:
        self._connect()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()  # the server went away first; the messages are already accepted

    def _connect(self) -> None:
        self._smtp = connect(self.settings, self._password, self.tokens)
        self.connections += 1
        self._last_command = self.clock()
        log.info("connected to %s (%s)", self.where, self.settings.security)

    # one message

    def send(self, data: bytes, sender: str, recipients: list[str], name: str) -> None:
        """Deliver to every recipient, or raise Temporary/PermanentFailure/DeliveryError."""
        self._pace()
        # RFC 5321 wants CRLF; EmailMessage writes bare LF, which strict servers refuse
        wire = CRLF.sub(b"\r\n", data)
        tries = len(self.backoff) + 1
        for attempt in range(1, tries + 1):
            try:
                self._send_once(wire, sender, recipients, name)
                return
            except UncertainDelivery as lost:
                self._drop()
                log.warning("%s → %s: %s", name, recipients[0], lost)
                raise
            except _Retry as retry:
                if retry.dropped:
                    self._drop()
                if attempt == tries:
                    log.warning("%s → %s: not delivered after %d tries: %s", name,
                                recipients[0], tries, retry.reply)
                    raise TemporaryFailure(f"{retry.reply} (after {tries} tries)") from None
                log.info("%s → %s: %s; trying again in %g s", name, recipients[0],
                         retry.reply, self.backoff[attempt - 1])
                self.sleep(self.backoff[attempt - 1])

    def _send_once(self, data: bytes, sender: str, recipients: list[str], name: str) -> None:
        smtp = self._session()
        options = ["SMTPUTF8"] if not (sender + "".join(recipients)).isascii() else []
        try:
            refused = self._transaction(smtp, sender, recipients, data, options)
        except smtplib.SMTPRecipientsRefused as err:
            self._last_command = self.clock()
            refusals = {address: server_reply(code, text) for address, (code, text) in
                        err.recipients.items()}
            self._refused(refusals, recipients, name, accepted=False)
            return
        except smtplib.SMTPSenderRefused as err:
            self._last_command = self.clock()
            reply = server_reply(err.smtp_code, err.smtp_error)
            if 400 <= err.smtp_code < 500:
                raise _Retry(reply, dropped=err.smtp_code == 421) from None
            if err.smtp_code == SIZE_REFUSED:
                raise PermanentFailure(reply) from None
            # a sender refused for good is refused for every message: stop the cycle
            raise DeliveryError(f"{self.where} refused the sender {sender} ({reply}); check "
                                f"initiative.secretariat and that mail.username may send "
                                f"as it") from None
        except smtplib.SMTPResponseException as err:  # DATA refused, or a bad reply
            self._last_command = self.clock()
            reply = server_reply(err.smtp_code, err.smtp_error)
            if 400 <= err.smtp_code < 500:
                raise _Retry(reply, dropped=err.smtp_code == 421) from None
            raise PermanentFailure(reply) from None
        except smtplib.SMTPNotSupportedError:
            raise PermanentFailure(f"{self.where} does not accept addresses with non-ASCII "
                                   f"letters (no SMTPUTF8)") from None
        except UnicodeEncodeError:
            raise PermanentFailure(f"{self.where} does not accept addresses with non-ASCII "
                                   f"letters (no SMTPUTF8)") from None
        except (smtplib.SMTPServerDisconnected, OSError) as err:
            raise _Retry(_lost(err, self.settings.timeout), dropped=True) from None
        self._last_command = self.clock()
        if refused:
            self._refused({a: server_reply(c, t) for a, (c, t) in refused.items()}, recipients,
                          name, accepted=True)
        # no address in the log of a mail that went well (README, "Personal data")
        log.info("%s: accepted by %s", name, self.where)

    def _transaction(self, smtp: smtplib.SMTP, sender: str, recipients: list[str],
                     data: bytes, options: list[str]) -> dict[str, tuple[int, bytes]]:
        """smtplib's sendmail() with DATA taken apart (and raising what it raises).

        sendmail() cannot tell a connection lost while the content was still going out
        (not delivered: try again) from one lost while waiting for the reply to the
        final "." (perhaps delivered: UncertainDelivery), so the steps are done here.
        """
        smtp.ehlo_or_helo_if_needed()
        if smtp.does_esmtp and smtp.has_extn("size"):
            options = [f"size={len(data)}", *options]
        code, reply = smtp.mail(sender, options)
        if code != 250:
            self._abandon(smtp, code)
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused: dict[str, tuple[int, bytes]] = {}
        for address in recipients:
            code, reply = smtp.rcpt(address)
            if code not in (250, 251):
                refused[address] = (code, reply)
            if code == 421:
                smtp.close()
                raise smtplib.SMTPRecipientsRefused(refused)
        if len(refused) == len(recipients):
            self._abandon(smtp, 0)
            raise smtplib.SMTPRecipientsRefused(refused)
        code, reply = smtp.docmd("DATA")
        if code != 354:
            self._abandon(smtp, code)
            raise smtplib.SMTPDataError(code, reply)
        content = LEADING_DOT.sub(b"..", data)
        if not content.endswith(b"\r\n"):
            content += b"\r\n"
        smtp.send(content + b".\r\n")  # a drop before this returns: not delivered
        try:
            code, reply = smtp.getreply()
        except smtplib.SMTPServerDisconnected as err:
            raise UncertainDelivery(
                f"{self.where}: {_lost(err, self.settings.timeout)} after the whole message "
                f"was handed over; it may have been delivered, so it is not sent again "
                f"unless asked (rygrad run --once --resend-uncertain)") from None
        if code != 250:
            self._abandon(smtp, code)
            raise smtplib.SMTPDataError(code, reply)
        return refused

    @staticmethod
    def _abandon(smtp: smtplib.SMTP, code: int) -> None:
        """End a refused transaction: 421 means the server is closing, else RSET."""
        if code == 421:
            smtp.close()
            return
        with contextlib.suppress(smtplib.SMTPServerDisconnected):
            smtp.rset()

    def _refused(self, refusals: dict[str, str], recipients: list[str], name: str,
                 accepted: bool) -> None:
        """The recipient's own refusal decides; a refused copy (cc) is only logged."""
        main = recipients[0]
        for address, reply in refusals.items():
            if address != main:
                log.warning("%s: the copy to %s was refused: %s", name, address, reply)
        if main not in refusals:
            return
        reply = refusals[main]
        if accepted:
            # the copies went out: trying again now would send them twice
            log.warning("%s → %s: refused (%s); the copies were delivered", name, main, reply)
            if reply.startswith("4"):
                raise TemporaryFailure(reply)
            raise PermanentFailure(reply)
        if reply.startswith("4"):
            raise _Retry(reply, dropped=reply.startswith("421"))
        log.warning("%s → %s: refused: %s", name, main, reply)
        raise PermanentFailure(reply)

    def _session(self) -> smtplib.SMTP:
        """The open session, after a NOOP if it idled; reconnects when it is gone."""
        if self._smtp is not None and self.clock() - self._last_command > self.idle_after:
            try:
                code, _ = self._smtp.noop()
            except (smtplib.SMTPException, OSError):
                code = 0
            if code != 250:
                log.info("%s: the idle connection is gone; reconnecting", self.where)
                self._drop()
        if self._smtp is None or self._smtp.sock is None:
            self._smtp = None
            self._connect()
        assert self._smtp is not None
        return self._smtp

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _pace(self) -> None:
        """At most `per_minute` messages in any rolling minute; sleep for the oldest."""
        limit = self.settings.per_minute
        now = self.clock()
        while self._recent and now - self._recent[0] >= WINDOW:
            self._recent.popleft()
        if len(self._recent) >= limit:
            wait = self._recent[0] + WINDOW - now
            log.info("pacing: mail.per_minute = %d sent in the last minute; waiting %.1f s",
                     limit, wait)
            self.sleep(wait)
            self._recent.popleft()
        self._recent.append(self.clock())



def _lost(err: BaseException, timeout: float) -> str:
    # smtplib turns a read timeout into SMTPServerDisconnected; the cause stays in context
    if isinstance(err, TimeoutError) or isinstance(err.__context__, TimeoutError):
        return f"no reply within {timeout:g} s"
    return f"connection lost ({error_text(err)})"
