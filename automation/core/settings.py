"""The settings rygrad runs with: frozen dataclasses, and nothing else.

Apart from config.py, which reads and checks the TOML file, so that the pure core
(plan, parse, projection …) depends on what the settings are and not on how they are
loaded (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class InitiativeSettings:
    name: str
    secretariat_name: str
    secretariat_email: str
    language: str = "da"
    timezone: str = "Europe/Copenhagen"
    country: str = "DK"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def secretariat(self) -> str:
        return f"{self.secretariat_name} <{self.secretariat_email}>"


@dataclass(frozen=True)
class SheetSettings:
    backend: str = "xlsx"
    path: Path | None = None
    spreadsheet: str = ""
    credentials: Path | None = None
    api_base: str = ""
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    date_order: str = "dmy"
    max_xml_mb: float = 100.0  # xlsx: what the workbook may unpack to (sheets/xlsx.py)
    timeout: float = 30.0  # seconds for each Sheets API request (google)
    # xlsx: where partners open the workbook (its SharePoint or OneDrive address); the
    # mails' "Open the sheet" button. A Google Sheet's address is known without it.
    link: str = ""


@dataclass(frozen=True)
class MailSettings:
    transport: str = "outbox"
    outbox_dir: Path = Path("outbox")
    host: str = ""
    port: int = 587
    security: str = "starttls"
    username: str = ""
    auth: str = "password"  # password | microsoft | google (README, OAuth section)
    password_env: str = ""
    password_file: Path | None = None
    tenant: str = ""  # microsoft: the tenant's domain or id
    client_id: str = ""  # microsoft: the app registration's Application (client) ID
    client_secret_env: str = ""  # microsoft: one of these three
    client_secret_file: Path | None = None
    certificate_file: Path | None = None
    authority: str = ""  # microsoft: another identity endpoint (tests); "" = Microsoft's
    credentials: Path | None = None  # google: the service account's JSON key
    ca_file: Path | None = None
    timeout: float = 30.0
    helo: str = ""
    max_per_cycle: int = 100
    per_minute: int = 60
    outbox_keep_days: int = 0  # the outbox's mails are deleted after this; 0 = kept


@dataclass(frozen=True)
class InboxSettings:
    """Where rygrad reads the replies to its mails (README, "Replies by mail").

    The login keys mean what they mean in MailSettings (the same token code serves
    both), so `automation.oauth` takes either.
    """

    host: str
    port: int = 993
    security: str = "ssl"  # ssl | starttls
    username: str = ""
    auth: str = "password"  # password | microsoft | google
    password_env: str = ""
    password_file: Path | None = None
    tenant: str = ""
    client_id: str = ""
    client_secret_env: str = ""
    client_secret_file: Path | None = None
    certificate_file: Path | None = None
    authority: str = ""
    credentials: Path | None = None
    ca_file: Path | None = None
    timeout: float = 30.0
    folder: str = "INBOX"
    # an Authentication-Results header from this server saying dmarc=fail makes a reply
    # untrusted; "" = not checked
    trusted_authserv_id: str = ""
    max_message_bytes: int = 10_000_000  # larger replies are read only in part
    days: int = 60  # how far back the mailbox is searched for replies


@dataclass(frozen=True)
class Rules:
    invite_days_before: int = 21
    agenda_days_before: int = 5
    followup_days_after: int = 1
    followup_max_days: int = 30
    remind_days_before_due: int = 3
    overdue_repeat_days: int = 7
    escalate_after_days: int = 14
    indicator_remind_days_before: int = 7
    stale_after_days: int = 30
    on_track_tolerance: float = 0.10
    default_meeting_minutes: int = 120
    rsvp_reminder_days_before: int = 3  # with [inbox]: ask who has not answered (rsvp.py)
    # working groups' chairs are asked for their status this many days before each
    # steering-group meeting (reports.py)
    report_request_days_before: int = 10
    done_statuses: tuple[str, ...] = (
        "Færdig", "Afsluttet", "Lukket", "Done", "Completed", "Closed",
    )


@dataclass(frozen=True)
class ScheduleSettings:
    every_minutes: float = 15  # fractions (≥ 0.05) are for tests and demos
    send_window: tuple[time, time] = (time(7, 30), time(17, 0))
    send_days: frozenset[int] = frozenset(range(5))  # Monday = 0
    skip_holidays: bool = True
    digest_weekday: int = 0
    digest_time: time = time(8, 0)
    heartbeat_url: str = ""  # requested after every cycle that ran (a push monitor)


@dataclass(frozen=True)
class Settings:
    file: Path
    initiative: InitiativeSettings
    sheet: SheetSettings
    mail: MailSettings
    rules: Rules = Rules()
    schedule: ScheduleSettings = ScheduleSettings()
    state_dir: Path = Path("state")
    templates_dir: Path | None = None
    # "" (SQLite in state_dir), "sqlite://" + an absolute path, or "postgresql://…"
    state_url: str = ""
    # days a delivery keeps its mail, error text and full payload (README, "Personal data")
    keep_messages_days: int = 30
    inbox: InboxSettings | None = None  # None: replies are not read
