"""The example initiative `rygrad init` writes: Ungeløftet Aarhus.

A realistic workbook whose dates sit around `today`, so that a first `rygrad plan`
shows every kind of mail of README, "The rules": invitations, agendas, follow-ups,
reminders, overdue notices, escalations and indicator requests, and rows for
which nothing is due yet. Deterministic: the same `today` gives the same file.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from automation.core.schema import TABS, Tab

SG, AGU, AGF, AGJ = "Styregruppe", "AG Uddannelse", "AG Fritid og fællesskab", "AG Job og praktik"
ALL_GROUPS = f"{SG}, {AGU}, {AGF}, {AGJ}"

# Name, e-mail, organisation, groups, language ("" = the initiative's)
PEOPLE_ROWS: tuple[tuple[str, str, str, str, str], ...] = (
    ("Line Bach Sørensen", "line.bach@ungeloeftet.example",
     "Sekretariatet for Ungeløftet (sekretariatsleder)", ALL_GROUPS, ""),
    ("Jonas Kjær", "jonas.kjaer@ungeloeftet.example",
     "Sekretariatet for Ungeløftet", f"{AGU}; {AGJ}", ""),
    ("Amira Hassan", "amira.hassan@ungeloeftet.example",
     "Sekretariatet for Ungeløftet (data og evaluering)", f"{SG}, {AGF}", ""),
    ("Mette Skovgaard", "mette.skovgaard@aarhus.example",
     "Aarhus Kommune, Børn og Unge", SG, ""),
    ("Henrik Lund", "henrik.lund@aarhus.example",
     "Aarhus Kommune, Sociale Forhold og Beskæftigelse", f"{SG}, {AGJ}", ""),
    ("Sofie Dahl", "sofie.dahl@aarhus.example",
     "Jobcenter Aarhus, Ungeenheden", AGJ, ""),
    ("Anne Holm", "anne.holm@aarhus.example",
     "Aarhus Kommune, Børn og Unge, Fritid og Ungdomsskole", AGF, ""),
    ("Peter Nørgaard", "peter.noergaard@uu-aarhus.example",
     "UU Aarhus (Ungdommens Uddannelsesvejledning)", AGU, ""),
    ("Camilla Friis", "camilla.friis@uu-aarhus.example",
     "UU Aarhus (Ungdommens Uddannelsesvejledning)", f"{AGU}; {AGJ}", ""),
    ("Lars Østergaard", "lars.oestergaard@aarhustech.example",
     "Aarhus Tech", f"{SG}, {AGU}", ""),
    ("Maja Kristensen", "maja.kristensen@aarhustech.example",
     "Aarhus Tech, Erhvervsuddannelserne", AGJ, ""),
    ("Rasmus Bech", "rasmus.bech@langkaer-gym.example", "Langkær Gymnasium", AGU, ""),
    ("Fatima Yousef", "fatima.yousef@brabrandbolig.example",
     "Brabrand Boligforening, boligsocial helhedsplan", AGF, ""),
    ("Kasper Mølgaard", "kasper.moelgaard@brabrandbolig.example",
     "Brabrand Boligforening", SG, ""),
    ("Ida Winther", "ida.winther@redbarnet.example", "Red Barnet Aarhus", AGF, ""),
    ("Mikkel Juhl", "mikkel.juhl@urk.example", "Ungdommens Røde Kors", f"{AGF}; {AGU}", ""),
    ("Nanna Berg", "nanna.berg@kfum-aarhus.example", "KFUM og KFUK i Aarhus", AGF, ""),
    ("Thomas Vinther", "thomas.vinther@trygfonden.example", "TrygFonden", SG, ""),
    ("Karen Bjerre", "karen.bjerre@veluxfonden.example", "Velux Fonden (observatør)", SG, ""),
    ("Jesper Krogh", "jesper.krogh@danskerhverv.example",
     "Dansk Erhverv, Østjylland", f"{SG}, {AGJ}", ""),
    ("Louise Thygesen", "louise.thygesen@oestjysk-smede.example",
     "Østjysk Smede ApS", AGJ, ""),
    ("Bo Rasmussen", "bo.rasmussen@aarhus.example", "SSP Aarhus", AGF, ""),
    ("Hanne Lindberg", "hanne.lindberg@aakb.example",
     "Aarhus Kommunes Biblioteker, Gellerup Bibliotek", f"{AGF}, {AGU}", ""),
    ("Yasmin Ali", "yasmin.ali@ungepanel.example", "Ungepanelet i Aarhus", f"{SG}; {AGF}", ""),
    ("Sarah Mitchell", "sarah.mitchell@eyon.example",
     "European Youth Opportunities Network, Brussels", AGJ, "en"),
    ("Lukas Becker", "lukas.becker@jugendwerk-hamburg.example",
     "Jugendwerk Hamburg (Erasmus+ partner)", AGU, "en"),
)

# Group, type, chair, goal
GROUP_ROWS: tuple[tuple[str, str, str, str], ...] = (
    (SG, "Styregruppe", "Mette Skovgaard",
     "Flere unge mellem 15 og 25 år i Aarhus i uddannelse eller job: 90 % i 2028."),
    (AGU, "Arbejdsgruppe", "Peter Nørgaard",
     "Færre unge falder fra en ungdomsuddannelse, og flere kommer godt fra 9. klasse "
     "videre i uddannelse."),
    (AGF, "Arbejdsgruppe", "Ida Winther",
     "Flere unge i Gellerup, Toveshøj og Bispehaven er med i et fritidsfællesskab."),
    (AGJ, "Arbejdsgruppe", "Jesper Krogh",
     "Flere praktikpladser og fritidsjob til unge, der hverken er i uddannelse eller job."),
)

GROUP_ORDER = [row[0] for row in GROUP_ROWS]
# Meeting ID prefix per group; the steering group's IDs also carry the year
PREFIXES = {SG: "SG", AGU: "AGU", AGF: "AGF", AGJ: "AGJ"}

SG_AGENDA = ("1. Velkomst og godkendelse af dagsorden\n2. Status fra arbejdsgrupperne\n"
             "3. Indikatorer: hvor er vi bagud?\n4. Ansøgning til fase 2\n5. Eventuelt")
VIDEO = "https://meet.ungeloeftet.example/ag-uddannelse"

# Label (for actions' Møde-ID), group, days from today, start, end, location, agenda,
# minutes, cancelled. Past meetings move back to a weekday and future ones forward,
# never by more than two days, so every meeting stays in its rule's window.
# Each rule has one meeting, not one per group: a meeting mail goes to some ten
# members, and the first cycle must stay under mail.max_per_cycle (100), or the
# send cap would hold every mail of a first try.
MEETING_PLAN: tuple[tuple[str, str, int, Any, Any, str, str, str, str], ...] = (
    ("sg-old2", SG, -70, "15.00", "17.00", "Aarhus Rådhus, mødelokale 3", SG_AGENDA,
     "https://ungeloeftet.example/referater/styregruppe-1.pdf", ""),
    ("sg-old", SG, -42, "15.00", "17.00", "Aarhus Rådhus, mødelokale 3", SG_AGENDA,
     "Styregruppen godkendte kommissorierne for de tre arbejdsgrupper.", ""),
    ("sg-recent", SG, -4, "15.00", "17.00", "Aarhus Rådhus, mødelokale 3", SG_AGENDA,
     "Styregruppen drøftede status fra arbejdsgrupperne.\nDer søges om midler til "
     "fase 2 hos TrygFonden.\nUngepanelet inviteres til næste møde.", ""),
    ("sg-next", SG, 17, "15.00", "17.00", "Aarhus Rådhus, mødelokale 3",
     "1. Velkomst\n2. Oplæg fra Ungepanelet", "", ""),
    ("sg-far", SG, 52, "", "", "Dokk1, mødelokale 2", "", "", ""),
    ("agu-old", AGU, -63, time(9, 0), time(11, 0), "UU Aarhus, Værkmestergade 2",
     "1. Frafald på grundforløbet\n2. Brobygning", "Referat ligger på Teams.", ""),
    ("agu-prev", AGU, -33, time(9, 0), time(11, 0), "Aarhus Tech, Hasselager Allé 2",
     "1. Overlevering fra 9. klasse\n2. Lektiecafé", "Vi aftalte et fælles "
     "overleveringsskema og en lektiecafé på Gellerup Bibliotek.", ""),
    ("agu-soon", AGU, 2, time(9, 0), time(10, 30), VIDEO,
     "1. Opfølgning på lektiecaféen\n2. Mentorordning\n3. Erfaringer fra Hamburg", "", ""),
    ("agu-next", AGU, 23, time(9, 0), time(11, 0), "Langkær Gymnasium", "", "", ""),
    ("agf-old", AGF, -49, "16.30", "18.30", "Gellerup Bibliotek",
     "1. Kortlægning af fritidstilbud", "Kortlægningen fordeles mellem partnerne.", ""),
    ("agf-missing", AGF, -8, "16.30", "18.30", "Gellerup Bibliotek",
     "1. Fritidsguider\n2. Åbningstider i klubben", "", ""),
    ("agf-cancel", AGF, 9, "16.30", "18.30", "Klubben i Toveshøj", "", "", "ja"),
    ("agf-soon", AGF, 3, "16.30", "18.30", "Klubben i Toveshøj", "", "", ""),
    ("agf-next", AGF, 30, "16.30", "18.30", "Gellerup Bibliotek", "", "", ""),
    ("agj-old", AGJ, -63, time(8, 30), None, "Dansk Erhverv, Aarhus",
     "1. Praktikpladser\n2. Fritidsjob", "Referat udsendt af sekretariatet.", ""),
    ("agj-prev", AGJ, -34, time(8, 30), None, "Jobcenter Aarhus",
     "1. Praktikpladsmål\n2. Jobmesse", "Dansk Erhverv skaffer 30 nye praktikpladser.\n"
     "Jobmessen holdes på Aarhus Tech.", ""),
    ("agj-next", AGJ, 22, "8.30", "", "Aarhus Tech, Hasselager Allé 2", "", "", ""),
    ("agj-far", AGJ, 44, "8.30", "", "Dansk Erhverv, Aarhus", "", "", ""),
)

# Group, action, owner (a name or an e-mail), due in days from today (None = no due
# date), status, label of the meeting where it was agreed
ACTION_ROWS: tuple[tuple[str, str, str, int | None, str, str], ...] = (
    (SG, "Godkend kommissorier for arbejdsgrupperne", "Mette Skovgaard", -30, "Færdig",
     "sg-old"),
    (SG, "Aftal datadeling med UU om unge uden for uddannelse og job", "Amira Hassan", -9,
     "I gang", ""),
    (SG, "Søg TrygFonden om midler til fase 2", "Line Bach Sørensen", 21, "I gang",
     "sg-recent"),
    (SG, "Udarbejd fælles målhierarki og indikatorer", "amira.hassan@ungeloeftet.example", 12,
     "I gang", "sg-recent"),
    (SG, "Forankr Ungeløftet i Aarhus Kommunes budget", "Henrik Lund", 75, "Ikke startet",
     "sg-recent"),
    (SG, "Inviter Ungepanelet til at holde oplæg på næste styregruppemøde", "Yasmin Ali", 2,
     "Ikke startet", "sg-recent"),
    (SG, "Skriv halvårsrapport til fondene", "Thomas Vinther", -16, "I gang", ""),
    (SG, "Lav kommunikationsplan for lanceringen", "Line Bach Sørensen", None,
     "Ikke startet", ""),
    (SG, "Budgetopfølgning for første halvår", "Kasper Mølgaard", -4, "Færdig", ""),
    (SG, "Forbered temadrøftelse om unges mentale trivsel", "Thomas Vinther", 7,
     "Ikke startet", ""),
    (SG, "Saml tilbagemeldinger fra Ungepanelet", "Yasmin Ali", 0, "I gang", ""),
    (SG, "Forny samarbejdsaftalen med Brabrand Boligforening", "Kasper Mølgaard", 50,
     "I gang", ""),
    (AGU, "Kortlæg frafald på grundforløbet på Aarhus Tech", "Lars Østergaard", -6, "I gang",
     "agu-old"),
    (AGU, "Aftal fælles overleveringsskema mellem UU og ungdomsuddannelserne",
     "Peter Nørgaard", 1, "I gang", "agu-prev"),
    (AGU, "Start lektiecafé på Gellerup Bibliotek", "Hanne Lindberg", 30, "Ikke startet",
     "agu-prev"),
    (AGU, "Beskriv mentorordning for elever i risiko for frafald", "Camilla Friis", 45,
     "Ikke startet", "agu-prev"),
    (AGU, "Aftal brobygningsbesøg på Langkær Gymnasium", "Rasmus Bech", -2, "Ikke startet",
     ""),
    (AGU, "Evaluer efterårets brobygningsforløb", "jonas.kjaer@ungeloeftet.example", -23,
     "I gang", ""),
    (AGU, "Del erfaringer fra Hamburgs program mod frafald", "Lukas Becker", 3, "I gang", ""),
    (AGU, "Opdater oversigten over vejledningstilbud", "Camilla Friis", -12, "Færdig", ""),
    (AGU, "Kontakt Ungdommens Røde Kors om frivillige lektiehjælpere", "Mikkel Juhl", None,
     "I gang", ""),
    (AGF, "Kortlæg fritidstilbud i Gellerup", "Fatima Yousef", -3, "I gang", "agf-old"),
    (AGF, "Hold fællesspisning for unge og forældre i Toveshøj", "Anne Holm", 18,
     "Ikke startet", ""),
    (AGF, "Aftal åbningstider i klubben med SSP", "Bo Rasmussen", -11, "Ikke startet", ""),
    (AGF, "Rekrutter 20 frivillige fritidsguider", "Ida Winther", 40, "I gang", ""),
    (AGF, "Søg Velux Fonden om midler til et fritidspas", "Line Bach Sørensen", 60,
     "Ikke startet", ""),
    (AGF, "Hold spejderaften for nye unge i Bispehaven", "Nanna Berg", -8, "Færdig", ""),
    (AGF, "Udvikl fritidspasset sammen med unge", "Yasmin Ali", None, "Ikke startet", ""),
    (AGF, "Opgør deltagelsen i fritidstilbud for kvartalet", "Amira Hassan", 9, "I gang", ""),
    (AGF, "Planlæg aktiviteter i sommerferien", "Mikkel Juhl", 55, "Ikke startet", ""),
    (AGJ, "Skaf 30 nye praktikpladser blandt Dansk Erhvervs medlemmer", "Jesper Krogh", 90,
     "I gang", "agj-prev"),
    (AGJ, "Lav aftaler om fritidsjob med virksomheder i Brabrand", "Louise Thygesen", 2,
     "I gang", "agj-prev"),
    (AGJ, "Planlæg jobmesse for unge på Aarhus Tech", "Maja Kristensen", 35, "Ikke startet",
     "agj-prev"),
    (AGJ, "Afklar, hvordan jobcentret henviser unge til praktik", "Sofie Dahl", -5, "I gang",
     ""),
    (AGJ, "Send rapport om europæiske erfaringer med ungegarantien", "Sarah Mitchell", -1,
     "I gang", ""),
    (AGJ, "Opdater listen over virksomheder i partnerskabet", "henrik.lund@aarhus.example",
     -15, "I gang", ""),
    (AGJ, "Indgå praktikpladsaftale med Aarhus Tech", "Lars Østergaard", 14, "Ikke startet",
     ""),
    (AGJ, "Kontakt virksomheder i Brabrand om praktik", "Louise Thygesen", -20, "Færdig", ""),
    (AGJ, "Indsaml historier om unge i fritidsjob", "Jonas Kjær", None, "Ikke startet", ""),
    (AGJ, "Afstem indsatsen med Jobcenter Aarhus' ungeenhed", "Sofie Dahl", 25,
     "Ikke startet", ""),
)

# ID, group, indicator, unit, baseline, start (days), target, target date (days),
# current value, updated (days; None = never), owner, frequency.
# The comment says the assessment and whether a value is requested now.
INDICATOR_ROWS: tuple[tuple[str, str, str, str, float, int, float, int, float | None,
                            int | None, str, str], ...] = (
    # on track, requested now
    ("I-01", SG, "Unge 15–25 år i uddannelse eller job", "%", 84, -400, 90, 700, 86.5, -25,
     "Amira Hassan", "månedlig"),
    # behind, not yet
    ("I-02", SG, "Unge uden for uddannelse og job", "unge", 2400, -400, 1800, 700, 2350, -40,
     "Henrik Lund", "kvartalsvis"),
    # behind, requested now (a year since the last survey)
    ("I-03", SG, "Unge, der oplever at blive hørt (trivselsmåling)", "%", 52, -730, 65, 700,
     51, -365, "Yasmin Ali", "årlig"),
    # achieved (lower is better), overdue
    ("I-04", AGU, "Frafald på grundforløbet", "%", 28, -300, 20, 400, 19.5, -95,
     "Lars Østergaard", "kvartalsvis"),
    # on track, not yet
    ("I-05", AGU, "Elever i 9. klasse med en uddannelsesplan", "%", 78, -300, 95, 360, 85,
     -60, "Peter Nørgaard", "halvårlig"),
    # no data (never reported), overdue
    ("I-06", AGU, "Unge i lektiecaféen", "unge", 0, -120, 150, 240, None, None,
     "Hanne Lindberg", "kvartalsvis"),
    # no data (the last value is stale), overdue
    ("I-07", AGF, "Unge i boligområderne med i et fritidstilbud", "%", 31, -365, 45, 365, 33,
     -150, "Fatima Yousef", "kvartalsvis"),
    # achieved, not yet
    ("I-08", AGF, "Frivillige fritidsguider", "antal", 0, -200, 20, 160, 22, -10,
     "Ida Winther", "månedlig"),
    # behind, not yet
    ("I-09", AGF, "Unge i Ungepanelet", "unge", 5, -180, 25, 180, 9, -14, "Yasmin Ali",
     "månedlig"),
    # on track, requested now
    ("I-10", AGJ, "Nye praktikpladser", "antal", 0, -250, 60, 480, 22, -88, "Jesper Krogh",
     "kvartalsvis"),
    # on track, not yet
    ("I-11", AGJ, "Unge i fritidsjob gennem Ungeløftet", "unge", 0, -300, 200, 400, 40, -170,
     "Sofie Dahl", "halvårlig"),
    # on track, not yet
    ("I-12", AGJ, "Virksomheder i partnerskabet", "antal", 12, -500, 50, 200, 31, -300,
     "Louise Thygesen", "årlig"),
)

# Målinger: values partners typed before rygrad kept the history (ID, days from today,
# value, source). Where a row matches an indicator's current value and date, rygrad has
# nothing to append; the other current values it appends on its first cycle.
MEASUREMENT_ROWS: tuple[tuple[str, int, float, str], ...] = (
    ("I-01", -115, 85.1, "UU Aarhus, dataudtræk"),
    ("I-01", -85, 85.6, "UU Aarhus, dataudtræk"),
    ("I-01", -55, 86.0, "UU Aarhus, dataudtræk"),
    ("I-02", -130, 2390, "Jobcenter Aarhus"),
    ("I-03", -365, 51, "Trivselsmåling 2025"),
    ("I-04", -185, 23, "Aarhus Tech"),
    ("I-04", -95, 19.5, "Aarhus Tech"),
    ("I-08", -40, 17, "Ida Winther"),
)

# Partners' words that read differently in an English workbook
ENGLISH = {
    "Styregruppe": "Steering group", "Arbejdsgruppe": "Working group",
    "Ikke startet": "Not started", "I gang": "In progress", "Færdig": "Done",
    "månedlig": "monthly", "kvartalsvis": "quarterly", "halvårlig": "half-yearly",
    "årlig": "yearly", "ja": "yes",
}
TRANSLATED = {"type", "status", "frequency", "cancelled"}

DATE_FORMAT = "d-m-yyyy"
TIME_FORMAT = "hh:mm"
HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")  # grey: the worker owns the column


def meeting_date(today: date, days: int) -> date:
    """`today + days` moved off the weekend: back to Friday if past, forward to Monday if not."""
    day = today + timedelta(days=days)
    step = -1 if days < 0 else 1
    while day.weekday() >= 5:
        day += timedelta(days=step)
    return day


def meeting_ids(today: date) -> dict[str, str]:
    """Label → Møde-ID, numbered per group in date order (SG-2026-04, AGU-07)."""
    ids: dict[str, str] = {}
    counts: dict[tuple[str, int | None], int] = {}
    for label, group, days, *_ in sorted(MEETING_PLAN, key=lambda m: m[2]):
        day = meeting_date(today, days)
        prefix = PREFIXES[group]
        year = day.year if group == SG else None
        number = counts[(prefix, year)] = counts.get((prefix, year), 0) + 1
        ids[label] = f"{prefix}-{year}-{number:02}" if year else f"{prefix}-{number:02}"
    return ids


def rows(today: date) -> dict[str, list[dict[str, Any]]]:
    """Tab key → rows as {column key: value}: the example's content for `today`."""
    ids = meeting_ids(today)

    def days(offset: int | None) -> date | None:
        return None if offset is None else today + timedelta(days=offset)

    return {
        "people": [
            dict(name=n, email=e, organisation=o, groups=g, language=lang)
            for n, e, o, g, lang in PEOPLE_ROWS
        ],
        "groups": [dict(group=g, type=t, chair=c, goal=goal) for g, t, c, goal in GROUP_ROWS],
        "meetings": [
            dict(meeting_id=ids[label], group=group, date=meeting_date(today, offset),
                 start=start, end=end, location=location, agenda=agenda, minutes=minutes,
                 cancelled=cancelled)
            for label, group, offset, start, end, location, agenda, minutes, cancelled
            in sorted(MEETING_PLAN, key=lambda m: (GROUP_ORDER.index(m[1]), m[2]))
        ],
        "actions": [
            dict(action_id=f"H-{number:03}", group=group, action=text, owner=owner,
                 due=days(due), status=status, meeting_id=ids[label] if label else "")
            for number, (group, text, owner, due, status, label) in enumerate(ACTION_ROWS, 1)
        ],
        "indicators": [
            dict(indicator_id=i, group=g, indicator=name, unit=unit, baseline=baseline,
                 start_date=days(start), target=target, target_date=days(target_day),
                 current=current, updated=days(updated), owner=owner, frequency=frequency)
            for (i, g, name, unit, baseline, start, target, target_day, current, updated,
                 owner, frequency) in INDICATOR_ROWS
        ],
        "measurements": [
            dict(indicator_id=i, date=days(offset), value=value, source=source)
            for i, offset, value, source in MEASUREMENT_ROWS
        ],
    }


