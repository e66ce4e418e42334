"""Build real initiative workbooks and configs for end-to-end tests."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl

from automation import cli

HEADERS = {
    "Personer": ["Navn", "E-mail", "Organisation", "Grupper", "Sprog", "Bemærkning"],
    "Grupper": ["Gruppe", "Type", "Formand", "Mål", "Seneste status", "Status modtaget",
                "Bemærkning"],
    "Møder": ["Møde-ID", "Gruppe", "Dato", "Start", "Slut", "Sted", "Dagsorden", "Referat",
              "Aflyst", "Invitation sendt", "Dagsorden sendt", "Opfølgning sendt", "Bemærkning",
              "Link"],
    "Handlinger": ["Handling-ID", "Gruppe", "Handling", "Ansvarlig", "Frist", "Status",
                   "Møde-ID", "Forsinket", "Sidste påmindelse", "Bemærkning"],
    "Indikatorer": ["Indikator-ID", "Gruppe", "Indikator", "Enhed", "Basislinje", "Startdato",
                    "Mål", "Måldato", "Aktuel værdi", "Opdateret", "Ansvarlig", "Frekvens",
                    "Næste opdatering", "Vurdering", "Sidste påmindelse", "Bemærkning"],
    "Målinger": ["Indikator-ID", "Dato", "Værdi", "Kilde", "Bemærkning"],
}

PEOPLE = [
    {"Navn": "Anne Holm", "E-mail": "anne@kommune.example", "Organisation": "Aarhus Kommune",
     "Grupper": "Styregruppe, AG Uddannelse"},
    {"Navn": "Bo Berg", "E-mail": "bo@ngo.example", "Organisation": "Red Barnet",
     "Grupper": "AG Uddannelse"},
    {"Navn": "Clara Smith", "E-mail": "clara@partner.example", "Organisation": "EYON",
     "Grupper": "AG Uddannelse", "Sprog": "en"},
    {"Navn": "Dorte Dahl", "E-mail": "dorte@fond.example", "Organisation": "Fonden",
     "Grupper": "Styregruppe"},
]
GROUPS = [
    {"Gruppe": "Styregruppe", "Type": "Styregruppe", "Formand": "Dorte Dahl",
     "Mål": "Flere unge i uddannelse"},
    {"Gruppe": "AG Uddannelse", "Type": "Arbejdsgruppe", "Formand": "Anne Holm",
     "Mål": "Færre frafald"},
]


def write_workbook(path: Path, tabs: dict[str, list[dict[str, Any]]],
                   headers: dict[str, list[str]] | None = None) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, columns in (headers or HEADERS).items():
        sheet = workbook.create_sheet(title)
        sheet.append(columns)
        for row in tabs.get(title, []):
            sheet.append([row.get(column) for column in columns])
    workbook.save(path)
    return path


def write_config(folder: Path, workbook: Path, **sections: dict[str, Any]) -> Path:
    settings: dict[str, dict[str, Any]] = {
        "initiative": {"name": "Ungeløftet Test",
                       "secretariat": "Sekretariatet <sekretariat@ungeloeftet.example>"},
        "sheet": {"path": str(workbook)},
        "mail": {"outbox_dir": str(folder / "outbox")},
        "state": {"dir": str(folder / "state")},
        "schedule": {"send_window": "00:00-24:00", "send_days": "all",
                     "skip_holidays": False},
    }
    for name, values in sections.items():
        settings.setdefault(name, {}).update(values)
    lines = []
    for name, values in settings.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
    path = folder / "rygrad.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Run:
    status: int
    out: str
    err: str


def rygrad(capsys: Any, *args: str) -> Run:
    status = cli.main(list(args))
    captured = capsys.readouterr()
    return Run(status, captured.out, captured.err)


def read_outbox(folder: Path) -> list[EmailMessage]:
    messages = []
    for path in sorted(folder.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


def by_key(messages: list[EmailMessage]) -> dict[tuple[str, str], EmailMessage]:
    found = {}
    for message in messages:
        recipient = message["To"].addresses[0].addr_spec
        found[(str(message["X-Rygrad-Key"]), recipient)] = message
    return found


def cells(path: Path, tab: str) -> list[dict[str, Any]]:
    workbook = openpyxl.load_workbook(path, data_only=True)
    sheet = workbook[tab]
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(h) if h is not None else "" for h in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


def d(year: int, month: int, day: int) -> date:
    return date(year, month, day)
