"""Personal data (README, "Personal data (GDPR)"), on SQLite and PostgreSQL: retention
erases old mails for real, `export` hands over what is held about a person, `forget`
erases a person who has left (and a forgotten person who returns gets nothing old
again), the outbox keeps its files mail.outbox_keep_days, and the logs hold no mail."""

from __future__ import annotations

import copy
import json
import logging
import os
import stat
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from automation.core.model import Change, ReplyRecord
from automation.ledger import DeliveryLedger, open_ledger
from tests.pg import pg_url, unique_name  # noqa: F401  (the fixture)
from tests.smtpkit import PASSWORD, USER
from tests.smtpserver import Certificates, SmtpServer
from tests.test_cli import small_initiative
from tests.workbook import by_key, read_outbox, rygrad, write_config, write_workbook

BODY = "Quokkaprojektet kortlaegges"  # H-1's text: in Bo's mails and the agenda only
BO, BO_NAME = "bo@ngo.example", "Bo Berg"
T0 = "2026-12-02T09:00"
LATER = "2027-01-05T09:00"  # 34 days on: past state.keep_messages_days (30)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> str:
    return "" if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))


class Initiative:
    """The small initiative of tests/test_cli.py, with H-1's text made findable."""

    def __init__(self, folder: Path, store: str, **sections: dict[str, Any]) -> None:
        self.folder = folder
        self.tabs = small_initiative()
        self.tabs["Handlinger"][0]["Handling"] = BODY
        self.workbook = write_workbook(folder / "initiative.xlsx", self.tabs)
        self.name = unique_name("Ungeløftet")
        if store:
            sections["state"] = {"url": store}
        self.store = store
        self.config = write_config(folder, self.workbook, initiative={"name": self.name},
                                   **sections)

    def run(self, capsys: pytest.CaptureFixture[str], now: str, *more: str) -> None:
        done = rygrad(capsys, "run", "--once", "--config", str(self.config), "--now", now,
                      *more)
        assert done.status in (0, 1), done.out + done.err

    def ledger(self) -> DeliveryLedger:
        return open_ledger(self.store, self.name, self.folder / "state")

    def change(self, edit: Any) -> None:
        tabs = copy.deepcopy(self.tabs)
        edit(tabs)
        write_workbook(self.workbook, tabs)

    def without_bo(self) -> None:
        def edit(tabs: dict[str, list[dict[str, Any]]]) -> None:
            tabs["Personer"] = [p for p in tabs["Personer"] if p["E-mail"] != BO]
            tabs["Handlinger"] = tabs["Handlinger"][1:]  # H-1 was Bo's
        self.change(edit)

    def raw(self) -> bytes:
        """The SQLite ledger's files as they lie on disk (b"" for PostgreSQL)."""
        if self.store:
            return b""
        state = self.folder / "state"
        return b"".join(p.read_bytes() for p in sorted(state.glob("ledger.sqlite3*"))
                        if not p.name.endswith(".lock"))


def everything(ledger: DeliveryLedger) -> str:
    """Every text the ledger holds for the initiative, as SQL hands it back."""
    parts: list[str] = []
    for row in ledger.stored():
        parts += [row.key, row.recipient, json.dumps(row.payload, ensure_ascii=False),
                  row.error, (row.message or b"").decode("utf-8", "replace")]
    for record in ledger.replies():
        parts += [record.sender, record.reason, json.dumps(record.payload, ensure_ascii=False),
                  *(f"{c.old} {c.new}" for c in record.changes)]
    for _, summary, reason in ledger.cycle_texts():
        parts += [json.dumps(summary, ensure_ascii=False), reason]
    return "\n".join(parts)


def bo_reply(ledger: DeliveryLedger, at: datetime) -> ReplyRecord:
    record = ReplyRecord("<svar-1@ngo.example>", BO, "reminder:H-1:2026-12-04", "action", "H-1",
                         "applied", f"»færdig« fra {BO_NAME}: {BODY}",
                         (Change("actions", "H-1", "status", "I gang", "Færdig"),), at,
                         {"name": BO_NAME, "subject": f"Sv: {BODY}", "told": "Tak, Bo",
                          "meeting_answers": []})
    assert ledger.record_reply(record)
    return record


# -- retention ---------------------------------------------------------------------------


