"""Plain data that flows through a cycle: snapshot → initiative → plan."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from automation.core import kinds

# A raw cell value as a backend reads it: text, a number, a bool, a date/datetime
# (xlsx date cells; Google serials converted by the backend), a time, or empty.
CellValue = str | int | float | bool | date | datetime | time | None


@dataclass(frozen=True, slots=True)
class Table:
    """One tab as read: its title, header row (row 1) and data rows.

    ``rows`` holds (sheet row number, values); values line up with ``header``
    and may be shorter than it (trailing empty cells). ``uncomputed`` holds the
    (row, column) of formula cells with no saved value, which read as empty but are not.
    ``sheet_id`` is the tab's numeric id in a Google Sheet (the ``gid`` of its
    address, for a link to it), None for a local workbook.
    """

    title: str
    header: tuple[CellValue, ...]
    rows: tuple[tuple[int, tuple[CellValue, ...]], ...]
    uncomputed: frozenset[tuple[int, int]] = frozenset()
    sheet_id: int | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every tab of the workbook, keyed by tab title as it appears in the sheet."""

    tables: dict[str, Table]
    version: str = ""  # backend-specific token to detect a change before writing
    address: str = ""  # where partners open the sheet in a browser, when the backend knows


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in the sheet (or a row the worker had to skip)."""

    tab: str  # the tab title as in the sheet, e.g. "Møder"
    cell: str  # A1 reference without tab, e.g. "C7"; "" for a whole tab
    value: str  # the offending value as text ("" when missing)
    message: str  # one line, in the initiative's language
    severity: str = "error"  # error | warning
    tab_key: str = ""  # schema tab key ("meetings"), "" when the tab is unknown
    row: int = 0  # sheet row whose Bemærkning/Note shows it; 0 = not tied to a row

    @property
    def ref(self) -> str:
        return f"{self.tab}!{self.cell}" if self.cell else self.tab

    def __str__(self) -> str:
        return f"{self.ref}: {self.message}"


@dataclass(frozen=True, slots=True)
class Person:
    row: int
    name: str
    email: str | None  # normalised address, None when missing or invalid
    email_text: str  # the cell as typed: the row's anchor for write-back
    organisation: str = ""
    groups: tuple[str, ...] = ()
    language: str = "da"


@dataclass(frozen=True, slots=True)
class Group:
    row: int
    name: str
    type: str = ""
    chair: Person | None = None
    goal: str = ""
    latest_status: str = ""  # Seneste status: the chair's lines for the steering group
    status_received: date | None = None  # Status modtaget: when they came (W)


@dataclass(frozen=True, slots=True)
class Meeting:
    row: int
    id: str
    group: str
    date: date
    start: time | None = None
    end: time | None = None  # already defaulted to start + default_meeting_minutes
    location: str = ""
    agenda: tuple[str, ...] = ()
    minutes: str = ""
    cancelled: bool = False
    link: str = ""  # where to join online (the Link column), "" when none
    cancel_reason: str = ""  # the text partners wrote in Aflyst instead of "ja"


@dataclass(frozen=True, slots=True)
class Action:
    row: int
    id: str
    group: str
    action: str
    owner: Person | None
    owner_text: str
    due: date | None = None
    status: str = ""
    done: bool = False
    meeting_id: str = ""


@dataclass(frozen=True, slots=True)
class Indicator:
    row: int
    id: str
    group: str
    indicator: str
    unit: str = ""
    baseline: float | None = None
    start_date: date | None = None
    target: float | None = None
    target_date: date | None = None
    current: float | None = None
    updated: date | None = None
    owner: Person | None = None
    owner_text: str = ""
    frequency_months: int = 3


@dataclass(frozen=True, slots=True)
class Measurement:
    """One row of Målinger: an indicator's value on a date (README, "Målinger")."""

    row: int  # sheet row; 0 for a measurement not yet in the sheet (rygrad appends it)
    indicator_id: str
    date: date
    value: float
    source: str = ""  # Kilde: "regneark", "mail fra Sofie Holm", or what a partner typed
    note: str = ""


