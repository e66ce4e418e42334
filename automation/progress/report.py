"""The steering group's status report as HTML and PDF (README, "Charts and the status
report").

`automation.core.statusreport` decides what the report says; this module words it in the
initiative's language with the template ``report/statusrapport.html`` (the ``[templates]
dir`` first, then the built-in one), draws each indicator's chart into it (as a data:
address: the HTML file stands alone) and prints it to A4 with WeasyPrint. WeasyPrint is
imported on the first PDF, never by a cycle that makes none.
"""

from __future__ import annotations

import base64
import functools
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2

from automation.config import Settings
from automation.core import progress, statusreport
from automation.core.model import Initiative, Meeting
from automation.core.statusreport import StatusReport
from automation.errors import RygradError, TemplateError
from automation.mail import formatting
from automation.mail.render import builtin_templates_dir
from automation.progress import charts

TEMPLATE = "report/statusrapport.html"

WORDS: dict[str, dict[str, str]] = {
    "da": {
        "title": "Statusrapport", "page": "Side", "of": "af", "meeting": "Møde",
        "when": "Tidspunkt", "where": "Sted", "agenda": "Dagsorden",
        "no_meeting": "Der er ikke planlagt noget møde i {group}.",
        "no_agenda": "Der står endnu ingen dagsorden i arket.",
        "most_behind": "Det, der er mest bagud",
        "most_behind_how": "Opgaverne står efter, hvor mange dage de er over fristen, og "
                           "indikatorerne efter, hvor mange dage de er bagud i forhold til "
                           "den lige linje mod målet (eller hvor længe en ny værdi har "
                           "manglet).",
        "nothing_behind": "Ingen opgaver er over fristen, og ingen indikatorer er bagud.",
        "days_late": "{days} over fristen", "days_behind": "{days} bagud",
        "days_missing": "ingen data i {days}",
        "groups": "Grupperne", "goal": "Mål", "chair": "Formand", "no_chair": "ingen formand",
        "status": "Seneste status", "status_received": "modtaget {date}",
        "no_status": "Ingen status modtaget",
        "done": "Afsluttede opgaver", "done_since": "Opgaver, der er markeret som færdige, "
        "med en frist efter sidste styregruppemøde ({date}) eller uden frist. Arket viser "
        "ikke, hvornår en opgave blev færdig.", "done_all": "Opgaver, der er markeret som "
        "færdige. Arket viser ikke, hvornår en opgave blev færdig.", "none_done": "Ingen.",
        "overdue": "Over fristen", "open": "Åbne opgaver", "none_open": "Ingen.",
        "action": "Opgave", "owner": "Ansvarlig", "due": "Frist", "late": "Forsinket",
        "next_meeting": "Næste møde", "no_next_meeting": "Intet møde planlagt.",
        "indicators": "Indikatorer", "indicator": "Indikator", "group": "Gruppe",
        "latest": "Seneste værdi", "target": "Mål", "assessment": "Vurdering",
        "no_value": "ingen værdi endnu", "no_indicators": "Der er ingen indikatorer i arket.",
        "problems": "Problemer i arket",
        "problems_how": "Ret dem i arket; rapporten er lavet ud fra resten.",
        "group_indicators": "Gruppens indikatorer",
    },
    "en": {
        "title": "Status report", "page": "Page", "of": "of", "meeting": "Meeting",
        "when": "When", "where": "Where", "agenda": "Agenda",
        "no_meeting": "No meeting of {group} is planned.",
        "no_agenda": "The sheet has no agenda yet.",
        "most_behind": "Most behind",
        "most_behind_how": "Actions by days past their due date, indicators by how many "
                           "days they are behind the straight line to their target (or how "
                           "long a new value has been missing).",
        "nothing_behind": "No action is overdue and no indicator is behind.",
        "days_late": "{days} overdue", "days_behind": "{days} behind",
        "days_missing": "no data for {days}",
        "groups": "The groups", "goal": "Goal", "chair": "Chair", "no_chair": "no chair",
        "status": "Latest status", "status_received": "received {date}",
        "no_status": "No status received",
        "done": "Completed actions", "done_since": "Actions whose status is done and whose "
        "due date is after the steering group last met ({date}), or that have none. The "
        "sheet does not say when an action was completed.", "done_all": "Actions whose "
        "status is done. The sheet does not say when an action was completed.",
        "none_done": "None.",
        "overdue": "Overdue", "open": "Open actions", "none_open": "None.",
        "action": "Action", "owner": "Owner", "due": "Due", "late": "Late",
        "next_meeting": "Next meeting", "no_next_meeting": "No meeting planned.",
        "indicators": "Indicators", "indicator": "Indicator", "group": "Group",
        "latest": "Latest value", "target": "Target", "assessment": "Assessment",
        "no_value": "no value yet", "no_indicators": "The sheet has no indicators.",
        "problems": "Problems in the sheet",
        "problems_how": "To be fixed in the sheet; the report was made with the rest.",
        "group_indicators": "The group's indicators",
    },
}


