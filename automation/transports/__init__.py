"""Transports hand a rendered message to the world: the outbox folder or an SMTP server."""

from __future__ import annotations

from typing import Protocol

from automation.errors import RygradError


class TemporaryFailure(RygradError):
    """Not delivered now (4xx, connection lost, timeout); due again next cycle."""


class PermanentFailure(RygradError):
    """The server refused the message for good (5xx for the recipient)."""


class UncertainDelivery(RygradError):
    """The connection was lost after the whole message was handed over and before the
    server answered: it may have been delivered. Never retried by itself (README, "Delivery")."""


class Transport(Protocol):
    def open(self) -> None: ...

    def send(self, data: bytes, sender: str, recipients: list[str], name: str) -> None:
        """Deliver one message, or raise TemporaryFailure / PermanentFailure /
        UncertainDelivery (this message) or DeliveryError (the transport is unusable)."""

    def close(self) -> None: ...
