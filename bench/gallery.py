"""Write docs/mails/: a picture of every kind of mail, as a partner's phone and desktop show it.

    .venv/bin/python bench/gallery.py                 # docs/mails/*.png and docs/mails/README.md
    .venv/bin/python bench/gallery.py --out /tmp/mails

The mails are the example initiative's (tests/mailshots.py: `rygrad init` on a fixed
Monday, `rygrad run --once` to the outbox, a cancellation, an update and the burst
alert), each kind in Danish and a few in English, shown by headless Chromium (Debian's
`chromium`) at 1200 px (desktop) and 390 px (a phone) wide. Of a kind's mails the one
with the most content is shown. Run it again after changing a template.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.mailshots import Mail, chromium, example_mails, measure, screenshot  # noqa: E402

WIDTHS = {"desktop": 1200, "phone": 390}
ENGLISH = ("invitation", "reminder", "digest")  # a few, to show the English wording
ORDER = ("invitation", "update", "cancel", "agenda", "rsvp", "followup", "reminder",
         "overdue", "escalation", "indicator", "report", "answer", "digest", "burst")
TITLES = {
    "invitation": "Invitation (with a calendar invitation)",
    "update": "Changed meeting (the calendar invitation updated)",
    "cancel": "Cancellation",
    "agenda": "Agenda",
    "rsvp": "Reminder to answer the invitation (with [inbox])",
    "followup": "Follow-up with the minutes",
    "reminder": "Reminder before a deadline",
    "overdue": "Overdue notice",
    "escalation": "Status to the group's chair",
    "indicator": "Request for an indicator's new value",
    "report": "Request for a working group's status before the steering group meets",
    "answer": "Answer to a partner's reply (with [inbox])",
    "digest": "Weekly digest to the secretariat",
    "burst": "Alert: too many mails at once",
}


def pick(mails: list[Mail], language: str, kinds: tuple[str, ...]) -> list[Mail]:
    """Per kind, the mail with the most content (a longer agenda, more rows)."""
    chosen = []
    for kind in kinds:
        these = [mail for mail in mails if mail.kind == kind and mail.language == language]
        if these:
            chosen.append(max(these, key=lambda mail: (len(mail.html), mail.key)))
    return chosen


def picture(mail: Mail, view: str) -> str:
    return f"{mail.language}-{mail.kind}-{view}.png"


def index(shown: list[Mail]) -> str:
    lines = [
        "# What partners get",
        "",
        "Every kind of mail rygrad sends, from the example initiative (`rygrad init`), as",
        "a phone (390 px) and a desktop mail program (1200 px) show it. Made by",
        "`bench/gallery.py` with headless Chromium; run it again after changing a template.",
        "",
        "| mail | language | phone | desktop |",
        "|---|---|---|---|",
    ]
    for mail in shown:
        phone, desktop = picture(mail, "phone"), picture(mail, "desktop")
        lines.append(f"| {TITLES.get(mail.kind, mail.kind)}: *{mail.subject}* | "
                     f"{mail.language} | [phone]({phone}) | [desktop]({desktop}) |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "mails")
    args = parser.parse_args()
    if chromium() is None:
        print("no Chromium: apt-get install -y chromium", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        mails = example_mails(folder / "da", "da") + example_mails(folder / "en", "en")
        shown = pick(mails, "da", ORDER) + pick(mails, "en", ENGLISH)
        args.out.mkdir(parents=True, exist_ok=True)
        for view, width in WIDTHS.items():
            sizes = measure(shown, width, folder / "measure")
            for mail in shown:
                size = sizes[mail.name]
                if size.width > width:
                    print(f"{mail.name} is {size.width} px wide at {width} px: {size.too_wide}",
                          file=sys.stderr)
                screenshot(mail, width, size.height, args.out / picture(mail, view),
                           folder / "pages")
                print(f"{picture(mail, view)}: {width} × {size.height} px")
        (args.out / "README.md").write_text(index(shown), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
