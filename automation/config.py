"""The TOML config → frozen, validated settings (README, "Configuration").

Every key has a default here except the required ones; an unknown key or a bad
value is a ConfigError that names the file, the key and what is allowed. How a value
is read and checked (typed, with the file and key in every error) is config_values.py.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from automation.config_values import (
    Base,
    Reader,
    decode,
    every_minutes,
    send_window,
    state_url,
    toml_error,
    weekdays,
)
from automation.core import values
from automation.core.i18n import text
from automation.core.schema import TABS, normalise_header
from automation.core.settings import (
    InboxSettings,
    InitiativeSettings,
    MailSettings,
    Rules,
    ScheduleSettings,
    Settings,
    SheetSettings,
)
from automation.errors import ConfigError
from automation.sheets import BACKENDS

__all__ = ["InboxSettings", "InitiativeSettings", "MailSettings", "Rules", "ScheduleSettings",
           "Settings", "SheetSettings", "load", "parse"]

DEFAULT_CONFIG = Path("config/rygrad.toml")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def config_path(explicit: str | None) -> Path:
    """--config, else RYGRAD_CONFIG, else config/rygrad.toml."""
    return Path(explicit or os.environ.get("RYGRAD_CONFIG") or DEFAULT_CONFIG).expanduser()


def load(path: Path) -> Settings:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found; create one with `rygrad init` "
            "or pass --config PATH"
        ) from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the config file ({err.strerror})") from err
    try:
        data = tomllib.loads(decode(raw, path))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(toml_error(path, raw, err)) from err
    return parse(data, path)


def parse(data: dict[str, Any], path: Path) -> Settings:
    reader = Reader(path)
    base = Base(path.parent)
    sections = {"initiative", "sheet", "mail", "inbox", "rules", "schedule", "state",
                "templates"}
    for name in data:
        if name not in sections:
            reader.fail(name, f"unknown section; allowed: {', '.join(sorted(sections))}")
    initiative = _initiative(reader, data.get("initiative"))
    sheet = _sheet(reader, data.get("sheet", {}), base, initiative.language)
    mail = _mail(reader, data.get("mail", {}), base)
    inbox = _inbox(reader, data["inbox"], base) if "inbox" in data else None
    rules = _rules(reader, data.get("rules", {}))
    schedule = _schedule(reader, data.get("schedule", {}))
    state = reader.section("state", data.get("state", {}), {"dir", "url", "keep_messages_days"})
    templates = reader.section("templates", data.get("templates", {}), {"dir"})
    return Settings(
        file=path,
        initiative=initiative,
        sheet=sheet,
        mail=mail,
        rules=rules,
        schedule=schedule,
        state_dir=reader.location(state, "state.dir", base, "state") or base / "state",
        templates_dir=reader.location(templates, "templates.dir", base),
        state_url=state_url(reader, reader.string(state, "state.url", ""), base),
        keep_messages_days=reader.integer(state, "state.keep_messages_days", 30, minimum=1),
        inbox=inbox,
    )



def _initiative(reader: Reader, value: Any) -> InitiativeSettings:
    if value is None:
        reader.fail("initiative", "section is required (name and secretariat)")
    section = reader.section(
        "initiative", value, {"name", "language", "timezone", "country", "secretariat"}
    )
    name = reader.string(section, "initiative.name")
    language = reader.choice(section, "initiative.language", "da", ("da", "en"))
    timezone = reader.string(section, "initiative.timezone", "Europe/Copenhagen")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        reader.fail("initiative.timezone",
                    f"{timezone!r} is not a known time zone; use e.g. \"Europe/Copenhagen\"")
    country = reader.string(section, "initiative.country", "DK")
    import holidays

    if country.upper() not in holidays.list_supported_countries():
        reader.fail("initiative.country",
                    f"{country!r} is not a country code the holiday calendar knows; "
                    "use e.g. \"DK\"")
    secretariat = reader.string(section, "initiative.secretariat")
    match = re.fullmatch(r"\s*(?:(.*?)\s*<([^<>]+)>|([^<>\s]+))\s*", secretariat)
    address = (match[2] or match[3]) if match else ""
    display = (match[1] or "").strip().strip('"') if match else ""
    try:
        address = values.parse_email(address) or validate_email(
            address, check_deliverability=False).normalized
    except values.UnsendableAddress:
        reader.fail("initiative.secretariat",
                    f"{secretariat!r} cannot be mailed: most mail servers do not accept "
                    "letters such as æ, ø and å before the @; use an address without them")
    except EmailNotValidError as err:
        reader.fail("initiative.secretariat",
                    f"{secretariat!r} is not an e-mail address ({err}); "
                    "write it as \"Name <address@example.dk>\"")
    if re.search(r"[\r\n\u2028\u2029]", display):
        reader.fail("initiative.secretariat", "must be on one line")
    return InitiativeSettings(
        name=name,
        secretariat_name=display or name,
        secretariat_email=address,
        language=language,
        timezone=timezone,
        country=country.upper(),
    )


def _sheet(reader: Reader, value: Any, base: Base, language: str) -> SheetSettings:
    section = reader.section(
        "sheet", value,
        {"backend", "path", "spreadsheet", "credentials", "api_base", "aliases", "date_order",
         "timeout", "max_xml_mb", "link"},
    )
    backend = reader.choice(section, "sheet.backend", next(iter(BACKENDS)), tuple(BACKENDS))
    path = reader.location(section, "sheet.path", base)
    spreadsheet = reader.string(section, "sheet.spreadsheet", "")
    needs = BACKENDS[backend].needs  # read above, as text
    if not section.get(needs):
        reader.fail(f"sheet.{needs}", f"is required when backend = \"{backend}\" "
                    f"({BACKENDS[backend].needs_what})")
    aliases_raw = section.get("aliases", {})
    if not isinstance(aliases_raw, dict):
        reader.fail("sheet.aliases", "must be a table of header = [\"alias\", …]")
    aliases: dict[str, tuple[str, ...]] = {}
    for header, names in aliases_raw.items():
        if isinstance(names, str):
            names = [names]
        if isinstance(names, dict):  # Handlinger.Frist = […] without quotes: a TOML table
            reader.fail(f"sheet.aliases.{header}", "write a tab and a header in quotes: "
                        f'"{header}.{next(iter(names), "Column")}" = ["other name"]')
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            reader.fail(f"sheet.aliases.{header}", "must be a list of header names in quotes")
        _check_alias_target(reader, header, language)
        aliases[header] = tuple(names)
    return SheetSettings(
        backend=backend,
        path=path,
        spreadsheet=spreadsheet,
        credentials=reader.location(section, "sheet.credentials", base),
        api_base=reader.string(section, "sheet.api_base", ""),
        aliases=aliases,
        date_order=reader.choice(section, "sheet.date_order", "dmy", ("dmy", "mdy", "ymd")),
        max_xml_mb=_max_xml_mb(reader, section),
        timeout=_timeout(reader, section, "sheet.timeout"),
        link=_web_address(reader, "sheet.link", reader.string(section, "sheet.link", ""),
                          "https://kommune.sharepoint.com/:x:/r/sites/ungeloeftet/"
                          "initiative.xlsx"),
    )


def _timeout(reader: Reader, section: dict[str, Any], key: str) -> float:
    seconds = reader.number(section, key, 30.0)
    if seconds <= 0:
        reader.fail(key, "must be a number of seconds > 0 (a request waits that long at most)")
    return seconds


def _max_xml_mb(reader: Reader, section: dict[str, Any]) -> float:
    megabytes = reader.number(section, "sheet.max_xml_mb", 100.0)
    if megabytes <= 0:
        reader.fail("sheet.max_xml_mb", "must be a number of MB > 0 (what the workbook may "
                    "unpack to; 100 is far more than an initiative's workbook holds)")
    return megabytes


def _check_alias_target(reader: Reader, target: str, language: str) -> None:
    """An alias names a column of the workbook contract (schema.py): its Danish or English
    header ("Ansvarlig"), or a tab's and a header ("Handlinger.Frist"), as
    layout.header_names reads them. Any other name would be ignored without a word."""
    columns = {normalise_header(title): title
               for tab in TABS for column in tab.columns for title in (column.da, column.en)}
    wanted = normalise_header(target)
    if wanted in columns:
        return
    qualified = {normalise_header(f"{tab_title}.{title}"): f"{tab_title}.{title}"
                 for tab in TABS for tab_title in (tab.da, tab.en)
                 for column in tab.columns for title in (column.da, column.en)}
    if "." in target and wanted in qualified:
        return
    candidates = qualified if "." in target else columns
    found = difflib.get_close_matches(wanted, list(candidates), n=1, cutoff=0.6)
    if found:
        reader.fail(f"sheet.aliases.{target}",
                    text(language, "alias_unknown_hint", name=target, hint=candidates[found[0]]))
    reader.fail(f"sheet.aliases.{target}", text(language, "alias_unknown", name=target))


def _mail(reader: Reader, value: Any, base: Base) -> MailSettings:
    names = {f.name for f in fields(MailSettings)}
    section = reader.section("mail", value, names)
    optional_path = {key: reader.location(section, f"mail.{key}", base)
                     for key in ("password_file", "ca_file", "client_secret_file",
                                 "certificate_file", "credentials")}
    transport = reader.choice(section, "mail.transport", "outbox", ("outbox", "smtp"))
    host = reader.string(section, "mail.host", "")
    if transport == "smtp" and not host:
        reader.fail("mail.host", "is required when transport = \"smtp\"")
    auth = reader.choice(section, "mail.auth", "password", tuple(AUTH_KEYS))
    _check_auth_keys(reader, section, auth)
    authority = _authority(reader, section, "mail")
    return MailSettings(
        transport=transport,
        outbox_dir=(reader.location(section, "mail.outbox_dir", base, "outbox")
                    or base / "outbox"),
        host=host,
        port=reader.integer(section, "mail.port", 587, minimum=1),
        security=reader.choice(section, "mail.security", "starttls", ("starttls", "ssl", "none")),
        username=reader.string(section, "mail.username", ""),
        auth=auth,
        password_env=reader.string(section, "mail.password_env", ""),
        password_file=optional_path["password_file"],
        tenant=reader.string(section, "mail.tenant", ""),
        client_id=reader.string(section, "mail.client_id", ""),
        client_secret_env=reader.string(section, "mail.client_secret_env", ""),
        client_secret_file=optional_path["client_secret_file"],
        certificate_file=optional_path["certificate_file"],
        authority=authority,
        credentials=optional_path["credentials"],
        ca_file=optional_path["ca_file"],
        timeout=reader.number(section, "mail.timeout", 30.0),
        helo=reader.string(section, "mail.helo", ""),
        max_per_cycle=reader.integer(section, "mail.max_per_cycle", 100, minimum=1),
        per_minute=reader.integer(section, "mail.per_minute", 60, minimum=1),
        outbox_keep_days=reader.integer(section, "mail.outbox_keep_days", 0, minimum=0),
    )


# each login method and the keys it takes (one of each tuple in ONE_OF); see the README,
# "Microsoft 365 and Google Workspace without passwords"
AUTH_KEYS = {
    "password": ("password_env", "password_file"),
    "microsoft": ("tenant", "client_id", "client_secret_env", "client_secret_file",
                  "certificate_file", "authority"),
    "google": ("credentials",),
}
REQUIRED_KEYS = {"password": (), "microsoft": ("tenant", "client_id"), "google": ("credentials",)}
ONE_OF = {"microsoft": ("client_secret_env", "client_secret_file", "certificate_file")}


def _check_auth_keys(reader: Reader, section: dict[str, Any], auth: str,
                     name: str = "mail") -> None:
    """Every login key belongs to one method: another method's key is a mistake.
    ``name`` is the section: [mail] and [inbox] log in the same ways."""
    for method, keys in AUTH_KEYS.items():
        for key in keys:
            if key in section and method != auth:
                reader.fail(f"{name}.{key}", f"belongs to auth = \"{method}\", but "
                            f"{name}.auth is \"{auth}\"; remove it or set {name}.auth = "
                            f"\"{method}\"")
    if auth == "password":
        return
    for key in ("username", *REQUIRED_KEYS[auth]):
        if not section.get(key):
            reader.fail(f"{name}.{key}", f"is required when auth = \"{auth}\"" + (
                f" (the mailbox that {'reads' if name == 'inbox' else 'sends'}, e.g. "
                "sekretariat@kommune.dk)" if key == "username" else ""))
    given = [key for key in ONE_OF.get(auth, ()) if key in section]
    if len(given) != 1 and ONE_OF.get(auth):
        names = ", ".join(f"{name}.{key}" for key in ONE_OF[auth])
        reader.fail(f"{name}.{given[1] if given else ONE_OF[auth][0]}",
                    f"auth = \"{auth}\" takes exactly one of {names}")
    if section.get("security") == "none":
        reader.fail(f"{name}.security", '"none" would send the access token unencrypted; '
                    'use "starttls" or "ssl"')


def _authority(reader: Reader, section: dict[str, Any], name: str) -> str:
    authority = reader.string(section, f"{name}.authority", "")
    if authority and not re.fullmatch(r"https://[^\s/]+(/[^\s]*)?", authority):
        reader.fail(f"{name}.authority", f"{authority!r} is not an https:// address; leave "
                    "it out to use Microsoft's (https://login.microsoftonline.com)")
    return authority.rstrip("/")


def _inbox(reader: Reader, value: Any, base: Base) -> InboxSettings:
    """[inbox]: the mailbox whose replies rygrad reads (README, "Replies by mail")."""
    section = reader.section("inbox", value, {f.name for f in fields(InboxSettings)})
    host = reader.string(section, "inbox.host", "")
    if not host:
        reader.fail("inbox.host", "is required: the IMAP server of the secretariat's "
                    "mailbox, e.g. outlook.office365.com; leave out [inbox] to read no replies")
    auth = reader.choice(section, "inbox.auth", "password", tuple(AUTH_KEYS))
    _check_auth_keys(reader, section, auth, "inbox")
    if not reader.string(section, "inbox.username", ""):
        reader.fail("inbox.username", "is required: the mailbox to read, e.g. "
                    "sekretariat@kommune.dk")
    path = {key: reader.location(section, f"inbox.{key}", base)
            for key in ("password_file", "ca_file", "client_secret_file", "certificate_file",
                        "credentials")}
    security = reader.choice(section, "inbox.security", "ssl", ("ssl", "starttls"))
    return InboxSettings(
        host=host,
        port=reader.integer(section, "inbox.port", 993 if security == "ssl" else 143,
                            minimum=1),
        security=security,
        username=reader.string(section, "inbox.username", ""),
        auth=auth,
        password_env=reader.string(section, "inbox.password_env", ""),
        password_file=path["password_file"],
        tenant=reader.string(section, "inbox.tenant", ""),
        client_id=reader.string(section, "inbox.client_id", ""),
        client_secret_env=reader.string(section, "inbox.client_secret_env", ""),
        client_secret_file=path["client_secret_file"],
        certificate_file=path["certificate_file"],
        authority=_authority(reader, section, "inbox"),
        credentials=path["credentials"],
        ca_file=path["ca_file"],
        timeout=reader.number(section, "inbox.timeout", 30.0),
        folder=reader.string(section, "inbox.folder", "INBOX") or "INBOX",
        trusted_authserv_id=reader.string(section, "inbox.trusted_authserv_id", ""),
        max_message_bytes=reader.integer(section, "inbox.max_message_bytes", 10_000_000,
                                         minimum=10_000),
        days=reader.integer(section, "inbox.days", 60, minimum=1),
    )


def _rules(reader: Reader, value: Any) -> Rules:
    names = {f.name for f in fields(Rules)}
    section = reader.section("rules", value, names)
    values: dict[str, Any] = {}
    for f in fields(Rules):
        key = f"rules.{f.name}"
        if f.name not in section:
            continue
        if f.name == "on_track_tolerance":
            values[f.name] = reader.number(section, key, 0.10)
        elif f.name == "done_statuses":
            statuses = section[f.name]
            if not isinstance(statuses, list) or not all(isinstance(s, str) for s in statuses):
                reader.fail(key, "must be a list of statuses in quotes, e.g. [\"Færdig\"]")
            values[f.name] = tuple(statuses)
        else:
            minimum = 1 if f.name in ("overdue_repeat_days", "default_meeting_minutes") else 0
            values[f.name] = reader.integer(section, key, 0, minimum=minimum)
    return Rules(**values)


def _schedule(reader: Reader, value: Any) -> ScheduleSettings:
    names = {f.name for f in fields(ScheduleSettings)}
    section = reader.section("schedule", value, names)
    window = send_window(reader, reader.string(section, "schedule.send_window", "07:30-17:00"))
    days_text = reader.string(section, "schedule.send_days", "mon-fri")
    days = weekdays(days_text)
    if days is None:
        reader.fail("schedule.send_days",
                    f"{days_text!r} is not a list of days; write e.g. \"mon-fri\", "
                    "\"mon,wed,fri\" or \"all\"")
    weekday = reader.choice(section, "schedule.digest_weekday", "monday", WEEKDAYS)
    return ScheduleSettings(
        every_minutes=every_minutes(reader, section.get("every_minutes", 15)),
        send_window=window,
        send_days=frozenset(days or ()),
        skip_holidays=reader.boolean(section, "schedule.skip_holidays", True),
        digest_weekday=WEEKDAYS.index(weekday),
        digest_time=reader.clock(section, "schedule.digest_time", "08:00"),
        heartbeat_url=_web_address(reader, "schedule.heartbeat_url",
                                   reader.string(section, "schedule.heartbeat_url", ""),
                                   "https://hc-ping.com/your-check-uuid"),
    )


def _web_address(reader: Reader, key: str, url: str, example: str) -> str:
    """An http:// or https:// address with a host and no spaces, or "" (not set)."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
    except ValueError:
        parts = urlsplit("")
    if url and (parts.scheme not in ("http", "https") or not parts.hostname
                or any(c.isspace() for c in url)):
        reader.fail(key, f"{url!r} is not an http:// or https:// address; write e.g. "
                    f"\"{example}\"")
    return url
