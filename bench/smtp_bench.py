"""Messages per second over STARTTLS + AUTH: rygrad's SmtpTransport against mailmerge 2.3.0.

    .venv/bin/pip install mailmerge==2.3.0     # a bench-only tool, not a dependency
    .venv/bin/python bench/smtp_bench.py [--count 1000] [--delays 0,20]

Starts a local aiosmtpd server (tests/smtpserver.py) with STARTTLS and a login, on a
certificate from a CA made for the run, and sends the same --count messages (about
6 KB each, rendered once up front) two ways:

- rygrad: one session for all of them (connect, EHLO, STARTTLS, EHLO, AUTH once),
  then MAIL, RCPT, DATA and the content per message: four round trips;
- mailmerge: `mailmerge.sendmail_client.SendmailClient`, its rate limit off, which
  opens a session per message: about ten round trips (greeting, EHLO, STARTTLS, EHLO,
  AUTH, MAIL, RCPT, DATA, content, QUIT) plus a TLS handshake.

Each run is repeated with the server holding back every reply by each of --delays
milliseconds, like a provider's round trip. Without pipelining the bound on the
ratio is about 10/4 = 2.5×. Prints a table; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import email
import logging
import sys
import tempfile
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from automation.transports.smtp import SmtpTransport
from tests.smtpserver import SmtpServer, mail_settings, make_certificates

USER = "sekretariat@rygrad.example"
PASSWORD = "bench-password-1"  # ASCII: mailmerge logs in with smtplib, which wants ASCII
SENDER = "Sekretariatet <sekretariat@rygrad.example>"
SENDER_ADDRESS = "sekretariat@rygrad.example"

PARAGRAPH = (
    "Vi mødes i styregruppen for at følge op på indsatserne for unge uden job og "
    "uddannelse. Læs gerne referatet fra sidste møde og handlingerne, der er tildelt "
    "din organisation, før mødet. Giv besked til sekretariatet, hvis du er forhindret. "
)


def render(count: int) -> list[tuple[str, EmailMessage]]:
    """--count invitations of about 6 KB: text and HTML alternatives, Danish, UTF-8."""
    messages = []
    for number in range(count):
        recipient = f"partner{number}@partner.example"
        message = EmailMessage()
        message["Subject"] = f"Invitation: Styregruppemøde {number % 12 + 1}. december"
        message["From"] = SENDER
        message["To"] = f"Partner {number} <{recipient}>"
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain="rygrad.example")
        text = f"Kære Partner {number}\n\n" + (PARAGRAPH + "\n\n") * 10
        # quoted-printable keeps the wire ASCII, which mailmerge's str() path needs
        message.set_content(text, cte="quoted-printable")
        html = "".join(f"<p>{PARAGRAPH}</p>" for _ in range(10))
        message.add_alternative(f"<html><body><p>Kære Partner {number}</p>{html}</body></html>",
                                subtype="html", cte="quoted-printable")
        messages.append((recipient, message))
    return messages


def bench_rygrad(server: SmtpServer, ca: Path, messages: list[tuple[str, bytes]]) -> float:
    settings = mail_settings(server, username=USER, ca_file=ca, per_minute=1_000_000)
    transport = SmtpTransport(settings, PASSWORD)
    started = time.perf_counter()
    transport.open()
    for number, (recipient, data) in enumerate(messages):
        transport.send(data, SENDER_ADDRESS, [recipient], f"bench:{number}")
    transport.close()
    return time.perf_counter() - started


def bench_mailmerge(server: SmtpServer, folder: Path,
                    messages: list[tuple[str, bytes]]) -> float:
    from mailmerge.sendmail_client import SendmailClient

    config = folder / "mailmerge_server.conf"
    config.write_text(f"[smtp_server]\nhost = {server.host}\nport = {server.port}\n"
                      f"security = STARTTLS\nusername = {USER}\nratelimit = 0\n")
    client = SendmailClient(config)
    client.password = PASSWORD  # instead of its getpass prompt
    # the same bytes as a Message, whose str() is the ASCII text mailmerge hands smtplib
    parsed = [(recipient, email.message_from_bytes(data)) for recipient, data in messages]
    started = time.perf_counter()
    for recipient, message in parsed:
        client.sendmail(SENDER_ADDRESS, [recipient], message)
    return time.perf_counter() - started


def run(count: int, delays_ms: list[int]) -> None:
    started = time.perf_counter()
    rendered = render(count)
    as_bytes = [(recipient, message.as_bytes()) for recipient, message in rendered]
    rendering = time.perf_counter() - started
    size = sum(len(data) for _, data in as_bytes) / count
    print(f"{count} messages of {size / 1024:.1f} KB on average, rendered in {rendering:.2f} s "
          f"({count / rendering:,.0f} messages/s)\n")
    rows = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        certificates = make_certificates(folder / "certs")
        for delay in delays_ms:
            results = {}
            for who in ("rygrad", "mailmerge"):
                with SmtpServer("starttls", certificates, users={USER: PASSWORD},
                                delay=delay / 1000) as server:
                    if who == "rygrad":
                        seconds = bench_rygrad(server, certificates.ca, as_bytes)
                    else:
                        seconds = bench_mailmerge(server, folder, as_bytes)
                    assert len(server.messages) == count, f"{who}: not every message arrived"
                    results[who] = (count / seconds, server.connections, seconds)
                print(f"  {delay:>3} ms  {who:<9} {seconds:7.2f} s", flush=True)
            rows.append((delay, results))
    print()
    print("reply delay | rygrad msg/s (conns) | mailmerge msg/s (conns) | ratio")
    print("------------|----------------------|-------------------------|------")
    for delay, results in rows:
        ours, theirs = results["rygrad"], results["mailmerge"]
        print(f"{delay:>8} ms | {ours[0]:>10,.1f} ({ours[1]:>5}) | {theirs[0]:>13,.1f} "
              f"({theirs[1]:>5}) | {ours[0] / theirs[0]:4.1f}×")


def main() -> None:
    # aiosmtpd logs every command and warns about its own deprecated attributes
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--delays", default="0,20", help="reply delays in ms, comma-separated")
    args = parser.parse_args()
    run(args.count, [int(d) for d in args.delays.split(",")])


if __name__ == "__main__":
    main()
