"""One exception tree. Adapters re-raise library errors as these, naming what failed."""


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


class LedgerError(RygradError):
    """The ledger database cannot be opened or written."""
