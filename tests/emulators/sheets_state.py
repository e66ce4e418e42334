"""What the emulator holds: spreadsheets, pending faults, quota counts, the authority."""

from __future__ import annotations

import copy
import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.emulators.sheets_auth import Authority
from tests.emulators.sheets_model import ApiError, Spreadsheet

# Google's error bodies for the statuses a fault can inject.
_FAULTS = {
    400: ("Request contains an invalid argument.", "INVALID_ARGUMENT"),
    401: ("Request had invalid authentication credentials.", "UNAUTHENTICATED"),
    403: ("The caller does not have permission", "PERMISSION_DENIED"),
    404: ("Requested entity was not found.", "NOT_FOUND"),
    408: ("Request timed out.", "DEADLINE_EXCEEDED"),
    409: ("The operation was aborted.", "ABORTED"),
    429: (
        "Quota exceeded for quota metric '{kind} requests' and limit '{kind} requests per "
        "minute per user' of service 'sheets.googleapis.com' for consumer "
        "'project_number:000000000000'.",
        "RESOURCE_EXHAUSTED",
    ),
    500: ("Internal error encountered.", "INTERNAL"),
    502: ("Bad Gateway", "UNAVAILABLE"),
    503: ("The service is currently unavailable.", "UNAVAILABLE"),
    504: ("The service is currently unavailable.", "DEADLINE_EXCEEDED"),
}


def fault_error(status: int, writing: bool) -> ApiError:
    message, name = _FAULTS.get(status, ("Unknown error.", "UNKNOWN"))
    kind = "Write" if writing else "Read"
    details = None
    if status == 429:
        details = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "RATE_LIMIT_EXCEEDED",
                "domain": "googleapis.com",
                "metadata": {
                    "quota_location": "global",
                    "quota_metric": f"sheets.googleapis.com/{kind.lower()}_requests",
                    "quota_limit": f"{kind}RequestsPerMinutePerUser",
                    "quota_limit_value": "60",
                    "consumer": "projects/000000000000",
                    "service": "sheets.googleapis.com",
                },
            },
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [
                    {
                        "description": "Request a higher quota limit.",
                        "url": "https://cloud.google.com/docs/quotas/help/request_increase",
                    }
                ],
            },
        ]
    return ApiError(status, message.format(kind=kind), name, details)


@dataclass
class Fault:
    """One injected misbehaviour, applied to the next ``count`` API requests.

    ``delay``: seconds before answering (a client with a shorter timeout gives up);
    ``truncate``: half of the body, with a Content-Length that says so (broken JSON);
    ``cut``: the whole body's Content-Length, half of it, then the connection closed;
    ``drop``: the connection closed without an answer.
    """

    count: int = 1
    status: int | None = None
    delay: float = 0.0
    truncate: bool = False
    retry_after: int | None = None
    cut: bool = False
    drop: bool = False

    @classmethod
    def parse(cls, spec: dict[str, Any]) -> Fault:
        status = spec.get("status")
        retry_after = spec.get("retry_after")
        return cls(
            int(spec.get("count", 1)),
            None if status is None else int(status),
            float(spec.get("delay", 0)),
            bool(spec.get("truncate", False)),
            None if retry_after is None else int(retry_after),
            bool(spec.get("cut", False)),
            bool(spec.get("drop", False)),
        )


def now_iso() -> str:
    moment = dt.datetime.now(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class State:
    static_tokens: frozenset[str] = frozenset()
    books: dict[str, Spreadsheet] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    reads: int = 0
    writes: int = 0
    authority: Authority = field(default_factory=Authority)
    lock: threading.RLock = field(default_factory=threading.RLock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def next_fault(self) -> Fault | None:
        with self.lock:
            if not self.faults:
                return None
            fault = self.faults[0]
            fault.count -= 1
            if fault.count <= 0:
                self.faults.pop(0)
            return fault

    def authorised(self, header: str | None) -> bool:
        if header and header.startswith("Bearer ") and header[7:] in self.static_tokens:
            return True
        return self.authority.valid(header)


class Snapshot:
    """Enough of a spreadsheet to undo a failed request (cells are never changed in place)."""

    def __init__(self, book: Spreadsheet):
        self.book = book
        self.properties = copy.deepcopy(book.properties)
        self.sheets = [
            (s, copy.deepcopy(s.properties), {r: dict(c) for r, c in s.rows.items()},
             dict(s.decor))
            for s in book.sheets
        ]

    def restore(self) -> None:
        self.book.properties = self.properties
        self.book.sheets = []
        for sheet, properties, rows, decor in self.sheets:
            sheet.properties, sheet.rows, sheet.decor = properties, rows, decor
            self.book.sheets.append(sheet)
