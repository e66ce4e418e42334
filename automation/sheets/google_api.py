"""The connection to the Google Sheets API: a service account, timeouts, bounded retries.

gspread's ``HTTPClient`` does the requests (over google-auth's ``AuthorizedSession``),
with a timeout on every one; gspread sets none by default. Its ``BackOffHTTPClient``
is not used: in gspread 6.2.1 it retries forever. Here a request is tried at most
``retries + 1`` times on 408, 429, 5xx, connection errors and timeouts, waiting
``Retry-After`` when Google sends it, else an exponential backoff with full jitter.
A ``Retry-After`` longer than ``MAX_WAIT`` is not waited out: the cycle ends at once
and the next one tries again. A wait over ``LONG_WAIT`` is logged as a warning.
Every failure becomes one ``SheetError`` sentence that says what to do.

``api_base`` sends the requests meant for Google's origins (Sheets, Drive and the
OAuth token endpoint) to another origin instead — the local emulator in tests.
Tokens and keys are never logged: only methods, paths and statuses are.
"""

from __future__ import annotations

import codecs
import io
import json
import logging
import math
import os
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import requests
from google.auth.exceptions import GoogleAuthError, RefreshError, TransportError
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2 import service_account
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.urls import (
    SPREADSHEET_URL,
    SPREADSHEET_VALUES_BATCH_UPDATE_URL,
    SPREADSHEET_VALUES_BATCH_URL,
)

from automation.config import SheetSettings
from automation.errors import SheetError, error_text
from automation.files import check_secret_file
from automation.sheets import json_stream
from automation.sheets.json_stream import ObjectHook, unchanged

log = logging.getLogger(__name__)

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
GOOGLE_ORIGINS = (
    "https://sheets.googleapis.com",
    "https://www.googleapis.com",
    "https://oauth2.googleapis.com",
)
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_WAIT = 60.0  # seconds; a longer Retry-After is left to the next cycle
LONG_WAIT = 5.0  # seconds; a longer wait is logged as a warning, a shorter one as info
_ID = re.compile(r"[A-Za-z0-9_-]{20,}")
_URL_ID = re.compile(r"/spreadsheets/(?:u/\d+/)?d/([A-Za-z0-9_-]+)")


def spreadsheet_id(text: str) -> str:
    """The id from ``sheet.spreadsheet``: the id itself or the sheet's whole URL."""
    text = text.strip()
    if match := _URL_ID.search(text):
        return match[1]
    if _ID.fullmatch(text):
        return text
    raise SheetError(
        f"sheet.spreadsheet = {text!r} is neither a Google Sheet id nor its URL — copy the "
        "address of the sheet from the browser (https://docs.google.com/spreadsheets/d/…)"
    )


class OriginAdapter(requests.adapters.HTTPAdapter):
    """Send requests meant for Google's origins to ``base`` instead."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base.rstrip("/")

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        for origin in GOOGLE_ORIGINS:
            if request.url and request.url.startswith(origin):
                request.url = self.base + request.url[len(origin):]
        return super().send(request, **kwargs)


def load_key(settings: SheetSettings) -> tuple[Path, dict[str, Any]]:
    """The service account's key file and its content, or a SheetError naming the file."""
    named = settings.credentials or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if not named:
        raise SheetError(
            "no service account key: set sheet.credentials in the config (or "
            "GOOGLE_APPLICATION_CREDENTIALS) to the JSON key file of the service account"
        )
    path = Path(named)
    check_secret_file(path, "sheet.credentials" if settings.credentials
                      else "GOOGLE_APPLICATION_CREDENTIALS")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SheetError(f"{path}: no such file — the service account key named by "
                         "sheet.credentials (or GOOGLE_APPLICATION_CREDENTIALS)") from None
    except OSError as err:
        raise SheetError(f"{path}: the service account key cannot be read ({err.strerror})"
                         ) from None
    except ValueError:
        raise SheetError(f"{path}: not a JSON file — download the service account's key "
                         "again as JSON (Google Cloud console → IAM → Service accounts → "
                         "Keys)") from None
    missing = [key for key in ("type", "client_email", "private_key", "token_uri")
               if not isinstance(info, dict) or not info.get(key)]
    if missing or info.get("type") != "service_account":
        what = f"it lacks {', '.join(missing)}" if missing else f"its type is {info['type']!r}"
        raise SheetError(f"{path}: not a service account key ({what}) — download a JSON "
                         "key of a service account from the Google Cloud console")
    return path, info


