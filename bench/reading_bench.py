"""Reading replies: what ``read_reply`` and ``read_command`` cost per message, on the
samples in tests/fixtures/replies and on three large ones.

    .venv/bin/python bench/reading_bench.py [--repeat 200]

Prints, for every sample, the best of three timings of --repeat reads (ms per message),
then for the large messages one read each:

- a reply with a 9 MB PDF attached (the text is read, the attachment never decoded);
- an HTML-only reply above a thread of 300,000 quoted <div>s (parsing stops at the quote);
- a plain-text reply above 100,000 quoted lines.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from automation.core.commands import read_command
from automation.inbox.reading import read_reply

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "replies"
TODAY = date(2026, 12, 3)
DONE = ("Færdig", "Done")


def best_ms(function, repeat: int) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            function()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best * 1000


def large_messages() -> dict[str, bytes]:
    head = (b"From: Sofie Holm <sofie.holm@kk.dk>\nTo: sekretariat@kommune.dk\n"
            b"Subject: SV: Frist\nIn-Reply-To: <5e0c3a7f1b9d4e62a8c4f7b1d3e9a205@kommune.dk>\n"
            b"MIME-Version: 1.0\n")
    pdf = (b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; "
           b"charset=utf-8\n\nF\xc3\xa6rdig\n--b\nContent-Type: application/pdf\n"
           b"Content-Disposition: attachment; filename=a.pdf\nContent-Transfer-Encoding: "
           b"base64\n\n" + b"QUJD" * 19 * 120_000 + b"\n--b--\n")
    html = (b"Content-Type: text/html; charset=utf-8\n\n<div>F\xc3\xa6rdig</div>"
            b"<blockquote type=\"cite\">" + b"<div>tidligere mail</div>" * 300_000
            + b"</blockquote>")
    plain = (b"Content-Type: text/plain; charset=utf-8\n\nF\xc3\xa6rdig\n\n"
             + b"> tidligere mail\n" * 100_000)
    return {"9 MB attachment": head + pdf, "HTML, 300,000 quoted divs": head + html,
            "plain, 100,000 quoted lines": head + plain}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    print(f"{'sample':40} {'bytes':>8} {'read_reply ms':>14} {'+ read_command ms':>18}")
    for path in sorted(SAMPLES.glob("*.eml")):
        raw = path.read_bytes()
        reply = read_reply(raw)
        reading = best_ms(lambda raw=raw: read_reply(raw), args.repeat)
        command = best_ms(lambda text=reply.text: read_command(
            text, "action", DONE, TODAY), args.repeat)
        print(f"{path.name:40} {len(raw):8,} {reading:14.2f} {command:18.3f}")
    for name, raw in large_messages().items():
        start = time.perf_counter()
        reply = read_reply(raw, max_bytes=20_000_000)
        elapsed = time.perf_counter() - start
        print(f"{name:40} {len(raw):>10,} bytes {elapsed:7.3f} s  text {reply.text!r}")


if __name__ == "__main__":
    main()
