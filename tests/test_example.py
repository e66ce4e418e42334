"""`rygrad init`, the example workbook it writes, and the benchmark generator."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from email_validator import validate_email

from automation import config
from automation.core.indicators import ACHIEVED, BEHIND, NO_DATA, ON_TRACK, assess, next_update
from automation.core.model import Indicator
from automation.core.parse import parse
from automation.core.plan import plan
from automation.core.schema import TABS
from automation.scaffold import EXAMPLE_CONFIG, init
from automation.scaffold.example import write_example_workbook
from automation.sheets.xlsx import XlsxWorkbook

REPO = Path(__file__).resolve().parents[1]
FRIDAY = date(2026, 11, 27)
TODAYS = [
    FRIDAY,
    date(2026, 12, 30),  # near new year: meetings and deadlines cross into 2027
    date(2027, 1, 2),  # a Saturday just after new year
    date(2028, 2, 29),  # leap day: month arithmetic of indicator frequencies
]
FREQUENCY_MONTHS = {"månedlig": 1, "kvartalsvis": 3, "halvårlig": 6, "årlig": 12, "": 3}
DONE = {"Færdig"}
TABS_BY_KEY = {tab.key: tab for tab in TABS}


def read_workbook(path: Path, language: str = "da") -> dict[str, list[dict[str, Any]]]:
    """Tab key → rows as {column key: value}, found by the schema's titles."""
    workbook = openpyxl.load_workbook(path)
    tables: dict[str, list[dict[str, Any]]] = {}
    for tab in TABS:
        sheet = workbook[tab.title(language)]
        header = [cell.value for cell in sheet[1]]
        keys = [next(c.key for c in tab.columns if c.title(language) == title)
                for title in header]
        tables[tab.key] = [
            dict(zip(keys, values, strict=False))
            for values in sheet.iter_rows(min_row=2, values_only=True)
        ]
    return tables


def as_date(value: Any) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def days_from(today: date, value: Any) -> int:
    day = as_date(value)
    assert isinstance(day, date)
    return (day - today).days