def test_retention_erases_old_mail_and_keeps_what_prevents_a_second_send(
        tmp_path: Path, store: str, capsys: pytest.CaptureFixture[str]) -> None:
    initiative = Initiative(tmp_path, store)
    initiative.run(capsys, T0)
    ledger = initiative.ledger()
    bo_reply(ledger, datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    # one delivery left uncertain: it keeps its bytes until it is resolved
    ledger.lost("invitation:AGU-1:0", "anne@kommune.example", "connection lost after DATA")
    # and one refused for now, then no longer due (the follow-up's time has passed)
    ledger.retry("followup:SG-1", "dorte@fond.example", "451 4.7.1 try later")
    before = {(r.key, r.recipient): r for r in ledger.stored()}
    ledger.close()
    assert BODY.encode() in initiative.raw() or store
    initiative.without_bo()  # later mail no longer tells of H-1
    initiative.run(capsys, LATER)
    ledger = initiative.ledger()
    try:
        after = {(r.key, r.recipient): r for r in ledger.stored()}
        old = [after[k] for k in before if k != ("invitation:AGU-1:0", "anne@kommune.example")]
        assert old and all(r.message is None and r.error == "" for r in old)
        assert after[("followup:SG-1", "dorte@fond.example")].state == "retry"
        assert all((r.state, r.message_id) == (before[(r.key, r.recipient)].state,
                                               before[(r.key, r.recipient)].message_id)
                   for r in old)
        invitation = after[("invitation:AGU-1:0", BO)]
        assert invitation.payload == {k: v for k, v in before[("invitation:AGU-1:0", BO)]
                                      .payload.items()
                                      if k in ("seq", "date", "start", "end", "location",
                                               "link", "update", "reinstated")}
        assert invitation.payload["location"] == "Rådhuset, lokale 2"
        uncertain = after[("invitation:AGU-1:0", "anne@kommune.example")]
        assert uncertain.state == "sending" and uncertain.message  # kept until resolved
        [reply] = ledger.replies()
        assert (reply.reason, reply.payload, reply.changes[0].new) == ("", {
            "meeting_answers": []}, "Færdig")
        assert BODY not in everything(ledger)
    finally:
        ledger.close()
    assert BODY.encode() not in initiative.raw()
    # and nothing was sent twice for all that was erased
    sent = [(str(m["X-Rygrad-Key"]), m["To"].addresses[0].addr_spec)
            for m in read_outbox(tmp_path / "outbox")]
    assert len(sent) == len(set(sent))


def test_an_expired_ledger_still_knows_a_meetings_calendar_history(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A meeting moved after retention gets an update with the next SEQUENCE (the payload
    kept its time, place and SEQUENCE), not a second first invitation."""
    initiative = Initiative(tmp_path, "")

    def meeting(day: date, place: str) -> None:
        initiative.change(lambda tabs: tabs["Møder"].append({
            "Møde-ID": "AGU-9", "Gruppe": "AG Uddannelse", "Dato": day, "Start": "10.00",
            "Sted": place}))

    meeting(date(2026, 12, 20), "Rådhuset")  # invited at once (rules.invite_days_before)
    initiative.run(capsys, T0)
    # moved, after retention has erased the first invitation's mail
    meeting(date(2027, 1, 20), "Biblioteket")
    initiative.run(capsys, LATER)
    keys = {str(m["X-Rygrad-Key"]) for m in read_outbox(tmp_path / "outbox")}
    assert {"invitation:AGU-9:0", "invitation:AGU-9:1"} <= keys
    update = next(m for m in read_outbox(tmp_path / "outbox")
                  if m["X-Rygrad-Key"] == "invitation:AGU-9:1")
    calendar = next(p for p in update.walk() if p.get_content_type() == "text/calendar")
    assert "SEQUENCE:1" in calendar.get_content()


def test_old_outbox_files_are_deleted_when_asked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    initiative = Initiative(tmp_path, "", mail={"outbox_dir": str(tmp_path / "outbox"),
                                                "outbox_keep_days": 7})
    initiative.run(capsys, T0)
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    old, fresh = files[:3], files[3:]
    week_ago = time.time() - 8 * 86400
    for path in old:
        os.utime(path, (week_ago, week_ago))
    initiative.run(capsys, T0)
    assert not any(p.exists() for p in old) and all(p.exists() for p in fresh)


def test_the_outbox_is_kept_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    initiative = Initiative(tmp_path, "")
    initiative.run(capsys, T0)
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    for path in files:
        os.utime(path, (0, 0))
    initiative.run(capsys, T0)
    assert all(p.exists() for p in files)


# -- export ---------------------------------------------------------------------------


def test_export_hands_over_everything_held_about_a_person(
        tmp_path: Path, store: str, capsys: pytest.CaptureFixture[str]) -> None:
    initiative = Initiative(tmp_path, store)
    initiative.run(capsys, T0)
    ledger = initiative.ledger()
    bo_reply(ledger, datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    ledger.close()
    out = tmp_path / "bo.json"
    done = rygrad(capsys, "export", BO.upper(), "--config", str(initiative.config),
                  "--out", str(out))
    assert done.status == 0, done.err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    held = json.loads(out.read_text(encoding="utf-8"))
    mails = by_key(read_outbox(tmp_path / "outbox"))
    to_bo = {key for key, recipient in mails if recipient == BO}
    assert {d["key"] for d in held["deliveries_to_them"]} == to_bo
    reminder = next(d for d in held["deliveries_to_them"] if d["kind"] == "reminder")
    assert BODY in reminder["text"] and reminder["subject"] == str(
        mails[(reminder["key"], BO)]["Subject"])
    # the agenda to the others lists H-1 with its owner's name
    naming = {(d["key"], d["recipient"]) for d in held["deliveries_naming_them"]}
    assert ("agenda:AGU-1", "anne@kommune.example") in naming
    assert held["names"] == [BO_NAME]
    assert held["cells_changed_on_their_behalf"] == [
        {"tab": "actions", "row": "H-1", "column": "status", "old": "I gang", "new": "Færdig"}]
    # to the screen when no file is named
    shown = rygrad(capsys, "export", BO, "--config", str(initiative.config))
    assert json.loads(shown.out) == held


def test_export_of_someone_unknown_says_so(tmp_path: Path, store: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    initiative = Initiative(tmp_path, store)
    initiative.run(capsys, T0)
    done = rygrad(capsys, "export", "nobody@example.dk", "--config", str(initiative.config))
    assert done.status == 1 and done.out == ""
    assert done.err.strip() == (f"{initiative.name}: the ledger holds nothing about "
                                "nobody@example.dk")


# -- forget ---------------------------------------------------------------------------


def test_forget_refuses_while_the_person_is_in_people(
        tmp_path: Path, store: str, capsys: pytest.CaptureFixture[str]) -> None:
    initiative = Initiative(tmp_path, store)
    initiative.run(capsys, T0)
    done = rygrad(capsys, "forget", "Bo@NGO.example", "--config", str(initiative.config))
    assert done.status == 1
    assert done.err.strip() == ("Personer!B3 still holds Bo@NGO.example; remove the row "
                                "first (forget erases a person who has left)")
    ledger = initiative.ledger()
    try:
        assert any(r.recipient == BO and r.message for r in ledger.stored())
    finally:
        ledger.close()


def test_forget_erases_the_address_and_name_everywhere(
        tmp_path: Path, store: str, capsys: pytest.CaptureFixture[str]) -> None:
    initiative = Initiative(tmp_path, store)
    initiative.run(capsys, T0)
    ledger = initiative.ledger()
    bo_reply(ledger, datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    ledger.failed("agenda:AGU-1", "clara@partner.example", f"550 not {BO} either")
    ledger.close()
    assert BO.encode() in initiative.raw() or store
    initiative.without_bo()
    outbox = sorted(p.name for p in (tmp_path / "outbox").glob("*.eml"))

    dry = rygrad(capsys, "forget", BO, "--dry-run", "--config", str(initiative.config))
    assert dry.status == 0, dry.err
    assert dry.out.startswith(f"{initiative.name}: would erase ")
    ledger = initiative.ledger()
    assert BO in everything(ledger)  # nothing changed
    ledger.close()
    assert sorted(p.name for p in (tmp_path / "outbox").glob("*.eml")) == outbox

    done = rygrad(capsys, "forget", BO, "--config", str(initiative.config))
    assert done.status == 0, done.err
    assert dry.out.replace("would erase", "erased") == done.out
    assert BO not in done.out and BO_NAME not in done.out  # counts only
    ledger = initiative.ledger()
    try:
        held = everything(ledger).casefold()
        assert BO not in held and BO_NAME.casefold() not in held and BODY not in held
        assert "[slettet]" in held  # Clara's error text, the reply's reason
        assert "anne@kommune.example" in held  # the others are kept
        assert all(r.recipient.startswith("hmac:") for r in ledger.stored()
                   if r.key.startswith("reminder:H-1"))
    finally:
        ledger.close()
    raw = initiative.raw().lower()
    assert BO.encode() not in raw and BO_NAME.casefold().encode() not in raw
    for path in (tmp_path / "outbox").glob("*.eml"):
        text = path.read_bytes().decode("utf-8", "replace").casefold()
        assert BO not in text
    assert len(list((tmp_path / "outbox").glob("*.eml"))) < len(outbox)


def test_a_forgotten_person_who_returns_gets_nothing_old_again(
        tmp_path: Path, store: str, capsys: pytest.CaptureFixture[str]) -> None:
    initiative = Initiative(tmp_path, store)
    initiative.run(capsys, T0)
    first = set(by_key(read_outbox(tmp_path / "outbox")))
    assert {k for k in first if k[1] == BO}
    initiative.without_bo()
    assert rygrad(capsys, "forget", BO, "--config", str(initiative.config)).status == 0
    for path in (tmp_path / "outbox").glob("*.eml"):
        path.unlink()
    # Bo is back, with the same address (in capitals this time) and the same actions
    initiative.change(lambda tabs: tabs["Personer"][1].update({"E-mail": BO.upper()}))
    plan = rygrad(capsys, "plan", "--config", str(initiative.config), "--now", T0)
    assert BO not in plan.out.casefold(), plan.out
    initiative.run(capsys, T0)
    assert not {k for k in by_key(read_outbox(tmp_path / "outbox")) if k[1].casefold() == BO}
    ledger = initiative.ledger()
    try:
        assert not any(r.recipient.startswith("hmac:") for r in ledger.stored())
    finally:
        ledger.close()


# -- logs ------------------------------------------------------------------------------


def test_a_debug_log_holds_no_mail(tmp_path: Path, certificates: Certificates,
                                   capsys: pytest.CaptureFixture[str],
                                   caplog: pytest.LogCaptureFixture,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with SmtpServer("starttls", certificates, users={USER: PASSWORD}) as server:
        monkeypatch.setenv("RYGRAD_PRIVACY_SMTP_PASSWORD", PASSWORD)
        initiative = Initiative(tmp_path, "", mail={
            "transport": "smtp", "host": server.host, "port": server.port,
            "security": "starttls", "username": USER,
            "password_env": "RYGRAD_PRIVACY_SMTP_PASSWORD", "ca_file": str(certificates.ca),
            "per_minute": 1000})
        with caplog.at_level(logging.DEBUG):
            done = rygrad(capsys, "--debug", "run", "--once", "--config",
                          str(initiative.config), "--now", T0)
        assert done.status in (0, 1), done.err
        assert any(BODY.encode() in m.data for m in server.messages)  # it was sent
    # rygrad's own records (the test server logs what it receives, as servers do)
    ours = [r for r in caplog.records if r.name.startswith(("automation", "rygrad"))]
    logged = "\n".join(r.getMessage() for r in ours) + done.err + done.out
    assert "[the message, " in logged  # the conversation was logged, the mail withheld
    for text in (BODY, "Kære Bo", "Rådhuset, lokale 2", PASSWORD):
        assert text not in logged
    # an address only where something went wrong (nothing did)
    assert BO not in "\n".join(r.getMessage() for r in ours if r.levelno >= logging.INFO)


def test_relinking_keeps_one_row_per_key(tmp_path: Path, store: str) -> None:
    """A key the returning address has a row of its own for already (recorded while it
    was forgotten) keeps that row; the forgotten one goes, and no cycle fails on it."""
    from automation.core.model import Message, Recipient
    from automation.personal import forget, relink

    ledger = open_ledger(store, unique_name(), tmp_path / "state")
    try:
        bo = Recipient(BO_NAME, BO, "da")
        for key in ("reminder:H-1:2026-12-04", "agenda:AGU-1"):
            ledger.begin(Message(key.partition(":")[0], key, bo, "H-1"), b"To: x\r\n\r\nx",
                         datetime(2026, 12, 2, 9, tzinfo=UTC), datetime.now(UTC))
            ledger.sent(key, BO, datetime(2026, 12, 2, 9, tzinfo=UTC), datetime.now(UTC))
        forget(ledger, BO, None)
        ledger.record_only([Message("agenda", "agenda:AGU-1", bo, "AGU-1")],
                           datetime(2026, 12, 3, 9, tzinfo=UTC), datetime.now(UTC))
        assert relink(ledger, [BO]) == 1
        rows = sorted((r.key, r.recipient) for r in ledger.stored())
        assert rows == [("agenda:AGU-1", BO), ("reminder:H-1:2026-12-04", BO)]
        assert ledger.forgotten() == set() and relink(ledger, [BO]) == 0
    finally:
        ledger.close()


@pytest.mark.parametrize(("section", "key", "value"), [
    ("state", "keep_messages_days", 0), ("state", "keep_messages_days", "30"),
    ("mail", "outbox_keep_days", -1)])
def test_a_bad_retention_setting_names_its_key(tmp_path: Path, section: str, key: str,
                                               value: object) -> None:
    from automation import config
    from automation.errors import ConfigError

    data: dict[str, Any] = {
        "initiative": {"name": "X", "secretariat": "S <s@x.example>"},
        "sheet": {"path": "x.xlsx"}, section: {key: value}}
    with pytest.raises(ConfigError, match=rf"{section}\.{key}"):
        config.parse(data, tmp_path / "rygrad.toml")
