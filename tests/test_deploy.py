"""What the README's "Running it for real" ships (issue 11, point 20): the systemd unit
parses as INI and has what the README promises, the cron line is a valid cron.d line,
every deploy file the README names exists, and the heartbeat key is documented."""

from __future__ import annotations

import configparser
import re
import shlex
import tomllib
from pathlib import Path

from automation.config import parse as parse_config
from automation.ledger import LEDGER_FILE
from automation.scaffold import EXAMPLE_CONFIG

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end]


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read_string((ROOT / "deploy" / "rygrad.service").read_text(encoding="utf-8"))
    return parser


def test_the_unit_parses_and_has_what_the_readme_promises():
    service = unit()
    assert service.sections() == ["Unit", "Service", "Install"]
    run = service["Service"]
    assert run["User"] == "rygrad"
    command = shlex.split(run["ExecStart"])
    assert command[0] == "/opt/rygrad/.venv/bin/rygrad" and command[1] == "serve"
    assert command[command.index("--config") + 1].startswith("/etc/rygrad/")
    assert run["Restart"] == "on-failure"
    assert (run["ProtectSystem"], run["NoNewPrivileges"], run["PrivateTmp"]) == (
        "strict", "yes", "yes")
    writable = [path.lstrip("-") for path in run["ReadWritePaths"].split()]
    assert "/var/lib/rygrad" in writable and "/srv/rygrad" in writable  # ledgers, workbooks
    assert service["Install"]["WantedBy"] == "multi-user.target"
    # the paths the README's install steps use are the unit's
    running = section("Running it for real")
    for path in ("/opt/rygrad/.venv", "/etc/rygrad/", "/var/lib/rygrad", "/srv/rygrad"):
        assert path in running


def test_the_cron_line_runs_one_cycle_every_15_minutes_as_rygrad():
    lines = [line for line in (ROOT / "deploy" / "rygrad.cron").read_text(
        encoding="utf-8").splitlines() if line and not line.startswith("#")
        and "=" not in line.split()[0]]
    [line] = lines
    minute, hour, day, month, weekday, user, *command = line.split()
    assert (minute, hour, day, month, weekday, user) == ("*/15", "*", "*", "*", "*", "rygrad")
    assert command[:3] == ["/opt/rygrad/.venv/bin/rygrad", "run", "--once"]
    assert "flock" not in line and "%" not in line  # cron reads % as a newline
    assert (ROOT / "deploy" / "rygrad.cron").read_text(encoding="utf-8").endswith("\n")


def test_every_deploy_file_the_readme_names_exists():
    named = set(re.findall(r"deploy/[\w.-]+", README))
    assert named >= {"deploy/rygrad.service", "deploy/rygrad.cron"}
    for name in named:
        assert (ROOT / name).is_file(), name


def test_running_it_for_real_follows_one_worker_or_several():
    titles = re.findall(r"^## (.+)$", README, flags=re.MULTILINE)
    assert titles[titles.index("Running it for real") - 1].startswith("One worker or several")
    running = section("Running it for real")
    for needed in ("systemctl enable --now rygrad", "journalctl -u rygrad", "pg_dump",
                   "rygrad status", "--json", "heartbeat_url", "pip install -U",
                   # the backup copies the real ledger file, online
                   f"/{LEDGER_FILE} \".backup '", "migrates itself"):
        assert needed in running, needed


def test_the_heartbeat_url_is_documented_and_the_example_takes_it():
    assert "| `schedule.heartbeat_url` |" in section("Configuration")
    assert "status [--json]" in section("Command line")
    example = EXAMPLE_CONFIG.replace('# heartbeat_url = "', 'heartbeat_url = "')
    assert example != EXAMPLE_CONFIG
    settings = parse_config(tomllib.loads(example), ROOT / "config" / "rygrad.toml")
    assert settings.schedule.heartbeat_url == "https://hc-ping.com/your-check-uuid"