class SheetsApi:
    """Authenticated calls to one spreadsheet, each with a timeout and bounded retries."""

    def __init__(
        self,
        settings: SheetSettings,
        *,
        timeout: float | None = None,
        retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        """``timeout`` (seconds for each request) is ``sheet.timeout`` unless given."""
        timeout = settings.timeout if timeout is None else timeout
        self.spreadsheet_id = spreadsheet_id(settings.spreadsheet)
        self.key_path, info = load_key(settings)
        self.email = str(info["client_email"])
        self.retries, self.sleep, self.jitter = retries, sleep, jitter
        try:
            credentials = service_account.Credentials.from_service_account_info(
                info, scopes=SCOPES)
        except (ValueError, GoogleAuthError) as err:
            raise SheetError(f"{self.key_path}: the service account key is damaged "
                             f"({error_text(err)}) — create a new key in the Google Cloud "
                             "console") from None
        token_session = requests.Session()
        session = AuthorizedSession(credentials, auth_request=Request(token_session),
                                    refresh_timeout=timeout)
        self.origin = settings.api_base.rstrip("/") or "https://sheets.googleapis.com"
        if settings.api_base:
            for mounted in (session, token_session):
                for origin in GOOGLE_ORIGINS:
                    mounted.mount(origin + "/", OriginAdapter(settings.api_base))
        self.http = HTTPClient(credentials, session=session)
        self.http.set_timeout(timeout)

    # -- the calls ---------------------------------------------------------------------

    def get(
        self,
        params: Mapping[str, Any],
        *,
        object_hook: ObjectHook | None = None,
        path: tuple[str, ...] = (),
        each: Callable[[Any], Any] = unchanged,
    ) -> Any:
        """``spreadsheets.get``, decoded as it arrives (see ``decode``), so that a whole
        sheet need never exist as one text or as a tree."""
        return self.call("spreadsheets.get", lambda: self._get(
            SPREADSHEET_URL % self.spreadsheet_id, params, object_hook, path, each))

    def _get(
        self,
        url: str,
        params: Mapping[str, Any] | list[tuple[str, Any]],
        object_hook: ObjectHook | None = None,
        path: tuple[str, ...] = (),
        each: Callable[[Any], Any] = unchanged,
    ) -> Any:
        response = self.http.session.request(
            "get", url, params=params, timeout=self.http.timeout, stream=True)
        with response:
            if not response.ok:
                raise APIError(response)
            return decode(response, object_hook, path, each)

    def values_batch_get(self, ranges: list[str], params: Mapping[str, Any]) -> Any:
        # decoded as the read is: at 100,000 rows the ID columns are megabytes of JSON
        query = [*params.items(), *(("ranges", r) for r in ranges)]
        return self.call("values:batchGet", lambda: self._get(
            SPREADSHEET_VALUES_BATCH_URL % self.spreadsheet_id, query))

    def write_cells(self, cells: Iterable[tuple[str, str | float]]) -> None:
        """One ``values:batchUpdate`` of (A1 cell, text or number) pairs, RAW (nothing
        becomes a formula). The body is written as JSON text directly and the answer's per-range
        replies are dropped as they are decoded: 30,000 cells were ~35 MB of dicts."""
        buffer = io.BytesIO()
        buffer.write(b'{"valueInputOption":"RAW","data":[')
        for number, (cell, value) in enumerate(cells):
            buffer.write(b"," if number else b"")
            buffer.write(json.dumps({"range": cell, "values": [[value]]}).encode("ascii"))
        buffer.write(b"]}")
        body = buffer.getvalue()
        del buffer
        url = SPREADSHEET_VALUES_BATCH_UPDATE_URL % self.spreadsheet_id
        self.call("values:batchUpdate", lambda: self._post(url, body))

    def _post(self, url: str, body: bytes) -> Any:
        response = self.http.session.request(
            "post", url, data=body, headers={"Content-Type": "application/json"},
            timeout=self.http.timeout, stream=True)
        with response:
            if not response.ok:
                raise APIError(response)
            return decode(response, lambda item: None if "updatedRange" in item else item)

    def values_batch_update(self, body: Mapping[str, Any]) -> Any:
        return self.call("values:batchUpdate", lambda: self.http.values_batch_update(
            self.spreadsheet_id, body))

    def batch_update(self, body: Mapping[str, Any]) -> Any:
        return self.call("batchUpdate", lambda: self.http.batch_update(
            self.spreadsheet_id, body))

    def call(self, what: str, request: Callable[[], Any]) -> Any:
        tries = self.retries + 1
        for attempt in range(1, tries + 1):
            try:
                return request()
            except APIError as err:
                status = _status(err)
                asked = _retry_after(err.response) if status in RETRY_STATUSES else None
                if asked is not None and asked > MAX_WAIT:
                    # waiting that out inside one cycle would hold every initiative up
                    raise SheetError(f"Google asks us to wait {_duration(asked)}; the next "
                                     "cycle tries again") from None
                if status not in RETRY_STATUSES or attempt == tries:
                    raise self.failure(err, status, attempt) from None
                wait = self.backoff(attempt) if asked is None else asked
                _log_wait(wait, "%s: Google Sheets answered %s; try %d of %d in %.1f s",
                          what, status, attempt + 1, tries, wait)
            except RefreshError as err:
                raise SheetError(
                    f"Google refused the service account key {self.key_path} "
                    f"({_first_line(err.args[0] if err.args else err)}) — check that the key "
                    "is current, or create a new one"
                ) from None
            except (
                requests.ConnectionError,
                requests.Timeout,
                TransportError,
                requests.exceptions.ChunkedEncodingError,
                json.JSONDecodeError,
            ) as err:
                # a body cut short arrives as broken JSON: as retryable as a lost line
                if attempt == tries:
                    raise SheetError(
                        f"cannot reach the Google Sheets API at {self.origin} after {tries} "
                        f"tries ({type(err).__name__}); the next cycle tries again") from None
                wait = self.backoff(attempt)
                _log_wait(wait, "%s: %s; try %d of %d in %.1f s", what, type(err).__name__,
                          attempt + 1, tries, wait)
            self.sleep(min(wait, MAX_WAIT))
        raise AssertionError("unreachable")

    def backoff(self, attempt: int) -> float:
        """Full jitter: anything up to 1, 2, 4, … seconds, so workers do not march in step."""
        return self.jitter(0.0, min(2.0 ** (attempt - 1), 32.0))

    def failure(self, err: APIError, status: int, tries: int) -> SheetError:
        message = _first_line(err.error.get("message", "")) if err.error else ""
        if status == 429:
            return SheetError(f"Google Sheets quota exhausted after {tries} tries; "
                              "the next cycle tries again")
        if status == 403:
            return SheetError(
                f"the Google Sheet {self.spreadsheet_id} is not shared with the service "
                f"account: share the sheet with {self.email} as Editor")
        if status == 404:
            return SheetError(
                f"there is no Google Sheet with id {self.spreadsheet_id} — check "
                "sheet.spreadsheet in the config (the id is the part of the sheet's URL "
                "between /d/ and /edit)")
        if status == 401:
            return SheetError(f"Google did not accept the service account key {self.key_path} "
                              f"({message}) — create a new key")
        if status in RETRY_STATUSES:
            return SheetError(f"Google Sheets answered {status} ({message}) after {tries} "
                              "tries; the next cycle tries again")
        return SheetError(f"Google Sheets refused the request ({status}: {message})")


def decode(
    response: requests.Response,
    object_hook: ObjectHook | None = None,
    path: tuple[str, ...] = (),
    each: Callable[[Any], Any] = unchanged,
) -> Any:
    """The JSON body of a streamed response, decoded as it arrives (``json_stream.load``:
    with a ``path``, the elements of the arrays there one at a time, each through
    ``each``).

    The text is kept ASCII: a Python str takes 2 bytes a character for the whole string
    once it holds one en dash or curly quote, 4 once it holds one emoji. So every other
    character is written as the JSON escape it stands for (``ø`` → ``\\u00f8``), which
    json's decoder turns back into the same character.
    """
    # as response.text does: the charset Google names (UTF-8), bad bytes replaced
    decoder = codecs.getincrementaldecoder(response.encoding or "utf-8")(errors="replace")

    def chunks() -> Iterator[str]:
        for chunk in response.iter_content(1 << 20):
            yield _ascii(decoder.decode(chunk))
        yield _ascii(decoder.decode(b"", final=True))

    return json_stream.load(chunks(), object_hook, path, each)


def _ascii(text: str) -> str:
    return text if text.isascii() else text.encode("ascii", JSON_ESCAPE).decode("ascii")


def _json_escape(err: UnicodeError) -> tuple[str, int]:
    """A run of non-ASCII characters as JSON escapes; above U+FFFF a surrogate pair.

    Outside a string JSON allows only ASCII, so each run is inside a string, where an
    escape means the same character.
    """
    if not isinstance(err, UnicodeEncodeError):
        raise err
    units = err.object[err.start:err.end].encode("utf-16-be")
    return "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2)
                   ), err.end


JSON_ESCAPE = "rygrad-json-escape"
codecs.register_error(JSON_ESCAPE, _json_escape)


def _status(err: APIError) -> int:
    code = err.code if isinstance(err.code, int) and err.code > 0 else 0
    return code or int(getattr(err.response, "status_code", 0) or 0)


def _retry_after(response: requests.Response | None) -> float | None:
    text = response.headers.get("Retry-After", "") if response is not None else ""
    try:
        return max(float(text), 0.0) if text.strip() else None
    except ValueError:  # an HTTP date: rare from Google; back off as usual
        return None


def _log_wait(wait: float, message: str, *args: object) -> None:
    log.log(logging.WARNING if wait > LONG_WAIT else logging.INFO, message, *args)


def _duration(seconds: float) -> str:
    """A wait as a person says it: "45 seconds", "60 minutes", "3 hours" (rounded up)."""
    if seconds < 120:
        return f"{math.ceil(seconds)} seconds"
    if seconds < 120 * 60:
        return f"{math.ceil(seconds / 60)} minutes"
    return f"{math.ceil(seconds / 3600)} hours"


def _first_line(value: object) -> str:
    text = str(value).strip()
    return error_text(text.splitlines()[0]) if text else ""  # never "…))" in a message
