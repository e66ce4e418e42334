"""A whole cycle that reads 1,000 replies (issue 15): time, memory and IMAP round trips.

    .venv/bin/python bench/replies_cycle_bench.py [--replies 1000] [--actions 4000]

Against a real Dovecot on 127.0.0.1 (tests/imapserver.py; Debian's dovecot-imapd):

1. a synthetic initiative (bench/generate.py) has its first cycle: reminders, overdue
   notices, escalations and indicator requests go to the outbox;
2. one reply to each of --replies of those mails goes into the secretariat's mailbox
   (»Færdig« to an action's mail, a number to an indicator request; each ~4 KB with the
   quoted original below an Outlook header block), plus 200 unrelated mails;
3. `rygrad run --once` in a fresh process, timed: it reads, decides and records every
   reply, writes the sheet, and sends the answers;
4. the same once more: nothing new, but the folder's headers are still read.

Printed per cycle: wall time, the process's peak RSS, the IMAP round trips (from the
cycle's summary in the ledger) and what the cycle did.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import generate  # noqa: E402
from tests.emulators.certificates import make_certificates  # noqa: E402
from tests.imapserver import ImapServer, dovecot_missing  # noqa: E402
from tests.workbook import write_config  # noqa: E402

NOW_FIRST = "2026-12-01T09:00:00+01:00"
NOW_SECOND = "2026-12-02T09:00:00+01:00"
NOW_THIRD = "2026-12-02T09:15:00+01:00"
PASSWORD = "bench-postkasse"
# the command line in a process that reports its own peak RSS when it ends
MEASURED = ("import resource, sys\nfrom automation import cli\nstatus = cli.main(sys.argv[1:])\n"
            "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
            "file=sys.stderr)\nsys.exit(status)")


def reply_to(sent: EmailMessage) -> bytes:
    key = str(sent["X-Rygrad-Key"])
    answer = "42,5" if key.startswith("indicator:") else "Færdig"
    message = EmailMessage()
    recipient = sent["To"].addresses[0]
    message["From"] = f"{recipient.display_name} <{recipient.addr_spec}>"
    message["To"] = str(sent["From"])
    message["Subject"] = f"SV: {sent['Subject']}"
    message["Date"] = "Tue, 01 Dec 2026 15:30:00 +0100"
    message["Message-ID"] = make_msgid(domain=recipient.domain)
    message["In-Reply-To"] = message["References"] = str(sent["Message-ID"])
    original = sent.get_body(("plain",)).get_content()
    message.set_content(f"{answer}\n\nVenlig hilsen\n{recipient.display_name}\n\n"
                        f"Fra: {sent['From']}\nSendt: 1. december 2026 09:00\n"
                        f"Til: {recipient.addr_spec}\nEmne: {sent['Subject']}\n\n{original}")
    return message.as_bytes()


def unrelated(n: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"nyhed{n}@example.org"
    message["Subject"] = f"Nyhedsbrev {n}"
    message["Message-ID"] = f"<nyhed-{n}@example.org>"
    message.set_content("Intet med rygrad at gøre.\n" * 40)
    return message.as_bytes()


def timed_cycle(config: Path, now: str) -> dict[str, object]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURED, "run", "--once",
                           "--allow-burst", "--now", now, "--config", str(config)],
                          capture_output=True, text=True, cwd=ROOT, env=dict(os.environ))
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr)
    rss = int(done.stderr.rsplit("PEAK_RSS_KB ", 1)[1].split()[0])
    status = subprocess.run([sys.executable, "-m", "automation", "status", "--json",
                             "--now", now, "--config", str(config)],
                            capture_output=True, text=True, cwd=ROOT)
    inbox = json.loads(status.stdout)["initiatives"][0].get("inbox") or {}
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(rss / 1024),
            "inbox": inbox, "out": done.stdout.strip()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--actions", type=int, default=4000)
    args = parser.parse_args(argv)
    if dovecot_missing():
        raise SystemExit(dovecot_missing())
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        workbook = folder / "initiative.xlsx"
        generate(workbook, date(2026, 12, 1), args.actions, args.actions // 5, 40,
                 args.actions // 10, 1)
        certificates = make_certificates(folder / "certs")
        with ImapServer(certificates) as server:
            user = server.add_user("sekretariat", password=PASSWORD)
            os.environ["RYGRAD_BENCH_INBOX_PASSWORD"] = PASSWORD
            config = write_config(folder, workbook, inbox={
                "host": server.host, "port": server.port, "security": "ssl",
                "username": user, "password_env": "RYGRAD_BENCH_INBOX_PASSWORD",
                "ca_file": str(certificates.ca)}, mail={"max_per_cycle": 100000})
            first = timed_cycle(config, NOW_FIRST)
            sent = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                    for p in sorted((folder / "outbox").glob("*.eml"))]
            answerable = [m for m in sent if str(m["X-Rygrad-Key"]).split(":")[0] in (
                "reminder", "overdue", "escalation", "indicator")][:args.replies]
            if len(answerable) < args.replies:
                raise SystemExit(f"only {len(answerable)} mails to answer; raise --actions")
            raws = [reply_to(m) for m in answerable] + [unrelated(n) for n in range(200)]
            server.append_many(user, raws)
            size = sum(map(len, raws))
            second = timed_cycle(config, NOW_SECOND)
            third = timed_cycle(config, NOW_THIRD)
    print(f"first cycle (no replies yet): {first['seconds']} s, {len(sent)} mails")
    print(f"mailbox: {args.replies} replies + 200 unrelated, {size / 1e6:.1f} MB")
    for label, result in (("cycle reading them", second), ("next cycle, nothing new", third)):
        inbox = result["inbox"]
        print(f"{label}: {result['seconds']} s, peak RSS {result['peak_rss_mb']} MB, "
              f"{inbox.get('round_trips')} IMAP round trips, {inbox.get('handled')} handled "
              f"({inbox.get('applied')} applied) of {inbox.get('read')} read")
        print("   " + str(result["out"]).replace("\n", "\n   "))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
