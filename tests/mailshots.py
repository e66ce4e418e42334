"""Every kind of mail from the example initiative, looked at in headless Chromium.

Used by tests/test_mail_width.py (no mail wider than a phone) and bench/gallery.py
(the pictures in docs/mails/). The mails are the real ones: `rygrad init` into a
folder on a fixed Monday (with its commented `sheet.link` set, so the mails carry
the »Åbn arket« button), `rygrad run --once` to the outbox, then a cancellation and an
update of meetings that were invited, and the burst alert from `send-test`.

    mails = example_mails(folder, "da")
    widths = measure(mails, 390, folder / "measure")   # {mail.name: (width, height)}
    screenshot(mail, 390, height, folder / "out.png")
"""

from __future__ import annotations

import base64
import email
import email.policy
import html
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import openpyxl

from automation import cli
from automation.mail.render import builtin_templates_dir
from automation.scaffold import init

MONDAY = date(2026, 11, 30)  # a digest day; the example's dates sit around it
FIRST_RUN = "2026-11-30T09:00"
SECOND_RUN = "2026-11-30T10:00"
# Chromium in a container without a desktop: no sandbox (root), no GPU, nothing from
# the network (the mails have no outside resources, and the machine has no internet)
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--hide-scrollbars", "--mute-audio",
    "--force-device-scale-factor=1",
)
TIMEOUT = 120
MINUTES_LINK = ("https://ungeloeftet.sharepoint.example/sites/Ungeloeftet/Delte%20dokumenter/"
                "Referater/AG%20Fritid%20og%20faellesskab/Referat-2026-11-24.docx")

# a Danish compound, a path and a number run together: no line break anywhere in it
LONG_WORD = "Ungdomsuddannelsesvejledningscentersamarbejdsaftale/2026-11-30/bilag_A_1234567890"
LONG_WORD_COLUMNS = {"Grupper": ("Mål",), "Handlinger": ("Handling",),
                     "Møder": ("Sted", "Dagsorden", "Referat")}


@dataclass(frozen=True)
class Mail:
    kind: str
    key: str  # the ledger key (X-Rygrad-Key)
    language: str
    subject: str
    html: str = field(repr=False)

    @property
    def name(self) -> str:
        """A file name: ``da-invitation-AGU-03-0``."""
        rest = re.sub(r"[^A-Za-z0-9]+", "-", self.key.split(":", 1)[-1]).strip("-")
        return f"{self.language}-{self.kind}" + (f"-{rest}" if rest else "")


def chromium() -> str | None:
    """Debian's `chromium` (or RYGRAD_CHROMIUM), None when there is none."""
    named = os.environ.get("RYGRAD_CHROMIUM")
    if named:
        return named
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def example_mails(folder: Path, language: str, long_words: bool = False) -> list[Mail]:
    """One mail per ledger key (the first recipient's) of every kind, in `language`.

    `long_words`: every group's goal, every task and meeting place and agenda ends in
    a word longer than a phone is wide, as a partner may paste into the sheet.
    """
    init(folder, MONDAY, builtin_templates_dir())
    config = folder / "config" / "rygrad.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace('language = "da"', f'language = "{language}"', 1)
    # where partners open the workbook, so the mails carry their »Åbn arket« button
    text = text.replace("# link = ", "link = ", 1)
    config.write_text(text, encoding="utf-8")
    workbook = folder / "examples" / "initiative.xlsx"
    _minutes_as_a_link(workbook)
    if long_words:
        _add_long_words(workbook)
    _rygrad("run", "--once", "--now", FIRST_RUN, "--config", str(config))
    _cancel_and_move(workbook)
    _rygrad("run", "--once", "--now", SECOND_RUN, "--config", str(config))
    _rygrad("send-test", "--to", "sekretariat@ungeloeftet.example", "--kind", "burst",
            "--config", str(config))
    # the reminder to answer an invitation goes only with [inbox]: its send-test sample
    _rygrad("send-test", "--to", "sekretariat@ungeloeftet.example", "--kind", "rsvp",
            "--config", str(config))
    # the example's next steering-group meeting is further off than the report request
    _rygrad("send-test", "--to", "sekretariat@ungeloeftet.example", "--kind", "report",
            "--config", str(config))
    # the answer to a partner's reply goes only with [inbox]: its send-test sample
    _rygrad("send-test", "--to", "sekretariat@ungeloeftet.example", "--kind", "answer",
            "--config", str(config))
    mails: dict[str, Mail] = {}
    for path in sorted((folder / "outbox").glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        key = str(parsed["X-Rygrad-Key"])
        part = parsed.get_body(("html",))
        if key in mails or part is None:
            continue
        kind = key.split(":", 1)[0]
        if kind == "test":
            kind = key.split(":", 1)[1]
        elif kind == "invitation" and not key.endswith(":0"):
            kind = "update"
        mails[key] = Mail(kind, key, language, str(parsed["Subject"]),
                          _inline_images(parsed, part.get_content()))
    return list(mails.values())


def _inline_images(mail: EmailMessage, html: str) -> str:
    """The charts as a mail program shows them: a ``cid:`` part becomes a data: address,
    which Chromium can load from a file (it knows no cid:)."""
    for part in mail.walk():
        cid = str(part.get("Content-ID") or "").strip("<> ")
        if cid and part.get_content_maintype() == "image":
            data = base64.b64encode(part.get_payload(decode=True)).decode("ascii")
            html = html.replace(f"cid:{cid}", f"data:{part.get_content_type()};base64,{data}")
    return html


def _rygrad(*args: str) -> None:
    """The CLI in this process (as tests/workbook.py runs it): a second each saved."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = cli.main(list(args))
    if status not in (0, 1):  # 1: a problem in the sheet; the mail still went out
        raise RuntimeError(f"rygrad {' '.join(args)}: exit {status}\n{err.getvalue()}")


def _minutes_as_a_link(path: Path) -> None:
    """A meeting of last month gets its minutes as a long link (a SharePoint document)."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Møder"]
    header = [cell.value for cell in sheet[1]]
    minutes, day = header.index("Referat"), header.index("Dato")
    held = [row for row in sheet.iter_rows(min_row=2)
                 if 1 <= (MONDAY - row[day].value.date()).days <= 30 and not row[minutes].value]
    held[0][minutes].value = MINUTES_LINK
    workbook.save(path)


