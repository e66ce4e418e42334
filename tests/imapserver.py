"""A real IMAP server on 127.0.0.1 for tests and benches: Dovecot from Debian's packages
(``apt-get install dovecot-imapd``; .ci/run installs it), started with a configuration of
its own in a temporary folder, so that no system file is read or touched.

    certificates = make_certificates(folder)
    with IdentityEndpoint(certificates.cert, certificates.key) as identity, \\
            ImapServer(certificates, identity=identity) as server:
        server.add_user("sekretariat", password="hemmelig")       # a password login
        identity.register_app(TENANT, CLIENT_ID, secret="s3cret")
        identity.grant_mailbox(CLIENT_ID, "postkasse@kommune.dk")
        server.add_user("postkasse@kommune.dk")                   # XOAUTH2 only
        uid = server.append("sekretariat", raw_bytes, flags=("\\\\Seen",))
        server.messages("sekretariat")   # [(uid, flags, bytes)], read without \\Seen

- ``server.port``: IMAPS (TLS from the first byte); ``server.starttls_port``: IMAP with
  STARTTLS (Dovecot counts a client on 127.0.0.1 as secured, so it would take a login
  before STARTTLS too; the client must not depend on a refusal). The certificate is the test CA's
  (``certificates.cert``), so clients trust ``certificates.ca``.
- Password users: Dovecot's ``passwd-file`` passdb (PLAIN, LOGIN). Users added without a
  password log in only with SASL ``XOAUTH2`` (offered only when the server has an
  ``identity`` endpoint or ``google``), checked by Dovecot's ``oauth2`` passdb,
  which asks the identity endpoint's introspection URL about every token (RFC 7662,
  ``introspection_mode = post``, no cache): accepted iff the endpoint issued it, it has
  not expired (``identity.expire_all()``) and the app was granted that mailbox — the
  introspection answer's ``upn`` must be the user the client names. With ``google`` (the
  Sheets API emulator's address) a second oauth2 passdb asks its ``/tokeninfo``, as Gmail
  would decide: a token the emulator issued, unexpired, with the scope
  https://mail.google.com/, acting as (``email``) the user the client names.
- ``NO_KEYWORDS``: a folder every user has (after ``add_user``) where the user's rights
  (Dovecot's ``acl`` plugin: ``lrsti``, no ``w``) allow ``\\Seen`` and ``\\Deleted``
  only: its PERMANENTFLAGS are ``(\\Deleted \\Seen)``, as a server without keyword
  support answers, and a STORE of ``$rygrad`` changes nothing.
- ``kick(user)``: the server drops that user's sessions (``doveadm kick``): a connection
  lost between commands. ``CuttingProxy(server.port, after=n)``: one lost in the middle
  of an answer, after n bytes. ``stop()`` ends the whole server.
- The helpers (``append``, ``messages``, ``create_folder``) log in as a master user
  (``user*harness``), so they work for the XOAUTH2 users too.

As root, Dovecot runs its login processes as the package's ``dovenull`` user and the
mail processes as its ``dovecot`` user (it refuses root for mail access); the folder is
made readable for them. As another user, everything runs as that user. The folder is
removed on ``stop()``; until then ``log`` holds Dovecot's log (authentication too).
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.emulators.certificates import HOST, Certificates, make_certificates
from tests.emulators.identity import IdentityEndpoint

if TYPE_CHECKING:
    from tests.emulators.sheets_emulator import Emulator

__all__ = ["HOST", "NO_KEYWORDS", "TENANT", "CuttingProxy", "ImapServer", "dovecot_missing",
           "imap_certificates", "imap_google", "imap_identity", "imap_server",
           "skip_without_dovecot"]

DOVECOT = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"
NO_KEYWORDS = "Uden-noegleord"  # the folder without keyword support
MASTER = "harness"  # the master user the helpers log in as
BOUND = 30.0  # seconds: a bound against hanging, never a measurement


def dovecot_missing() -> str:
    """Why Dovecot cannot run here, or "" when it can."""
    if not os.access(DOVECOT, os.X_OK):
        return "Dovecot is not installed (apt-get install dovecot-imapd)"
    return ""


def skip_without_dovecot() -> None:
    """Skip the test without Dovecot, unless RYGRAD_TEST_DOVECOT_REQUIRED=1 (CI) makes
    that a failure."""
    reason = dovecot_missing()
    if not reason:
        return
    if os.environ.get("RYGRAD_TEST_DOVECOT_REQUIRED") == "1":
        pytest.fail(reason + ", and RYGRAD_TEST_DOVECOT_REQUIRED=1")
    pytest.skip(reason)


class ImapServer:
    """Dovecot on 127.0.0.1, IMAPS and STARTTLS, password and XOAUTH2 users."""

    def __init__(self, certificates: Certificates, identity: IdentityEndpoint | None = None,
                 tenant: str = "kommune.onmicrosoft.com", google: str = "") -> None:
        self.certificates = certificates
        self.identity = identity
        self.google = google.rstrip("/")
        self.tenant = tenant
        self.port = 0
        self.starttls_port = 0
        self.folder = Path()
        self._process: subprocess.Popen[bytes] | None = None
        self._master_password = os.urandom(12).hex()
        self._users: list[str] = []
        self._stamp = int(time.time())
        root = os.geteuid() == 0
        account = pwd.getpwnam("dovecot") if root else pwd.getpwuid(os.geteuid())
        self._uid, self._gid = account.pw_uid, account.pw_gid
        me = pwd.getpwuid(os.geteuid()).pw_name
        self._login_user = "dovenull" if root else me
        self._internal_user = "dovecot" if root else me

    @property
    def host(self) -> str:
        return HOST

    @property
    def config(self) -> Path:
        return self.folder / "dovecot.conf"

    @property
    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    # -- running --------------------------------------------------------------------------

    def start(self) -> ImapServer:
        self.folder = Path(tempfile.mkdtemp(prefix="rygrad-dovecot-"))
        self.folder.chmod(0o755)  # the mail and login processes run as other users
        for name in ("base", "state", "mail"):
            (self.folder / name).mkdir()
        os.chown(self.folder / "mail", self._uid, self._gid)
        shutil.copy(self.certificates.cert, self.folder / "server.pem")
        shutil.copy(self.certificates.key, self.folder / "server.key")
        shutil.copy(self.certificates.ca, self.folder / "ca.pem")
        (self.folder / "server.key").chmod(0o600)
        (self.folder / "passwords").mkdir()
        (self.folder / "masters").write_text(f"{MASTER}:{{PLAIN}}{self._master_password}\n")
        # the helpers act with the master user's rights (Dovecot checks ACLs for it)
        (self.folder / "acl").write_text(f"{NO_KEYWORDS} owner lrsti\n"
                                         f"* user={MASTER} lrwstipekxa\n")
        for attempt in range(3):  # a free port may be taken between the probe and the bind
            self.port, self.starttls_port = _free_port(), _free_port()
            self._write_config()
            if self._launch():
                break
            if attempt == 2:
                self.stop()
                raise RuntimeError(f"dovecot did not start:\n{self.log[-3000:]}")
        for user in self._users:
            self._prepare(user)
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=BOUND)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self.folder != Path() and self.folder.exists():
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> ImapServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _launch(self) -> bool:
        log = (self.folder / "dovecot.stderr").open("ab")
        self._process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.config)],
                                         stdout=log, stderr=log, start_new_session=True,
                                         preexec_fn=_end_with_parent)
        log.close()
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            if _listening(self.port) and _listening(self.starttls_port):
                return True
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not listen within {BOUND:g} s:\n{self.log[-3000:]}")

    def _write_config(self) -> None:
        folder = self.folder
        oauth = ""
        if self.identity is not None:
            (folder / "oauth2.conf").write_text(
                "introspection_mode = post\n"
                f"introspection_url = {self.identity.introspection_url(self.tenant)}\n"
                "force_introspection = yes\n"
                "username_attribute = upn\n"
                "active_attribute = active\n"
                "active_value = true\n"
                f"tls_ca_cert_file = {folder / 'ca.pem'}\n"
                "timeout_msecs = 10000\n")
            oauth = (f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                     f"  args = {folder / 'oauth2.conf'}\n}}\n")
        if self.google:
            # Gmail's way: Google's tokeninfo names the user (email) and the scopes
            (folder / "google.conf").write_text(
                f"tokeninfo_url = {self.google}/tokeninfo?access_token=\n"
                "username_attribute = email\n"
                "scope = https://mail.google.com/\n"
                "timeout_msecs = 10000\n")
            oauth += (f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                      f"  args = {folder / 'google.conf'}\n}}\n")
        self.config.write_text(f"""\
