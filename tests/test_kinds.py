"""The registry of mail kinds (automation/core/kinds.py) is complete: every kind has its
templates in both languages, a way to be filled in, and a sample that renders."""

from __future__ import annotations

import email
import email.policy
import json
import sqlite3
from datetime import datetime

import pytest

from automation.core import kinds
from automation.mail import mailcontext
from automation.mail.render import builtin_templates_dir
from tests.test_cli import small_initiative
from tests.workbook import rygrad, write_config, write_workbook

PARTS = ("subject.txt", "txt", "html")


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("kind", sorted(kinds.KINDS))
def test_every_kind_has_its_three_templates(kind, language):
    folder = builtin_templates_dir() / language
    for part in PARTS:
        assert (folder / f"{kind}.{part}").is_file(), f"{language}/{kind}.{part}"


def test_no_template_without_a_kind():
    for language in ("da", "en"):
        names = {path.name.split(".")[0]
                 for path in (builtin_templates_dir() / language).glob("*.*")
                 if not path.name.startswith(("_", "base."))}
        assert names <= set(kinds.KINDS), names - set(kinds.KINDS)


@pytest.mark.parametrize("kind", sorted(kinds.KINDS))
def test_every_kind_is_filled_in_and_has_consistent_flags(kind):
    record = kinds.KINDS[kind]
    assert kind in mailcontext._BUILDERS or record.about in mailcontext._BUILDERS
    assert record.about in (kinds.MEETING, kinds.ACTION, kinds.INDICATOR, kinds.INITIATIVE)
    # a calendar kind keeps its history: the next SEQUENCE and the update compare with it
    assert not record.calendar or record.history
    # the secretariat's own mails mark no partner row and are never capped
    assert (record.about == kinds.INITIATIVE) == (not record.capped)


@pytest.mark.parametrize("language", ["da", "en"])
def test_every_kind_renders_a_sample(tmp_path, capsys, language):
    workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative())
    config = write_config(tmp_path, workbook, initiative={"language": language})
    run = rygrad(capsys, "send-test", "--to", "test@ungeloeftet.example", "--config",
                 str(config))
    assert run.status == 0, run.err
    sent = {}
    for path in (tmp_path / "outbox").glob("*.eml"):
        mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        sent[str(mail["X-Rygrad-Key"]).split(":")[1]] = mail
    assert set(sent) == set(kinds.KINDS)
    for kind, mail in sent.items():
        assert mail.get_body(("plain",)) is not None and mail.get_body(("html",)) is not None
        has_calendar = any(part.get_content_type() == "text/calendar" for part in mail.walk())
        assert has_calendar == bool(kinds.KINDS[kind].calendar), kind


def fits(payload: dict, shape: type) -> list[str]:
    """What is wrong with a payload against its kind's TypedDict ([] when it fits)."""
    required, optional = shape.__required_keys__, shape.__optional_keys__  # type: ignore[attr-defined]
    wrong = [f"missing {k}" for k in required - set(payload)]
    return wrong + [f"unknown {k}" for k in set(payload) - required - optional]


def test_every_payload_in_the_ledger_fits_its_kind(tmp_path, capsys):
    """Weeks of the example initiative, every kind: each payload as the ledger stored it
    has exactly the keys its kind's TypedDict declares."""
    assert rygrad(capsys, "init", str(tmp_path)).status == 0
    config = str(tmp_path / "config" / "rygrad.toml")
    for day in ("2026-11-30", "2026-12-07", "2026-12-14", "2026-12-21"):
        assert rygrad(capsys, "run", "--once", "--now", f"{day}T09:00", "--config",
                      config).status in (0, 1)
    with sqlite3.connect(tmp_path / "state" / "ledger.sqlite3") as db:
        rows = db.execute("SELECT kind, key, payload FROM deliveries").fetchall()
    seen = set()
    for kind, key, payload in rows:
        seen.add(kind)
        assert fits(json.loads(payload), kinds.KINDS[kind].payload) == [], (key, payload)
    assert {"invitation", "agenda", "reminder", "overdue", "escalation", "indicator",
            "digest"} <= seen


def test_every_sample_payload_fits_its_kind(tmp_path):
    from automation import config as config_module
    from automation.core.parse import parse
    from automation.scaffold.samples import sample_messages
    from automation.sheets.xlsx import XlsxWorkbook

    workbook = write_workbook(tmp_path / "initiative.xlsx", small_initiative())
    settings = config_module.load(write_config(tmp_path, workbook))
    initiative = parse(XlsxWorkbook(workbook).read(), settings)
    now = datetime(2026, 12, 7, 9, 0, tzinfo=settings.initiative.zone)
    messages = sample_messages(initiative, settings, now, "test@ungeloeftet.example", None)
    assert {m.kind for m in messages} == set(kinds.KINDS)
    for message in messages:
        assert fits(message.payload, kinds.KINDS[message.kind].payload) == [], message.kind


def test_the_payload_check_finds_a_wrong_key():
    assert fits({"due": "2026-12-04", "days_left": 2}, kinds.KINDS["reminder"].payload) == []
    assert fits({"due": "2026-12-04"}, kinds.KINDS["reminder"].payload) == ["missing days_left"]
    assert fits({"due": "x", "days_left": 1, "n": 2},
                kinds.KINDS["reminder"].payload) == ["unknown n"]