@dataclass(frozen=True, slots=True)
class MeetingAnswer:
    """An invitee's answer to a meeting's calendar invitation (README, "Meeting answers").

    Read from the mailbox (an iTIP REPLY) by the inbox adapter, which has checked that
    the sender is the attendee and an invitee; the core decides which answer counts.
    """

    meeting_id: str
    attendee: str  # lower-case address, already checked to be the sender and an invitee
    answer: str  # "accepted" | "declined" | "tentative"
    sequence: int  # the SEQUENCE of the invitation answered
    at: datetime  # when the answer was received (aware)


@dataclass(slots=True)
class Initiative:
    """The parsed workbook: typed rows, problems, and the W cells as they are now."""

    people: list[Person] = field(default_factory=list)
    groups: dict[str, Group] = field(default_factory=dict)  # by name
    meetings: list[Meeting] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)  # Målinger, sheet order
    problems: list[Problem] = field(default_factory=list)
    # (tab key, sheet row) → {W column key: current text} for the W cells that hold text;
    # every data row of the five tabs is present, valid or not
    worker_cells: dict[tuple[str, int], Mapping[str, str]] = field(default_factory=dict)
    # (tab key, sheet row) → the row's ID text as typed ("" when empty)
    row_ids: dict[tuple[str, int], str] = field(default_factory=dict)
    # tab key → the tab's title in the sheet
    tab_titles: dict[str, str] = field(default_factory=dict)
    # tab key → the tab's numeric id in a Google Sheet (links open it); absent for xlsx
    tab_ids: dict[str, int] = field(default_factory=dict)
    # where partners open the sheet: a Google Sheet's address, else sheet.link; "" = unknown
    address: str = ""
    # tab key → {column key: 1-based column index} for the columns found in row 1
    columns: dict[str, dict[str, int]] = field(default_factory=dict)
    # tab key → number of cells in its header row (where missing W columns are appended)
    header_width: dict[str, int] = field(default_factory=dict)

    # lookups built on first use; an Initiative is not changed after parsing
    _index: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def members_of(self, group: str) -> list[Person]:
        """People whose Groups name the group, plus its chair; only valid addresses."""
        key = group.casefold()
        cache = self._lookup("members", dict)
        if key not in cache:
            members: dict[str, Person] = {}
            for person in self._lookup("people_by_group", self._people_by_group).get(key, ()):
                members.setdefault((person.email or "").casefold(), person)
            found = self.group(group)
            chair = found.chair if found else None
            if chair and chair.email:
                members.setdefault(chair.email.casefold(), chair)
            cache[key] = list(members.values())
        return list(cache[key])

    def group(self, name: str) -> Group | None:
        found = self.groups.get(name)
        if found:
            return found
        key = name.casefold()
        return next((g for g in self.groups.values() if g.name.casefold() == key), None)

    def meeting(self, meeting_id: str) -> Meeting | None:
        return self._lookup("meetings", lambda: {m.id: m for m in self.meetings}).get(meeting_id)

    def action(self, action_id: str) -> Action | None:
        return self._lookup("actions", lambda: {a.id: a for a in self.actions}).get(action_id)

    def indicator(self, indicator_id: str) -> Indicator | None:
        return self._lookup(
            "indicators", lambda: {i.id: i for i in self.indicators}).get(indicator_id)

    def in_group(self, rows: str, group: str) -> list[Any]:
        """The meetings, actions or indicators (by attribute name) of one group."""
        def by_group() -> dict[str, list[Any]]:
            index: dict[str, list[Any]] = {}
            for row in getattr(self, rows):
                index.setdefault(row.group.casefold(), []).append(row)
            return index

        return list(self._lookup(f"{rows}_by_group", by_group).get(group.casefold(), ()))

    def agreed_at(self, meeting_id: str) -> list[Action]:
        """The actions whose Meeting ID names this meeting: its next steps."""
        def by_meeting() -> dict[str, list[Action]]:
            index: dict[str, list[Action]] = {}
            for action in self.actions:
                if action.meeting_id:
                    index.setdefault(action.meeting_id, []).append(action)
            return index

        return list(self._lookup("agreed_at", by_meeting).get(meeting_id, ()))

    def _people_by_group(self) -> dict[str, list[Person]]:
        index: dict[str, list[Person]] = {}
        for person in self.people:
            if person.email:
                for name in person.groups:
                    index.setdefault(name.casefold(), []).append(person)
        return index

    def _lookup(self, name: str, build: Callable[[], Any]) -> Any:
        if name not in self._index:
            self._index[name] = build()
        return self._index[name]


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    email: str
    language: str


