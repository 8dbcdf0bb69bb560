"""``EventHandler``: a stdlib ``logging.Handler`` that ships log records as events.

Behaviour, in particular when Kafka is unreachable:

* ``emit`` never blocks the logging caller: the record is validated, encoded and queued in
  a few µs (:func:`producers.records.record_event` says how a record maps to an event);
  nothing waits for the network.
* A bounded buffer: at most ``capacity`` events (``producer_handler_capacity``) may be in
  flight. While Kafka is unreachable, records queue up to that bound and are delivered, in
  order, when it comes back (within ``producer_delivery_timeout_ms``, after which they are
  reported failed). Records past the bound are dropped and counted in :attr:`dropped`;
  nothing is dropped below it.
* One warning on stderr when Kafka is found unreachable (again after it has recovered), not
  one per record; librdkafka's own messages go to the ``producers.kafka`` logger.
* A record the contract refuses (an ``extra`` user over 256 characters, text that is not
  Unicode, over 128 KiB) is shipped all the same, as
  :func:`~producers.records.fallback_event`: its message, severity and origin, and why
  the rest was left out.
* Records of the ``producers`` loggers are never shipped: a failing Kafka would otherwise
  feed its own complaints back into itself.
* ``close()`` (called by ``logging.shutdown`` at exit) waits at most
  ``producer_handler_close_timeout`` seconds and says on stderr how many events it could
  not deliver. ``logging.shutdown`` calls ``flush()`` first: when that flush ran out of
  time and nothing was accepted or settled since, ``close()`` waits only what is left of
  the flush's timeout, so exit with Kafka down takes about one timeout in all, not two.
  The producer's own ``atexit`` safety net leaves an owned producer to it.
* In a forked child (librdkafka's threads stay in the parent) an owned producer is
  replaced on the child's first record, and closed when the child exits.
"""

from __future__ import annotations

import logging
import os
import sys
from time import monotonic
from typing import Any, NamedTuple

from confluent_kafka import KafkaError

from events.errors import InvalidEvent
from events.wire import validate_wire
from producers.client import EventProducer
from producers.errors import FlushTimeout, ProducerClosed, ProducerFailed, QueueFull
from producers.records import fallback_event, record_event, scrubbed
from producers.settings import ProducerSettings

__all__ = ["EventHandler"]


class _Stall(NamedTuple):
    """A flush() that ran out of time: when it began, and the counters when it ended."""

    began: float
    counts: tuple[int, int, int]  # accepted, delivered, failed


