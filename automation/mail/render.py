"""Message → the bytes of a mail: Jinja2 templates in the sandbox, babel dates, the .ics part.

Per kind and language three templates: ``{lang}/{kind}.subject.txt``,
``{lang}/{kind}.txt`` and ``{lang}/{kind}.html``, searched first in
``[templates] dir`` and then among the built-in ones. Cell values only ever
reach templates as data: they are never compiled, they are HTML-escaped in
``.html`` templates, and they cannot reach a mail header with a line break in
them. Any template failure is a TemplateError naming the file and line, which
fails that one message, not the cycle.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
import traceback
from collections.abc import Callable
from datetime import date, datetime
from email.headerregistry import Address
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, pass_context
from jinja2.sandbox import ImmutableSandboxedEnvironment

import automation
from automation.config import Settings
from automation.core import kinds
from automation.core.i18n import and_list
from automation.core.model import Initiative, Message, Recipient
from automation.errors import RygradError, TemplateError
from automation.mail import formatting, ics
from automation.mail.mailcontext import context_for
from automation.mail.mime import Envelope, Invite, mail_bytes
from automation.progress.mailparts import MailVisuals

DICT_ATTRIBUTES = frozenset(dir(dict))
SUBJECT_MAX = 200
CALENDAR_KINDS = kinds.CALENDAR
# the attached .ics named for what it is, in the mail's language
CALENDAR_FILES = {
    "da": {"invitation": "invitation.ics", "cancel": "aflysning.ics"},
    "en": {"invitation": "invitation.ics", "cancel": "cancellation.ics"},
}
CALENDAR_CACHE = 1000


def builtin_templates_dir() -> Path:
    """Inside the package when installed from a wheel, else the repository's templates/."""
    packaged = Path(automation.__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(automation.__file__).resolve().parent.parent / "templates"


class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, answering its two commonest questions faster.

    In templates, ``action.due`` is mostly a key of a plain dict (the views of
    mailcontext): that is looked up first, exactly when Jinja would come to it
    (a plain dict has no attributes but dict's own). And whether an attribute is safe
    depends only on the object's type and the attribute's name (``is_internal_attribute``
    and ``modifies_known_mutable`` in jinja2.sandbox), so each verdict is kept per
    (type, name). Together they were a third of an agenda's rendering time.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.verdicts: dict[tuple[type, str], bool] = {}

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        key = (type(obj), attr)
        verdict = self.verdicts.get(key)
        if verdict is None:
            verdict = self.verdicts[key] = super().is_safe_attribute(obj, attr, value)
        return verdict


class Renderer:
    """Renders messages with the templates of one configuration."""

    def __init__(self, settings: Settings, secret: bytes = b"") -> None:
        """``secret``: the initiative's (the ledger's `secret()`), the key of its
        Message-IDs; a cycle always has it, `send-test` (whose mails nobody answers)
        renders without."""
        self.settings = settings
        self.secret = secret
        self.search_path = [p for p in (settings.templates_dir, builtin_templates_dir()) if p]
        self.env = Sandbox(
            loader=ChoiceLoader([FileSystemLoader(str(p)) for p in self.search_path]),
            undefined=StrictUndefined,
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html",), default_for_string=False, default=False
            ),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters.update(_filters())
        self.env.tests["link"] = is_link
        self._calendars: dict[tuple[object, ...], bytes] = {}
        self.visuals = MailVisuals(settings)  # charts and the status report, when a mail has them

    def render(self, message: Message, initiative: Initiative, now: datetime) -> bytes:
        """The complete mail: headers, text and HTML alternatives, the .ics when it has one."""
        lang, templates = self._templates(message.kind, message.recipient.language)
        zone = ZoneInfo(self.settings.initiative.timezone)
        context = context_for(message, initiative, self.settings, now.astimezone(zone).date())
        context.update(lang=lang, now=now)
        visuals = self.visuals.for_message(message, initiative, now.astimezone(zone), lang)
        context.update(charts=visuals.charts, report_file=visuals.report_file)
        subject = _subject(self._run(templates[0], context))
        context["subject"] = subject
        text = self._run(templates[1], context)
        html = self._run(templates[2], context)
        method = CALENDAR_KINDS.get(message.kind)
        invite = Invite(method, self._calendar(message, initiative, now),
                        CALENDAR_FILES[lang][message.kind]) if method else None
        return mail_bytes(self._envelope(message, subject, lang, now.astimezone(zone)),
                          text, html, invite, visuals.images, visuals.attachments)

    def _calendar(self, message: Message, initiative: Initiative, now: datetime) -> bytes:
        """Every member of a meeting who reads the same language gets the same calendar;
        build it once per cycle and language (its SUMMARY and DESCRIPTION are worded)."""
        meeting = initiative.meeting(message.subject_id)
        members = initiative.members_of(meeting.group) if meeting else []
        outsider = all((p.email or "").casefold() != message.recipient.email.casefold()
                       for p in members)
        key = (message.kind, message.subject_id, json.dumps(message.payload, sort_keys=True),
               now, message.recipient.email if outsider else "", id(initiative),
               formatting.language(message.recipient.language))
        if key not in self._calendars:
            if len(self._calendars) > CALENDAR_CACHE:
                self._calendars.clear()
            self._calendars[key] = ics.calendar_for(message, initiative, self.settings, now)
        return self._calendars[key]

    def _templates(self, kind: str, language: str) -> tuple[str, list[jinja2.Template]]:
        """The recipient's language, else the initiative's; all three templates or neither."""
        wanted = formatting.language(language)
        tried: list[str] = []
        for lang in dict.fromkeys((wanted, formatting.language(self.settings.initiative.language))):
            names = [f"{lang}/{kind}.subject.txt", f"{lang}/{kind}.txt", f"{lang}/{kind}.html"]
            try:
                return lang, [self.env.get_template(name) for name in names]
            except jinja2.TemplateNotFound as err:
                tried.append(str(err.name))
            except Exception as err:
                raise _template_error(err, names[0]) from err
        places = " or ".join(str(p) for p in self.search_path)
        raise TemplateError(f"template {', '.join(tried)} not found in {places}")

    def _run(self, template: jinja2.Template, context: dict[str, Any]) -> str:
        try:
            return template.render(context)
        except Exception as err:
            raise _template_error(err, template.filename or str(template.name)) from err

    def _envelope(self, message: Message, subject: str, lang: str, now: datetime) -> Envelope:
        secretariat = self.settings.initiative
        return Envelope(
            sender=_address(secretariat.secretariat_name, secretariat.secretariat_email,
                            message.key),
            to=_address(message.recipient.name, message.recipient.email, message.key),
            cc=tuple(_address(r.name, r.email, message.key) for r in message.cc),
            subject=subject,
            date=format_datetime(now),
            message_id=self.message_id(message),
            key=formatting.one_line(message.key),
            language=lang,
            in_reply_to=_threading(message),
        )


    def message_id(self, message: Message) -> str:
        """The Message-ID this message goes out with (the ledger keeps it)."""
        return message_id(message.key, message.recipient,
                          self.settings.initiative.secretariat_email, self.secret)


def message_id(key: str, recipient: Recipient, secretariat_email: str,
               secret: bytes = b"") -> str:
    """An HMAC-SHA256 of key and address with the initiative's secret: the same key and
    recipient always give the same id (a resend is the same mail), and no one without
    the secret can make up the id of a mail rygrad sent (a reply must name one)."""
    digest = hmac.new(secret, f"{key}\n{recipient.email}".encode(),
                      hashlib.sha256).hexdigest()[:32]
    return f"<{digest}@{secretariat_email.rpartition('@')[2]}>"


def _threading(message: Message) -> str:
    """The reply an answer is threaded under; only a well-formed Message-ID goes into
    a header (it came from outside)."""
    if message.kind != "answer":
        return ""
    wanted = str(message.payload.get("in_reply_to", ""))
    return wanted if re.fullmatch(r"<[!-;=?-~]{1,250}>", wanted) else ""


def is_link(value: object) -> bool:
    """A cell that is nothing but a web address (a video link, minutes in a document)."""
    return isinstance(value, str) and re.fullmatch(r"https?://\S+", value.strip()) is not None


def _subject(text: str) -> str:
    subject = formatting.one_line(text)
    return subject if len(subject) <= SUBJECT_MAX else subject[: SUBJECT_MAX - 1] + "…"


def _address(name: str, email: str, key: str) -> Address:
    try:
        return _parsed_address(name, email)
    except (ValueError, IndexError) as err:
        raise RygradError(f"{key}: {email!r} is not an address a mail can go to ({err})") from err


@functools.lru_cache(maxsize=4096)  # the same few people get many mails; Address parses
def _parsed_address(name: str, email: str) -> Address:
    return Address(display_name=formatting.one_line(name), addr_spec=email)


def _template_error(err: Exception, fallback: str) -> TemplateError:
    """Name the template file and line: the syntax error's, else the innermost template frame."""
    if isinstance(err, jinja2.TemplateSyntaxError):
        where = f"{err.filename or err.name or fallback}:{err.lineno}"
        return TemplateError(f"{where}: {err.message}")
    if isinstance(err, jinja2.TemplateNotFound):
        return TemplateError(f"{fallback}: template {err.name} not found")
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if Path(f.filename).suffix in (".html", ".txt")]
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else fallback
    reason = str(err) or type(err).__name__
    return TemplateError(f"{where}: {reason}")


def _filters() -> dict[str, Callable[..., Any]]:
    """Jinja filters in the template's language (the context's ``lang``); None → ""."""

    def localised(func: Callable[..., str]) -> Callable[..., str]:
        @pass_context
        def apply(context: Any, value: Any, *args: Any) -> str:
            if value is None or value == "":
                return ""
            return func(value, *args, context.get("lang", "da"))

        return apply

    return {
        "long_date": localised(formatting.long_date),
        "day_date": localised(formatting.day_date),
        "short_date": localised(formatting.short_date),
        "time": localised(formatting.clock),
        "meeting_time": localised(formatting.meeting_time),
        "days_left": localised(formatting.days_left),
        "days_overdue": localised(formatting.days_overdue),
        "day_count": localised(formatting.day_count),
        "number": localised(formatting.number),
        "quantity": localised(formatting.quantity),
        "assessment": localised(formatting.assessment),
        "week": localised(formatting.week_label),
        "meeting_title": pass_context(
            lambda context, group: formatting.meeting_title(str(group or ""),
                                                            context.get("lang", "da"))),
        "weekday_short": localised(formatting.weekday_short),
        "day_month": localised(formatting.day_month),
        "moment": localised(formatting.moment),
        "days_ago": localised(formatting.days_ago),
        "count_word": localised(formatting.count_word),
        "times": localised(formatting.times),
        "status_value": localised(formatting.status_value),
        "the_group": localised(formatting.the_group),
        "the_meeting": localised(formatting.the_meeting),
        "and_list": pass_context(lambda context, items: and_list(
            formatting.language(context.get("lang", "da")), [str(i) for i in items])),
        "dash": formatting.dash,
        "heading": formatting.heading,
        "lcfirst": lambda text: str(text)[:1].lower() + str(text)[1:],
        # Jinja's capitalize lowercases the rest (»Mødet i ag uddannelse«); this does not
        "ucfirst": lambda text: str(text)[:1].upper() + str(text)[1:],
        "iso": lambda value: value.isoformat() if isinstance(value, date) else str(value or ""),
    }