def _add_long_words(path: Path) -> None:
    workbook = openpyxl.load_workbook(path)
    for tab, columns in LONG_WORD_COLUMNS.items():
        sheet = workbook[tab]
        header = [cell.value for cell in sheet[1]]
        for row in sheet.iter_rows(min_row=2):
            for column in columns:
                cell = row[header.index(column)]
                if cell.value:
                    cell.value = f"{cell.value} {LONG_WORD}"
    workbook.save(path)


def _cancel_and_move(path: Path) -> None:
    """Cancel the first invited meeting; move the next one to a new place."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Møder"]
    header = [cell.value for cell in sheet[1]]
    cancelled, location, sent = (header.index(name) for name in
                                 ("Aflyst", "Sted", "Invitation sendt"))
    invited = [row for row in sheet.iter_rows(min_row=2) if row[sent].value]
    invited[0][cancelled].value = "ja"
    invited[-1][location].value = "Dokk1, Hack Kampmanns Plads 2, mødelokale 3.07"
    workbook.save(path)


MEASURE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"></head><body>
{frames}
<pre id="result"></pre>
<script>
window.addEventListener("load", function () {{
  var found = {{}};
  document.querySelectorAll("iframe").forEach(function (frame) {{
    var doc = frame.contentDocument, root = doc.documentElement;
    var wide = [], widest = "", most = 0;
    var walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode() && wide.length < 5) {{
      // the words that reach past the screen's edge (else the one nearest it): what to fix
      var range = doc.createRange(), text = walker.currentNode;
      range.selectNodeContents(text);
      var right = range.getBoundingClientRect().right;
      var said = Math.round(right) + " px: <" + text.parentNode.tagName.toLowerCase() +
                 "> " + text.textContent.trim().slice(0, 70);
      if (right > {width} + 0.5) wide.push(said);
      if (right > most) {{ most = right; widest = said; }}
    }}
    if (!wide.length && root.scrollWidth > {width}) wide.push("widest text " + widest);
    found[frame.id] = [Math.max(root.scrollWidth, doc.body.scrollWidth),
                       Math.max(root.scrollHeight, doc.body.scrollHeight), wide];
  }});
  document.getElementById("result").textContent = JSON.stringify(found);
}});
</script>
</body></html>
"""


@dataclass(frozen=True)
class Measure:
    width: int  # the page's scrollWidth: more than the screen is a sideways scroll
    height: int
    too_wide: tuple[str, ...]  # the first texts reaching past the screen


def measure(mails: list[Mail], width: int, folder: Path) -> dict[str, Measure]:
    """Each mail's page width and height in a frame `width` px wide: one Chromium run."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = "\n".join(
        f'<iframe id="{html.escape(mail.name)}" width="{width}" height="100" '
        f'style="border:0; display:block" srcdoc="{html.escape(mail.html, quote=True)}">'
        "</iframe>"
        for mail in mails
    )
    page = folder / f"measure-{width}.html"
    page.write_text(MEASURE.format(frames=frames, width=width), encoding="utf-8")
    out = _chromium(folder, "--dump-dom", "--virtual-time-budget=10000",
                    "--window-size=1400,1000", page.as_uri())
    match = re.search(r'<pre id="result">(.+?)</pre>', out, re.S)
    if not match:
        raise RuntimeError(f"Chromium did not measure {page}:\n{out[-2000:]}")
    found = json.loads(html.unescape(match[1]))
    return {name: Measure(int(w), int(h), tuple(wide)) for name, (w, h, wide) in found.items()}


def screenshot(mail: Mail, width: int, height: int, out: Path, folder: Path) -> None:
    """A PNG of `mail` laid out `width` × `height` px (in a frame: a headless window is
    never narrower than 500 px, and a frame lays the mail out as a phone would)."""
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / f"{mail.name}-{width}.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        '<body style="margin:0; overflow:hidden">'
        f'<iframe width="{width}" height="{height}" scrolling="no" '
        f'style="border:0; display:block" srcdoc="{html.escape(mail.html, quote=True)}">'
        "</iframe></body></html>", encoding="utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    _chromium(folder, f"--screenshot={out}", f"--window-size={width},{height}",
              "--virtual-time-budget=5000", page.as_uri())
    if not out.is_file():
        raise RuntimeError(f"Chromium made no screenshot of {page}")


def _chromium(folder: Path, *args: str) -> str:
    binary = chromium()
    if binary is None:
        raise RuntimeError("no Chromium: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(dir=folder) as profile:
        done = subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"Chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout
