"""`rygrad init DIR`: a config, an example workbook and the templates; never overwrites.

Everything lands in DIR: `config/rygrad.toml`, `examples/initiative.xlsx` and
`templates/…`. A file that is already there is kept as it is, so running init
again (or over a folder a partner has worked in) is always safe.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from automation.errors import ConfigError, error_text
from automation.scaffold.example import write_example_workbook

CONFIG_FILE = Path("config/rygrad.toml")
EXAMPLE_WORKBOOK = Path("examples/initiative.xlsx")
TEMPLATES_DIR = Path("templates")

# The commented example of README, "Configuration". Relative paths are relative to this file's
# folder (config/), hence "../". Mail may go out at any hour so that a first try
# always shows mail; the comments give the real defaults.
EXAMPLE_CONFIG = """\
# rygrad: the configuration of one initiative.
#
# Every key has a default (shown in the comments) except those marked "required".
# Relative paths are relative to the folder this file is in.
# Secrets (passwords, keys) never go in this file: name an environment variable or
# a file instead. An unknown key or a bad value stops rygrad with a message that
# names the key and what is allowed.

[initiative]
name = "Ungeløftet Aarhus"              # required: shown in every mail
language = "da"                         # da | en: notes, new headers, and mails to people
                                        # whose Sprog/Language is empty
timezone = "Europe/Copenhagen"          # "today" and meeting times are local to this zone
country = "DK"                          # whose public holidays the send schedule skips
# required: From and Reply-To of every mail, and who gets the weekly digest
secretariat = "Sekretariatet for Ungeløftet <sekretariat@ungeloeftet.example>"

[sheet]
backend = "xlsx"                        # xlsx (a local workbook) | google (a Google Sheet)
path = "../examples/initiative.xlsx"    # xlsx: the workbook
# spreadsheet = "1AbC…"                 # google: the sheet's id or its URL
# credentials = "../secrets/service-account.json"  # google: a service account's key file;
#                                       # default: GOOGLE_APPLICATION_CREDENTIALS
# api_base = "http://127.0.0.1:8765"    # google: another Sheets API origin (tests, the emulator)
# timeout = 30                          # google: seconds per Sheets API request (default 30)
date_order = "dmy"                      # how to read 4/12/2026: dmy | mdy | ymd (default dmy)
# link = "https://kommune.sharepoint.com/:x:/r/sites/ungeloeftet/initiative.xlsx"
#                                       # xlsx: where partners open the workbook; the
#                                       # mails' "Åbn arket" button (none when unset)

# Extra header names, if your sheet calls a column something else:
# [sheet.aliases]
# Ansvarlig = ["Tovholder"]

[mail]
transport = "outbox"                    # outbox (.eml files in outbox_dir) | smtp
outbox_dir = "../outbox"                # default "outbox"
# outbox_keep_days = 30                 # delete the outbox's mails after this (default: keep)
# For transport = "smtp":
# host = "smtp.example.dk"              # required for smtp
# port = 587                            # default 587; SSL-only servers usually use 465
# security = "starttls"                 # starttls | ssl | none (default starttls)
# username = "sekretariat@example.dk"
# password_env = "RYGRAD_SMTP_PASSWORD" # the environment variable holding the password
# password_file = "../secrets/smtp-password"  # or a file holding it, instead
# Microsoft 365 and Google Workspace log in without a password (README, "Microsoft 365
# and Google Workspace without passwords"), instead of password_env / password_file:
#   auth = "microsoft"                  # password (default) | microsoft | google
#   tenant = "kommune.onmicrosoft.com"  # microsoft: the tenant's domain or id
#   client_id = "00000000-0000-0000-0000-000000000000"   # the app's Application (client) ID
#   certificate_file = "../secrets/rygrad-app.pem"       # or client_secret_file / _env
#   credentials = "../secrets/mail-service-account.json" # google: the service account key
# ca_file = "../certs/company-ca.pem"   # trust an extra certificate authority
# timeout = 30                          # seconds per SMTP operation (default 30)
# helo = "rygrad.example.dk"            # name to greet the server with (default: this machine's)
max_per_cycle = 100                     # more due than this: send none, alert the secretariat
per_minute = 60                         # pace, for providers' limits

