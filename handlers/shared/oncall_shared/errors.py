"""Our exception types. Handlers raise these so Lambda's retry and DLQ apply."""

from __future__ import annotations


class OncallError(Exception):
    """Base class of every error raised on purpose by the on-call tools."""


class BadEventError(OncallError):
    """The event is malformed or of a shape the tool does not support."""


class SettingsError(OncallError):
    """An environment setting is missing or invalid; the message names variable and value."""


class DeliveryError(OncallError):
    """A downstream send failed (after the retries that made sense)."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
