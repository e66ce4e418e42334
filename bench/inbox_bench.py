"""Reading replies over IMAP: what one cycle's read of the mailbox costs against a real
Dovecot on 127.0.0.1 (tests/imapserver.py; Debian's dovecot-imapd must be installed).

    .venv/bin/python bench/inbox_bench.py [--count 1000] [--repeat 3] [--auth password|microsoft]

Appends --count replies (~8 KB each: a Danish reply, the quoted original with its
Outlook attribution, In-Reply-To and References naming rygrad's Message-IDs) to a fresh
mailbox, then times, over one IMAP session each, the best of --repeat runs of:

- headers(): the whole folder's headers (one SEARCH, one FETCH per 200);
- bodies(): every message's bytes;
- mark_handled(): the keyword on all of them (after the first run it is already set:
  the STORE still runs);

and prints wall time (the first run, when Dovecot has not yet cached the messages'
structure, and the best), IMAP round trips, and the Python heap's peak (tracemalloc) while
reading, plus the process's peak RSS (ru_maxrss) at the end. --auth microsoft logs in
with XOAUTH2, a token from the local Entra ID endpoint checked by Dovecot.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from automation.config import InboxSettings
from automation.inbox.imap import Mailbox
from automation.oauth import MicrosoftTokens
from tests.emulators.certificates import make_certificates
from tests.emulators.identity import IdentityEndpoint
from tests.imapserver import HOST, TENANT, ImapServer, dovecot_missing

PARAGRAPH = (
    "Hej Sofie\n\nTak for påmindelsen. Opgaven er løst, og vi har sendt materialet videre "
    "til styregruppen i går. Vi mangler kun at få rettet et par tal i bilag 3, men det "
    "har ingen betydning for beslutningen på torsdag.\n\nFærdig\n\nVenlig hilsen\n"
    "Mette Kristensen\nProjektleder, Børne- og Ungeforvaltningen\n")
QUOTED = (
    "Vi minder om opgaven »Udkast til handleplan for trivsel i udskolingen«, som har frist "
    "torsdag den 3. december 2026 kl. 14.00. Skriv »færdig« som svar på denne mail, når "
    "opgaven er løst, eller »ny frist 15.12.2026«, hvis den skal flyttes. ")


def replies(count: int) -> list[bytes]:
    made = []
    for n in range(count):
        mail = EmailMessage()
        mail["From"] = f"Mette Kristensen <mette{n % 40}@kommune.dk>"
        mail["To"] = "Sekretariatet <sekretariat@kommune.dk>"
        mail["Subject"] = f"SV: Påmindelse: H-{n:04d} har frist torsdag"
        mail["Date"] = "Wed, 02 Dec 2026 10:15:00 +0100"
        mail["Message-ID"] = f"<AM0PR07MB{n:08d}.eurprd07.prod.outlook.com>"
        mail["In-Reply-To"] = f"<reminder-{n:04d}.c2bc4866@rygrad.kommune.dk>"
        mail["References"] = (f"<invitation-{n % 12:02d}.c2bc4866@rygrad.kommune.dk> "
                              f"<reminder-{n:04d}.c2bc4866@rygrad.kommune.dk>")
        original = "".join(f"> {QUOTED}\n>\n" for _ in range(24))
        mail.set_content(f"{PARAGRAPH}\n-----Oprindelig meddelelse-----\nFra: Sekretariatet "
                         "<sekretariat@kommune.dk>\nSendt: 1. december 2026 08:00\nTil: "
                         f"Mette Kristensen\nEmne: Påmindelse: H-{n:04d} har frist torsdag"
                         f"\n\n{original}")
        made.append(mail.as_bytes(policy=SMTP))
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--auth", choices=("password", "microsoft"), default="password")
    args = parser.parse_args()
    if dovecot_missing():
        print(dovecot_missing(), file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        certificates = make_certificates(Path(folder))
        with IdentityEndpoint(certificates.cert, certificates.key, tenants=(TENANT,)) as idp, \
                ImapServer(certificates, identity=idp, tenant=TENANT) as server:
            if args.auth == "password":
                user = server.add_user("bench", "hemmelig")
                inbox = InboxSettings(host=HOST, port=server.port, username=user,
                                      password_env="BENCH_PW", ca_file=certificates.ca)
                token = None
            else:
                user = server.add_user("bench@kommune.dk")
                idp.register_app(TENANT, "bench-app", secret="s3cret")
                idp.grant_mailbox("bench-app", user)
                inbox = InboxSettings(host=HOST, port=server.port, username=user,
                                      auth="microsoft", tenant=TENANT, client_id="bench-app",
                                      client_secret_env="BENCH_SECRET",
                                      authority=idp.authority, ca_file=certificates.ca)
                token = MicrosoftTokens(inbox, {"BENCH_SECRET": "s3cret"}).token
            made = replies(args.count)
            start = time.perf_counter()
            server.append_many(user, made)
            appended = time.perf_counter() - start
            print(f"{args.count} replies, {sum(map(len, made)) / len(made) / 1024:.1f} KB "
                  f"each on average, appended in {appended:.1f} s; login: {args.auth}")
            rows = [run(inbox, token, args.count) for _ in range(args.repeat)]
    print(f"{'step':<16}{'first s':>8}{'best s':>8}{'round trips':>13}{'heap peak MB':>14}")
    for step in ("open", "headers", "bodies", "mark_handled", "total"):
        best = min(rows, key=lambda r: r[step][0])[step]
        print(f"{step:<16}{rows[0][step][0]:>8.3f}{best[0]:>8.3f}{best[1]:>13}"
              f"{best[2]:>14.1f}")
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS {peak_rss:.0f} MB (includes building the {args.count} replies)")
    return 0


def run(inbox: InboxSettings, token: object, count: int) -> dict[str, tuple[float, int, float]]:
    env = {"BENCH_PW": "hemmelig"}
    found: dict[str, tuple[float, int, float]] = {}
    tracemalloc.start()
    begin = time.perf_counter()
    with Mailbox(inbox, token, environ=env) as box:  # type: ignore[arg-type]
        found["open"] = _step(begin, box.round_trips, 0)
        mark, trips = time.perf_counter(), box.round_trips
        tracemalloc.reset_peak()
        headers = box.headers()
        assert len(headers) == count
        found["headers"] = _step(mark, box.round_trips - trips, tracemalloc.get_traced_memory()[1])
        mark, trips = time.perf_counter(), box.round_trips
        tracemalloc.reset_peak()
        size = sum(len(raw) for _, raw in box.bodies([h.uid for h in headers]))
        assert size == sum(h.size for h in headers)
        found["bodies"] = _step(mark, box.round_trips - trips, tracemalloc.get_traced_memory()[1])
        mark, trips = time.perf_counter(), box.round_trips
        assert box.mark_handled([h.uid for h in headers])
        found["mark_handled"] = _step(mark, box.round_trips - trips,
                                      tracemalloc.get_traced_memory()[1])
        trips = box.round_trips
    found["total"] = _step(begin, trips + 1, tracemalloc.get_traced_memory()[1])  # + LOGOUT
    tracemalloc.stop()
    return found


def _step(start: float, trips: int, peak: int) -> tuple[float, int, float]:
    return time.perf_counter() - start, trips, peak / 1e6


if __name__ == "__main__":
    sys.exit(main())
