"""The exception hierarchy of eventpipe, shaped around what the caller does next.

::

    EventpipeError                 base of everything we raise on purpose
    ├── InvalidEvent(ValueError)   reject: the input is not an event; dead-letter or 4xx it
    ├── RetryableError             retry: a dependency is down or slow; back off and try again
    │   └── SinkUnavailable        the event store refused or timed out a write
    └── FatalError                 stop: configuration or data says carrying on is wrong
        └── InvalidRatioExceeded   too many invalid events: a bad deploy upstream

``InvalidEvent`` carries a machine-readable ``code`` (one of :data:`ReasonCode`), the dotted
``field`` it concerns (empty for the whole line) and a human ``message``.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "REASON_CODES",
    "EventpipeError",
    "FatalError",
    "InvalidEvent",
    "InvalidRatioExceeded",
    "ReasonCode",
    "RetryableError",
    "SinkUnavailable",
]

ReasonCode = Literal[
    "too_large",  # the line is over MAX_EVENT_BYTES
    "bad_json",  # not UTF-8 JSON
    "not_object",  # JSON, but not an object
    "missing_field",  # a required field is absent (or empty)
    "invalid_field",  # a field has the wrong type, pattern, range or value
    "too_long",  # a string field is over its length limit
]
REASON_CODES: tuple[ReasonCode, ...] = get_args(ReasonCode)


class EventpipeError(Exception):
    """Base of every exception eventpipe raises on purpose."""


class InvalidEvent(EventpipeError, ValueError):
    """The input is not a valid event. Never retried: dead-letter it or answer 4xx."""

    def __init__(self, code: ReasonCode, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.code: ReasonCode = code
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[type[InvalidEvent], tuple[ReasonCode, str, str]]:
        return (type(self), (self.code, self.field, self.message))

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message}


class RetryableError(EventpipeError):
    """A dependency failed in a way that may pass; back off and retry."""


class SinkUnavailable(RetryableError):
    """The event store refused or timed out a write."""


class FatalError(EventpipeError):
    """Carrying on would be wrong; stop the process with a clear message."""


class InvalidRatioExceeded(FatalError):
    """The share of invalid events over the guard's window passed its bound."""
