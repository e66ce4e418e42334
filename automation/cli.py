"""The command line (README, "Command line"): the only place that reads the clock, prints and exits,
and the one place that builds the adapters from the config."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from automation import __version__, config
from automation.core.a1 import column_letter
from automation.core.model import LedgerEntry, Message, Snapshot
from automation.core.parse import parse
from automation.core.plan import plan
from automation.core.projection import cell_updates, resolve
from automation.core.window import held_reason
from automation.cycle import (
    UNCAPPED_KINDS,
    Cycle,
    Options,
    Outcome,
    check_history,
    record_failure,
    tab_warnings,
)
from automation.errors import ConfigError, LedgerError, RygradError
from automation.health import Health, cycle_state, judge
from automation.heartbeat import ping
from automation.ledger import DeliveryLedger, find_ledger, open_ledger
from automation.mail.render import Renderer, builtin_templates_dir
from automation.oauth import TokenSource, token_source
from automation.scaffold.samples import KINDS as SAMPLE_KINDS
from automation.service import Job
from automation.sheets import BACKENDS, SheetBackend
from automation.transports import Transport

log = logging.getLogger("rygrad")

EXIT_OK, EXIT_PROBLEMS, EXIT_CANNOT_RUN = 0, 1, 2
# output cut short because its reader went away (`rygrad plan | head -1`): what a shell
# reports for a program that SIGPIPE ended (128 + 13), as for other Unix tools
EXIT_CLOSED_PIPE = 141
SHOWN = 10  # failures listed in a summary before "… and N more"
MANY_CONFIGS = ("serve", "status")  # the commands that take one --config per initiative


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # not parser.set_defaults: the parents' actions are shared with every subcommand, so a
    # default set there overwrote `rygrad --debug run` and `rygrad --config X run`
    args.config = getattr(args, "config", None)
    args.debug = getattr(args, "debug", False)
    if len(args.config or ()) > 1 and args.command not in MANY_CONFIGS:
        parser.error(f"--config was given {len(args.config)} times; `{args.command}` takes "
                     f"one config (only {' and '.join(MANY_CONFIGS)} take several)")
    # serve's log is its output (a line per cycle); the other commands print what they
    # did and log only warnings and errors, so that cron mails nothing on a good cycle
    level = logging.DEBUG if args.debug else \
        logging.INFO if args.command == "serve" else logging.WARNING
    with logging_to_stderr(level, journal=logs_to_journal(os.environ)):
        try:
            status = int(args.handler(args))
            sys.stdout.flush()  # a reader that went away shows here, not at the exit
            return status
        except BrokenPipeError:
            return closed_pipe()
        except RygradError as err:
            if args.debug:
                raise
            print(f"rygrad: {err}", file=sys.stderr)
            return EXIT_CANNOT_RUN
        except KeyboardInterrupt:
            return EXIT_CANNOT_RUN


def closed_pipe() -> int:
    """The reader of our output went away (`rygrad status | head -1`): stop quietly.

    stdout is pointed at /dev/null, so that the interpreter's last flush at the exit
    cannot fail again ("Exception ignored … BrokenPipeError"). What the command did is
    done (a `run` has sent and written); only the rest of its report is lost.
    """
    with contextlib.suppress(OSError, ValueError):  # no file behind stdout (pytest)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return EXIT_CLOSED_PIPE


def counted(number: int, noun: str) -> str:
    """"1 cell", "2 cells", "0 cells"."""
    plural = noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" \
        else noun + "s"
    return f"{number} {noun}" if number == 1 else f"{number} {plural}"


# -- logging --------------------------------------------------------------------

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JOURNAL_FORMAT = "%(levelname)s %(name)s: %(message)s"  # the journal adds the time itself
SYSLOG_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
                   logging.CRITICAL: 2}


class JournalFormatter(logging.Formatter):
    """No timestamp, and the level as a "<N>" prefix the journal reads as the line's
    priority (sd-daemon(3)), so that `journalctl -p warning -u rygrad` finds warnings."""

    def format(self, record: logging.LogRecord) -> str:
        return f"<{SYSLOG_PRIORITY.get(record.levelno, 6)}>{super().format(record)}"


def logs_to_journal(environ: Mapping[str, str]) -> bool:
    """True when stderr is systemd's journal: JOURNAL_STREAM holds the device and inode
    of the stream systemd connected (systemd.exec(5)); a child whose stderr was
    redirected elsewhere inherits the variable, hence the comparison."""
    try:
        device, inode = (int(part) for part in environ["JOURNAL_STREAM"].split(":"))
        stream = os.fstat(sys.stderr.fileno())
    except (KeyError, ValueError, OSError):  # unset, malformed, or no file behind stderr
        return False
    return (stream.st_dev, stream.st_ino) == (device, inode)


@contextmanager
def logging_to_stderr(level: int, journal: bool) -> Iterator[None]:
    """Our log lines on stderr, with a timestamp unless the journal adds its own, while
    a command runs; libraries log only their warnings unless --debug. When logging is
    already set up (a program that calls main(), or pytest), it is left as it is, as
    logging.basicConfig would."""
    root = logging.getLogger()
    if root.handlers:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JournalFormatter(JOURNAL_FORMAT) if journal
                         else logging.Formatter(LOG_FORMAT, "%Y-%m-%d %H:%M:%S"))
    ours = [logging.getLogger(name) for name in ("rygrad", "automation")]
    before = [logger.level for logger in (root, *ours)]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if level == logging.DEBUG else logging.WARNING)
    for logger in ours:
        logger.setLevel(level)
    try:
        yield
    finally:
        root.removeHandler(handler)
        for logger, previous in zip((root, *ours), before, strict=True):
            logger.setLevel(previous)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", action="append", default=argparse.SUPPRESS,
                        metavar="PATH",
                        help="the config file (default: $RYGRAD_CONFIG, else "
                             "config/rygrad.toml); serve and status take several, or a "
                             "folder of *.toml")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="log details and show tracebacks")
    parser = argparse.ArgumentParser(
        prog="rygrad", parents=[common],
        description="The automation worker of a collective-impact initiative's secretariat.",
    )
    parser.add_argument("--version", action="version", version=f"rygrad {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: object, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    init = command("init", cmd_init,
                   "write a config, an example workbook and the templates; never overwrites")
    init.add_argument("directory", nargs="?", default=".", type=Path, metavar="DIR",
                      help="the folder to set up (default: the current folder): "
                           "config/rygrad.toml, examples/initiative.xlsx and templates/ "
                           "go in it, and a run puts outbox/ and state/ there; a file that "
                           "is already there is kept")
    command("check", cmd_check, "validate the workbook; each problem as Tab!Cell: message")
    plan_cmd = command("plan", cmd_plan,
                       "show what a cycle would send and write; sends and writes nothing")
    plan_cmd.add_argument("--now", type=parse_now, metavar="T",
                          help="behave as at this moment (ISO 8601, local time by default)")
    run = command("run", cmd_run, "run one cycle with the configured transport")
    run.add_argument("--once", action="store_true", help="one cycle, then exit (the default)")
    run.add_argument("--now", type=parse_now, metavar="T",
                     help="behave as at this moment (ISO 8601, local time by default)")
    run.add_argument("--record-only", action="store_true",
                     help="record everything due now as sent, send nothing")
    run.add_argument("--resend-uncertain", action="store_true",
                     help="resend messages left uncertain by a crash")
    run.add_argument("--allow-burst", action="store_true",
                     help="send even when more than mail.max_per_cycle are due")
    command("serve", cmd_serve, "run each initiative's cycles every schedule.every_minutes "
            "until SIGTERM/SIGINT")
    status = command("status", cmd_status,
                     "last cycles, counts, failures, uncertain deliveries; exit status 1 when "
                     "something is wrong")
    status.add_argument("--json", action="store_true",
                        help="the same as JSON, for monitoring tools")
    status.add_argument("--now", type=parse_now, metavar="T",
                        help="judge as at this moment (ISO 8601, local time by default)")
    command("init-sheet", cmd_init_sheet,
            "add missing tabs, headers, dropdowns and shading to the sheet; idempotent")
    test = command("send-test", cmd_send_test, "send one sample of each (or one) kind to ADDR")
    test.add_argument("--to", required=True, metavar="ADDR",
                      help="the address that gets the samples (and only it)")
    test.add_argument("--kind", metavar="KIND", choices=SAMPLE_KINDS,
                      help=f"only this kind: {', '.join(SAMPLE_KINDS)}")
    export = command("export", cmd_export,
                     "everything the ledger holds about one person, as JSON (README, "
                     "\"Personal data (GDPR)\")")
    export.add_argument("address", metavar="ADDRESS")
    export.add_argument("--out", type=Path, metavar="FILE",
                        help="write it to FILE (readable by you only), not to the screen")
    forget = command("forget", cmd_forget,
                     "erase a person who has left from the ledger and the outbox, keeping "
                     "only an HMAC of the address so nothing old is sent again")
    forget.add_argument("address", metavar="ADDRESS")
    forget.add_argument("--dry-run", action="store_true",
                        help="count what would be erased; change nothing")
    report = command("report", cmd_report,
                     "write the steering group's status report (PDF, or HTML) for its next "
                     "meeting")
    report.add_argument("--group", metavar="G",
                        help="the group it is for (default: the sheet's steering group)")
    report.add_argument("--out", type=Path, metavar="FILE",
                        help="FILE.pdf or FILE.html (default: Statusrapport-YYYY-MM-DD.pdf "
                             "in the current folder, the meeting's date)")
    report.add_argument("--now", type=parse_now, metavar="T",
                        help="report as at this moment (ISO 8601, local time by default)")
    return parser


def parse_now(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time; write e.g. 2026-12-01T09:00") from None
    return moment


# -- adapters -------------------------------------------------------------------


def load_settings(args: argparse.Namespace) -> config.Settings:
    return config.load(config.config_path(args.config[0] if args.config else None))


def load_all_settings(args: argparse.Namespace) -> list[config.Settings]:
    """Every --config given (a folder stands for each *.toml in it), for serve and status."""
    paths: list[Path] = []
    for given in args.config or [None]:
        path = config.config_path(given)
        if path.is_dir():
            found = sorted(path.glob("*.toml"))
            if not found:
                raise ConfigError(f"{path}: no *.toml config files in this folder")
            paths += found
        else:
            paths.append(path)
    settings = [config.load(path) for path in paths]
    names = [s.initiative.name for s in settings]
    for name in names:
        if names.count(name) > 1:
            # the initiative's name keys its rows and its cycle lock in a shared ledger
            files = ", ".join(str(s.file) for s in settings if s.initiative.name == name)
            raise ConfigError(f"{files}: two configs name the initiative {name!r}; "
                              "give each its own initiative.name")
    return settings


def build_ledger(settings: config.Settings) -> DeliveryLedger:
    return open_ledger(settings.state_url, settings.initiative.name, settings.state_dir)


def local_now(settings: config.Settings, given: datetime | None) -> datetime:
    zone = settings.initiative.zone
    if given is None:
        return datetime.now(UTC).astimezone(zone)
    return given.replace(tzinfo=zone) if given.tzinfo is None else given.astimezone(zone)


def real_clock() -> datetime:
    return datetime.now(UTC)


def build_sheet(
    settings: config.Settings, *, sleep: Callable[[float], None] | None = None
) -> SheetBackend:
    """The sheet backend `sheet.backend` names (sheets.BACKENDS); a Google Sheet waits
    ``sleep`` between retries (tests record the waits instead of waiting) and
    ``sheet.timeout`` for each request."""
    return BACKENDS[settings.sheet.backend].build(settings.sheet, sleep)


def build_transport(settings: config.Settings, tokens: TokenSource | None = None
                    ) -> Transport:
    """The transport `mail.transport` names. ``tokens``: the OAuth token source to reuse
    (serve keeps one per initiative, so a token is asked for once while it is valid)."""
    if settings.mail.transport == "outbox":
        from automation.transports.outbox import Outbox

        return Outbox(settings.mail.outbox_dir)
    from automation.transports.smtp import SmtpTransport
    from automation.transports.smtp_connect import smtp_password

    try:
        if settings.mail.auth != "password":
            return SmtpTransport(settings.mail, None,
                                 tokens=tokens or token_source(settings.mail))
        return SmtpTransport(settings.mail, smtp_password(settings.mail))
    except ConfigError as err:
        raise ConfigError(f"{settings.file}: {err}") from err


def build_cycle(settings: config.Settings, ledger: DeliveryLedger, now: datetime,
                tokens: TokenSource | None = None, **extra: object) -> Cycle:
    """The cycle's adapters; when one cannot be built (no SMTP password, a template
    folder missing), that is a cycle that could not run, recorded as such."""
    try:
        if settings.inbox is not None and "mailbox" not in extra:
            extra["mailbox"] = mailbox_opener(settings.inbox)
        return Cycle(settings, build_sheet(settings), ledger,
                     build_transport(settings, tokens),
                     Renderer(settings, ledger.secret()), real_clock,
                     **extra)  # type: ignore[arg-type]
    except Exception as err:
        record_failure(ledger, now, real_clock(), err)
        raise


def mailbox_opener(inbox: config.InboxSettings) -> Callable[[], Any]:
    """Opens the [inbox] mailbox for a cycle (README, "Replies by mail"); an OAuth
    login gets its token from the same code as [mail]'s."""
    from automation.inbox.imap import Mailbox

    made: list[TokenSource | None] = []  # made at the first read: a key that cannot be
    # read is then the inbox step's error, and the cycle goes on with the sheet and mail

    def open_mailbox() -> Any:
        if not made:
            made.append(token_source(inbox))
        tokens = made[0]
        return Mailbox(inbox, tokens.token if tokens else None)

    return open_mailbox


