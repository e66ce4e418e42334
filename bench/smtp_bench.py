"""Messages per second over STARTTLS + AUTH: rygrad's SmtpTransport against mailmerge 2.3.0.

    .venv/bin/pip install mailmerge==2.3.0     # a bench-only tool, not a dependency
    .venv/bin/python bench/smtp_bench.py [--count 1000] [--delays 0,20]

Makes a synthetic initiative (bench/generate.py), plans it and takes the first --count
messages due: invitations with their calendar, agendas, reminders, overdue notices and
the rest, in Danish, rendered by rygrad's own Renderer. Starts a local aiosmtpd server
(tests/smtpserver.py) with STARTTLS and a login, on a certificate from a CA made for the
run, and sends them three ways:

- rygrad, as a cycle does it: render one message, send it, render the next — one
  session for all of them (connect, EHLO, STARTTLS, EHLO, AUTH once), then MAIL, RCPT,
  DATA and the content per message: four round trips;
- rygrad's transport alone, on the same messages rendered up front (how fast the
  sending is, without the rendering);
- mailmerge: `mailmerge.sendmail_client.SendmailClient`, its rate limit off, on the
  same rendered bytes (its own rendering is not timed, which favours it); it opens a
  session per message: about ten round trips (greeting, EHLO, STARTTLS, EHLO, AUTH,
  MAIL, RCPT, DATA, content, QUIT) plus a TLS handshake.

Each run is repeated with the server holding back every reply by each of --delays
milliseconds, like a provider's round trip. Without pipelining the bound on the
ratio is about 10/4 = 2.5×. Rendering is not the bottleneck when rendering alone is
faster than sending alone. Prints a table; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import email
import logging
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from automation import config
from automation.core.model import Initiative, Message
from automation.core.parse import parse
from automation.core.plan import plan
from automation.mail.render import Renderer
from automation.sheets.xlsx import XlsxWorkbook
from automation.transports.smtp import SmtpTransport
from bench.generate import generate
from tests.smtpserver import SmtpServer, mail_settings, make_certificates

USER = "sekretariat@rygrad.example"
PASSWORD = "bench-password-1"  # ASCII: mailmerge logs in with smtplib, which wants ASCII
SENDER = "Sekretariatet <sekretariat@rygrad.example>"
SENDER_ADDRESS = "sekretariat@rygrad.example"
TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo("Europe/Copenhagen"))


class Workload:
    """--count messages due in a synthetic initiative, and the renderer that makes them."""

    def __init__(self, folder: Path, count: int) -> None:
        workbook = folder / "bench.xlsx"
        actions = count * 2  # about nine in ten actions make a message due
        generate(workbook, TODAY, actions=actions, people=max(50, actions // 5),
                 meetings=max(5, actions // 20), indicators=max(5, actions // 20))
        self.settings = config.parse(
            {"initiative": {"name": "Ungeløftet Aarhus", "secretariat": SENDER},
             "sheet": {"path": str(workbook)}}, folder / "rygrad.toml")
        self.initiative: Initiative = parse(XlsxWorkbook(workbook).read(), self.settings)
        due = plan(self.initiative, [], NOW, self.settings).messages
        assert len(due) >= count, f"only {len(due)} messages due"
        self.messages: list[Message] = due[:count]
        self.renderer = Renderer(self.settings)

    def render(self, message: Message) -> bytes:
        return self.renderer.render(message, self.initiative, NOW)


def bench_rygrad(server: SmtpServer, ca: Path, messages: list[tuple[str, bytes]]) -> float:
    transport = SmtpTransport(mail_settings(server, username=USER, ca_file=ca,
                                            per_minute=1_000_000), PASSWORD)
    started = time.perf_counter()
    transport.open()
    for number, (recipient, data) in enumerate(messages):
        transport.send(data, SENDER_ADDRESS, [recipient], f"bench:{number}")
    transport.close()
    return time.perf_counter() - started


def bench_rygrad_cycle(server: SmtpServer, ca: Path, work: Workload) -> float:
    """Render and send in turn, as Cycle.deliver does."""
    transport = SmtpTransport(mail_settings(server, username=USER, ca_file=ca,
                                            per_minute=1_000_000), PASSWORD)
    started = time.perf_counter()
    transport.open()
    for message in work.messages:
        transport.send(work.render(message), SENDER_ADDRESS, [message.recipient.email],
                       message.key)
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
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        work = Workload(folder, count)
        for message in work.messages[:20]:  # templates compiled, as after a first cycle
            work.render(message)
        started = time.perf_counter()
        rendered = [(m.recipient.email, work.render(m)) for m in work.messages]
        rendering = time.perf_counter() - started
        size = sum(len(data) for _, data in rendered) / count
        kinds = sorted({m.kind for m in work.messages})
        print(f"{count} messages ({', '.join(kinds)}) of {size / 1024:.1f} KB on average, "
              f"rendered by rygrad in {rendering:.2f} s ({count / rendering:,.0f} messages/s)\n")
        rows = []
        certificates = make_certificates(folder / "certs")
        for delay in delays_ms:
            results = {}
            for who in ("rygrad", "transport", "mailmerge"):
                with SmtpServer("starttls", certificates, users={USER: PASSWORD},
                                delay=delay / 1000) as server:
                    if who == "rygrad":
                        seconds = bench_rygrad_cycle(server, certificates.ca, work)
                    elif who == "transport":
                        seconds = bench_rygrad(server, certificates.ca, rendered)
                    else:
                        seconds = bench_mailmerge(server, folder, rendered)
                    assert len(server.messages) == count, f"{who}: not every message arrived"
                    results[who] = (count / seconds, server.connections, seconds)
                print(f"  {delay:>3} ms  {who:<9} {seconds:7.2f} s", flush=True)
            rows.append((delay, results))
    print()
    print(f"rendering alone: {count / rendering:,.0f} msg/s\n")
    print("reply delay | rygrad, render + send msg/s (conns) | rygrad send only msg/s | "
          "mailmerge msg/s (conns) | ratio | render faster than send?")
    print("------------|-------------------------------------|------------------------|"
          "-------------------------|-------|-------------------------")
    for delay, results in rows:
        ours, alone, theirs = results["rygrad"], results["transport"], results["mailmerge"]
        verdict = "yes" if count / rendering > alone[0] else "no"
        print(f"{delay:>8} ms | {ours[0]:>27,.1f} ({ours[1]:>5}) | {alone[0]:>22,.1f} | "
              f"{theirs[0]:>15,.1f} ({theirs[1]:>5}) | {ours[0] / theirs[0]:4.1f}× | {verdict}")


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