@dataclass(frozen=True)
class Report:
    """A report made: its file name, the HTML, and the PDF when asked for."""

    filename: str  # Statusrapport-2026-12-03.pdf
    html: str
    pdf: bytes = b""
    problems: tuple[str, ...] = ()  # what the report could not show as asked, one line each


def report_data(initiative: Initiative, settings: Settings, today: date, group: str = "",
                meeting: Meeting | None = None) -> StatusReport:
    return statusreport.status_report(initiative, settings.initiative.name, today,
                                      settings.rules, group, meeting)


def filename(data: StatusReport, lang: str, suffix: str = ".pdf") -> str:
    day = data.meeting.date if data.meeting else data.today
    stem = "Statusrapport" if formatting.language(lang) == "da" else "Status-report"
    return f"{stem}-{day.isoformat()}{suffix}"


def report_html(data: StatusReport, settings: Settings, lang: str = "") -> str:
    """The report as one HTML file, its charts inside it."""
    lang = formatting.language(lang or settings.initiative.language)
    drawn = {line.indicator.id: charts.chart(line.chart, lang) for line in data.indicators}
    images = {key: "data:image/png;base64," + base64.b64encode(c.png).decode("ascii")
              for key, c in drawn.items()}
    context: dict[str, Any] = {
        "report": data, "lang": lang, "w": WORDS[lang], "charts": drawn, "images": images,
        "problem_text": {line.indicator.id: [progress.problem_text(line.chart, code, lang)
                                             for code in line.chart.problems]
                         for line in data.indicators},
        "by_id": {line.indicator.id: line for line in data.indicators},
        "initiative_name": data.initiative_name,
    }
    try:
        return _environment(settings.templates_dir).get_template(TEMPLATE).render(context)
    except jinja2.TemplateError as err:
        where = getattr(err, "filename", None) or TEMPLATE
        line = getattr(err, "lineno", None)
        raise TemplateError(f"{where}{f':{line}' if line else ''}: {err}") from err


def report_pdf(html: str) -> bytes:
    """A4 pages of the HTML; the same HTML gives the same bytes."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as err:  # OSError: Pango missing on the machine
        raise RygradError(f"the status report needs WeasyPrint and Pango ({err}); "
                          "see the README, \"Charts and the status report\"") from err
    # fontTools stamps the embedded font subsets with the time unless SOURCE_DATE_EPOCH
    # is set (reproducible builds' convention): without it no two PDFs were the same
    saved = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = saved or "0"
    try:
        return HTML(string=html, base_url=None).write_pdf()
    finally:
        if saved is None:
            del os.environ["SOURCE_DATE_EPOCH"]


def make_report(initiative: Initiative, settings: Settings, today: date, *, group: str = "",
                meeting: Meeting | None = None, lang: str = "", pdf: bool = True) -> Report:
    data = report_data(initiative, settings, today, group, meeting)
    lang = formatting.language(lang or settings.initiative.language)
    html = report_html(data, settings, lang)
    return Report(filename(data, lang), html, report_pdf(html) if pdf else b"",
                  problems(data, lang))


def problems(data: StatusReport, lang: str) -> tuple[str, ...]:
    """The report's problems as `rygrad report` prints them: no steering group, the
    sheet's problems on the tabs it reads, and each chart's."""
    lines: list[str] = []
    if data.group is None:
        lines.append("Arket har ingen gruppe med Type Styregruppe, så rapporten har intet møde"
                     if lang == "da" else "The sheet has no group of Type Steering group, so "
                     "the report has no meeting")
    lines += [str(p) for p in data.problems]
    lines += [f"{line.indicator.id}: {progress.problem_text(line.chart, code, lang)}"
              for line in data.indicators for code in line.chart.problems
              if code != progress.ONE_VALUE]
    return tuple(lines)


@functools.cache
def _environment(templates_dir: Path | None) -> jinja2.Environment:
    search = [p for p in (templates_dir, builtin_templates_dir()) if p]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(p)) for p in search]),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def localised(func: Any) -> Any:
        @jinja2.pass_context
        def apply(context: Any, value: Any, *args: Any) -> str:
            if value is None or value == "":
                return ""
            return str(func(value, *args, context.get("lang", "da")))
        return apply

    env.filters.update({
        "long_date": localised(formatting.long_date),
        "short_date": localised(formatting.short_date),
        "meeting_time": localised(formatting.meeting_time),
        "quantity": localised(formatting.quantity),
        "assessment": localised(formatting.assessment),
        "day_count": localised(formatting.day_count),
        "meeting_title": localised(formatting.meeting_title),
    })
    return env
