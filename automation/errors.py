"""One exception tree. Adapters re-raise library errors as these, naming what failed."""

import re


class RygradError(Exception):
    """Anything rygrad can explain in one sentence; the CLI prints it and exits 2."""


class ConfigError(RygradError):
    """The config file is missing, unreadable or has a bad key or value."""


class SheetError(RygradError):
    """The workbook or sheet cannot be read or written (missing tab, column, file)."""


class StaleSheetError(SheetError):
    """The sheet changed between the read and the write; re-read and recompute."""


class SheetLockedError(SheetError):
    """Someone has the workbook open in Excel or LibreOffice; skip the write-back."""


class TemplateError(RygradError):
    """A template is missing or fails to render."""


class DeliveryError(RygradError):
    """The transport could not deliver (the cycle stops; nothing is marked sent)."""


class InboxError(RygradError):
    """The mailbox of replies cannot be read (that step stops; the cycle goes on)."""


class LedgerError(RygradError):
    """The ledger database cannot be opened or written."""


def error_text(error: BaseException | str) -> str:
    """An error's own text, to quote in parentheses in one of our sentences.

    On one line; without OpenSSL's place in its source ("(_ssl.c:1000)"), which says
    nothing to a person; and with a parenthesis of its own at the end made a clause
    ("Invalid value (at line 3)" → "Invalid value, at line 3"), so that the sentence
    never ends in "))".
    """
    text = " ".join(str(error).split())
    if not text and isinstance(error, BaseException):
        text = type(error).__name__
    text = re.sub(r"\s*\(_ssl\.c:\d+\)$", "", text)
    if text.startswith("(") and text.endswith(")"):  # the repr of an exception's args
        text = text[1:-1]
    return re.sub(r"(?<=\S)\s*\(([^()]*)\)$", r", \1", text)
