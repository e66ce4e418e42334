"""The outbox transport: each message becomes an .eml file in a folder (the default)."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from automation.errors import DeliveryError
from automation.ledger import secure_dir


class Outbox:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def open(self) -> None:
        link = _dangling_link(self.directory)
        if link is not None:
            # not created at the link's target: a drive not mounted today would get the mail
            raise DeliveryError(
                f"{link} (mail.outbox_dir) is a symbolic link to {os.readlink(link)}, which "
                "does not exist; create that folder (or mount the drive it is on), or set "
                "mail.outbox_dir to a folder that exists")
        try:
            secure_dir(self.directory)
        except PermissionError as err:
            raise DeliveryError(
                f"{err.filename or self.directory}: this user may not create or write the "
                "outbox folder (mail.outbox_dir); make it writable or set mail.outbox_dir to "
                "another folder") from err
        except OSError as err:
            raise DeliveryError(f"{self.directory}: cannot create the outbox folder "
                                f"({err.strerror})") from err

    def send(self, data: bytes, sender: str, recipients: list[str], name: str) -> None:
        """Write atomically, so a reader never sees half a message."""
        digest = hashlib.sha256(f"{name}\n{','.join(recipients)}".encode()).hexdigest()[:10]
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80]
        target = self.directory / f"{safe}-{digest}.eml"
        try:
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except OSError as err:
            raise DeliveryError(f"{target}: cannot write to the outbox ({err.strerror})") from err

    def close(self) -> None:
        pass


def _dangling_link(path: Path) -> Path | None:
    """The folder itself or the first folder above it that is a link to nothing."""
    for candidate in (path, *path.parents):
        if candidate.is_symlink() and not candidate.exists():
            return candidate
        if candidate.exists():
            return None
    return None