class EventHandler(logging.Handler):
    """Ships log records of ``component`` through an :class:`EventProducer`.

    Give it a ``producer`` to share one with the application (it is then not closed by the
    handler), or ``settings`` to let the handler own one. Raises ``InvalidEvent`` at once
    for an invalid component.
    """

    def __init__(
        self,
        component: str,
        *,
        producer: EventProducer | None = None,
        settings: ProducerSettings | None = None,
        level: int = logging.NOTSET,
    ) -> None:
        super().__init__(level)
        validate_wire({"component": component, "message": "-"})  # fail now, not per record
        self.component = component
        self._owned = producer is None
        self.producer = producer if producer is not None else self._own_producer(settings)
        self.settings = self.producer.settings
        self.capacity = self.settings.producer_handler_capacity
        self.dropped = 0
        self._warned_at: int | None = None  # delivered count when we last warned
        self._pid = os.getpid()
        self._closed = False
        self._stall: _Stall | None = None
        self.producer.add_error_listener(self._on_kafka_error)

    @staticmethod
    def _own_producer(settings: ProducerSettings | None) -> EventProducer:
        producer = EventProducer(settings)
        producer._closed_by_owner_at_exit()  # logging.shutdown closes it, with the bounded wait
        return producer

    def _after_fork(self) -> None:
        # A forked child (multiprocessing, gunicorn --preload, celery prefork) inherits this
        # handler but not librdkafka's threads: the inherited producer refuses in the child.
        # An owned one is replaced by the child's own; the parent's counts stay the parent's.
        self._pid = os.getpid()
        self.dropped = 0
        self._warned_at = None
        if self._owned:
            self.producer = self._own_producer(self.settings)
            self.producer.add_error_listener(self._on_kafka_error)
            # A multiprocessing child ends with os._exit: no atexit, no logging.shutdown.
            # Its exit finalizers do run (and an os.fork child's atexit runs them too).
            # Imported here: importing it registers an atexit hook, not needed before.
            from multiprocessing.util import Finalize

            Finalize(None, self.close, exitpriority=0)

    def handle(self, record: logging.LogRecord) -> bool:
        """Pass the record to :meth:`emit`, except the ``producers`` loggers' own records.

        Those are turned away before ``Handler.handle`` takes the handler's lock: they are
        logged by the producer's poll thread, which ``close()`` joins, and
        ``logging.shutdown`` calls ``close()`` with that lock held — waiting for it there
        would deadlock the process at exit.
        """
        if _own(record):
            return False
        return bool(super().handle(record))

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the record as an event, or count it dropped past the bound. Never blocks."""
        if _own(record):
            return
        try:
            if self._pid != os.getpid():
                self._after_fork()
            if self.producer.stats().pending >= self.capacity:
                self.dropped += 1
                return
            event = record_event(self.component, record)
            try:
                self.producer.emit(event, block=False)
            except InvalidEvent as reason:
                self._emit_refused(event, reason)
        except (QueueFull, ProducerClosed, ProducerFailed):  # no room, or no producer left
            self.dropped += 1
        except Exception:
            self.handleError(record)

    def _emit_refused(self, event: dict[str, Any], reason: InvalidEvent) -> None:
        # Rare: text that is not Unicode is escaped and the record goes as it is; anything
        # else the contract refuses goes as its fallback event, saying why.
        clean = scrubbed(event)
        if clean != event:
            try:
                self.producer.emit(clean, block=False)
                return
            except InvalidEvent as again:
                reason = again
        self.producer.emit(fallback_event(event, reason), block=False)

    def flush(self) -> None:
        """Wait (at most the close timeout) for what is queued; never raises."""
        began = monotonic()
        try:
            self.producer.flush(self.settings.producer_handler_close_timeout)
        except FlushTimeout:
            self._stall = _Stall(began, self._counts())
        else:
            self._stall = None

    def _close_timeout(self) -> float:
        """The close timeout, less what a flush() just spent on the same events in vain.

        ``logging.shutdown`` flushes each handler and then closes it: with Kafka down both
        would wait the whole timeout. "Just": nothing accepted, delivered or failed since.
        """
        timeout = self.settings.producer_handler_close_timeout
        stall = self._stall
        if stall is None or stall.counts != self._counts():
            return timeout
        return max(0.0, stall.began + timeout - monotonic())

    def _counts(self) -> tuple[int, int, int]:
        stats = self.producer.stats()
        return stats.accepted, stats.delivered, stats.failed

    def close(self) -> None:
        """Deliver what is queued (bounded wait), close an owned producer, report losses.

        An owned producer gives up on what it could not deliver in time (reported failed),
        so that a down Kafka never holds the process at exit for longer than the timeout.
        """
        if self._closed:  # a forked child may close it twice: finalizer, logging.shutdown
            return
        self._closed = True
        timeout = self._close_timeout()
        if self._pid != os.getpid():  # a forked child that logged nothing: nothing of its own
            self.dropped = 0
        try:
            if self._owned:
                failed = self.producer.stats().failed
                self.producer.close(timeout, give_up=True)
                lost = self.producer.stats().failed - failed
                if lost:
                    self._say(f"{lost} log event(s) not delivered at close")
            else:
                self.producer.flush(timeout)
        except FlushTimeout as exc:
            self._say(f"{exc.remaining} log event(s) not delivered at close")
        finally:
            if self.dropped:
                self._say(f"{self.dropped} log record(s) dropped past the buffer bound")
            super().close()

    def _on_kafka_error(self, error: Any) -> None:
        # From the poll thread. One warning per outage: again only after a delivery.
        if error.code() != KafkaError._ALL_BROKERS_DOWN:
            return
        stats = self.producer.stats()
        if self._warned_at is not None and stats.delivered == self._warned_at:
            return
        if stats.delivered and not stats.pending:
            return  # an idle connection closed, nothing waits: not an outage worth a word
        self._warned_at = stats.delivered
        self._say(
            f"Kafka unreachable ({self.settings.kafka_bootstrap}): log records wait in a "
            f"buffer of {self.capacity} events and are dropped past it"
        )

    @staticmethod
    def _say(text: str) -> None:
        print(f"eventpipe.EventHandler: {text}", file=sys.stderr, flush=True)


def _own(record: logging.LogRecord) -> bool:
    """A record of the ``producers`` loggers: never shipped (a failing Kafka would feed its
    own complaints back into itself)."""
    return record.name.startswith("producers.") or record.name == "producers"
