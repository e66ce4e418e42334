"""A local emulator of the Google Sheets API v4 (and the bit of Drive v3 gspread uses).

    python -m tests.emulators.sheets_emulator --port 8765 [--host 127.0.0.1]

One origin serves ``/v4/spreadsheets…`` (Sheets), ``/drive/v3/files…`` (Drive),
``POST /token`` (OAuth, the service-account JWT grant) and ``/_emulator/…`` (control:
``service-account.json``, ``PUT``/``GET spreadsheets/{id}[.xlsx]``, ``stats``,
``stats/reset``, ``faults``, ``share``). Its responses are checked against Google's
real ones by ``tests/emulators/sheets_replay.py`` in the normal test run
(``tests/test_cassettes.py``); the recordings it must match are kept in
``tests/cassettes``.

API requests need ``Authorization: Bearer <token>`` with a token from ``/token``.
Replay mode (the command line's default; ``--strict`` turns it off; ``start_emulator``'s
``replay=True`` turns it on) also serves what the recordings assume of Google: it
accepts the replay tool's fixed token ``replay``, and it holds gspread's test
spreadsheet ``PRIVATE_SPREADSHEET`` as one that exists but is not shared with the caller.

Pointing the real gspread client at the emulator: gspread 6.2.1 builds every URL from
the constants in ``gspread.urls`` (``https://sheets.googleapis.com/v4/spreadsheets``
and ``https://www.googleapis.com/drive/v3/files``) at import time, so patching them is
fragile. Instead mount a ``requests`` transport adapter on the client's session that
rewrites the Google origins to the emulator's and leaves everything else alone::

    class OriginAdapter(requests.adapters.HTTPAdapter):
        def __init__(self, base):
            super().__init__()
            self.base = base.rstrip("/")

        def send(self, request, **kwargs):
            for origin in ("https://sheets.googleapis.com", "https://www.googleapis.com"):
                if request.url.startswith(origin):
                    request.url = self.base + request.url[len(origin):]
            return super().send(request, **kwargs)

    key = requests.get(f"{base}/_emulator/service-account.json").json()
    client = gspread.service_account_from_dict(key)
    for origin in ("https://sheets.googleapis.com/", "https://www.googleapis.com/"):
        client.http_client.session.mount(origin, OriginAdapter(base))

The key's ``token_uri`` is the emulator's ``/token``, so google-auth's refresh goes
there unchanged. The same adapter with ``sheet.api_base`` as ``base`` is how the
google backend reaches another Sheets API origin.
"""

from __future__ import annotations

import argparse
import sys
import threading
from http.server import ThreadingHTTPServer
from typing import Any

from tests.emulators.sheets_http import Handler
from tests.emulators.sheets_model import Spreadsheet
from tests.emulators.sheets_state import State, now_iso

REPLAY_TOKEN = "replay"
# gspread's tests open this key expecting 403: it exists, but not for the test account.
PRIVATE_SPREADSHEET = "1jIKzPs8LsiZZdLdeMEP-5ZIHw6RkjiOmj1LrJN706Yc"


class Emulator:
    """A running emulator; ``with start_emulator() as emu: … emu.base_url …``."""

    def __init__(self, server: ThreadingHTTPServer, state: State):
        self.server, self.state = server, state
        host, port = server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        # a short poll: stop() waits up to one interval for serve_forever to notice, and
        # tests start and stop an emulator each (0.5 s, the default, was most of a test)
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name="sheets-emulator",
        )
        self._thread.start()

    def stop(self) -> None:
        self.state.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that went away mid-answer (a killed worker) is not the server's fault;
        # like Google, say nothing; anything else is still printed
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def make_server(host: str, port: int, replay: bool = False) -> tuple[ThreadingHTTPServer, State]:
    state = State(static_tokens=frozenset({REPLAY_TOKEN} if replay else ()))
    if replay:
        private = Spreadsheet.blank(PRIVATE_SPREADSHEET, "Private", now_iso())
        private.shared = False
        state.books[PRIVATE_SPREADSHEET] = private
    handler = type("EmulatorHandler", (Handler,), {"state": state})
    return EmulatorServer((host, port), handler), state


def start_emulator(host: str = "127.0.0.1", port: int = 0, replay: bool = False) -> Emulator:
    """Serve in a background thread; port 0 picks a free port (see ``base_url``)."""
    return Emulator(*make_server(host, port, replay))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--strict",
        action="store_true",
        help=f"no replay mode: refuse the fixed token '{REPLAY_TOKEN}' and "
        "hold no recorded fixtures",
    )
    args = parser.parse_args(argv)
    server, _ = make_server(args.host, args.port, replay=not args.strict)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
