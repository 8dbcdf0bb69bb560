"""``EventProducer``: validated events to Kafka, packed per component, delivered or reported.

The hot path (:meth:`EventProducer.emit`) runs in the caller's thread and never waits for
the network: validate (``events.wire``), set the emit time, then encode the event with its
new ``event_id`` straight into the component's open record (:mod:`producers.lines`).
Records go to librdkafka when full or after the linger time; two background threads serve
delivery reports and lingering records. Delivery reports, and so the ``on_failure``
callback, run on the poll thread, never inside ``emit``: a call waiting for room in a full
queue waits for that thread to serve reports (:mod:`producers.room`).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from time import time_ns
from types import TracebackType
from typing import Any, TypeVar, cast

from confluent_kafka import KafkaException

from events.errors import InvalidEvent
from events.model import Event
from events.wire import WireEvent, validate_wire, validate_wire_many
from producers.background import Lingerer, Poller
from producers.delivery import DeliveryFailure, DeliveryTracker, ProducerStats, Waiter
from producers.errors import FlushTimeout, ProducerClosed, ProducerFailed, QueueFull
from producers.helpers import EventHelpers, EventInput
from producers.kafka import KafkaClient, create_kafka_client
from producers.kafka_errors import KafkaErrors
from producers.packer import Batch, RecordPacker
from producers.room import RoomSignal, RoomWait
from producers.settings import ProducerSettings

__all__ = ["EventProducer"]

_T = TypeVar("_T")
_SLICE = 0.01  # longest wait for room between two offers (and two looks at `stop`)
_OPEN: weakref.WeakSet[EventProducer] = weakref.WeakSet()  # not closed: closed at exit
_LIVE: weakref.WeakSet[EventProducer] = weakref.WeakSet()  # every producer of this process
_PURGED = "Local: Purged in queue"  # what librdkafka reports for the records it purges


class EventProducer(EventHelpers[str]):
    """Publishes events to the ingest topic. Thread-safe; use one per process.

    ``emit(event)`` and the helpers ``log``/``error``/``event``/``access`` return the event
    id once the event is *accepted*: from then on it is either delivered or reported failed
    (``on_failure`` callback, :meth:`stats`, the ``producers.delivery`` log) — never
    dropped silently. Call :meth:`close` (or use ``with``) to deliver what is left.

    Callbacks (``on_failure``, error listeners) run on the producer's poll thread, named
    ``<producer_client_id>-poll`` — never in a thread calling ``emit``/``emit_many`` or a
    helper, not even while it waits for room — except that :meth:`flush` and :meth:`close`
    serve the reports that are due in the calling thread while they wait, as
    confluent-kafka's ``flush`` does. A callback may emit (a blocking emit from the poll
    thread serves reports itself while it waits).

    ``kafka`` replaces the confluent-kafka handle (tests use :class:`~producers.MemoryKafka`);
    ``kafka_config`` adds librdkafka options that cannot come from settings (``stats_cb``).
    """

    def __init__(
        self,
        settings: ProducerSettings | None = None,
        *,
        on_failure: Callable[[DeliveryFailure], None] | None = None,
        kafka: KafkaClient | None = None,
        kafka_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.settings = settings = settings or ProducerSettings()
        self._topic = settings.topic
        self._environment = settings.producer_environment
        self._block_timeout = settings.producer_block_timeout
        # librdkafka reports every record within message.timeout.ms; 5 s covers the report.
        self._flush_timeout = settings.producer_delivery_timeout_ms / 1000 + 5.0
        self._errors = KafkaErrors(on_fatal=self._fail)
        self._on_failure = on_failure
        self._tracker = DeliveryTracker(on_failure)
        # Not `kafka or ...`: a client with nothing queued has len() 0 and is falsy.
        self._kafka = (
            kafka
            if kafka is not None
            else create_kafka_client(settings, on_error=self._errors, extra=kafka_config)
        )
        self._packer = RecordPacker(
            self._ship,
            max_events=settings.producer_record_events,
            max_bytes=settings.producer_record_bytes,
            linger=settings.producer_linger_ms / 1000,
            on_open=self._wake_lingerer,
        )
        self._closing = False
        self._forked = False
        name = settings.producer_client_id
        self._room = RoomSignal()
        self._lingerer = Lingerer(self._packer, name)
        self._poller = Poller(self._kafka, name, self._after_poll)
        self._lingerer.start()
        self._poller.start()
        _OPEN.add(self)
        _LIVE.add(self)

    # -- the hot path -------------------------------------------------------------------

    def emit(self, event: EventInput, *, block: bool = True) -> str:
        """Validate, stamp and queue one event; return its ``event_id``.

        Never waits for the network. When the local queue is full it waits for room up to
        ``producer_block_timeout`` seconds (not at all with ``block=False``), while the
        poll thread serves delivery reports (and runs their callbacks).
        Raises :class:`~events.errors.InvalidEvent` (a ``ValueError`` naming the field;
        nothing sent), :class:`~producers.errors.QueueFull` (not accepted),
        :class:`~producers.errors.ProducerClosed` or ``ProducerFailed``.
        """
        # _prepare_all's steps, inlined: this runs per event, and a call costs ~0.5 µs here.
        wire = validate_wire(event) if type(event) is dict else _to_wire(event)
        if wire.timestamp is None:  # emit time, so packing and retries never shift it
            wire.timestamp = time_ns() // 1_000_000
        if wire.environment is None and self._environment is not None:
            wire.environment = self._environment
        try:
            return self._packer.add(wire)
        except BufferError:
            room = RoomWait(self._block_timeout if block else 0.0)
            return self._offer_within(partial(self._packer.add, wire), room, self._refused)

    def emit_many(
        self, events: Iterable[EventInput], *, block: bool = True, room: RoomWait | None = None
    ) -> list[str]:
        """Validate every event, then queue them all in order; return their ids.

        About twice as cheap per event as :meth:`emit`: one validation pass, one lock and
        one encoder call per component for the batch. Any event failing validation raises
        :class:`InvalidEvent` (its message names the event's index and the field) before
        anything is accepted. A full queue is waited out as in :meth:`emit`;
        :class:`QueueFull` then carries the ids accepted so far in ``accepted`` (for each
        component, its events up to the first that found no room). Encoding, which comes
        later, fails only for a ``data`` value JSON cannot carry or an event over 128 KiB:
        that event raises, those before it stay accepted.

        ``room`` replaces ``block``: a :class:`~producers.RoomWait` of your own, to share one
        bound among several calls, or to end the wait early with its ``stop`` condition
        (a shutdown flag: Ctrl-C need not wait out ``producer_block_timeout``).
        """
        if room is None:
            room = RoomWait(self._block_timeout if block else 0.0)
        batch = Batch(self._prepare_all(events))

        def refused(room: RoomWait) -> QueueFull:
            accepted = batch.accepted_ids()
            return room.full(
                f"{len(accepted)} of {len(batch.events)} events accepted", accepted=accepted
            )

        self._offer_within(partial(self._packer.add_many, batch), room, refused)
        return batch.ids

    def _prepare_all(
        self, events: Iterable[EventInput], *, numbered: bool = True
    ) -> list[WireEvent]:
        """The events validated, with their emit time and the default environment.

        :meth:`emit` inlines the same steps for one event: keep the two in step. Plain
        dicts are validated in one pass (:func:`events.wire.validate_wire_many`); events
        without a timestamp get the time of this call.
        """
        items = events if isinstance(events, list) else list(events)
        environment = self._environment
        wires: list[WireEvent] | None = None
        if len(items) > 1 and all(type(event) is dict for event in items):
            try:
                wires = validate_wire_many(cast(list[dict[str, Any]], items))
            except InvalidEvent:
                wires = None  # the loop below says which event, numbered
        if wires is None:
            wires = []
            for index, event in enumerate(items):
                try:
                    wire = validate_wire(event) if type(event) is dict else _to_wire(event)
                except InvalidEvent as exc:
                    if not numbered:
                        raise
                    raise InvalidEvent(
                        exc.code, exc.field, f"event {index}: {exc.message}"
                    ) from None
                wires.append(wire)
        now = time_ns() // 1_000_000
        for wire in wires:
            if wire.timestamp is None:
                wire.timestamp = now
            if wire.environment is None and environment is not None:
                wire.environment = environment
        return wires

    def _prepare(self, event: EventInput) -> WireEvent:
        """One event validated and stamped (the async twin's path)."""
        return self._prepare_all((event,), numbered=False)[0]

    def _offer(self, wire: WireEvent, waiter: Waiter | None = None) -> str:
        """Accept a prepared event or raise ``BufferError``; never waits (the async twin)."""
        return self._packer.add(wire, waiter)

    def _offer_within(
        self,
        offer: Callable[[], _T],
        room: RoomWait,
        refused: Callable[[RoomWait], Exception],
    ) -> _T:
        """Return ``offer()`` once it finds room (it raises ``BufferError`` while the local
        queue is full); between offers wait for the poll thread to serve delivery reports,
        which make room. Raises ``refused(room)`` once ``room`` has no time left.

        The one wait for room of :meth:`emit`, :meth:`emit_many`, :meth:`flush` and the
        simulator; the asyncio twin waits within the same :class:`RoomWait` by sleeping.
        """
        while True:
            seen = self._room.seen  # before the offer: a report served after it wakes us
            try:
                return offer()
            except BufferError:
                left = room.left()
                if left <= 0:
                    raise refused(room) from None
                self._wait_for_reports(seen, min(left, _SLICE))

    def _wait_for_reports(self, seen: int, timeout: float) -> None:
        # Reports are served, and their callbacks run, on the poll thread; only that thread
        # itself (a callback that emits) or a caller after close() has stopped it polls here.
        if threading.current_thread() is self._poller or not self._poller.is_alive():
            self._kafka.poll(timeout)
        else:
            self._room.wait(seen, timeout)

    def _refused(self, room: RoomWait) -> QueueFull:
        return room.full(f"event not accepted ({self.stats().pending} events pending)")

    def _after_poll(self, served: int) -> None:
        # On the poll thread, after each poll: served reports may have made room.
        if served:
            self._room.made()
        self._tracker.report_refused()

    def _ship(
        self, component: str, value: bytes, events: int, waiters: list[Waiter] | None
    ) -> None:
        # Called by the packer with its lock held; BufferError leaves the record open.
        callback = self._tracker.callback(events, waiters)
        try:
            self._kafka.produce(self._topic, value, component, on_delivery=callback)
        except KafkaException as exc:  # refused outright (unknown topic, fatal state, ...)
            self._tracker.refused(events, waiters, component, value, exc.args[0])
            return
        self._tracker.shipped(events)

    # -- lifecycle ----------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> None:
        """Send every event accepted so far and wait until each is delivered or reported
        failed (events other threads accept meanwhile neither hold it up nor make it time out).

        Blocks up to ``timeout`` seconds (default: the delivery timeout plus 5 s, by which
        librdkafka has settled every record). Raises :class:`FlushTimeout` when events are
        still in flight then; they stay queued (call again to keep waiting).
        """
        if self._forked:  # nothing was accepted in this process; the parent delivers its own
            return
        limit = self._flush_timeout if timeout is None else timeout
        room = RoomWait(limit).started()
        mine = self._offer_within(
            partial(self._packer.ship_all_then, self._tracker.mark),
            room,
            lambda _: FlushTimeout(self.stats().pending, limit),
        )
        # Every event accepted before this call is in a record of `mine` now. Wait for those
        # records, not for Kafka's queue to empty (librdkafka's flush): records other threads
        # ship meanwhile would keep it from emptying under a steady load.
        while True:
            self._tracker.report_refused()
            if self._tracker.settled(mine):
                return
            left = room.left()
            if left <= 0:
                raise FlushTimeout(self.stats().pending, limit)
            # Serve the reports that are due here too, as librdkafka's flush does.
            self._after_poll(self._kafka.poll(min(left, _SLICE)))

    def close(self, timeout: float | None = None, *, give_up: bool = False) -> None:
        """Stop accepting events, then deliver everything accepted as :meth:`flush` does.

        Idempotent. When ``timeout`` runs out first: raises :class:`FlushTimeout` — nothing
        is lost yet, call ``close()`` again to keep waiting — or, with ``give_up=True``,
        reports what is left as failed (counters, ``on_failure``, log) and closes.
        """
        if self._forked:
            return
        if not self._closing:
            self._closing = True
            self._packer.refuse(lambda: ProducerClosed("the producer is closed"))
            self._lingerer.stop()
        try:
            self.flush(timeout)
        except FlushTimeout:
            if not give_up:
                raise
            self._purge()
        self._poller.stop()
        _OPEN.discard(self)

    def _purge(self) -> None:
        # Purged records come back through the delivery callbacks as failures: reported,
        # never silently gone. Records still open are reported failed without Kafka:
        # librdkafka frees a purged record's room only once its report is served, so
        # shipping them now could find the queue still full.
        self._kafka.purge()
        self._packer.drop_all(self._abandon)
        self._kafka.flush(1.0)
        self._tracker.report_refused()

    def _abandon(
        self, component: str, value: bytes, events: int, waiters: list[Waiter] | None
    ) -> None:
        # Called by the packer with its lock held, as _ship is.
        self._tracker.refused(events, waiters, component, value, _PURGED)

    def __enter__(self) -> EventProducer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- observing ----------------------------------------------------------------------

    def stats(self) -> ProducerStats:
        """Event counters: accepted, delivered, failed, pending, records. Any thread."""
        return self._tracker.stats(self._packer.buffered)

    def add_error_listener(self, listener: Callable[[Any], None]) -> None:
        """Call ``listener(KafkaError)`` for every error librdkafka reports.

        Runs on the poll thread (or in a thread waiting in :meth:`flush`/:meth:`close`),
        as ``on_failure`` does. Most errors are transient (librdkafka reconnects and
        retries by itself); ``error.fatal()`` ones end this producer.
        """
        self._errors.add_listener(listener)

    def _closed_by_owner_at_exit(self) -> None:
        """Leave this producer out of the ``atexit`` safety net: its owner closes it.

        For the logging handler's own producer. ``logging.shutdown`` closes the handler,
        which waits only ``producer_handler_close_timeout``; but it runs *after* the safety
        net (``atexit`` runs last in, first out, and ``logging`` registers first), which
        would otherwise wait the full delivery timeout on a down Kafka first.
        """
        _OPEN.discard(self)

    def _after_fork_in_child(self) -> None:
        # librdkafka's threads stayed behind in the parent, and a lock another thread held
        # at the fork stays held here: this producer can deliver nothing in this process.
        # It refuses at once (rather than block or queue for nobody), and forgets the
        # parent's events, which the parent delivers and counts.
        self._forked = self._closing = True
        self._tracker = DeliveryTracker(self._on_failure)
        self._packer.after_fork_in_child(
            lambda: ProducerFailed(
                "the producer was created before this process forked and cannot deliver "
                "here: create one in the child process"
            )
        )
        _OPEN.discard(self)

    def _fail(self, error: Any) -> None:
        self._packer.refuse(lambda: ProducerFailed(f"kafka producer failed: {error}"))

    def _wake_lingerer(self) -> None:
        self._lingerer.wake()


def _to_wire(event: object) -> WireEvent:
    if isinstance(event, Event):
        return WireEvent.from_event(event)
    if isinstance(event, Mapping):
        return validate_wire(event)
    raise InvalidEvent("not_object", "", f"an event is a mapping or an Event, not {type(event)}")


def _after_fork_in_child() -> None:
    for producer in list(_LIVE):
        producer._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _close_at_exit() -> None:
    # The safety net for producers nobody closed: deliver what they accepted.
    for producer in list(_OPEN):
        try:
            producer.close()
        except Exception as exc:
            print(f"eventpipe: producer not closed cleanly at exit: {exc}", file=sys.stderr)