@pytest.fixture
def builtin_templates(tmp_path: Path) -> Path:
    root = tmp_path / "builtin"
    for name, text in {
        "da/invitation.txt.j2": "Kære {{ name }}",
        "en/invitation.txt.j2": "Dear {{ name }}",
        "da/partials/footer.html.j2": "<p>Sekretariatet</p>",
        ".keep": "",
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_init_writes_config_workbook_and_templates(tmp_path: Path,
                                                   builtin_templates: Path) -> None:
    site = tmp_path / "site"
    results = init(site, FRIDAY, builtin_templates)

    written = {path.relative_to(site).as_posix(): fresh for path, fresh in results}
    assert written == {
        "config/rygrad.toml": True,
        "examples/initiative.xlsx": True,
        "templates/da/invitation.txt.j2": True,
        "templates/da/partials/footer.html.j2": True,
        "templates/en/invitation.txt.j2": True,
    }
    assert (site / "config/rygrad.toml").read_text(encoding="utf-8") == EXAMPLE_CONFIG
    copied = (site / "templates/da/invitation.txt.j2").read_text(encoding="utf-8")
    assert copied == "Kære {{ name }}"
    # the config's relative paths point at what init wrote next to it
    settings = config.load(site / "config/rygrad.toml")
    assert settings.sheet.path is not None and settings.sheet.path.resolve() == (
        site / "examples/initiative.xlsx").resolve()
    assert settings.templates_dir is not None
    assert settings.templates_dir.resolve() == (site / "templates").resolve()
    assert settings.mail.outbox_dir.resolve() == (site / "outbox").resolve()
    assert settings.state_dir.resolve() == (site / "state").resolve()
    assert len(read_workbook(settings.sheet.path)["people"]) >= 25


def test_second_init_keeps_every_file_untouched(tmp_path: Path,
                                                builtin_templates: Path) -> None:
    first = init(tmp_path, FRIDAY, builtin_templates)
    before = {path: (path.stat().st_mtime_ns, path.read_bytes()) for path, _ in first}

    second = init(tmp_path, date(2027, 3, 1), builtin_templates)

    assert [path for path, _ in second] == [path for path, _ in first]
    assert all(not fresh for _, fresh in second)
    assert {path: (path.stat().st_mtime_ns, path.read_bytes()) for path, _ in second} == before


def test_an_edited_config_and_template_survive_init(tmp_path: Path,
                                                    builtin_templates: Path) -> None:
    edited = '[initiative]\nname = "Vores eget"\nsecretariat = "s@vores.example"\n'
    (tmp_path / "config").mkdir()
    (tmp_path / "config/rygrad.toml").write_text(edited, encoding="utf-8")
    (tmp_path / "templates/da").mkdir(parents=True)
    (tmp_path / "templates/da/invitation.txt.j2").write_text("Hej!", encoding="utf-8")

    results = dict(init(tmp_path, FRIDAY, builtin_templates))

    assert results[tmp_path / "config/rygrad.toml"] is False
    assert results[tmp_path / "templates/da/invitation.txt.j2"] is False
    assert results[tmp_path / "examples/initiative.xlsx"] is True
    assert (tmp_path / "config/rygrad.toml").read_text(encoding="utf-8") == edited
    assert (tmp_path / "templates/da/invitation.txt.j2").read_text(encoding="utf-8") == "Hej!"


def test_the_committed_config_is_the_example_and_valid() -> None:
    committed = REPO / "config/rygrad.toml"
    assert committed.read_text(encoding="utf-8") == EXAMPLE_CONFIG

    settings = config.parse(tomllib.loads(EXAMPLE_CONFIG), committed)

    assert settings.initiative.name == "Ungeløftet Aarhus"
    assert settings.initiative.secretariat_email == "sekretariat@ungeloeftet.example"
    assert settings.sheet.backend == "xlsx" and settings.mail.transport == "outbox"
    # a first try always shows mail: any hour, any day, holidays too
    assert settings.schedule.send_window == (time(0, 0), time.max)
    assert settings.schedule.send_days == frozenset(range(7))
    assert settings.schedule.skip_holidays is False
    assert settings.rules == config.Rules()
    for default in ('"07:30-17:00"', '"mon-fri"', "skip_holidays = true"):
        assert default in EXAMPLE_CONFIG


def test_every_commented_key_of_the_example_is_a_valid_key() -> None:
    # uncomment "# key = value" lines (and the aliases table): all must be accepted
    text = re.sub(r"^# (\[sheet\.aliases\]|\w+ = )", r"\1", EXAMPLE_CONFIG, flags=re.M)
    assert text.count("\n# ") < EXAMPLE_CONFIG.count("\n# ") - 10

    settings = config.parse(tomllib.loads(text), Path("config/rygrad.toml"))

    assert settings.mail.host == "smtp.example.dk"
    assert settings.sheet.aliases == {"Ansvarlig": ("Tovholder",)}


def test_the_example_is_never_written_over(tmp_path: Path) -> None:
    path = tmp_path / "initiative.xlsx"
    path.write_bytes(b"a partner's workbook")
    with pytest.raises(FileExistsError):
        write_example_workbook(path, FRIDAY)
    assert path.read_bytes() == b"a partner's workbook"


@pytest.fixture(params=TODAYS, ids=str)
def today(request: pytest.FixtureRequest) -> date:
    day: date = request.param
    return day


@pytest.fixture
def example(today: date, tmp_path: Path) -> tuple[date, dict[str, list[dict[str, Any]]]]:
    write_example_workbook(tmp_path / "initiative.xlsx", today)
    return today, read_workbook(tmp_path / "initiative.xlsx")


def test_the_example_holds_a_whole_initiative(example: tuple[date, dict[str, Any]]) -> None:
    _, tables = example
    people, groups = tables["people"], tables["groups"]
    assert len(people) >= 25 and len(groups) == 4
    assert len(tables["actions"]) >= 35 and len(tables["indicators"]) >= 10
    for person in people:
        validate_email(person["email"], check_deliverability=False)
    assert sum(person["language"] == "en" for person in people) >= 2
    known = {p["name"] for p in people} | {p["email"] for p in people}
    group_names = {g["group"] for g in groups}
    for person in people:
        assert set(re.split(r"\s*[,;\n]\s*", person["groups"])) <= group_names
    assert sum(len(re.split(r"[,;]", p["groups"])) > 1 for p in people) >= 5
    assert all(g["chair"] in known and g["type"] and g["goal"] for g in groups)
    for tab in ("actions", "indicators"):
        assert all(row["owner"] in known for row in tables[tab])
    assert any(a["owner"] in {p["email"] for p in people} for a in tables["actions"])
    for tab in ("meetings", "actions", "indicators"):
        assert all(row["group"] in group_names for row in tables[tab])
        ids = [row[TABS_BY_KEY[tab].id_column] for row in tables[tab]]
        assert len(ids) == len(set(ids))
    meeting_ids = {m["meeting_id"] for m in tables["meetings"]}
    assert all(a["meeting_id"] in meeting_ids for a in tables["actions"] if a["meeting_id"])
    # worker-owned cells start empty
    for tab in TABS:
        for row in tables[tab.key]:
            # an on-demand column (the [inbox] ones) is not in the example at all
            assert all(row[c.key] is None for c in tab.columns if c.worker and not c.on_demand)
            assert not any(c.key in row for c in tab.columns if c.on_demand)


def test_every_meeting_rule_has_a_meeting(example: tuple[date, dict[str, Any]]) -> None:
    today, tables = example
    meetings = [(days_from(today, m["date"]), m) for m in tables["meetings"]]
    live = [(d, m) for d, m in meetings if not m["cancelled"]]
    windows = {
        "invitation only": [m for d, m in live if 6 <= d <= 21],
        "agenda (and invitation)": [m for d, m in live if 0 <= d <= 5 and m["agenda"]],
        "agenda still empty": [m for d, m in live if 0 <= d <= 5 and not m["agenda"]],
        "follow-up": [m for d, m in live if 1 <= -d <= 30 and m["minutes"]],
        "minutes missing": [m for d, m in live if d < 0 and not m["minutes"]],
        "long past": [m for d, m in live if d < -30 and m["minutes"]],
        "not yet": [m for d, m in live if d > 21],
        "cancelled, never invited": [m for d, m in meetings
                                     if m["cancelled"] and 0 <= d <= 21],
    }
    assert {name: len(found) >= 1 for name, found in windows.items()} == dict.fromkeys(
        windows, True)
    assert any(str(m["location"]).startswith("https://") for d, m in live if 0 <= d <= 21)
    assert all(as_date(m["date"]).weekday() < 5 for _, m in meetings)
    starts = {type(m["start"]) for _, m in meetings if m["start"]}
    assert starts == {str, time}
    # the next steps of a follow-up: actions agreed at that meeting
    followups = {m["meeting_id"] for m in windows["follow-up"]}
    assert sum(a["meeting_id"] in followups for a in tables["actions"]) >= 3


def test_every_action_rule_has_an_action(example: tuple[date, dict[str, Any]]) -> None:
    today, tables = example
    actions = tables["actions"]
    open_due = [days_from(today, a["due"]) for a in actions
                if a["due"] and a["status"] not in DONE]
    done_due = [days_from(today, a["due"]) for a in actions if a["due"] and a["status"] in DONE]
    counts = {
        "reminder": sum(1 <= d <= 3 for d in open_due),
        "overdue": sum(1 <= -d <= 13 for d in open_due),
        "escalation": sum(-d >= 14 for d in open_due),
        "later": sum(d > 3 for d in open_due),
        "done and overdue": sum(d < 0 for d in done_due),
        "no due date": sum(a["due"] is None for a in actions),
    }
    assert all(count >= 1 for count in counts.values()), counts
    assert counts["escalation"] >= 2 and counts["later"] >= 10
    assert {a["status"] for a in actions} == {"Ikke startet", "I gang", "Færdig"}


def test_indicators_vary_in_assessment_and_due_requests(
        example: tuple[date, dict[str, Any]]) -> None:
    today, tables = example
    indicators = [
        Indicator(row=n, id=i["indicator_id"], group=i["group"], indicator=i["indicator"],
                  unit=i["unit"], baseline=i["baseline"], start_date=as_date(i["start_date"]),
                  target=i["target"], target_date=as_date(i["target_date"]),
                  current=i["current"], updated=as_date(i["updated"]),
                  frequency_months=FREQUENCY_MONTHS[i["frequency"] or ""])
        for n, i in enumerate(tables["indicators"], 2)
    ]
    assessments = {assess(i, today, config.Rules()) for i in indicators}
    assert assessments == {ACHIEVED, ON_TRACK, BEHIND, NO_DATA}
    until = [(due - today).days for i in indicators if (due := next_update(i))]
    assert sum(days <= 7 for days in until) >= 3  # requested now (or overdue)
    assert sum(days > 7 for days in until) >= 3  # not yet
    assert {i["unit"] for i in tables["indicators"]} == {"%", "antal", "unge"}
    assert {i["frequency"] for i in tables["indicators"]} == set(FREQUENCY_MONTHS) - {""}


def test_a_first_cycle_on_the_example_sends_every_kind_under_the_cap(
        tmp_path: Path, today: date) -> None:
    settings = config.parse(tomllib.loads(EXAMPLE_CONFIG), tmp_path / "config/rygrad.toml")
    assert settings.sheet.path is not None
    settings.sheet.path.parent.mkdir(parents=True)
    write_example_workbook(settings.sheet.path, today)
    initiative = parse(XlsxWorkbook(settings.sheet.path).read(), settings)
    assert initiative.problems == []

    now = datetime.combine(today, time(9, 0), settings.initiative.zone)
    messages = plan(initiative, [], now, settings).messages

    kinds = {message.kind for message in messages} - {"digest"}
    assert kinds == {"invitation", "agenda", "followup", "reminder", "overdue", "escalation",
                     "indicator"}
    assert len(messages) < settings.mail.max_per_cycle


def test_the_example_is_deterministic_and_formatted(tmp_path: Path) -> None:
    write_example_workbook(tmp_path / "a.xlsx", FRIDAY)
    write_example_workbook(tmp_path / "b.xlsx", FRIDAY)
    assert read_workbook(tmp_path / "a.xlsx") == read_workbook(tmp_path / "b.xlsx")

    workbook = openpyxl.load_workbook(tmp_path / "a.xlsx")
    assert workbook.sheetnames == [tab.da for tab in TABS]
    for tab in TABS:
        sheet = workbook[tab.da]
        assert sheet.freeze_panes == "A2"
        columns = [column for column in tab.columns if not column.on_demand]
        for cell, column in zip(sheet[1], columns, strict=True):
            assert cell.font.b
            assert (cell.fill.fgColor.rgb == "00D9D9D9") is column.worker, column.key
    dates = [cell for row in workbook["Handlinger"].iter_rows(min_row=2) for cell in row
             if isinstance(cell.value, datetime)]
    assert dates and all(cell.number_format == "d-m-yyyy" for cell in dates)


def test_the_example_in_english_has_english_headers(tmp_path: Path) -> None:
    write_example_workbook(tmp_path / "en.xlsx", FRIDAY, language="en")
    tables = read_workbook(tmp_path / "en.xlsx", language="en")
    assert {a["status"] for a in tables["actions"]} == {"Not started", "In progress", "Done"}
    assert any(m["cancelled"] == "yes" for m in tables["meetings"])


def test_bench_generate_writes_the_requested_rows(tmp_path: Path) -> None:
    out = tmp_path / "bench.xlsx"
    subprocess.run(
        [sys.executable, str(REPO / "bench/generate.py"), str(out), "--actions", "300",
         "--people", "45", "--meetings", "12", "--indicators", "7", "--today", "2026-11-27"],
        check=True,
    )
    tables = read_workbook(out)
    counts = {key: len(rows) for key, rows in tables.items()}
    assert counts == {"people": 45, "groups": 2, "meetings": 12, "actions": 300,
                      "indicators": 7, "measurements": 0}
    today = FRIDAY
    due = [days_from(today, a["due"]) for a in tables["actions"] if a["due"]]
    assert any(1 <= d <= 3 for d in due) and any(1 <= -d <= 13 for d in due)
    assert any(-d >= 14 for d in due)
    names = {p["name"] for p in tables["people"]}
    assert all(a["owner"] in names for a in tables["actions"])
    for tab in TABS:  # a sheet the worker has never seen: W columns present, empty
        assert all(row[c.key] is None for row in tables[tab.key] for c in tab.columns
                   if c.worker)
