"""Texts the worker writes into the sheet and into error messages, in Danish and English.

A small catalogue: message id → {"da": …, "en": …} with ``str.format`` fields.
Other modules add their own entries; ids are grouped by the module that uses them.
"""

from __future__ import annotations

import re

# Field values come from the sheet: one line, and long values cut so a note stays readable.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
VALUE_LIMIT = 60

CATALOGUE: dict[str, dict[str, str]] = {
    # --- parse: the workbook's layout (SheetError and tab/header problems) ---
    "missing_tab": {
        "da": 'Regnearket har ingen fane {names}; fundne faner: {found}. '
              "Tilføj den med `rygrad init-sheet`, eller omdøb en af dem.",
        "en": 'The workbook has no tab {names}; tabs found: {found}. '
              "Add it with `rygrad init-sheet` or rename one.",
    },
    "missing_column": {
        "da": '{tab}: den påkrævede kolonne {names} mangler; '
              "fundne overskrifter: {found}. "
              "Tilføj kolonnen, eller skriv overskriften under [sheet.aliases] i konfigurationen.",
        "en": '{tab}: the required column {names} is missing; headers found: {found}. '
              "Add the column or add its header to [sheet.aliases] in the config.",
    },
    "missing_column_hint": {
        "da": '{tab}: den påkrævede kolonne {names} mangler; '
              'fundne overskrifter: {found}. Mente du "{hint}"? '
              "Omdøb den, eller skriv den under [sheet.aliases] i konfigurationen.",
        "en": '{tab}: the required column {names} is missing; headers found: {found}. '
              'Did you mean "{hint}"? Rename it or add it to [sheet.aliases] in the config.',
    },
    "none_found": {"da": "(ingen)", "en": "(none)"},
    # --- config: [sheet.aliases] naming a column the workbook contract does not have ---
    "alias_unknown_hint": {
        "da": 'der er ingen kolonne, der hedder "{name}". Mente du "{hint}"?',
        "en": 'no column is called "{name}". Did you mean "{hint}"?',
    },
    "alias_unknown": {
        "da": 'der er ingen kolonne, der hedder "{name}"; skriv en kolonnes overskrift '
              '(fx "Ansvarlig") eller fane og overskrift (fx "Handlinger.Frist")',
        "en": 'no column is called "{name}"; write a column\'s header (e.g. "Owner") '
              'or a tab and a header (e.g. "Actions.Due")',
    },
    # --- plan: rows the rules cannot act on ---
    "no_start_time": {
        "da": "{column} mangler; der sendes ingen invitation, før mødet har et starttidspunkt",
        "en": "{column} is empty; no invitation is sent until the meeting has a start time",
    },
    "optional_column_missing": {
        "da": 'Kolonnen {names} mangler; den læses som tom',
        "en": 'The column {names} is missing; it is read as empty',
    },
    "duplicate_header": {
        "da": 'Overskriften "{value}" er samme kolonne som {first}; den første bruges',
        "en": 'The header "{value}" is the same column as {first}; the first one is used',
    },
    "duplicate_tab": {
        "da": 'Fanen "{value}" er samme fane som "{first}"; den første bruges',
        "en": 'The tab "{value}" is the same tab as "{first}"; the first one is used',
    },
    # --- parse: rows and IDs ---
    "row_skipped": {
        "da": "; rækken springes over, til det er rettet",
        "en": "; the row is skipped until it is fixed",
    },
    "value_missing": {"da": "{column} mangler", "en": "{column} is missing"},
    "duplicate_id": {
        "da": '{column} "{value}" står flere gange (rækkerne {rows}); '
              "rækkerne springes over, til det er rettet",
        "en": '{column} "{value}" appears more than once (rows {rows}); '
              "the rows are skipped until it is fixed",
    },
    # --- parse: values ---
    "not_date": {
        "da": '{column}: "{value}" er ikke en dato; skriv fx {example} eller 2026-12-04',
        "en": '{column}: "{value}" is not a date; write e.g. {example} or 2026-12-04',
    },
    "not_time": {
        "da": '{column}: "{value}" er ikke et klokkeslæt; skriv fx 14:00',
        "en": '{column}: "{value}" is not a time; write e.g. 14:00',
    },
    "not_number": {
        "da": '{column}: "{value}" er ikke et tal',
        "en": '{column}: "{value}" is not a number',
    },
    "not_flag": {
        "da": '{column}: "{value}" forstås ikke; skriv ja eller årsagen til aflysningen, '
              'eller lad feltet stå tomt',
        "en": '{column}: "{value}" is not understood; write yes or the reason for '
              'cancelling, or leave it empty',
    },
    "not_link": {
        "da": '{column}: "{value}" er ikke et link; skriv adressen på onlinemødet, '
              'fx https://teams.microsoft.com/…',
        "en": '{column}: "{value}" is not a link; write the address of the online meeting, '
              'e.g. https://teams.microsoft.com/…',
    },
    "not_email": {
        "da": '{column}: "{value}" er ikke en gyldig e-mailadresse',
        "en": '{column}: "{value}" is not a valid email address',
    },
    "formula_without_value": {
        "da": "formlen har ingen gemt værdi — åbn regnearket i Excel eller LibreOffice, "
              "og gem det",
        "en": "the formula has no saved value — open the workbook in Excel or LibreOffice "
              "and save it",
    },
    "email_not_sendable": {
        "da": '{column}: "{value}" kan ikke få mail: bogstaver som æ, ø og å før @ tager '
              "de fleste mailservere ikke imod; skriv adressen uden dem (spørg personen), "
              "indtil da får personen ingen mails",
        "en": '{column}: "{value}" cannot be mailed: most mail servers do not accept letters '
              "such as æ, ø and å before the @; write the address without them (ask the "
              "person), until then this person gets no mail",
    },
    "no_email": {
        "da": "{column} mangler; personen får ingen mails",
        "en": "{column} is missing; this person gets no mail",
    },
    "not_frequency": {
        "da": '{column}: "{value}" forstås ikke; skriv månedlig, kvartalsvis, halvårlig '
              "eller årlig (indtil da bruges kvartalsvis)",
        "en": '{column}: "{value}" is not understood; write monthly, quarterly, half-yearly '
              "or yearly (until then quarterly is used)",
    },
    "not_language": {
        "da": '{column}: "{value}" forstås ikke; skriv da eller en (indtil da bruges {default})',
        "en": '{column}: "{value}" is not understood; write da or en (until then {default} '
              "is used)",
    },
    "end_before_start": {
        "da": '{column}: "{value}" er ikke efter start ({start}); '
              "mødet regnes til at vare {minutes} minutter",
        "en": '{column}: "{value}" is not after the start ({start}); '
              "the meeting is taken to last {minutes} minutes",
    },
    # --- parse: references between tabs ---
    "unknown_person": {
        "da": '{column}: "{value}" findes ikke på fanen {tab}',
        "en": '{column}: "{value}" is not on the {tab} tab',
    },
    "ambiguous_person": {
        "da": '{column}: flere personer på fanen {tab} hedder "{value}" (rækkerne {rows}); '
              "skriv e-mailadressen i stedet",
        "en": '{column}: several people on the {tab} tab are called "{value}" (rows {rows}); '
              "write the email address instead",
    },
    "person_without_email": {
        "da": '{column}: "{value}" har ingen gyldig e-mailadresse på fanen {tab} '
              "og får ingen mails",
        "en": '{column}: "{value}" has no valid email address on the {tab} tab '
              "and gets no mail",
    },
    "unknown_group": {
        "da": '{column}: "{value}" findes ikke på fanen {tab}',
        "en": '{column}: "{value}" is not on the {tab} tab',
    },
    "duplicated_reference": {
        "da": '{column}: "{value}" står flere gange på fanen {tab}; ret det dér',
        "en": '{column}: "{value}" appears more than once on the {tab} tab; fix it there',
    },
    "unknown_meeting": {
        "da": '{column}: "{value}" findes ikke på fanen {tab}',
        "en": '{column}: "{value}" is not on the {tab} tab',
    },
    # --- commands: why a reply by mail changed nothing (one sentence for the answer) ---
    "reply_empty": {
        "da": "Vi kunne ikke finde noget svar over den citerede mail.",
        "en": "We could not find an answer above the quoted mail.",
    },
    "reply_action_unclear": {
        "da": "Vi kunne ikke se, hvad dit svar skulle ændre; skriv »færdig« eller "
              "»ny frist {example}« på en linje for sig.",
        "en": 'We could not tell what your reply should change; please write "done" or '
              '"new due date {example}" on a line of its own.',
    },
    "reply_indicator_unclear": {
        "da": "Vi kunne ikke finde et tal i dit svar; skriv den nye værdi på en linje "
              "for sig, fx »42,5«.",
        "en": 'We could not find a number in your reply; please write the new value on a '
              'line of its own, e.g. "42.5".',
    },
    "reply_number_on_action": {
        "da": "Mailen handlede om en opgave, så et tal kan vi ikke bruge som svar; "
              "skriv »færdig« eller »ny frist {example}«.",
        "en": 'The mail was about an action, so a number cannot answer it; please write '
              '"done" or "new due date {example}".',
    },
    "reply_command_on_indicator": {
        "da": "Mailen handlede om en indikator, så svaret skal være den nye værdi, "
              "fx »42,5«, ikke »{value}«.",
        "en": 'An indicator request can only be answered with the new value, e.g. "42.5", '
              'not with "{value}".',
    },
    "reply_number_ambiguous": {
        "da": "»{value}« kan læses på to måder, med tusindtalsseparator eller som "
              "decimaltal; skriv tallet uden tusindtalsseparator, fx »1234«.",
        "en": '"{value}" can be read two ways, with a thousands separator or as a decimal; '
              'please write the number without a thousands separator, e.g. "1234".',
    },
    "reply_not_date": {
        "da": "Vi kunne ikke læse »{value}« som en dato; skriv fx »ny frist {example}«.",
        "en": 'We could not read "{value}" as a date; please write e.g. '
              '"new due date {example}".',
    },
    "reply_date_past": {
        "da": "Den nye frist, {value}, er allerede passeret; skriv en dato fra i dag og frem.",
        "en": "The new due date, {value}, is in the past; please write today's date or a "
              "later one.",
    },
    # --- reports: a working group that cannot be asked for its status ---
    "report_no_chair": {
        "da": "{column} mangler eller har ingen e-mailadresse, så gruppen bliver ikke bedt "
              "om en status til styregruppens møde {day}",
        "en": "{column} is empty or has no email address, so the group is not asked for a "
              "status for the steering group's meeting on {day}",
    },
    # --- parse: Målinger, the optional tab of indicator history ---
    "unknown_indicator": {
        "da": '{column}: "{value}" findes ikke på fanen {tab}',
        "en": '{column}: "{value}" is not on the {tab} tab',
    },
    "optional_tab_missing": {
        "da": "Regnearket har ingen fane {names}, så indikatorernes værdier gemmes ikke "
              "som historik; tilføj den med `rygrad init-sheet`",
        "en": "The workbook has no tab {names}, so the indicators' values are not kept "
              "as history; add it with `rygrad init-sheet`",
    },
    # --- inbox/decide.py: what a reply did, for the secretariat (digest, ledger) in the
    # initiative's language, and the sentence told to the partner ("told_") in theirs ---
    "inbox_automatic": {
        "da": "automatisk svar ({why}); ikke brugt og ikke besvaret",
        "en": "automatic reply ({why}); not used and not answered",
    },
    "inbox_untrusted": {
        "da": "ifølge {server} består afsenderen {sender} ikke DMARC-kontrollen; ikke brugt",
        "en": "{server} says the sender {sender} fails DMARC; not used",
    },
    "inbox_unknown_mail": {
        "da": "svar på en mail, rygrad ikke kender",
        "en": "a reply to a mail rygrad does not know",
    },
    "inbox_not_allowed": {
        "da": "fra {sender}, men mailen gik til {recipient}; intet ændret",
        "en": "from {sender}, but the mail went to {recipient}; nothing changed",
    },
    "inbox_unreadable": {
        "da": "svaret kunne ikke læses ({why})",
        "en": "the reply could not be read ({why})",
    },
    "inbox_no_commands": {
        "da": "svar på en mail af typen »{kind}«, som ikke kan ændre arket",
        "en": "a reply to a {kind} mail, which cannot change the sheet",
    },
    "inbox_already_done": {
        "da": "{id} var allerede markeret som udført",
        "en": "{id} was already marked done",
    },
    "inbox_done": {
        "da": "{id} markeret som udført",
        "en": "{id} marked done",
    },
    "inbox_done_stays_done": {
        "da": "{id} er udført; en ny frist ændrer ikke på det",
        "en": "{id} is done; a new due date does not change that",
    },
    "inbox_due_changed": {
        "da": "fristen for {id} er ændret i arket, siden mailen blev sendt ({then} → {now})",
        "en": "the due date of {id} has changed in the sheet since the mail was sent ({then} → "
              "{now})",
    },
    "inbox_new_due": {
        "da": "ny frist for {id}: {due}",
        "en": "new due date for {id}: {due}",
    },
    "inbox_not_for_action": {
        "da": "svaret om {id} var hverken »færdig« eller en ny frist",
        "en": "the reply about {id} was neither done nor a new due date",
    },
    "inbox_not_for_indicator": {
        "da": "svaret om {id} var ikke et tal",
        "en": "the reply about {id} was not a number",
    },
    "inbox_updated_since": {
        "da": "{id} er opdateret i arket, siden mailen blev sendt (Opdateret {updated})",
        "en": "{id} has been updated in the sheet since the mail was sent (Updated {updated})",
    },
    "inbox_value": {
        "da": "ny værdi for {id}: {value}",
        "en": "new value for {id}: {value}",
    },
    "inbox_empty_report": {
        "da": "tom status",
        "en": "an empty status",
    },
    "inbox_report": {
        "da": "status fra {group}",
        "en": "status from {group}",
    },
    "inbox_gone": {
        "da": "{id} findes ikke længere i arket",
        "en": "{id} is no longer in the sheet",
    },
    "inbox_calendar": {
        "da": "{sender}: {answer} {id}",
        "en": "{sender}: {answer} {id}",
    },
    "inbox_accepted": {
        "da": "deltager i",
        "en": "attends",
    },
    "inbox_declined": {
        "da": "melder afbud til",
        "en": "sends apologies for",
    },
    "inbox_tentative": {
        "da": "deltager måske i",
        "en": "may attend",
    },
    "inbox_calendar_not_invitee": {
        "da": "kalendersvar fra {sender}, som ikke er inviteret til {id}",
        "en": "a calendar answer from {sender}, who is not invited to {id}",
    },
    "inbox_calendar_unknown": {
        "da": "kalendersvar til et møde, der ikke er i arket",
        "en": "a calendar answer for a meeting not in the sheet",
    },
    "inbox_told_done": {
        "da": "{id} er markeret som udført i arket.",
        "en": "{id} is marked done in the sheet.",
    },
    "inbox_told_already_done": {
        "da": "{id} var allerede markeret som udført i arket.",
        "en": "{id} was already marked done in the sheet.",
    },
    "inbox_told_new_due": {
        "da": "Fristen for {id} er nu {due} i arket.",
        "en": "The due date of {id} is now {due} in the sheet.",
    },
    "inbox_told_value": {
        "da": "{id} har nu værdien {value} i arket.",
        "en": "{id} now has the value {value} in the sheet.",
    },
    "inbox_told_report": {
        "da": "Jeres status er gemt i arket til styregruppen.",
        "en": "Your status is saved in the sheet for the steering group.",
    },
    "inbox_told_conflict": {
        "da": "{id} er ændret i arket, siden vi skrev til dig.",
        "en": "{id} has changed in the sheet since we wrote to you.",
    },
    "inbox_told_not_allowed": {
        "da": "Mailen, du svarede på, gik til en anden.",
        "en": "The mail you answered went to someone else.",
    },
    "inbox_told_unreadable": {
        "da": "Vi kunne ikke finde et svar i din mail.",
        "en": "We could not find an answer in your mail.",
    },
    "inbox_told_no_commands": {
        "da": "Et svar på den mail kan ikke ændre noget i arket.",
        "en": "A reply to that mail cannot change anything in the sheet.",
    },
    "inbox_told_not_for_action": {
        "da": "Vi kunne ikke se, om {id} er udført, eller om den skal have en ny frist; skriv "
              "»færdig« eller »ny frist 15.3.2027« på en linje for sig.",
        "en": "We could not tell whether {id} is done or needs a new due date; please write "
              '"done" or "new due date 15 March 2027" on a line of its own.',
    },
    "inbox_told_not_for_indicator": {
        "da": "Vi kunne ikke finde en ny værdi for {id}; skriv tallet på en linje for sig, fx "
              "»42,5«.",
        "en": "We could not find a new value for {id}; please write the number on a line of its "
              'own, e.g. "42.5".',
    },
}


