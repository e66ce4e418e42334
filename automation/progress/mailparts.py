"""The charts and the report a mail carries (README, "Charts and the status report").

An indicator request carries that indicator's chart; the agenda of a steering group's
meeting (Type Styregruppe / Steering group) carries every indicator's chart and the
status report as a PDF. Charts are inline parts the HTML names by ``cid:``, never links
outside. Every other mail carries neither, and this module then imports neither
matplotlib nor WeasyPrint (`charts` and `report` are imported on first use).

A chart or a report that cannot be made fails that one mail (a TemplateError naming the
indicator or the meeting), never the cycle: a mail without the chart it promises would
be a wrong mail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from automation.config import Settings
from automation.core import progress, statusreport
from automation.core.model import Indicator, Initiative, Message
from automation.errors import RygradError, TemplateError
from automation.mail.mime import Attachment, InlineImage

REPORTS_KEPT = 16  # (meeting, language, day): a steering group's members share one PDF


@dataclass
class Visuals:
    """What a message carries beyond its text: ``charts`` is what templates see (by
    indicator id: cid, alt, width, height), ``images`` and ``attachments`` the parts."""

    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    images: list[InlineImage] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    report_file: str = ""  # the attached report's file name, "" when none


class MailVisuals:
    """Makes each message's charts and report, the report once per meeting and language."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # the initiative is kept with its report, so that its id() in the key is not reused
        self._reports: dict[tuple[object, ...], tuple[Initiative, Attachment]] = {}

    def for_message(self, message: Message, initiative: Initiative, now: datetime,
                    lang: str) -> Visuals:
        """``now`` in the initiative's time zone; ``lang`` the mail's language."""
        visuals = Visuals()
        if message.kind == "indicator":
            indicator = initiative.indicator(message.subject_id)
            if indicator is not None:
                self._add_charts(visuals, [indicator], initiative, now, lang)
        elif message.kind == "agenda":
            meeting = initiative.meeting(message.subject_id)
            group = initiative.group(meeting.group) if meeting else None
            if meeting is not None and statusreport.is_steering_group(group):
                self._add_charts(visuals, initiative.indicators, initiative, now, lang)
                report = self._report(initiative, message.subject_id, now, lang)
                visuals.attachments.append(report)
                visuals.report_file = report.filename
        return visuals

    def _add_charts(self, visuals: Visuals, indicators: list[Indicator],
                    initiative: Initiative, now: datetime, lang: str) -> None:
        from automation.progress import charts

        for indicator in indicators:
            data = progress.chart_data(indicator, initiative, now.date(), self.settings.rules)
            try:
                drawn = charts.chart(data, lang)
            except Exception as err:  # matplotlib's own errors: name the indicator
                raise TemplateError(f"the chart of indicator {indicator.id} could not be "
                                    f"drawn: {err}") from err
            visuals.charts[indicator.id] = {"cid": drawn.cid, "alt": drawn.alt,
                                            "width": drawn.width, "height": drawn.height}
            visuals.images.append(InlineImage(drawn.cid, drawn.png,
                                              f"{_safe(indicator.id)}.png"))

    def _report(self, initiative: Initiative, meeting_id: str, now: datetime,
                lang: str) -> Attachment:
        from automation.progress import report

        key = (id(initiative), meeting_id, lang, now.date())
        if key not in self._reports:
            if len(self._reports) >= REPORTS_KEPT:
                self._reports.clear()
            meeting = initiative.meeting(meeting_id)
            try:
                made = report.make_report(initiative, self.settings, now.date(),
                                          group=meeting.group if meeting else "",
                                          meeting=meeting, lang=lang)
            except RygradError:
                raise
            except Exception as err:  # WeasyPrint's own errors: name the meeting
                raise TemplateError(f"the status report for meeting {meeting_id} could not "
                                    f"be made: {err}") from err
            self._reports[key] = (initiative,
                                  Attachment("application/pdf", made.pdf, made.filename))
        return self._reports[key][1]


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text)[:40] or "chart"