def write_example_workbook(path: Path, today: date, language: str = "da") -> None:
    """Write the example initiative to a new xlsx file; never overwrite (FileExistsError)."""
    if path.exists():
        raise FileExistsError(f"{path} already exists; the example is never written over it")
    workbook = Workbook()
    workbook.remove(workbook.active)
    content = rows(today)
    for tab in TABS:
        _write_tab(workbook.create_sheet(tab.title(language)), tab, content[tab.key], language)
    buffer = BytesIO()
    workbook.save(buffer)
    # "x": a file that appeared meanwhile is still never overwritten
    with path.open("xb") as file:
        file.write(buffer.getvalue())


def _write_tab(sheet: Worksheet, tab: Tab, content: list[dict[str, Any]], language: str
               ) -> None:
    # the meeting answer columns come with [inbox], which the example's config has not
    columns = [column for column in tab.columns if not column.on_demand]
    sheet.append([column.title(language) for column in columns])
    for cell, column in zip(sheet[1], columns, strict=True):
        cell.font = Font(bold=True)
        if column.worker:
            cell.fill = HEADER_FILL
    sheet.freeze_panes = "A2"
    for row in content:
        sheet.append([_value(column.key, row.get(column.key), language)
                      for column in columns])
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            if isinstance(cell.value, date):
                cell.number_format = DATE_FORMAT
            elif isinstance(cell.value, time):
                cell.number_format = TIME_FORMAT
            elif isinstance(cell.value, str) and "\n" in cell.value:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, column in enumerate(columns, 1):
        texts = [column.title(language)] + [_text(row.get(column.key)) for row in content]
        sheet.column_dimensions[get_column_letter(index)].width = _width(texts)


def _value(key: str, value: Any, language: str) -> Any:
    if value is None or value == "":
        return None
    if language == "en" and key in TRANSLATED:
        return ENGLISH.get(value, value)
    return value


def _text(value: Any) -> str:
    if isinstance(value, date):
        return "30-12-2026"  # as wide as a date in DATE_FORMAT gets
    return "" if value is None else str(value)


def _width(texts: Iterable[str]) -> float:
    """Wide enough for the longest line, within reason: long text wraps or is cut."""
    longest = max((len(line) for text in texts for line in text.splitlines()), default=8)
    return float(min(max(longest + 2, 8), 50))