[rules]
# Days are calendar days, counted in the initiative's time zone.
invite_days_before = 21                 # invite when the meeting is at most this many days away
agenda_days_before = 5                  # send a filled-in agenda this many days before
followup_days_after = 1                 # follow-up with the minutes from this many days after
followup_max_days = 30                  # ... and not when the meeting is longer ago than this
remind_days_before_due = 3              # remind an action's owner this many days before due
overdue_repeat_days = 7                 # repeat overdue notices and indicator requests this often
escalate_after_days = 14                # tell the group's chair when an action is this late
indicator_remind_days_before = 7        # ask for an indicator's value this many days before
stale_after_days = 30                   # a value this long overdue counts as "no data"
on_track_tolerance = 0.10               # progress may lag elapsed time this much and be on track
default_meeting_minutes = 120           # a meeting's length when Slut/End is empty
rsvp_reminder_days_before = 3           # with [inbox]: remind who has not answered an invitation
report_request_days_before = 10         # ask working groups' chairs for a status this long before
# An action is done when its Status is one of these:
done_statuses = ["Færdig", "Afsluttet", "Lukket", "Done", "Completed", "Closed"]

[schedule]
every_minutes = 15                      # how often `rygrad serve` runs a cycle
# This example lets mail go out at any hour on any day, so a first try always shows
# mail. The defaults, for daily use:
#   send_window = "07:30-17:00"   send_days = "mon-fri"   skip_holidays = true
send_window = "00:00-24:00"             # local time, [start, end); mails wait outside it
send_days = "mon-sun"                   # e.g. "mon-fri", "mon,wed,fri" or "all"
skip_holidays = false                   # true: also wait on public holidays and the commonly
                                        # closed days (Grundlovsdag, juleaften, nytårsaften)
digest_weekday = "monday"               # the secretariat's weekly digest: monday … sunday
digest_time = "08:00"                   # from this local time on that day
# A push monitor (healthchecks.io, Uptime Kuma): requested after every cycle that ran,
# so the monitor raises the alarm when they stop (default: none).
# heartbeat_url = "https://hc-ping.com/your-check-uuid"

[state]
dir = "../state"                        # the ledger of what was sent (SQLite); default "state"
keep_messages_days = 30                 # then a mail's text and details are erased (README,
                                        # "Personal data (GDPR)"); what stops a resend stays

[templates]
# Your own templates, searched before the built-in ones (default: none).
# `rygrad init` copied the built-in ones here for you to edit.
dir = "../templates"
"""


def init(directory: Path, today: date, builtin_templates: Path) -> list[tuple[Path, bool]]:
    """Write the example into `directory`; return (path, written) — False = already there.

    Never overwrites: an existing config, workbook or template is kept as it is. A
    folder this user may not write is a ConfigError naming it.
    """
    try:
        results = [
            (directory / CONFIG_FILE, _write_new(directory / CONFIG_FILE, EXAMPLE_CONFIG)),
            (directory / EXAMPLE_WORKBOOK,
             _example_workbook(directory / EXAMPLE_WORKBOOK, today)),
        ]
        for source in _template_files(builtin_templates):
            target = directory / TEMPLATES_DIR / source.relative_to(builtin_templates)
            results.append((target, _copy_new(source, target)))
    except PermissionError as err:
        raise ConfigError(f"{err.filename or directory}: cannot be created, as its folder is "
                          "read-only for this user; choose a folder you may write "
                          "(`rygrad init DIR`) or make that one writable") from err
    except OSError as err:
        raise ConfigError(f"{err.filename or directory}: cannot write the example "
                          f"({error_text(err.strerror or err)})") from err
    return results


def _write_new(path: Path, text: str) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        return False
    return True


def _example_workbook(path: Path, today: date) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_example_workbook(path, today)
    except FileExistsError:
        return False
    return True


def _copy_new(source: Path, target: Path) -> bool:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with source.open("rb") as reader, target.open("xb") as writer:
            shutil.copyfileobj(reader, writer)
    except FileExistsError:
        return False
    return True


def _template_files(root: Path) -> list[Path]:
    """Every file under root, in a stable order; hidden placeholders (.keep) stay behind."""
    return sorted(
        path for path in root.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") or part == "__pycache__"
                    for part in path.relative_to(root).parts)
    )
