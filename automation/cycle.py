"""One cycle: read → parse → plan → render → send → record → write back (docs/architecture.md).

Failures stay where they happen: a message that cannot be rendered or is refused
is recorded on that message and the others go on; a write-back that cannot be
done now is redone next cycle (the W columns are a projection of the ledger).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from automation.config import Settings
from automation.core import kinds
from automation.core.measurements import measurement_rows, measurement_writes
from automation.core.model import (
    CellWrite,
    Initiative,
    LedgerEntry,
    Measurement,
    MeetingAnswer,
    Message,
)
from automation.core.parse import parse
from automation.core.payloads import BurstPayload
from automation.core.plan import digest_payload, plan, secretariat
from automation.core.projection import cell_updates, mail_shown_sent, resolve
from automation.core.window import held_reason
from automation.errors import (
    DeliveryError,
    LedgerError,
    RygradError,
    SheetLockedError,
    StaleSheetError,
)
from automation.inbox.step import Inbound, MailboxLike, digest_replies, read_inbox
from automation.ledger import DeliveryLedger
from automation.mail.render import Renderer
from automation.personal import prune_outbox, relink
from automation.sheets import SheetBackend
from automation.transports import (
    PermanentFailure,
    TemporaryFailure,
    Transport,
    UncertainDelivery,
)

log = logging.getLogger(__name__)

CANNOT_RUN = 2  # the exit status of a cycle that could not run (README, "Command line")
UNCAPPED_KINDS = kinds.UNCAPPED  # mail to the secretariat is never held by the cap
STALE_RETRIES = 3


@dataclass(frozen=True)
class Options:
    record_only: bool = False
    resend_uncertain: bool = False
    allow_burst: bool = False


@dataclass
class Outcome:
    """What a cycle did, for the summary line, `status` and the exit status."""

    due: int = 0
    sent: int = 0
    recorded: int = 0
    resent: int = 0
    failed: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    not_rendered: list[str] = field(default_factory=list)
    lost_in_transit: list[str] = field(default_factory=list)  # now uncertain
    held_window: int = 0
    held_reason: str = ""
    held_cap: int = 0
    uncertain: int = 0
    cells_written: int = 0
    write_skipped: str = ""
    not_written: list[str] = field(default_factory=list)  # cells whose row moved or went
    problems: int = 0
    missing_columns: list[str] = field(default_factory=list)  # optional ones, read as empty
    stopped: bool = False
    inbox: dict[str, object] = field(default_factory=dict)  # the replies read; {} = no [inbox]

    @property
    def exit_status(self) -> int:
        trouble = self.failed or self.retry or self.not_rendered or self.held_cap
        return 1 if trouble or self.uncertain else 0

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


class Cycle:
    """Wires the adapters built by the CLI; knows nothing of how they were chosen."""

    def __init__(
        self,
        settings: Settings,
        sheet: SheetBackend,
        ledger: DeliveryLedger,
        transport: Transport,
        renderer: Renderer,
        clock: Callable[[], datetime],
        should_stop: Callable[[], bool] = lambda: False,
        meeting_answers: Callable[[], Sequence[MeetingAnswer] | None] = lambda: None,
        mail_measurements: Callable[[], Sequence[Measurement]] = tuple,
        mailbox: Callable[[], AbstractContextManager[MailboxLike]] | None = None,
    ) -> None:
        self.settings = settings
        self.sheet = sheet
        self.ledger = ledger
        self.transport = transport
        self.renderer = renderer
        self.clock = clock  # the real clock, for the audit column
        self.should_stop = should_stop
        # the calendar answers recorded so far, read once per cycle; None = no [inbox]
        # (README, "Meeting answers"): then nothing depends on answers
        self.meeting_answers = meeting_answers
        # opens the [inbox] mailbox (README, "Replies by mail"); None = replies not read
        self.mailbox = mailbox
        # values replies brought, for Målinger beside the sheet's own (core/measurements.py)
        self.mail_measurements = mail_measurements

    def run(self, now: datetime, options: Options | None = None) -> Outcome:
        """One cycle. One that cannot run (the sheet unreadable, a required column
        missing, the mail server refusing the login) is recorded in the ledger with its
        reason, for `status`, and its error raised."""
        options = options or Options()
        outcome = Outcome()
        self.prune_outbox()
        try:
            snapshot = self.sheet.read()
            initiative = parse(snapshot, self.settings)
            # only the version is needed from here on; the raw cells need not stay in memory
            version = snapshot.version
            del snapshot
            # a person `rygrad forget` erased and People holds again: their old mail is
            # theirs again, so none of it is sent twice (README, "Personal data (GDPR)")
            relink(self.ledger, [p.email for p in initiative.people if p.email])
            entries = self.ledger.entries()
            if not options.record_only:
                check_history(initiative, entries, self.settings, self.ledger.where)
        except Exception as err:
            record_failure(self.ledger, now, self.clock(), err)
            raise
        cycle_id = self.ledger.start_cycle(now, self.clock())
        try:
            self.run_started(initiative, entries, version, now, options, outcome)
        except Exception as err:
            # close the cycle's record, or `status` shows it as running or crashed for ever
            record_failure(self.ledger, now, self.clock(), err, cycle_id, outcome)
            raise
        self.ledger.finish_cycle(cycle_id, self.clock(), outcome.exit_status, outcome.as_dict())
        return outcome

    def run_started(self, initiative: Initiative, entries: list[LedgerEntry], version: str,
                    now: datetime, options: Options, outcome: Outcome) -> None:
        outcome.problems = sum(p.severity == "error" for p in initiative.problems)
        outcome.missing_columns = tab_warnings(initiative)
        # replies first (README, "Replies by mail"): an action marked done by reply gets
        # no overdue notice in this cycle; the sheet as read stays for the write-back
        read, inbound = initiative, self.inbound(initiative, now, read_mailbox=True)
        answers = self.meeting_answers()
        if inbound is not None:
            initiative, answers = inbound.initiative, inbound.meeting_answers
            outcome.inbox = inbound.outcome.as_dict()
        messages = plan(initiative, entries, now, self.settings, answers).messages
        if inbound is not None:
            messages += inbound.answers(self.ledger, self.settings)
        entries.clear()  # the ledger is read again after sending; let these go
        outcome.due = len(messages)
        local = now.astimezone(self.settings.initiative.zone)
        outcome.held_reason = held_reason(local, self.settings.schedule,
                                          self.settings.initiative.country)
        if options.record_only:
            self.ledger.record_only(messages, now, self.clock())
            outcome.recorded = len(messages)
        elif outcome.held_reason:
            outcome.held_window = len(messages)
        else:
            self.deliver(initiative, messages, now, options, outcome)
        # the write-back works from the ledger; a burst's or a record-only run's messages
        # (with their payloads) need not stay in memory meanwhile (docs/benchmarks.md)
        del messages
        outcome.uncertain = len(self.ledger.uncertain())
        self.write_back(version, read, now, outcome, answers)
        self.forget_old(now)

    def forget_old(self, now: datetime) -> None:
        """Retention (README, "Personal data (GDPR)"): the ledger keeps a mail's bytes,
        error text and full payload state.keep_messages_days."""
        self.ledger.expire(now - timedelta(days=self.settings.keep_messages_days))

    def prune_outbox(self) -> None:
        """The outbox keeps its files mail.outbox_keep_days: done first, so that a cycle
        that cannot run (the sheet unreadable for days) still deletes them."""
        if self.settings.mail.outbox_keep_days:
            try:
                prune_outbox(self.settings.mail.outbox_dir, self.clock() - timedelta(
                    days=self.settings.mail.outbox_keep_days))
            except OSError as err:
                log.warning("%s: old mails could not be deleted from the outbox "
                            "(mail.outbox_keep_days): %s", self.settings.mail.outbox_dir,
                            err.strerror)

    def inbound(self, initiative: Initiative, now: datetime,
                read_mailbox: bool = False) -> Inbound | None:
        """What the replies mean for this cycle; None without [inbox]. With
        ``read_mailbox``, new replies are read and decided first."""
        if self.settings.inbox is None:
            return None
        return read_inbox(self.settings, self.ledger, initiative, now,
                          self.mailbox if read_mailbox else None)

    def deliver(
        self,
        initiative: Initiative,
        messages: list[Message],
        now: datetime,
        options: Options,
        outcome: Outcome,
    ) -> None:
        partner = [m for m in messages if m.kind not in UNCAPPED_KINDS]
        if len(partner) > self.settings.mail.max_per_cycle and not options.allow_burst:
            outcome.held_cap = len(partner)
            messages = [m for m in messages if m.kind in UNCAPPED_KINDS]
            messages += self.burst_alert(len(partner), now.astimezone(
                self.settings.initiative.zone).date())
        # the digest goes last, so that it can tell what this cycle sent
        messages.sort(key=lambda m: m.kind == "digest")
        if not messages and not options.resend_uncertain:
            return
        self.transport.open()
        try:
            if options.resend_uncertain:
                self.resend_uncertain(now, outcome)
            for message in messages:
                if self.should_stop():
                    outcome.stopped = True
                    break
                if message.kind == "digest":
                    message = self.complete_digest(message, initiative, now, outcome)
                self.send_one(initiative, message, now, outcome)
        finally:
            self.transport.close()

    def send_one(
        self, initiative: Initiative, message: Message, now: datetime, outcome: Outcome
    ) -> None:
        label = f"{message.key} → {message.recipient.email}"
        try:
            data = self.renderer.render(message, initiative, now)
        except RygradError as err:  # a template that fails, an address mail cannot take
            log.info("%s: not rendered: %s", label, err)
            outcome.not_rendered.append(f"{label}: {err}")
            return
        recipients = [message.recipient.email] + [c.email for c in message.cc]
        self.ledger.begin(message, data, now, self.clock(),
                          message_id=self.renderer.message_id(message))
        try:
            if self.hand_over(data, message.key, message.recipient.email, recipients, now,
                              outcome):
                outcome.sent += 1
                log.info("sent %s", message.key)  # no address unless something went wrong
        except DeliveryError as err:
            # the transport itself broke (server unreachable, login refused): this
            # message was not accepted, so it is due again rather than uncertain
            self.ledger.retry(message.key, message.recipient.email, str(err))
            raise

    def resend_uncertain(self, now: datetime, outcome: Outcome) -> None:
        for item in self.ledger.uncertain():
            if self.should_stop():
                outcome.stopped = True
                return
            if not item.message:  # erased by `rygrad forget`: nothing left to resend
                log.info("%s: uncertain, but its mail was erased; not resent", item.key)
                continue
            # the stored bytes carry the same Message-ID, so a client that did get the
            # first copy shows one message
            if self.hand_over(item.message, item.key, item.recipient, [item.recipient], now,
                              outcome):
                outcome.resent += 1

    def hand_over(self, data: bytes, key: str, recipient: str, recipients: list[str],
                  now: datetime, outcome: Outcome) -> bool:
        """Send one message already recorded as ``sending``; record what became of it.

        True when the server accepted it. A DeliveryError (the transport is unusable)
        passes through, leaving the caller to decide.
        """
        label = f"{key} → {recipient}"
        try:
            self.transport.send(data, self.settings.initiative.secretariat_email, recipients,
                                key)
        except TemporaryFailure as err:
            self.ledger.retry(key, recipient, str(err))
            outcome.retry.append(f"{label}: {err}")
            return False
        except PermanentFailure as err:
            self.ledger.failed(key, recipient, str(err))
            outcome.failed.append(f"{label}: {err}")
            return False
        except UncertainDelivery as err:
            # the ledger keeps it as "sending": reported as uncertain, resent only on request
            self.ledger.lost(key, recipient, str(err))
            outcome.lost_in_transit.append(f"{label}: {err}")
            return False
        self.ledger.sent(key, recipient, now, self.clock())
        return True

    def burst_alert(self, due: int, today: date) -> list[Message]:
        key = f"burst:{today.isoformat()}"
        if self.ledger.has_key(key):
            return []
        return [Message("burst", key, secretariat(self.settings), payload=dict(BurstPayload(
            due=due, max_per_cycle=self.settings.mail.max_per_cycle)))]

    def complete_digest(
        self, message: Message, initiative: Initiative, now: datetime, outcome: Outcome
    ) -> Message:
        """The digest as of now: what this cycle sent, failed or held is in it too."""
        entries = self.ledger.entries()
        payload = digest_payload(initiative, entries, now, self.settings, message.key)
        payload["held"] = {"window": outcome.held_window, "cap": outcome.held_cap}
        if self.settings.inbox is not None:
            week = self.ledger.replies(now - timedelta(days=7))
            payload["replies"] = digest_replies(week, str(outcome.inbox.get("error") or ""))
        return dataclasses.replace(message, payload=dict(payload))

    def write_back(
        self, version: str, initiative: Initiative, now: datetime, outcome: Outcome,
        answers: Sequence[MeetingAnswer] | None = None,
    ) -> None:
        """Write the W cells that differ; if the sheet changed meanwhile, recompute."""
        for _ in range(STALE_RETRIES):
            writes = self.writes_for(initiative, now, answers)
            try:
                outcome.cells_written = self.sheet.write(writes, version) if writes \
                    else 0
                # the google backend re-finds each row by its ID at the moment of writing
                # and names the cells it could not place rather than guess a row
                outcome.not_written = [str(s) for s in self.sheet.skipped]
                return
            except SheetLockedError as err:
                outcome.write_skipped = str(err)
                log.warning("%s", err)
                return
            except StaleSheetError:
                log.info("the sheet changed since it was read; recomputing the write-back")
                snapshot = self.sheet.read()
                initiative, version = parse(snapshot, self.settings), snapshot.version
        outcome.write_skipped = "the sheet kept changing while it was written; next cycle"

    def writes_for(self, initiative: Initiative, now: datetime,
                   answers: Sequence[MeetingAnswer] | None = None) -> list[CellWrite]:
        """``initiative`` is the sheet as read; the replies' changes are written on top,
        each only while its cell still holds what the reply saw (inbox/decide.py)."""
        inbound = self.inbound(initiative, now)
        planned = inbound.initiative if inbound else initiative
        updates = cell_updates(planned, self.ledger.entries(), now, self.settings, answers)
        if inbound is not None:
            updates += inbound.updates(initiative)
        language = self.settings.initiative.language
        # the new rows of Målinger go in the same write, computed from the sheet as read
        # (again after a stale read): the rows appended before are read back, so none twice
        extra = inbound.measurements if inbound else self.mail_measurements()
        appended = measurement_rows(initiative, language, extra)
        return resolve(updates, initiative, language) + measurement_writes(
            initiative, appended, language)


def record_failure(ledger: DeliveryLedger, now: datetime, real: datetime, err: BaseException,
                   cycle: int | None = None, outcome: Outcome | None = None) -> None:
    """Record a cycle that could not run (exit status 2) with its one-sentence reason;
    `cycle` is its record if it had started. A ledger that cannot take it (the database
    is what failed) is only logged: the error being raised says what went wrong."""
    reason = str(err) if isinstance(err, RygradError) \
        else f"unexpected error ({type(err).__name__}: {err})"
    try:
        if cycle is None:
            cycle = ledger.start_cycle(now, real)
        ledger.finish_cycle(cycle, real, CANNOT_RUN, outcome.as_dict() if outcome else {},
                            reason=reason)
    except Exception as failure:  # the cycle's own error matters more
        log.warning("could not record the failed cycle in the ledger: %s", failure)


def check_history(initiative: Initiative, entries: list[LedgerEntry], settings: Settings,
                  where: str) -> None:
    """Refuse to plan from an empty ledger when the sheet shows mail already sent.

    The ledger is the only memory of what went out; lost (a deleted state folder, an
    emptied file, a new database) every reminder and invitation of the sheet's history
    would be sent again.
    """
    if entries:
        return
    cells = mail_shown_sent(initiative)
    if not cells:
        return
    shown = ", ".join(cells[:3]) + (f" and {len(cells) - 3} more" if len(cells) > 3 else "")
    raise LedgerError(
        f"{settings.initiative.name}: the ledger ({where}) holds no mail for this "
        f"initiative, but the sheet shows mail already sent ({shown}), so nothing was sent; "
        "restore the state folder from a backup, or run `rygrad run --once --record-only` "
        "to take the sheet as it is")


def tab_warnings(initiative: Initiative) -> list[str]:
    """The problems of whole tabs (an optional column missing, a tab named twice)."""
    return [str(problem) for problem in initiative.problems if not problem.cell]
