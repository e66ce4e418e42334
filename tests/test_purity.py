"""The core is pure (docs/architecture.md): its modules import no I/O library, never read
the clock or the environment, and import only other core modules. Read from the source
(AST), so a forbidden import anywhere in a core module fails here, not in production."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "automation"
# the core package, and the pure modules of mail/ (render, which reads templates, is not)
# and of inbox/ (imap_wire reads the IMAP server's answers as data; imap.py holds the socket)
PURE = sorted([*(PACKAGE / "core").glob("*.py"),
               *(PACKAGE / "mail" / name for name in ("formatting.py", "ics.py",
                                                      "mailcontext.py", "mime.py")),
               PACKAGE / "inbox" / "imap_wire.py"])
CORE = tuple(path.stem for path in PURE if path.stem != "__init__")
PATHS = {path.stem: path for path in PURE}
# what a core module may import from outside the project: no files, sockets, databases,
# clocks or environment
ALLOWED = {"__future__", "ast", "base64", "bisect", "calendar", "collections", "dataclasses",
           "binascii", "datetime", "decimal", "difflib", "email", "enum", "functools",
           "hashlib", "itertools",
           "json", "math", "pathlib", "re", "string", "types", "typing", "unicodedata", "uuid",
           "zoneinfo", "babel", "email_validator", "holidays", "icalendar"}
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
               ("date", "today"), ("time", "time"), ("time", "monotonic"),
               ("os", "getenv"), ("os", "environ")}


def imports(tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module in ("automation", "automation.core", "automation.mail"):
                found += [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                found.append(node.module)
    return found


@pytest.mark.parametrize("name", CORE)
def test_a_core_module_imports_only_the_core_and_pure_libraries(name):
    tree = ast.parse(PATHS[name].read_text(encoding="utf-8"))
    for module in imports(tree):
        if module.startswith("automation"):
            inner = module.split(".")[-1]
            # the exception tree and the version number are plain data too
            assert inner in (*CORE, "errors", "__version__"), \
                f"{name} imports {module}, which is not core"
        else:
            assert module.split(".")[0] in ALLOWED, f"{name} imports {module}"


@pytest.mark.parametrize("name", CORE)
def test_a_core_module_never_reads_the_clock_or_the_environment(name):
    tree = ast.parse(PATHS[name].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) not in CLOCK_CALLS, \
                f"{name} line {node.lineno}: {node.value.id}.{node.attr}"


def test_the_check_finds_what_it_forbids(tmp_path):
    """The two checks above, on a module that breaks both rules."""
    tree = ast.parse("import sqlite3\nfrom automation import config\nx = datetime.now()\n")
    assert imports(tree) == ["sqlite3", "automation.config"]
    assert any(isinstance(n, ast.Attribute) and (getattr(n.value, "id", ""), n.attr)
               in CLOCK_CALLS for n in ast.walk(tree))
