"""HTTP routing of the emulator: control endpoints, the token endpoint, Sheets v4 and Drive v3.

Every API request is authenticated, may meet an injected fault, is counted for the
quota stats, and runs under the state lock; a failing write is rolled back whole.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.emulators import sheets_grid, sheets_requests, sheets_values
from tests.emulators.sheets_auth import TokenError, unauthenticated
from tests.emulators.sheets_fields import parse_fields, select
from tests.emulators.sheets_model import (
    ApiError,
    Spreadsheet,
    bad_request,
    new_spreadsheet_id,
    not_found,
    permission_denied,
)
from tests.emulators.sheets_state import Fault, Snapshot, State, fault_error, now_iso
from tests.emulators.sheets_xlsx import export_workbook, import_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"


class Reply:
    def __init__(
        self,
        status: int,
        body: Any = None,
        content_type: str = "application/json",
        raw: bytes | None = None,
    ):
        self.status, self.body, self.content_type, self.raw = status, body, content_type, raw
        self.headers: dict[str, str] = {}
        self.pretty = True  # Google's system parameter prettyPrint=false turns it off

    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        if not self.pretty:
            return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()
        return (json.dumps(self.body, ensure_ascii=False, indent=2) + "\n").encode()


def drive_not_found(file_id: str) -> Reply:
    message = f"File not found: {file_id}."
    return Reply(
        404,
        {
            "error": {
                "code": 404,
                "message": message,
                "errors": [
                    {
                        "message": message,
                        "domain": "global",
                        "reason": "notFound",
                        "location": "fileId",
                        "locationType": "parameter",
                    }
                ],
            }
        },
    )


class Handler(BaseHTTPRequestHandler):
    server_version = "ESF"
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: with Nagle's algorithm the body waited for
    # the client's delayed ACK, 40 ms an answer on Linux
    disable_nagle_algorithm = True
    state: State  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read responses, not logs

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        params = parse_qs(url.query, keep_blank_values=True)
        fault: Fault | None = None
        try:
            if (method, url.path) == ("GET", "/tokeninfo"):
                token = params.get("access_token", [""])[-1]
                reply = Reply(200, self.state.authority.tokeninfo(token))
            elif url.path == "/token" or url.path.startswith("/_emulator/"):
                reply = self._control(method, url.path, body)
            else:
                reply, fault = self._api(method, url.path, params, body)
        except ApiError as err:
            reply = Reply(err.code, err.body())
        except TokenError as err:
            reply = Reply(err.status, err.body())
        except (ValueError, KeyError, TypeError) as err:
            reply = Reply(400, bad_request(f"Invalid request: {err}").body())
        reply.pretty = params.get("prettyPrint", ["true"])[-1].lower() != "false"
        if fault is not None and fault.drop:
            self.close_connection = True  # no answer at all: the client sees the line go
            return
        self._send(reply, fault)

    def _send(self, reply: Reply, fault: Fault | None = None) -> None:
        payload = reply.payload()
        length = len(payload)
        if fault is not None and (fault.truncate or fault.cut):
            payload = payload[: len(payload) // 2]
            length = length if fault.cut else len(payload)
            self.close_connection = fault.cut
        self.send_response(reply.status)
        content_type = reply.content_type
        if content_type == "application/json":
            content_type += "; charset=UTF-8"
        self.send_header("Content-Type", "text/html" if reply.status == 204 else content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _json(self, body: bytes) -> dict[str, Any]:
        if not body.strip():
            return {}
        try:
            data = json.loads(body)
        except ValueError:
            raise bad_request("Invalid JSON payload received.") from None
        if not isinstance(data, dict):
            raise bad_request("Invalid JSON payload received. Expected an object.")
        return data

    def _origin(self) -> str:
        address: Any = self.server.server_address
        return f"http://{address[0]}:{address[1]}"

    # -- control endpoints -------------------------------------------------------------

    def _control(self, method: str, path: str, body: bytes) -> Reply:
        state = self.state
        if (method, path) == ("POST", "/token"):
            return Reply(200, state.authority.grant(body, self._origin() + "/token"))
        if (method, path) == ("GET", "/_emulator/service-account.json"):
            return Reply(200, state.authority.service_account(self._origin() + "/token"))
        if (method, path) == ("GET", "/_emulator/stats"):
            with state.lock:
                return Reply(200, {"reads": state.reads, "writes": state.writes})
        if (method, path) == ("POST", "/_emulator/stats/reset"):
            with state.lock:
                state.reads = state.writes = 0
            return Reply(200, {"reads": 0, "writes": 0})
        if (method, path) == ("POST", "/_emulator/faults"):
            spec = self._json(body)
            with state.lock:
                if spec.get("clear"):
                    state.faults.clear()
                else:
                    state.faults.append(Fault.parse(spec))
                return Reply(200, {"pending": sum(f.count for f in state.faults)})
        if (method, path) == ("POST", "/_emulator/share"):
            spec = self._json(body)
            with state.lock:
                book = state.books.get(str(spec.get("spreadsheet")))
                if book is None:
                    raise not_found()
                book.shared = bool(spec.get("shared", True))
            return Reply(200, {"spreadsheet": book.spreadsheet_id, "shared": book.shared})
        prefix = "/_emulator/spreadsheets/"
        if path.startswith(prefix):
            name = unquote(path[len(prefix) :])
            if method == "PUT":
                return self._upload(name, body)
            if method == "GET" and name.endswith(".xlsx"):
                with state.lock:
                    book = state.books.get(name[: -len(".xlsx")])
                    if book is None:
                        raise not_found()
                    return Reply(200, content_type=XLSX, raw=export_workbook(book))
        raise not_found()

    def _upload(self, spreadsheet_id: str, data: bytes) -> Reply:
        state = self.state
        with state.lock:
            old = state.books.get(spreadsheet_id)
            title = old.properties["title"] if old else spreadsheet_id
            try:
                book = import_workbook(data, spreadsheet_id, title, now_iso())
            except Exception as err:  # openpyxl raises many kinds for a bad file
                raise bad_request(f"Not an .xlsx workbook: {err}") from None
            if old is not None:
                book.created, book.shared = old.created, old.shared
            state.books[spreadsheet_id] = book
            return Reply(200, book.metadata())

    # -- the API -----------------------------------------------------------------------

    def _api(
        self, method: str, path: str, params: dict[str, list[str]], body: bytes
    ) -> tuple[Reply, Fault | None]:
        state = self.state
        header = self.headers.get("Authorization")
        if not state.authorised(header):
            return Reply(401, unauthenticated(missing=not header)), None
        writing = method != "GET"
        fault = state.next_fault()
        if fault is not None:
            if fault.delay:
                state.stopping.wait(fault.delay)
            if fault.status is not None:
                reply = Reply(fault.status, fault_error(fault.status, writing).body())
                if fault.retry_after is not None:
                    reply.headers["Retry-After"] = str(fault.retry_after)
                return reply, fault
        with state.lock:
            if path.startswith("/drive/v3/files"):
                return self._drive(method, path[len("/drive/v3/files") :], params, body), fault
            if path.startswith("/v4/spreadsheets"):
                if writing:
                    state.writes += 1
                else:
                    state.reads += 1
                return self._sheets(method, path[len("/v4/spreadsheets") :], params, body), fault
        raise not_found()

    def _drive(self, method: str, rest: str, params: dict[str, list[str]], body: bytes) -> Reply:
        books = self.state.books
        if method == "POST" and rest in ("", "/"):
            spec = self._json(body)
            name = str(spec.get("name", "Untitled spreadsheet"))
            created = Spreadsheet.blank(new_spreadsheet_id(), name, now_iso())
            books[created.spreadsheet_id] = created
            return Reply(
                200,
                {
                    "kind": "drive#file",
                    "id": created.spreadsheet_id,
                    "name": name,
                    "mimeType": SPREADSHEET_MIME,
                },
            )
        file_id = unquote(rest.lstrip("/"))
        found = books.get(file_id)
        if found is None or not found.shared:
            return drive_not_found(file_id)
        book = found
        if method == "DELETE":
            del books[file_id]
            return Reply(204)
        if method == "GET":
            info = {
                "kind": "drive#file",
                "id": file_id,
                "name": book.properties["title"],
                "mimeType": SPREADSHEET_MIME,
                "createdTime": book.created,
                "modifiedTime": book.modified,
            }
            fields = params.get("fields", ["kind,id,name,mimeType"])[-1]
            return Reply(200, select(info, parse_fields(fields)))
        raise not_found()

    def _sheets(self, method: str, rest: str, params: dict[str, list[str]], body: bytes) -> Reply:
        if method == "POST" and rest in ("", "/"):
            spec = self._json(body)
            title = spec.get("properties", {}).get("title", "Untitled spreadsheet")
            created = Spreadsheet.blank(new_spreadsheet_id(), title, now_iso())
            self.state.books[created.spreadsheet_id] = created
            return Reply(200, created.metadata())
        head, _, tail = rest.lstrip("/").partition("/")
        spreadsheet_id, _, action = head.partition(":")
        found = self.state.books.get(unquote(spreadsheet_id))
        if found is None:
            raise not_found()
        book = found
        if not book.shared:
            raise permission_denied()
        if method == "GET" and not tail and not action:
            meta = book.metadata()
            ranges = params.get("ranges", [])
            if ranges:
                wanted = {book.resolve(r)[0].sheet_id for r in ranges}
                meta["sheets"] = [s for s in meta["sheets"] if s["properties"]["sheetId"] in wanted]
            mask = parse_fields(params["fields"][-1]) if params.get("fields") else None
            if sheets_grid.wants_grid(params, mask):
                sheets_grid.add_grid_data(book, meta, ranges, mask)
            if mask is not None:
                meta = select(meta, mask)
            return Reply(200, meta)
        snapshot = Snapshot(book) if method != "GET" else None
        try:
            result = self._values(book, method, action, tail, params, body)
        except ApiError:
            if snapshot is not None:
                snapshot.restore()  # all or nothing, as Google applies a request
            raise
        if snapshot is not None:
            book.modified = now_iso()
        return Reply(200, result)

    def _values(
        self,
        book: Spreadsheet,
        method: str,
        action: str,
        tail: str,
        params: dict[str, list[str]],
        body: bytes,
    ) -> dict[str, Any]:
        if method == "POST" and action == "batchUpdate" and not tail:
            return sheets_requests.batch_update(book, self._json(body))
        route = {
            ("GET", "values:batchGet"): lambda: sheets_values.batch_get(book, params),
            ("POST", "values:batchUpdate"): lambda: sheets_values.batch_update(
                book, self._json(body)
            ),
            ("POST", "values:batchClear"): lambda: sheets_values.batch_clear(
                book, self._json(body)
            ),
        }.get((method, tail))
        if route is not None:
            return route()
        if not tail.startswith("values/"):
            raise not_found()
        text, verb = tail[len("values/") :], ""
        for suffix in (":append", ":clear"):
            if text.endswith(suffix):
                text, verb = text[: -len(suffix)], suffix[1:]
        text = unquote(text)
        if method == "GET" and not verb:
            return sheets_values.get(book, text, params)
        if method == "PUT" and not verb:
            return sheets_values.update(book, text, self._json(body), params)
        if method == "POST" and verb == "append":
            return sheets_values.append(book, text, self._json(body), params)
        if method == "POST" and verb == "clear":
            return sheets_values.clear(book, text)
        raise not_found()
