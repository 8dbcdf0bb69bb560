"""What the producer raises, shaped around what the caller does next.

::

    EventpipeError (events.errors)
    ├── InvalidEvent(ValueError)            reject: fix the input; nothing was sent
    └── ProducerError                       base of the producer's own errors
        ├── QueueFull(RetryableError, BufferError)
        │                                   the local queue stayed full for the whole bounded
        │                                   wait; the event was NOT accepted: retry or shed
        ├── FlushTimeout(RetryableError, TimeoutError)
        │                                   flush()/close() ran out of time with events still in
        │                                   flight; they are not lost: call flush()/close() again
        ├── DeliveryFailed                  Kafka refused the record or it timed out; the events
        │                                   in it are lost unless the caller sends them again
        ├── ProducerClosed(RuntimeError)    emit after close(): a programming error
        └── ProducerFailed(FatalError)      librdkafka reported a fatal error (e.g. the idempotent
                                            producer lost its sequence); make a new producer
"""

from __future__ import annotations

from events.errors import EventpipeError, FatalError, RetryableError

__all__ = [
    "DeliveryFailed",
    "FlushTimeout",
    "ProducerClosed",
    "ProducerError",
    "ProducerFailed",
    "QueueFull",
]


class ProducerError(EventpipeError):
    """Base of the errors the producer raises on purpose."""


class QueueFull(ProducerError, RetryableError, BufferError):
    """The local queue stayed full past the bounded wait; the event was not accepted.

    From ``emit_many``: ``accepted`` holds the ids of the events accepted before it.
    """

    def __init__(self, message: str, *, accepted: list[str] | None = None) -> None:
        super().__init__(message)
        self.accepted = accepted or []


class FlushTimeout(ProducerError, RetryableError, TimeoutError):
    """Events were still in flight when flush()/close() ran out of time."""

    def __init__(self, remaining: int, timeout: float) -> None:
        super().__init__(f"{remaining} event(s) still in flight after {timeout:g} s")
        self.remaining = remaining
        self.timeout = timeout


class DeliveryFailed(ProducerError):
    """Kafka did not acknowledge a record: its events are lost unless sent again."""

    def __init__(
        self, reason: str, *, events: int, retriable: bool = False, event_id: str | None = None
    ) -> None:
        super().__init__(f"delivery of {events} event(s) failed: {reason}")
        self.reason = reason
        self.events = events
        self.retriable = retriable
        #: The failed event's id, where one event's failure is reported (``emit_each``).
        #: Kafka may have stored the record after all (a timeout): send the event again
        #: with this id, and reads show one copy.
        self.event_id = event_id

    def for_event(self, event_id: str) -> DeliveryFailed:
        """This failure, as one event's (``event_id``) of the record."""
        return DeliveryFailed(
            self.reason, events=self.events, retriable=self.retriable, event_id=event_id
        )


class ProducerClosed(ProducerError, RuntimeError):
    """The producer was closed; it accepts nothing more."""


class ProducerFailed(ProducerError, FatalError):
    """librdkafka reported a fatal error; this producer cannot deliver any more."""
