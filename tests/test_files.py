"""Files rygrad shares with people: a workbook it writes back keeps its mode, owner
and group; a secret file that others can read gets a warning naming it and `chmod 600`."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from automation import config
from automation.sheets.google_api import load_key
from automation.transports.smtp_connect import smtp_password
from tests.smtpkit import PASSWORD, USER
from tests.test_cli import small_initiative
from tests.workbook import HEADERS, rygrad, write_config, write_workbook

NOBODY = 65534  # 'nobody' / 'nogroup' on Debian and most others
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")


def access(path: Path) -> tuple[int, int, int]:
    info = path.stat()
    return stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid


# -- the workbook keeps who may use it ---------------------------------------------------


@as_root
def test_the_write_back_keeps_the_workbooks_mode_owner_and_group(tmp_path, capsys):
    workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative())
    os.chown(workbook, NOBODY, NOBODY)
    os.chmod(workbook, 0o664)  # after chown, which may clear bits
    before = workbook.read_bytes()
    config_file = write_config(tmp_path, workbook)
    result = rygrad(capsys, "run", "--once", "--config", str(config_file),
                    "--now", "2026-12-02T09:00")
    assert result.status == 0, result.err
    assert workbook.read_bytes() != before  # written back: a new file renamed over it
    assert access(workbook) == (0o664, NOBODY, NOBODY)


@as_root
def test_init_sheet_keeps_the_workbooks_mode_owner_and_group(tmp_path, capsys):
    headers = {tab: columns[:3] for tab, columns in HEADERS.items()}
    workbook = write_workbook(tmp_path / "initiative.xlsx", {}, headers)
    os.chown(workbook, NOBODY, NOBODY)
    os.chmod(workbook, 0o664)
    config_file = write_config(tmp_path, workbook)
    result = rygrad(capsys, "init-sheet", "--config", str(config_file))
    assert result.status == 0, result.err
    assert "added the columns" in result.out
    assert access(workbook) == (0o664, NOBODY, NOBODY)


KEEP_ACCESS = """
import os, sys
from pathlib import Path
from automation.files import keep_access
old = Path("initiative.xlsx").stat()  # root's, in the current folder
user = int(sys.argv[1])
os.setgroups([])
os.setgid(user)
os.setuid(user)
new = Path("new.xlsx")
new.write_bytes(b"new")  # the user's own, as mkstemp makes it
os.chmod(new, 0o600)
keep_access(new, old)
"""


@as_root
def test_a_user_who_may_not_give_the_file_away_still_keeps_its_mode(tmp_path):
    """Not root: chown to the old owner and group fails; the mode is kept all the same."""
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o777)  # the process runs in it, so needs no way through tmp_path
    old = folder / "initiative.xlsx"
    old.write_bytes(b"old")
    os.chmod(old, 0o664)  # root's, group root
    source = str(Path(__file__).resolve().parents[1])
    done = subprocess.run([sys.executable, "-c", KEEP_ACCESS, str(NOBODY)], cwd=folder,
                          env={**os.environ, "PYTHONPATH": source},
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr  # no PermissionError
    assert access(folder / "new.xlsx") == (0o664, NOBODY, NOBODY)  # the mode kept


# -- secret files --------------------------------------------------------------------------


def warnings(caplog: pytest.LogCaptureFixture, path: Path) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and str(path) in r.getMessage()]


def smtp_settings(tmp_path: Path, password_file: Path) -> config.MailSettings:
    return config.MailSettings(transport="smtp", host="127.0.0.1",
                               username="sekretariat", password_file=password_file)


@pytest.mark.parametrize(("mode", "warned"), [(0o644, True), (0o640, True), (0o600, False),
                                              (0o400, False)])
def test_a_password_file_others_can_read_is_warned_about_once(tmp_path, caplog, mode, warned):
    secret = tmp_path / f"smtp-password-{mode:o}"
    secret.write_text("hemmeligt\n")
    os.chmod(secret, mode)
    settings = smtp_settings(tmp_path, secret)
    with caplog.at_level(logging.WARNING, logger="rygrad"):
        assert smtp_password(settings) == "hemmeligt"
        assert smtp_password(settings) == "hemmeligt"  # read again in the same run
    found = warnings(caplog, secret)
    if not warned:
        assert found == []
        return
    assert len(found) == 1
    assert "mail.password_file" in found[0] and f"chmod 600 {secret}" in found[0]
    assert f"{mode:04o}" in found[0]
    assert "hemmeligt" not in caplog.text


@pytest.mark.parametrize(("mode", "warned"), [(0o644, True), (0o600, False)])
def test_a_service_account_key_others_can_read_is_warned_about(tmp_path, caplog, mode, warned):
    key = tmp_path / f"service-account-{mode:o}.json"
    key.write_text(json.dumps({"type": "service_account", "client_email": "r@x.example",
                               "private_key": "-----BEGIN PRIVATE KEY-----\n",
                               "token_uri": "http://127.0.0.1/token"}))
    os.chmod(key, mode)
    settings = config.SheetSettings(backend="google", spreadsheet="1AbC", credentials=key)
    with caplog.at_level(logging.WARNING, logger="rygrad"):
        load_key(settings)
    found = warnings(caplog, key)
    assert len(found) == warned
    if warned:
        assert "sheet.credentials" in found[0] and f"chmod 600 {key}" in found[0]


def test_a_run_warns_on_stderr_and_goes_on(tmp_path, serve, certificates):
    """End to end, as cron sees it: one WARNING line on stderr, and the mail goes out."""
    server = serve("starttls")
    secret = tmp_path / "smtp-password"
    secret.write_text(PASSWORD + "\n")
    os.chmod(secret, 0o644)
    workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative())
    config_file = write_config(tmp_path, workbook, mail={
        "transport": "smtp", "host": server.host, "port": server.port,
        "security": "starttls", "username": USER, "password_file": str(secret),
        "ca_file": str(certificates.ca), "per_minute": 1000})
    done = subprocess.run(
        [sys.executable, "-m", "automation", "run", "--once", "--config", str(config_file),
         "--now", "2026-12-02T09:00"], capture_output=True, text=True, check=False)
    lines = [line for line in done.stderr.splitlines() if str(secret) in line]
    assert len(lines) == 1, done.stderr
    assert "WARNING" in lines[0] and f"chmod 600 {secret}" in lines[0]
    assert done.returncode == 0, done.stderr
    assert f" sent via {server.host}" in done.stdout and server.messages
