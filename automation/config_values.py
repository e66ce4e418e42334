"""Reading values out of the TOML config: typed access where every failure names the
file and key, paths relative to the config's folder, and the small parsers for values
written as text (a send window's end, a list of days, the ledger's address).

Separate from config.py so that it reads as the settings, their defaults and what
each section allows; nothing here knows a settings class.
"""

from __future__ import annotations

import codecs
import os
import re
import tomllib
from datetime import time
from pathlib import Path
from typing import Any

from automation.errors import ConfigError

DAY_ABBREVIATIONS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# "C:\new\table.xlsx" in double quotes is valid TOML: its \n and \t became a line break
# and a tab, which no real path holds
_PATH_ESCAPES = re.compile(r"[\x00-\x1f]")
WINDOWS_PATH_HINT = ("in double quotes a backslash starts an escape (\\n, \\t, \\U …): "
                     "write Windows paths with / (\"C:/Users/anne/initiative.xlsx\") or in "
                     "single quotes ('C:\\Users\\anne\\initiative.xlsx')")


def decode(raw: bytes, path: Path) -> str:
    """The config file's text: UTF-8, with or without the byte-order mark that Windows
    Notepad writes. Anything else is one sentence that says to save it as UTF-8."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in raw:
        found = "UTF-16"
    else:
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            found = "Latin-1 (or another legacy encoding)"
    raise ConfigError(f"{path}: the config file is saved as {found}, not UTF-8; save the "
                      "file as UTF-8 (in Notepad: Save as → Encoding: UTF-8) and try again")


def toml_error(path: Path, raw: bytes, err: tomllib.TOMLDecodeError) -> str:
    """`path, line 3: not valid TOML: …`, with a hint for a Windows path in "…"."""
    match = re.fullmatch(r"(.*?)\s*\(at line (\d+), column (\d+)\)", str(err), re.S)
    if not match:
        reason = re.sub(r"\s*\((at end of document)\)$", r" \1", str(err))
        return f"{path}: not valid TOML: {reason[:1].lower()}{reason[1:]}"
    reason, number = match[1], int(match[2])
    message = f"{path}, line {number}: not valid TOML: {reason[:1].lower()}{reason[1:]}"
    lines = raw.decode("utf-8-sig", "replace").splitlines()
    line = lines[number - 1] if 0 < number <= len(lines) else ""
    if re.search(r'"[^"]*\\', line):
        message += f"; {WINDOWS_PATH_HINT}"
    return message


class Reader:
    """Typed access to TOML values; every failure names the file and key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, message: str) -> None:
        raise ConfigError(f"{self.path}: [{key}] {message}" if "." not in key
                          else f"{self.path}: {key}: {message}")

    def section(self, name: str, value: Any, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(name, "must be a table, e.g. [" + name + "]")
        for key in value:
            if key not in allowed:
                hint = _closest(key, allowed)
                self.fail(f"{name}.{key}", "unknown key" + (f"; did you mean {hint}?" if hint
                          else f"; allowed: {', '.join(sorted(allowed))}"))
        return dict(value)

    def string(self, section: dict[str, Any], key: str, default: str | None = None) -> str:
        name = key.rsplit(".", 1)[1]
        if name not in section:
            if default is None:
                self.fail(key, "is required")
            return default or ""
        value = section[name]
        if not isinstance(value, str):
            self.fail(key, f"must be text in quotes, not {value!r}")
        return str(value)

    def choice(self, section: dict[str, Any], key: str, default: str, allowed: tuple[str, ...]
               ) -> str:
        value = self.string(section, key, default)
        if value not in allowed:
            self.fail(key, f"{value!r} is not allowed; use one of: {', '.join(allowed)}")
        return value

    def integer(self, section: dict[str, Any], key: str, default: int, minimum: int = 0) -> int:
        value = section.get(key.rsplit(".", 1)[1], default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"must be a whole number, not {value!r}")
        if value < minimum:
            self.fail(key, f"must be at least {minimum}, not {value}")
        return int(value)

    def number(self, section: dict[str, Any], key: str, default: float) -> float:
        value = section.get(key.rsplit(".", 1)[1], default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            self.fail(key, f"must be a number ≥ 0, not {value!r}")
        return float(value)

    def boolean(self, section: dict[str, Any], key: str, default: bool) -> bool:
        value = section.get(key.rsplit(".", 1)[1], default)
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, not {value!r}")
        return bool(value)

    def location(self, section: dict[str, Any], key: str, base: Base, default: str = ""
             ) -> Path | None:
        """A path relative to the config's folder (``~`` is the home folder); None if empty."""
        value = self.string(section, key, default)
        if not value:
            return None
        if _PATH_ESCAPES.search(value):
            self.fail(key, f"{value!r} holds a line break or a tab; {WINDOWS_PATH_HINT}")
        return base / value

    def clock(self, section: dict[str, Any], key: str, default: str) -> time:
        value = self.string(section, key, default)
        match = re.fullmatch(r"(\d{1,2})[:.](\d{2})", value.strip())
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            self.fail(key, f"{value!r} is not a time; write it as HH:MM, e.g. \"08:00\"")
        assert match
        return time(int(match[1]), int(match[2]))


class Base:
    """The config file's folder: relative paths in the config are relative to it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __truediv__(self, relative: str) -> Path:
        # "~/initiative.xlsx": the home folder, as in a shell; an absolute path stays one
        return Path(os.path.normpath(self.folder / Path(relative).expanduser()))


def _closest(word: str, candidates: set[str]) -> str:
    import difflib

    found = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return found[0] if found else ""


def every_minutes(reader: Reader, value: Any) -> float:
    # whole minutes in daily use; a fraction down to 3 seconds lets tests run many cycles
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0.05:
        reader.fail("schedule.every_minutes",
                    f"must be a number of minutes ≥ 0.05 (e.g. 15), not {value!r}")
    return float(value)


def state_url(reader: Reader, url: str, base: Base) -> str:
    """sqlite:///relative (to the config's folder) or sqlite:////absolute, or postgresql://…"""
    if not url:
        return ""
    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        return "sqlite://" + str(base / url.removeprefix("sqlite:///"))
    if url.startswith(("postgresql://", "postgres://")):
        credentials, at, _ = url.partition("://")[2].partition("/")[0].rpartition("@")
        if at and ":" in credentials:
            reader.fail("state.url", "must not hold a password; put it in PGPASSWORD or "
                        "~/.pgpass (or use peer or certificate login)")
        return url
    reader.fail("state.url", f"{url!r} is not a ledger address; use "
                "\"sqlite:///state/ledger.sqlite3\" or \"postgresql://user@host/db\"")
    return url


_WINDOW = re.compile(r"\s*(\d{1,2})[:.](\d{2})\s*-\s*(\d{1,2})[:.](\d{2})\s*")


def send_window(reader: Reader, text: str) -> tuple[time, time]:
    """"07:30-17:00" → (start, end), the end exclusive; "24:00" (time.max) ends a day.

    An end before the start is a window across midnight ("20:00-06:00"); a window that
    opens and closes at the same time would hold every mail for ever, so it is refused.
    """
    key = "schedule.send_window"
    match = _WINDOW.fullmatch(text)
    start = _window_time(match[1], match[2], end=False) if match else None
    end = _window_time(match[3], match[4], end=True) if match else None
    if start is None or end is None:
        reader.fail(key, f"{text!r} is not a window; write it as \"07:30-17:00\" "
                    "(or \"00:00-24:00\" for any hour)")
    if start == end:
        reader.fail(key, f"{text!r} opens and closes at the same time, so no mail could ever "
                    "go out; write e.g. \"07:30-17:00\", \"20:00-06:00\" across midnight, "
                    "or \"00:00-24:00\" for any hour")
    assert start is not None and end is not None  # reader.fail raised otherwise
    return start, end


def _window_time(hour: str, minute: str, *, end: bool) -> time | None:
    """A window's start or end, None when it is no time of day; "24:00" only ends one."""
    if end and (int(hour), int(minute)) == (24, 0):
        return time.max
    return time(int(hour), int(minute)) if int(hour) < 24 and int(minute) < 60 else None


def weekdays(text: str) -> set[int] | None:
    """"mon-fri", "mon,wed,fri" or "all" → day numbers (Monday = 0); None if unreadable."""
    text = text.strip().lower()
    if text in ("all", "*", "mon-sun"):
        return set(range(7))
    days: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            first, _, last = part.partition("-")
            if first.strip() not in DAY_ABBREVIATIONS or last.strip() not in DAY_ABBREVIATIONS:
                return None
            a, b = DAY_ABBREVIATIONS.index(first.strip()), DAY_ABBREVIATIONS.index(last.strip())
            if a > b:
                return None
            days.update(range(a, b + 1))
        elif part in DAY_ABBREVIATIONS:
            days.add(DAY_ABBREVIATIONS.index(part))
        else:
            return None
    return days or None
