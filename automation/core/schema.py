"""The workbook contract of README, "The workbook contract": tabs, their columns, who owns each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    da: str
    en: str
    worker: bool = False  # W: the worker owns it; otherwise P: partners edit it
    required: bool = False  # missing: the run stops, whatever the tab holds
    # missing while the tab has data rows: the run stops too, since reading the column as
    # empty would change who gets mail or what a mail claims (a renamed Status makes every
    # action open; a renamed Aflyst invites to cancelled meetings)
    guards_mail: bool = False
    aliases: tuple[str, ...] = ()  # other header names partners use for it
    # W: added to the header row only once there is something to write in it (the meeting
    # answer columns, which stay out of a sheet whose answers are not read)
    on_demand: bool = False

    def needed(self, has_rows: bool) -> bool:
        return self.required or (self.guards_mail and has_rows)

    def title(self, language: str) -> str:
        return self.da if language == "da" else self.en


@dataclass(frozen=True)
class Tab:
    key: str
    da: str
    en: str
    id_column: str  # the column whose value identifies a row
    columns: tuple[Column, ...]
    # a tab a workbook may lack: it is read as empty, with a warning that `rygrad
    # init-sheet` adds it, instead of stopping the run
    optional: bool = False

    def title(self, language: str) -> str:
        return self.da if language == "da" else self.en

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)


PEOPLE = Tab("people", "Personer", "People", "email", (
    Column("name", "Navn", "Name", required=True),
    Column("email", "E-mail", "Email", required=True),
    Column("organisation", "Organisation", "Organisation"),
    Column("groups", "Grupper", "Groups", guards_mail=True),
    Column("language", "Sprog", "Language"),
    Column("note", "Bemærkning", "Note", worker=True),
))

GROUPS = Tab("groups", "Grupper", "Groups", "group", (
    Column("group", "Gruppe", "Group", required=True),
    Column("type", "Type", "Type"),
    Column("chair", "Formand", "Chair", guards_mail=True),
    Column("goal", "Mål", "Goal"),
    # a working group's 3–5 lines for the steering group: typed by its chair, or written
    # from the chair's reply to the report request, on the date in Status modtaget
    Column("latest_status", "Seneste status", "Latest status"),
    Column("status_received", "Status modtaget", "Status received", worker=True,
           on_demand=True),
    Column("note", "Bemærkning", "Note", worker=True),
))

MEETINGS = Tab("meetings", "Møder", "Meetings", "meeting_id", (
    Column("meeting_id", "Møde-ID", "Meeting ID", required=True),
    Column("group", "Gruppe", "Group", required=True),
    Column("date", "Dato", "Date", required=True),
    Column("start", "Start", "Start", guards_mail=True),
    Column("end", "Slut", "End", guards_mail=True),
    Column("location", "Sted", "Location", guards_mail=True),
    Column("agenda", "Dagsorden", "Agenda"),
    Column("minutes", "Referat", "Minutes"),
    Column("cancelled", "Aflyst", "Cancelled", guards_mail=True),
    # only adds to a mail (a Deltag button): missing, the invitation still holds; a change
    # after an invitation sends an update like a new place (plan.invitation_details)
    Column("link", "Link", "Online link", aliases=("Online", "Mødelink", "Meeting link")),
    Column("invitation_sent", "Invitation sendt", "Invitation sent", worker=True),
    Column("agenda_sent", "Dagsorden sendt", "Agenda sent", worker=True),
    Column("followup_sent", "Opfølgning sendt", "Follow-up sent", worker=True),
    # the calendar answers, with [inbox] (README, "Meeting answers"): names as in People
    Column("attending", "Deltager", "Attending", worker=True, on_demand=True),
    Column("declined", "Afbud", "Declined", worker=True, on_demand=True),
    Column("tentative", "Måske", "Tentative", worker=True, on_demand=True),
    Column("no_answer", "Mangler svar", "No answer", worker=True, on_demand=True),
    Column("note", "Bemærkning", "Note", worker=True),
))

ACTIONS = Tab("actions", "Handlinger", "Actions", "action_id", (
    Column("action_id", "Handling-ID", "Action ID", required=True),
    Column("group", "Gruppe", "Group", guards_mail=True),
    Column("action", "Handling", "Action", required=True),
    Column("owner", "Ansvarlig", "Owner", required=True),
    Column("due", "Frist", "Due", guards_mail=True),
    Column("status", "Status", "Status", guards_mail=True),
    Column("meeting_id", "Møde-ID", "Meeting ID"),
    Column("overdue", "Forsinket", "Overdue", worker=True),
    Column("last_reminder", "Sidste påmindelse", "Last reminder", worker=True),
    Column("note", "Bemærkning", "Note", worker=True),
))

INDICATORS = Tab("indicators", "Indikatorer", "Indicators", "indicator_id", (
    Column("indicator_id", "Indikator-ID", "Indicator ID", required=True),
    Column("group", "Gruppe", "Group"),
    Column("indicator", "Indikator", "Indicator", required=True),
    Column("unit", "Enhed", "Unit"),
    Column("baseline", "Basislinje", "Baseline", guards_mail=True),
    Column("start_date", "Startdato", "Start date", guards_mail=True),
    Column("target", "Mål", "Target", guards_mail=True),
    Column("target_date", "Måldato", "Target date", guards_mail=True),
    Column("current", "Aktuel værdi", "Current value", guards_mail=True),
    Column("updated", "Opdateret", "Updated", guards_mail=True),
    Column("owner", "Ansvarlig", "Owner", guards_mail=True),
    Column("frequency", "Frekvens", "Frequency", guards_mail=True),
    Column("next_update", "Næste opdatering", "Next update", worker=True),
    Column("assessment", "Vurdering", "Assessment", worker=True),
    Column("last_reminder", "Sidste påmindelse", "Last reminder", worker=True),
    Column("note", "Bemærkning", "Note", worker=True),
))

# an indicator's history: partners type past values, rygrad appends each new current value
# (core/measurements.py); rows are never identified by their ID alone (it repeats)
MEASUREMENTS = Tab("measurements", "Målinger", "Measurements", "indicator_id", (
    Column("indicator_id", "Indikator-ID", "Indicator ID"),
    Column("date", "Dato", "Date"),
    Column("value", "Værdi", "Value"),
    Column("source", "Kilde", "Source"),
    Column("note", "Bemærkning", "Note", worker=True),
), optional=True)

TABS: tuple[Tab, ...] = (PEOPLE, GROUPS, MEETINGS, ACTIONS, INDICATORS, MEASUREMENTS)
TAB_BY_KEY = {tab.key: tab for tab in TABS}


def normalise_header(text: object) -> str:
    """Case, surrounding and repeated spaces do not matter when matching names."""
    return " ".join(str(text or "").split()).casefold()
