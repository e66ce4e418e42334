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
        try:
            secure_dir(self.directory)
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
