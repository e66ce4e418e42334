"""Files rygrad shares with people: a file it rewrites keeps who may use it, and a
secret file it reads should be its owner's alone (README, "Templates").

A workbook on a shared folder is rewritten as a new file renamed over the old one
(sheets/xlsx.py): the new file is the worker's, with its mode and its group, unless it
is given the old one's. A password or key file that others can read is a leak waiting
to happen; rygrad says so, and goes on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from automation.errors import ConfigError

log = logging.getLogger("rygrad")


def keep_access(new: Path, old: os.stat_result) -> None:
    """Give ``new`` the owner, group and mode of the file it replaces (``old``).

    Colleagues who could write the workbook through its group still can. Only root may
    give a file away; another user can still set a group it belongs to, else the file
    keeps the user's own. The mode is set last: chown clears setuid and setgid bits.
    """
    with contextlib.suppress(PermissionError):
        try:
            os.chown(new, old.st_uid, old.st_gid)
        except PermissionError:
            os.chown(new, -1, old.st_gid)
    os.chmod(new, stat.S_IMODE(old.st_mode))


def check_secret_file(path: Path, key: str) -> None:
    """Warn, once per process and file, when group or others may read a secret file.

    ``key`` is the config key (or environment variable) that names it. The run goes on:
    refusing would stop the mail over what is a risk, not yet a leak.
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # the reader says why it cannot read it, in its own words
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        _warn(str(path), key, stat.S_IMODE(mode))


def read_secret_file(path: Path, key: str) -> str:
    """The text of a secret file that config ``key`` names (a password, a client secret,
    a key), with the warning above; one sentence when it cannot be read. Whether empty
    text (or a final newline) counts is the caller's to say."""
    check_secret_file(path, key)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
        raise ConfigError(f"{key}: cannot read {path} ({reason})") from None


def secret_from_env(environ: Mapping[str, str], name: str, key: str) -> str:
    """The secret in environment variable ``name`` (config ``key`` names it), not empty."""
    secret = environ.get(name, "")
    if not secret:
        raise ConfigError(f"{key}: the environment variable {name} is not set or empty")
    return secret


@cache
def _warn(path: str, key: str, mode: int) -> None:
    log.warning("%s (%s) can be read by %s (mode %04o); it holds a secret: make it "
                "readable by its owner only with `chmod 600 %s`", path, key,
                "everyone" if mode & stat.S_IROTH else "its group", mode, path)
