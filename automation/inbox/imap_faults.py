"""What went wrong with the mailbox, in one sentence each (automation/inbox/imap.py
raises them as InboxError): host:port, what the server said, and the key to check or
what the admin must do, in the admin's words (README, "Replies by mail")."""

from __future__ import annotations

import re
import socket
import ssl

from automation.config import InboxSettings
from automation.errors import error_text


class NoStarttls(Exception):
    """The server does not offer STARTTLS."""


def cannot_connect(inbox: InboxSettings, err: Exception) -> str:
    """Why the session could not be opened."""
    where = f"{inbox.host}:{inbox.port}"
    if isinstance(err, NoStarttls):
        return (f"{where} does not offer STARTTLS; check inbox.security and inbox.port "
                "(993 for ssl, 143 for starttls)")
    if isinstance(err, ssl.SSLCertVerificationError):
        return (f"{where}: the server's certificate is not trusted ({err.verify_message}); "
                "check inbox.host, or inbox.ca_file for a company CA")
    if isinstance(err, ssl.SSLError):
        return (f"{where}: the TLS handshake failed ({error_text(err.reason or err)}); "
                "check inbox.security and inbox.port (993 for ssl, 143 for starttls)")
    if isinstance(err, socket.gaierror):
        return f"{where}: the host name cannot be resolved; check inbox.host"
    if isinstance(err, TimeoutError):
        return (f"{where}: no answer within {inbox.timeout:g} s; check inbox.host, "
                "inbox.port, inbox.security and the firewall")
    if isinstance(err, OSError):
        return (f"{where}: cannot connect ({error_text(err.strerror or err)}); check "
                "inbox.host, inbox.port and inbox.security")
    return (f"{where}: the server's greeting is not IMAP ({error_text(err)}); check "
            "inbox.port and inbox.security")


def lost(inbox: InboxSettings, what: str, err: Exception) -> str:
    """The connection went while ``what`` was being read."""
    where = f"{inbox.host}:{inbox.port}"
    if isinstance(err, TimeoutError):
        return (f"{where} gave no answer within {inbox.timeout:g} s while "
                f"rygrad was reading {what}; it tries again at the next cycle (raise "
                "inbox.timeout if the server is slow)")
    # imaplib's "command: UID => socket error: EOF" says less than it seems to
    reason = re.sub(r"^command: \S+ => ", "", error_text(err))
    reason = re.sub(r"^socket error: ", "", reason)
    if reason in ("EOF", "") or "EOF occurred" in reason:
        reason = "it was closed mid-answer"
    return (f"the connection to imap {where} was lost while reading {what} "
            f"({reason}); rygrad tries again at the next cycle")


def refused(inbox: InboxSettings, reply: str) -> str:
    """The server refused the login: what the admin must do, by login method."""
    said = f"{inbox.host}:{inbox.port} refused the login of {inbox.username} ({reply})"
    if inbox.auth == "microsoft":
        return (f"{said}: the mailbox refused the app's token: the app needs the "
                "application permission IMAP.AccessAsApp (Office 365 Exchange Online) "
                "with admin consent, and its service principal must be registered in "
                "Exchange Online with a right on the mailbox; an Exchange admin runs "
                "`New-ServicePrincipal -AppId <client id> -ObjectId <enterprise app's "
                f"object id>` and `Add-MailboxPermission -Identity {inbox.username} "
                "-User <service principal id> -AccessRights FullAccess`")
    if inbox.auth == "google":
        return (f"{said}: Gmail refused the token; check that inbox.username is the "
                "mailbox the service account acts as, that its domain-wide delegation "
                "includes https://mail.google.com/, and that IMAP is on for the mailbox")
    source = ("inbox.password_env" if inbox.password_env else "inbox.password_file")
    if inbox.host.lower().endswith((".office365.com", ".outlook.com")):
        return (f"{said}: Microsoft 365 no longer takes passwords over IMAP; set "
                "inbox.auth = \"microsoft\" and follow the README, \"Microsoft 365 and "
                "Google Workspace without passwords\"")
    return f"{said}; check inbox.username and the password in {source}"