# -- commands -------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from automation.scaffold import init

    today = datetime.now().astimezone().date()
    templates = {True: 0, False: 0}
    for path, written in init(args.directory, today, builtin_templates_dir()):
        if "templates" in path.relative_to(args.directory).parts[:1]:
            templates[written] += 1
        else:
            print(f"{'wrote' if written else 'kept '} {path}")
    print(f"templates in {args.directory / 'templates'}: {templates[True]} written, "
          f"{templates[False]} kept")
    config_file = args.directory / "config" / "rygrad.toml"
    print(f"Next: rygrad run --once --config {config_file}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    sheet = build_sheet(settings)
    initiative = parse(sheet.read(), settings)
    for problem in initiative.problems:
        marker = "" if problem.severity == "error" else " (warning)"
        print(f"{problem}{marker}")
    errors = sum(p.severity == "error" for p in initiative.problems)
    warnings = len(initiative.problems) - errors
    print(f"{counted(errors, 'error')}, {counted(warnings, 'warning')} in "
          f"{sheet.describe()}")
    return EXIT_PROBLEMS if errors else EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from automation import personal

    settings = load_settings(args)
    ledger = find_ledger(settings.state_url, settings.initiative.name, settings.state_dir)
    try:
        held = personal.export(ledger, args.address) if ledger else None
    finally:
        if ledger:
            ledger.close()
    if held is None:
        print(f"{settings.initiative.name}: the ledger holds nothing about {args.address}",
              file=sys.stderr)
        return EXIT_PROBLEMS
    text = json.dumps(held, ensure_ascii=False, indent=2) + "\n"
    if args.out:
        personal.private_file(args.out, text)
        print(f"{args.out}: what the ledger holds about {args.address}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_forget(args: argparse.Namespace) -> int:
    from automation import personal

    settings = load_settings(args)
    initiative = parse(build_sheet(settings).read(), settings)
    wanted = args.address.strip().casefold()
    for person in initiative.people:
        if wanted in ((person.email or "").casefold(), person.email_text.strip().casefold()):
            tab = initiative.tab_titles.get("people", "Personer")
            column = initiative.columns.get("people", {}).get("email", 2)
            print(f"{tab}!{column_letter(column)}{person.row} still holds {args.address}; "
                  "remove the row first (forget erases a person who has left)",
                  file=sys.stderr)
            return EXIT_PROBLEMS
    ledger = build_ledger(settings)
    try:
        if not ledger.try_lock():
            raise LedgerError(f"{settings.initiative.name}: a cycle is running now "
                              f"({ledger.where}); try again when it has finished")
        erased = personal.forget(ledger, args.address, settings.mail.outbox_dir,
                                 dry_run=args.dry_run)
    finally:
        ledger.close()
    verb = "would erase" if args.dry_run else "erased"
    print(f"{settings.initiative.name}: {verb} {counted(erased.rows, 'ledger row')}, "
          f"{counted(erased.messages, 'stored mail')} and "
          f"{counted(erased.outbox_files, 'outbox file')}")
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    now = local_now(settings, args.now)
    snapshot: Snapshot = build_sheet(settings).read()
    initiative = parse(snapshot, settings)
    # plan writes nothing, not even an empty ledger
    ledger = find_ledger(settings.state_url, settings.initiative.name, settings.state_dir)
    entries = ledger.entries() if ledger else []
    if ledger:  # as the next cycle will see them: a forgotten person back in People
        from automation.personal import relinked

        entries = relinked(ledger, entries, [p.email for p in initiative.people if p.email])
    where = ledger.where if ledger else str(settings.state_dir)
    check_history(initiative, entries, settings, where)
    # the meeting answers the ledger holds, as a cycle plans with them (the mailbox unread)
    answers = None
    if settings.inbox is not None:
        from automation.inbox.step import read_inbox

        answers = read_inbox(settings, ledger, initiative, now, None).meeting_answers \
            if ledger else []
    messages = plan(initiative, entries, now, settings, answers).messages
    held = held_reason(now, settings.schedule, settings.initiative.country)
    for warning in tab_warnings(initiative):
        print(f"warning: {warning}")
    print(f"At {now:%Y-%m-%d %H:%M} ({settings.initiative.timezone}): "
          f"{counted(len(messages), 'message')} due" + (f", held: {held}" if held else ""))
    capped = sum(m.kind not in UNCAPPED_KINDS for m in messages)
    if not held and capped > settings.mail.max_per_cycle:
        print(f"{capped} due to partners; more than mail.max_per_cycle = "
              f"{settings.mail.max_per_cycle}: a run holds them and alerts the secretariat "
              "(release them with `rygrad run --once --allow-burst`)")
    for message in messages:
        cc = f" (cc {', '.join(c.email for c in message.cc)})" if message.cc else ""
        print(f"  send {message.key} → {message.recipient.email}{cc}")
    # what would be written if every message due went out now
    sent = entries + [_as_sent(m, now) for m in messages] if not held else entries
    updates = cell_updates(initiative, sent, now, settings, answers)
    writes = resolve(updates, initiative, settings.initiative.language)
    headers = [w for w in writes if w.row == 1]
    print(f"{counted(len(writes) - len(headers), 'cell')} would change")
    for header in headers:
        print(f"  add column {header.tab}!{column_letter(header.column)}1: {header.value}")
    for write, update in zip(writes[len(headers):], updates, strict=True):
        print(f"  write {write.tab}!{column_letter(write.column)}{write.row} ({update.row_id}): "
              f"{update.old!r} → {update.value!r}")
    return EXIT_OK


def _as_sent(message: Message, now: datetime) -> LedgerEntry:
    return LedgerEntry(message.key, message.recipient.email, message.kind, message.subject_id,
                       "sent", now, message.payload)


def cmd_run(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    now = local_now(settings, args.now)
    ledger = build_ledger(settings)
    options = Options(record_only=args.record_only, resend_uncertain=args.resend_uncertain,
                      allow_burst=args.allow_burst)
    if not ledger.try_lock():
        raise LedgerError(f"{settings.initiative.name}: another worker is running this "
                              f"initiative's cycle now ({ledger.where}); try again when it "
                              "has finished")
    try:
        cycle = build_cycle(settings, ledger, now)
        outcome = cycle.run(now, options)
    finally:
        ledger.close()
    print(summary(settings, now, outcome, cycle.sheet.describe()))
    after_cycle(settings, now, outcome)
    return outcome.exit_status


def after_cycle(settings: config.Settings, now: datetime, outcome: Outcome) -> None:
    """A cycle ran: its one log line (a warning when it left problems), and the
    heartbeat. A cycle that could not run raised instead, and gets neither."""
    log.log(logging.WARNING if outcome.exit_status else logging.INFO, "%s",
            cycle_line(settings, now, outcome))
    if settings.schedule.heartbeat_url:
        ping(settings.schedule.heartbeat_url)


def inbox_line(settings: config.Settings, read: Mapping[str, Any]) -> str:
    """What the inbound step did (README, "Replies by mail"), in one line."""
    folder = f"{settings.inbox.username}/{settings.inbox.folder}" if settings.inbox else ""
    if read.get("error"):
        return f"inbox {folder} not read: {read['error']}"
    return (f"inbox {folder}: {counted(int(read.get('handled') or 0), 'new reply')}"
            f" ({read.get('applied', 0)} applied, "
            f"{counted(int(read.get('calendar') or 0), 'calendar answer')}, "
            f"{read.get('not_applied', 0)} not used)")


def cycle_line(settings: config.Settings, now: datetime, outcome: Outcome) -> str:
    """One line for the log; `summary` is the longer report `run --once` prints."""
    counts = [f"{outcome.due} due", f"{outcome.sent} sent"]
    counts += [f"{n} {text}" for n, text in (
        (outcome.recorded, "recorded without sending"), (outcome.resent, "resent"),
        (len(outcome.failed), "failed"), (len(outcome.retry), "will retry"),
        (len(outcome.not_rendered), "not rendered"), (outcome.uncertain, "uncertain"),
        (outcome.held_window, "held by the send window"),
        (outcome.held_cap, "held by mail.max_per_cycle")) if n]
    written = f"write-back skipped ({outcome.write_skipped})" if outcome.write_skipped \
        else f"{counted(outcome.cells_written, 'cell')} written"
    line = (f"{settings.initiative.name}: cycle at {now:%Y-%m-%d %H:%M}: "
            f"{', '.join(counts)}; {written}")
    if outcome.inbox:
        line += "; " + inbox_line(settings, outcome.inbox)
    return line + ("; see `rygrad status`" if outcome.exit_status else "")


def summary(settings: config.Settings, now: datetime, outcome: Outcome, sheet: str) -> str:
    """What `run --once` prints; ``sheet`` is the sheet's description (its describe())."""
    where = (f"to {settings.mail.outbox_dir}" if settings.mail.transport == "outbox"
             else f"via {settings.mail.host}")
    lines = [f"{settings.initiative.name}: cycle at {now:%Y-%m-%d %H:%M}: "
             f"{outcome.due} due, {outcome.sent} sent {where}"]
    lines += [f"  warning: {warning}" for warning in outcome.missing_columns]
    if outcome.inbox:
        lines.append("  " + inbox_line(settings, outcome.inbox))
    if outcome.recorded:
        lines.append(f"  {outcome.recorded} recorded as sent without sending (--record-only)")
    if outcome.resent:
        lines.append(f"  {counted(outcome.resent, 'uncertain message')} resent")
    if outcome.held_window:
        lines.append(f"  {outcome.held_window} held: {outcome.held_reason}; they go out "
                     "in the next cycle inside the window")
    if outcome.held_cap:
        lines.append(f"  {outcome.held_cap} held: more than mail.max_per_cycle = "
                     f"{settings.mail.max_per_cycle}; check the sheet, then release them with "
                     "`rygrad run --once --allow-burst`")
    for text, items in (("failed", outcome.failed), ("will retry", outcome.retry),
                        ("not rendered", outcome.not_rendered),
                        ("uncertain (connection lost before the server answered)",
                         outcome.lost_in_transit)):
        lines += [f"  {text}: {item}" for item in items[:SHOWN]]
        if len(items) > SHOWN:
            lines.append(f"  … and {len(items) - SHOWN} more {text}; see `rygrad status`")
    if outcome.uncertain:
        lines.append(f"  {outcome.uncertain} uncertain (a crash or a lost connection while "
                     "sending); see `rygrad status`, resend with "
                     "`rygrad run --once --resend-uncertain`")
    if outcome.write_skipped:
        lines.append(f"  write-back skipped: {outcome.write_skipped}")
    else:
        lines.append(f"  {counted(outcome.cells_written, 'cell')} written to {sheet}")
    lines += [f"  not written: {item}" for item in outcome.not_written[:SHOWN]]
    if len(outcome.not_written) > SHOWN:
        lines.append(f"  … and {len(outcome.not_written) - SHOWN} more not written")
    if outcome.problems:
        lines.append(f"  {counted(outcome.problems, 'problem')} in the sheet; "
                     "see `rygrad check`")
    return "\n".join(lines)


def cmd_serve(args: argparse.Namespace) -> int:
    from automation.service import serve

    return serve([serve_job(settings) for settings in load_all_settings(args)])


def serve_job(settings: config.Settings) -> Job:
    """One initiative for `serve`: its adapters are built anew each cycle, but its OAuth
    token source is kept, so a token is asked for once while it is valid."""
    tokens: list[TokenSource] = []  # made at the first cycle, kept for the next ones

    def build(stop: Callable[[], bool]) -> tuple[DeliveryLedger, Cycle]:
        ledger = build_ledger(settings)
        try:
            cycle = build_cycle(settings, ledger, local_now(settings, None),
                                tokens[0] if tokens else None, should_stop=stop)
            made = getattr(cycle.transport, "tokens", None)
            if made is not None and not tokens:
                tokens.append(made)
            return ledger, cycle
        except BaseException:
            ledger.close()
            raise

    return Job(settings.initiative.name, settings.schedule.every_minutes * 60, build,
               lambda: local_now(settings, None),
               lambda now, outcome: after_cycle(settings, now, outcome))


def cmd_status(args: argparse.Namespace) -> int:
    """Exit status 0 when every initiative is well, 1 when one is not (see health.py),
    2 when a ledger cannot be read; --json prints the same for monitoring tools."""
    checked: list[tuple[config.Settings, Health]] = []
    unreadable = False
    for settings in load_all_settings(args):
        now = local_now(settings, args.now)
        name = settings.initiative.name
        try:
            ledger = find_ledger(settings.state_url, name, settings.state_dir)
            if ledger is None:
                health = Health(name, None)
            else:
                try:
                    health = judge(name, ledger, now, settings.schedule.every_minutes)
                    if not args.json:
                        show_status(settings, ledger, health)
                finally:
                    ledger.close()
        except LedgerError as err:  # one unreadable ledger must not hide the others
            unreadable = True
            health = Health(name, None, problems=[f"cannot read the ledger: {err}"])
            if not args.json:
                print(f"rygrad: {err}", file=sys.stderr)
        if not args.json and health.ledger is None and not health.problems:
            print(f"{name}: no cycle has run yet (no ledger in {settings.state_dir})")
        checked.append((settings, health))
    well = all(health.ok for _, health in checked)
    if args.json:
        print(json.dumps({
            "ok": well,
            "checked_at": local_now(checked[0][0], args.now).isoformat(),
            "initiatives": [health.as_json() for _, health in checked],
        }, ensure_ascii=False, indent=2))
    return EXIT_CANNOT_RUN if unreadable else EXIT_OK if well else EXIT_PROBLEMS


def show_status(settings: config.Settings, ledger: DeliveryLedger, health: Health) -> None:
    counts = health.counts
    print(f"{settings.initiative.name}: ledger {ledger.where}")
    print("  " + ", ".join(f"{counts.get(s, 0)} {s}"
                           for s in ("sent", "failed", "retry", "sending")))
    cycles = ledger.last_cycles(5)
    if not cycles:
        print("  no cycles yet")
    for record in cycles:
        info = record.summary
        state = cycle_state(record)
        if state == "could_not_run":
            print(f"  cycle {record.id} at {record.now[:16]} (exit 2): could not run: "
                  f"{record.reason}")
            continue
        state = "running or crashed" if state == "running_or_crashed" \
            else f"exit {record.exit_status}"
        print(f"  cycle {record.id} at {record.now[:16]} ({state}): "
              f"{info.get('sent', 0)} sent, {info.get('due', 0)} due, "
              f"{counted(info.get('cells_written', 0), 'cell')} written")
    if health.inbox is not None:
        read = health.inbox
        print(f"  inbox read at {str(read['at'])[:16]}: "
              + (f"could not be read: {read['error']}" if read.get("error") else
                 f"{read.get('handled', 0)} new replies ({read.get('applied', 0)} applied, "
                 f"{read.get('calendar', 0)} calendar answers, "
                 f"{read.get('not_applied', 0)} not used) of {read.get('read', 0)} messages"))
    for label, deliveries in (("failed", health.failed), ("will retry", health.retrying),
                              ("UNCERTAIN", health.uncertain)):
        for item in deliveries:
            print(f"  {label}: {item.key} → {item.recipient}"
                  + (f": {item.error}" if item.error else ""))
    if health.uncertain:
        print("  Uncertain messages may or may not have arrived; resend them with "
              "`rygrad run --once --resend-uncertain`")
    for problem in health.problems:
        print(f"  NOT OK: {problem}")
    if health.ok:
        print("  OK")


def cmd_init_sheet(args: argparse.Namespace) -> int:
    settings = load_settings(args)
    sheet = build_sheet(settings)
    changes = sheet.init(settings)
    for change in changes:
        print(f"  {change}")
    print(f"{sheet.describe()}: "
          + (counted(len(changes), "change") if changes else "nothing to do, it is ready"))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """README, "Charts and the status report": matplotlib and WeasyPrint load here only."""
    from automation.progress import report

    settings = load_settings(args)
    now = local_now(settings, args.now)
    initiative = parse(build_sheet(settings).read(), settings)
    group = args.group or ""
    if group and initiative.group(group) is None:
        raise ConfigError(f"--group {group!r} is not on the Grupper/Groups tab; the groups "
                          f"are {', '.join(initiative.groups) or 'none'}")
    out = args.out
    if out is not None and out.suffix.lower() not in (".pdf", ".html", ".htm"):
        raise ConfigError(f"--out {out}: write the report to a .pdf or an .html file")
    html = bool(out and out.suffix.lower() in (".html", ".htm"))
    made = report.make_report(initiative, settings, now.date(), group=group, pdf=not html)
    out = out or Path(made.filename)
    try:
        if html:
            out.write_text(made.html, encoding="utf-8")
        else:
            out.write_bytes(made.pdf)
    except OSError as err:
        raise RygradError(f"{out}: cannot write the report ({err.strerror})") from err
    for problem in made.problems:
        print(f"warning: {problem}", file=sys.stderr)
    print(out)
    return EXIT_OK


@contextmanager
def link(name: str) -> Iterator[None]:
    """Name the link of send-test's chain (token, login) that broke."""
    try:
        yield
    except RygradError as err:
        raise type(err)(f"send-test stopped at the {name}: {err}") from err


def cmd_send_test(args: argparse.Namespace) -> int:
    from automation.scaffold.samples import sample_messages

    settings = load_settings(args)
    now = local_now(settings, None)
    initiative = parse(build_sheet(settings).read(), settings)
    messages = sample_messages(initiative, settings, now, args.to, args.kind)
    renderer = Renderer(settings)
    transport = build_transport(settings)
    # the chain link by link, so a failure says which one broke
    tokens: TokenSource | None = getattr(transport, "tokens", None)
    if tokens is not None:
        with link("token"):
            tokens.token()
        print(f"token: ok ({settings.mail.auth}, for {settings.mail.username})")
    if settings.mail.transport == "smtp":
        with link("login"):
            transport.open()
        print(f"login: ok ({settings.mail.username or 'no login'} at {settings.mail.host}:"
              f"{settings.mail.port})")
    else:
        transport.open()
    if settings.inbox is not None:
        # the mailbox the replies are read from (README, "Replies by mail"): read only
        with link("inbox"), mailbox_opener(settings.inbox)() as box:
            found = len(box.headers())
        print(f"inbox: ok ({settings.inbox.username} at {settings.inbox.host}:"
              f"{settings.inbox.port}, {counted(found, 'message')} in {settings.inbox.folder})")
    try:
        for message in messages:
            data = renderer.render(message, initiative, now)
            with link("mail"):
                transport.send(data, settings.initiative.secretariat_email, [args.to],
                               message.key)
            print(f"sent {message.kind} to {args.to}")
    finally:
        transport.close()
    return EXIT_OK
