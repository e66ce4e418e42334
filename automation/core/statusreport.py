"""What the steering group's status report (*Statusrapport*) says (README, "Charts and
the status report"), gathered from the sheet and the day; `automation.progress.report`
lays it out as HTML and PDF.

First the meeting, its agenda and the three things most behind; then, per group, its
goal, chair, latest status, the actions done, open and overdue, and its next meeting;
then every indicator with its chart. "Most behind" compares actions and indicators in
one unit, days: an overdue action by its days past the due date, an indicator that is
behind by the days of its schedule the gap to its straight line stands for, an indicator
without data by the days since its value was due (`progress.behind_days`).

Actions done: the sheet says that an action is done (its Status), not when. The report
lists the done actions whose due date falls after the steering group last met (or that
have none) and says so in its heading, rather than claiming a completion date.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from automation.core import indicators, progress
from automation.core.model import Action, Group, Indicator, Initiative, Meeting, Problem
from automation.core.progress import ChartData
from automation.core.settings import Rules

STEERING_TYPES = ("styregruppe", "steering group", "steering committee")
MOST_BEHIND = 3
REPORT_TABS = ("groups", "actions", "indicators", "measurements")  # problems it names


def is_steering_group(group: Group | None) -> bool:
    """A group whose Type is Styregruppe / Steering group, in any case."""
    return group is not None and " ".join(group.type.split()).casefold() in STEERING_TYPES


def steering_group(initiative: Initiative, name: str = "") -> Group | None:
    """The group named, else the first steering group of the sheet."""
    if name:
        return initiative.group(name)
    return next((g for g in initiative.groups.values() if is_steering_group(g)), None)


@dataclass(frozen=True)
class ActionLine:
    id: str
    action: str
    owner: str
    due: date | None
    status: str
    days_late: int  # 0 when not overdue


@dataclass(frozen=True)
class IndicatorLine:
    indicator: Indicator
    chart: ChartData
    behind_days: int


@dataclass(frozen=True)
class Lagging:
    """One of the things most behind: an action or an indicator, and by how many days."""

    what: str  # "action" | "indicator"
    id: str
    text: str
    group: str
    days: int
    assessment: str = ""  # for an indicator


@dataclass(frozen=True)
class GroupSection:
    group: Group
    chair: str
    latest_status: str
    status_received: date | None
    done: tuple[ActionLine, ...]
    open: tuple[ActionLine, ...]  # not done, not overdue
    overdue: tuple[ActionLine, ...]
    next_meeting: Meeting | None
    indicators: tuple[str, ...]  # ids, in sheet order


@dataclass(frozen=True)
class StatusReport:
    initiative_name: str
    today: date
    group: Group | None  # the steering group the report is for
    meeting: Meeting | None  # its next meeting, or the one asked for
    previous_meeting: date | None  # when the steering group last met
    most_behind: tuple[Lagging, ...]
    sections: tuple[GroupSection, ...]
    indicators: tuple[IndicatorLine, ...]
    problems: tuple[Problem, ...] = field(default=())


def next_meeting(initiative: Initiative, group: str, today: date) -> Meeting | None:
    """The group's first meeting today or later that is not cancelled."""
    ahead = [m for m in initiative.in_group("meetings", group)
             if m.date >= today and not m.cancelled]
    return min(ahead, key=_meeting_order, default=None)


def previous_meeting(initiative: Initiative, group: str, before: date) -> Meeting | None:
    behind = [m for m in initiative.in_group("meetings", group)
              if m.date < before and not m.cancelled]
    return max(behind, key=_meeting_order, default=None)


def _meeting_order(meeting: Meeting) -> tuple[date, bool, str, str]:
    return (meeting.date, meeting.start is None, str(meeting.start or ""), meeting.id)


def status_report(initiative: Initiative, name: str, today: date, rules: Rules,
                  group_name: str = "", meeting: Meeting | None = None) -> StatusReport:
    """The report for a steering group's meeting (its next one, unless given)."""
    group = steering_group(initiative, group_name)
    key = group.name if group else group_name
    if meeting is None and key:
        meeting = next_meeting(initiative, key, today)
    last = previous_meeting(initiative, key, meeting.date if meeting else today) if key \
        else None
    since = last.date if last else None
    lines = tuple(IndicatorLine(i, progress.chart_data(i, initiative, today, rules),
                                progress.behind_days(i, today, rules))
                  for i in initiative.indicators)
    ordered = sorted(initiative.groups.values(),
                     key=lambda g: (not (group and g.name == group.name), g.row))
    sections = tuple(_section(initiative, g, today, since, rules) for g in ordered)
    problems = tuple(p for p in initiative.problems if p.tab_key in REPORT_TABS)
    return StatusReport(name, today, group, meeting, since,
                        _most_behind(initiative, lines, today), sections, lines, problems)


def _section(initiative: Initiative, group: Group, today: date, since: date | None,
             rules: Rules) -> GroupSection:
    actions = [_line(a, today) for a in initiative.in_group("actions", group.name)]
    done_ids = {a.id for a in initiative.in_group("actions", group.name) if a.done}
    done = tuple(a for a in actions if a.id in done_ids
                 and (a.due is None or since is None or a.due >= since))
    pending = [a for a in actions if a.id not in done_ids]
    by_due = sorted(pending, key=lambda a: (a.due is None, a.due or date.max, a.id))
    chair = group.chair.name if group.chair else ""
    return GroupSection(
        group=group,
        chair=chair,
        latest_status=group.latest_status.strip(),
        status_received=group.status_received,
        done=done,
        open=tuple(a for a in by_due if not a.days_late),
        overdue=tuple(sorted((a for a in by_due if a.days_late),
                             key=lambda a: (-a.days_late, a.id))),
        next_meeting=next_meeting(initiative, group.name, today),
        indicators=tuple(i.id for i in initiative.in_group("indicators", group.name)),
    )


def _line(action: Action, today: date) -> ActionLine:
    owner = action.owner.name if action.owner and action.owner.name else action.owner_text
    late = (today - action.due).days if action.due and not action.done else 0
    return ActionLine(action.id, " ".join(action.action.split()), owner, action.due,
                      action.status, max(late, 0))


def _most_behind(initiative: Initiative, lines: tuple[IndicatorLine, ...],
                 today: date) -> tuple[Lagging, ...]:
    found = [Lagging("action", a.id, " ".join(a.action.split()), a.group, (today - a.due).days)
             for a in initiative.actions if not a.done and a.due and a.due < today]
    found += [Lagging("indicator", line.indicator.id, line.chart.name, line.indicator.group,
                      line.behind_days, line.chart.assessment)
              for line in lines if line.behind_days > 0
              and line.chart.assessment in (indicators.BEHIND, indicators.NO_DATA)]
    found.sort(key=lambda lag: (-lag.days, lag.what, lag.id))
    return tuple(found[:MOST_BEHIND])