base_dir = {folder / 'base'}
state_dir = {folder / 'state'}
instance_name = rygrad-test-{folder.name}
log_path = {folder / 'dovecot.log'}
protocols = imap
listen = {HOST}
ssl = required
ssl_cert = <{folder / 'server.pem'}
ssl_key = <{folder / 'server.key'}
default_login_user = {self._login_user}
default_internal_user = {self._internal_user}
mail_uid = {self._uid}
mail_gid = {self._gid}
first_valid_uid = {self._uid}
first_valid_gid = {self._gid}
mail_location = maildir:~/Maildir
mail_plugins = $mail_plugins acl
plugin {{
  acl = vfile:{folder / 'acl'}
}}
auth_mechanisms = plain login{' xoauth2 oauthbearer' if oauth else ''}
auth_master_user_separator = *
auth_verbose = yes
auth_cache_size = 0
imap_max_line_length = 1M
passdb {{
  driver = passwd-file
  master = yes
  args = scheme=PLAIN {folder / 'masters'}
}}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN {folder / 'passwords'}/%Lu
}}
{oauth}userdb {{
  driver = static
  args = uid={self._uid} gid={self._gid} home={folder / 'mail'}/%Lu allow_all_users=yes
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {HOST}
    port = {self.starttls_port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {self.port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
""")

    # -- users ----------------------------------------------------------------------------

    def add_user(self, user: str, password: str | None = None) -> str:
        """A mailbox; with a password it logs in with one, else only with XOAUTH2.
        Gives the user's name."""
        user = user.lower()
        if "/" in user or user.startswith("."):
            raise ValueError(f"{user!r} cannot name a file")
        if password is not None:
            if ":" in password or "\n" in password:
                raise ValueError("a passwd-file password cannot hold ':' or a line break")
            # one file per user: Dovecot re-reads a changed passwd-file only once its
            # mtime moved on by a whole second, so one growing file would need sleeps
            (self.folder / "passwords" / user).write_text(f"{user}:{{PLAIN}}{password}\n",
                                                          encoding="utf-8")
        self._users.append(user)
        self._prepare(user)
        return user

    def _prepare(self, user: str) -> None:
        with self._session(user) as imap:
            _ok(imap.create(NO_KEYWORDS), "CREATE")

    # -- what is in a mailbox -------------------------------------------------------------

    def append(self, user: str, raw: bytes, flags: Iterable[str] = (),
               folder: str = "INBOX", when: datetime | None = None) -> int:
        """Put one message in the folder (IMAP APPEND; ``when``: its INTERNALDATE, what
        SEARCH SINCE looks at); its UID."""
        with self._session(user) as imap:
            listed = f"({' '.join(flags)})" if flags else None
            stamp = imaplib.Time2Internaldate(when) if when else None
            typ, data = imap.append(_quote(folder), listed, stamp, raw)
            _ok((typ, data), "APPEND")
            found = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            assert found, data
            return int(found.group(1))

    def append_many(self, user: str, messages: Iterable[bytes], folder: str = "INBOX"
                    ) -> list[int]:
        """Many messages over one session (for benches and batch tests); their UIDs."""
        uids = []
        with self._session(user) as imap:
            for raw in messages:
                typ, data = imap.append(_quote(folder), None, None, raw)
                _ok((typ, data), "APPEND")
                found = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
                assert found, data
                uids.append(int(found.group(1)))
        return uids

    def messages(self, user: str, folder: str = "INBOX"
                 ) -> list[tuple[int, frozenset[str], bytes]]:
        """Every message as (uid, flags, bytes), read with BODY.PEEK (\\Seen unchanged);
        \\Recent is left out (it depends on who looked first)."""
        with self._session(user) as imap:
            _ok(imap.select(_quote(folder), readonly=True), "EXAMINE")
            typ, data = imap.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
            _ok((typ, data), "FETCH")
        found = []
        for item in data:
            if not isinstance(item, tuple):
                continue
            head = item[0].decode("ascii", "replace")
            uid = re.search(r"UID (\d+)", head)
            flags = re.search(r"FLAGS \(([^)]*)\)", head)
            assert uid and flags, head
            names = frozenset(f for f in flags.group(1).split() if f != "\\Recent")
            found.append((int(uid.group(1)), names, item[1]))
        return sorted(found)

    def create_folder(self, user: str, folder: str) -> None:
        with self._session(user) as imap:
            _ok(imap.create(_quote(folder)), "CREATE")

    def kick(self, user: str) -> bool:
        """The server ends the user's sessions ('* BYE', and the connection closes);
        False when the user had none."""
        done = subprocess.run([DOVEADM, "-c", str(self.config), "kick", user.lower()],
                              capture_output=True, text=True, timeout=BOUND)
        if done.returncode not in (0, 68):  # 68: EX_NOUSER, nobody was logged in
            raise RuntimeError(f"doveadm kick: {done.stderr.strip()}")
        # kick only signals the sessions' processes, which end in their own time: wait
        # until they have, so that the client's next command meets a closed connection
        deadline = time.monotonic() + BOUND
        while self._sessions(user) and time.monotonic() < deadline:
            time.sleep(0.02)
        return done.returncode == 0

    def _sessions(self, user: str) -> int:
        who = subprocess.run([DOVEADM, "-c", str(self.config), "who", "-1", user.lower()],
                             capture_output=True, text=True, timeout=BOUND)
        return sum(1 for line in who.stdout.splitlines()[1:] if line.strip())

    def _session(self, user: str) -> _Session:
        return _Session(self, user)


class CuttingProxy:
    """A TCP relay to one of the server's ports that hangs up on the client once the
    server has sent ``after`` bytes down to it: a connection lost in the middle of an
    answer (TLS passes through untouched; the cut lands inside a record).

        with CuttingProxy(server.port, after=200_000) as proxy:   # proxy.port
            ...
    """

    def __init__(self, port: int, after: int) -> None:
        self.upstream, self.after = port, after
        self.relayed = 0  # bytes the server sent down, up to the cut
        self._listener = socket.create_server((HOST, 0))
        self.port = int(self._listener.getsockname()[1])
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []

    def __enter__(self) -> CuttingProxy:
        thread = threading.Thread(target=self._accept, daemon=True, name="cutting-proxy")
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
        for thread in self._threads:
            thread.join(timeout=BOUND)

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return  # closed before anyone came
        server = socket.create_connection((HOST, self.upstream))
        self._sockets += [client, server]
        up = threading.Thread(target=self._pump, args=(client, server, None), daemon=True)
        up.start()
        self._threads.append(up)
        self._pump(server, client, self.after)

    def _pump(self, source: socket.socket, sink: socket.socket, limit: int | None) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if limit is not None:
                    data = data[:limit - self.relayed]
                    self.relayed += len(data)
                sink.sendall(data)
                if limit is not None and self.relayed >= limit:
                    break
        except OSError:
            pass
        for sock in (source, sink):  # both ways end together, like a dropped line
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Session:
    """A helper's own IMAP session, as the master user acting as ``user``."""

    def __init__(self, server: ImapServer, user: str) -> None:
        self.server, self.user = server, user
        self.imap: imaplib.IMAP4_SSL | None = None

    def __enter__(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.server.certificates.ca))
        self.imap = imaplib.IMAP4_SSL(HOST, self.server.port, ssl_context=context,
                                      timeout=BOUND)
        self.imap.login(f"{self.user}*{MASTER}", self.server._master_password)
        return self.imap

    def __exit__(self, *exc: object) -> None:
        if self.imap is not None:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                self.imap.logout()


def _end_with_parent() -> None:
    """In the child before exec: Linux sends it SIGTERM when the test process dies, so a
    killed pytest leaves no Dovecot behind (it stops its own processes on SIGTERM)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG


def _ok(result: tuple[str, list], what: str) -> None:
    typ, data = result
    if typ != "OK" and not (what == "CREATE" and b"ALREADYEXISTS" in (data[0] or b"")):
        raise AssertionError(f"{what}: {typ} {data!r}")


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


# -- fixtures (tests/conftest.py makes them everyone's) --------------------------------------

TENANT = "kommune.onmicrosoft.com"


@pytest.fixture(scope="session")
def imap_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("imap-certs"))


@pytest.fixture(scope="session")
def imap_identity(imap_certificates: Certificates) -> Iterator[IdentityEndpoint]:
    """The Entra ID endpoint Dovecot asks about XOAUTH2 tokens (one for the session)."""
    with IdentityEndpoint(imap_certificates.cert, imap_certificates.key,
                          tenants=(TENANT,)) as identity:
        yield identity


@pytest.fixture(scope="session")
def imap_google() -> Iterator[Emulator]:
    """The Sheets API emulator as Google's token and tokeninfo endpoints, for Gmail-style
    XOAUTH2 logins (``imap_google.state.authority`` issues and checks the tokens)."""
    from tests.emulators import start_emulator

    with start_emulator() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def imap_server(imap_certificates: Certificates, imap_identity: IdentityEndpoint,
                imap_google: Emulator) -> Iterator[ImapServer]:
    """One Dovecot for the session; each test adds users of its own (``add_user``), so
    tests do not see each other's mail. XOAUTH2 takes tokens from ``imap_identity``
    (Microsoft) and from ``imap_google``. Skipped without Dovecot unless
    RYGRAD_TEST_DOVECOT_REQUIRED=1."""
    skip_without_dovecot()
    with ImapServer(imap_certificates, identity=imap_identity, tenant=TENANT,
                    google=imap_google.base_url) as server:
        yield server