@dataclass(frozen=True, slots=True)
class Message:
    """One message due: one key, one recipient (README, "The rules")."""

    kind: str  # invitation | cancel | agenda | followup | reminder | overdue | escalation
    #            | indicator | digest | burst
    key: str
    recipient: Recipient
    subject_id: str = ""  # meeting/action/indicator id the message is about
    cc: tuple[Recipient, ...] = ()
    # what the message carries beyond the sheet (invitation details, seq, n, …);
    # stored with the ledger row so later cycles can compare
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CellUpdate:
    """Set one W cell of a row; the backend re-finds the row by its ID before writing."""

    tab: str  # tab key
    row: int  # sheet row in the snapshot the update was computed from
    row_id: str
    column: str  # column key
    value: str
    old: str = ""
    number: float | None = None  # written as a number cell (a value from a reply)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What the ledger knows of one (key, recipient).

    ``payload`` is read back only for HISTORY_PAYLOAD_KINDS; for the others it is empty.
    """

    key: str
    recipient: str  # e-mail address as sent to
    kind: str
    subject_id: str  # the meeting/action/indicator id (as in Message.subject_id)
    state: str  # sending | sent | failed | retry (a temporary failure: due again)
    at: datetime  # the cycle's "now" when it was recorded (aware)
    payload: dict[str, Any] = field(default_factory=dict)
    error: str = ""


# The kinds whose payload the planner reads back: a meeting's calendar history (its
# SEQUENCE, and the details an update is compared with). The ledger keeps every payload
# for audit but loads only these: the others cost memory and nothing else
# (docs/benchmarks.md, "Why the code is shaped this way").
HISTORY_PAYLOAD_KINDS = kinds.HISTORY


@dataclass(frozen=True, slots=True)
class SentMail:
    """A mail the ledger holds as sent (or perhaps sent: uncertain), found by the
    Message-ID it went out with: what a reply answers."""

    message_id: str  # as in the header: "<…@…>"
    key: str
    recipient: str  # the address it was sent to
    kind: str
    subject_id: str
    payload: dict[str, Any]  # as stored (after `state.keep_messages_days`: what the planner reads)
    at: str  # the cycle's "now" when it was recorded, ISO 8601 with its offset


@dataclass(frozen=True, slots=True)
class Change:
    """One cell a reply changed: the audit trail's unit."""

    tab: str  # tab key ("actions")
    row_id: str  # the row's ID ("H-007")
    column: str  # column key ("status")
    old: str
    new: str


REPLY_KINDS = ("action", "indicator", "meeting", "report", "")  # "": not known
REPLY_DECISIONS = ("applied", "conflict", "not_understood", "not_allowed", "automatic",
                   "untrusted", "unknown_mail", "calendar", "unreadable")


@dataclass(frozen=True, slots=True)
class ReplyRecord:
    """One reply handled (ledger key ``reply:{Message-ID}``): who wrote, what it
    answered, what was decided and the cells changed."""

    message_id: str  # the reply's own Message-ID
    sender: str  # its From address
    answered_key: str  # the key of the mail it answers, "" when none was found
    kind: str  # one of REPLY_KINDS
    subject_id: str
    decision: str  # one of REPLY_DECISIONS
    reason: str  # one sentence for the secretariat
    changes: tuple[Change, ...]
    at: datetime  # when it was handled (aware)
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CellWrite:
    """A CellUpdate resolved against the snapshot it was computed from.

    ``row`` and ``column`` are 1-based positions in that snapshot; ``row_id`` and
    ``id_column`` let a backend whose sheet may have moved re-anchor the row by ID.
    A header cell (row 1) added for a missing W column has ``row_id`` "".
    """

    tab: str  # tab title as in the sheet
    row: int
    column: int
    value: str
    row_id: str = ""
    id_column: int = 0
    # a cell of a row rygrad appends (Målinger): ``row`` is past the tab's last row as
    # read; a backend whose sheet may have grown since puts the row after its last row now
    appended: bool = False
    # a number cell instead of text (Målinger's Værdi); ``value`` is then its text as
    # values.cell_text gives it, for comparing with what the sheet holds
    number: float | None = None