def text(language: str, message_id: str, **fields: object) -> str:
    """The message in the language ("da", else English), its fields shown on one line.

    A field named ``value`` (a cell's content) is also cut to about 60 characters.
    """
    entry = CATALOGUE[message_id]
    template = entry["da"] if language == "da" else entry["en"]
    shown_fields = {
        name: shown(str(value), VALUE_LIMIT if name == "value" else None)
        for name, value in fields.items()
    }
    return template.format(**shown_fields)


def shown(value: str, limit: int | None = VALUE_LIMIT) -> str:
    """A value as quoted in a message: control characters as spaces, long text cut."""
    one_line = _CONTROL.sub(" ", value).strip()
    if limit is not None and len(one_line) > limit:
        return one_line[: limit - 1].rstrip() + "…"
    return one_line


def and_list(language: str, items: list[str]) -> str:
    """"4 og 9", "4, 7 og 9" / "4 and 9", "4, 7 and 9" (no serial comma in British English)."""
    word = " og " if language == "da" else " and "
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + word + items[-1]


def both_names(language: str, da: str, en: str) -> str:
    """A tab or column named in the initiative's language first: "Actions" (or "Handlinger")."""
    first, other = (da, en) if language == "da" else (en, da)
    if first == other:
        return f'"{first}"'
    return f'"{first}" ({"eller" if language == "da" else "or"} "{other}")'
