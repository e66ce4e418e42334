"""Output into a pipe whose reader went away (`rygrad plan | head -1`) ends quietly:
no BrokenPipeError traceback, no "Exception ignored" line, exit status 141 (128 +
SIGPIPE, what a shell reports for other tools cut short the same way)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from datetime import date, timedelta

import pytest

from tests.test_cli import small_initiative
from tests.workbook import rygrad, write_config, write_workbook

NOW = "2026-12-02T09:00"
RYGRAD = [sys.executable, "-m", "automation"]


@pytest.fixture
def initiative(tmp_path, capsys):
    """The small initiative after one cycle (so `status` has a ledger to show)."""
    workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative())
    config = write_config(tmp_path, workbook)
    assert rygrad(capsys, "run", "--once", "--config", str(config), "--now", NOW).status == 0
    return config


def into_closed_pipe(*args: str) -> subprocess.CompletedProcess[str]:
    """rygrad writing into a pipe whose reading end is already closed."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run([*RYGRAD, *args], stdout=write, stderr=subprocess.PIPE,
                              text=True, check=False)
    finally:
        os.close(write)


@pytest.mark.parametrize("command", [
    ["plan", "--now", "2026-12-09T09:00"], ["status"], ["check"]])
def test_a_closed_pipe_ends_quietly(initiative, command):
    done = into_closed_pipe(*command, "--config", str(initiative))
    assert done.stderr == ""  # no traceback, no "Exception ignored in …"
    assert done.returncode == 141


def test_plan_into_head_prints_its_first_line_and_nothing_on_stderr(tmp_path):
    """The real thing: a long plan (some 3,000 lines, more than a pipe holds) into
    `head -1`, which reads one line and leaves."""
    tabs = small_initiative()
    start = date(2026, 11, 1)
    tabs["Handlinger"] = [
        {"Handling-ID": f"H-{n}", "Gruppe": "AG Uddannelse", "Handling": f"Opgave {n}",
         "Ansvarlig": "Bo Berg", "Frist": start + timedelta(days=n % 20), "Status": "I gang"}
        for n in range(1, 1501)]
    workbook = write_workbook(tmp_path / "initiative.xlsx", tabs)
    config = write_config(tmp_path, workbook)
    command = shlex.join([*RYGRAD, "plan", "--now", NOW, "--config", str(config)])
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command} | head -1; echo \"status ${{PIPESTATUS[0]}}\""],
        capture_output=True, text=True, check=False)
    assert done.stderr == ""
    first, status = done.stdout.splitlines()
    assert first.startswith("At 2026-12-02 09:00 (Europe/Copenhagen): ")
    assert status == "status 141"
