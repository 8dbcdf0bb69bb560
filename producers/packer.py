"""Packing: events of one component into NDJSON records, under three bounds.

A record is shipped when the next event would take it past ``max_events`` or ``max_bytes``,
and at the latest ``linger`` seconds after its first event (the background lingerer calls
:meth:`RecordPacker.ship_due`). With ``max_events == 1`` every event is a record of its own.
Events are written straight into the record's buffer by :class:`~producers.lines.LineWriter`.

Shipping can fail with ``BufferError`` (the Kafka client's local queue is full). The packer
then changes nothing — the record stays open, the new event is *not* added — so the caller
can wait and offer again, and no accepted event is ever dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from time import monotonic
from typing import Any

from events.wire import WireEvent
from producers.errors import ProducerError
from producers.lines import LineWriter

__all__ = ["RecordPacker", "Ship"]

#: ``ship(component, value, events, waiters)``: hand one record to Kafka, called with the
#: packer's lock held. Raises ``BufferError`` when there is no room.
Ship = Callable[[str, bytes, int, list[Any] | None], None]

# How soon to retry a record whose linger passed but that found the queue full.
_RETRY_DELAY = 0.005


class _Open:
    """One component's record being filled: ``"\\n"`` + line, for each event."""

    __slots__ = ("buffer", "count", "since", "waiters")

    def __init__(self, since: float, buffer: bytearray) -> None:
        self.buffer = buffer
        self.count = 0
        self.since = since
        self.waiters: list[Any] | None = None

    def value(self) -> bytes:
        # NDJSON proper: every line ends with a newline, so line readers (ClickHouse's
        # Kafka engine, kcat) never join the last line of one record to the next record.
        return bytes(memoryview(self.buffer)[1:]) + b"\n"


class RecordPacker:
    """Thread-safe; the lock is held only for in-memory work and ``ship``."""

    def __init__(
        self,
        ship: Ship,
        *,
        max_events: int,
        max_bytes: int,
        linger: float,
        on_open: Callable[[], None] = lambda: None,
    ) -> None:
        self._ship = ship
        self._write = LineWriter().write
        self._max_events = max_events
        self._max_buffer = max_bytes + 1  # a buffer also holds the first line's newline
        self._linger = linger
        self._on_open = on_open
        self._open: dict[str, _Open] = {}
        self._lock = threading.Lock()
        # acquire/release rather than `with`: half the cost, and add() runs per event.
        self._acquire = self._lock.acquire
        self._release = self._lock.release
        self._refusal: Callable[[], ProducerError] | None = None

    def add(self, event: WireEvent, waiter: Any = None) -> str:
        """Accept one validated event; return its ``event_id``.

        Ships the component's record first when the event would overflow it. Never blocks
        beyond the lock. Raises ``BufferError`` (nothing accepted) when that record found no
        room in the queue, ``InvalidEvent`` when the event cannot be encoded, or the
        refusal set by :meth:`refuse`.
        """
        self._acquire()
        try:
            if self._refusal is not None:
                raise self._refusal()
            return self._add(event, waiter)
        finally:
            self._release()

    def add_many(self, events: Sequence[WireEvent], ids: list[str]) -> None:
        """Accept ``events[len(ids):]`` in order under one lock, appending each id to ``ids``.

        Raises as :meth:`add` does; the events before the one that raised stay accepted
        (``len(ids)`` says how many), so the caller can offer the rest again.
        """
        self._acquire()
        try:
            if self._refusal is not None:
                raise self._refusal()
            add, accepted = self._add, ids.append
            for index in range(len(ids), len(events)):
                accepted(add(events[index], None))
        finally:
            self._release()

    def _add(self, event: WireEvent, waiter: Any) -> str:
        # With the lock held. Nothing changes before the line is written, and a failed
        # ship or write undoes it: an exception means the event was not accepted.
        component = event.component
        record = self._open.get(component)
        if record is None:
            if self._max_events == 1:
                return self._ship_alone(event, waiter)
            record = self._start(component, bytearray())
        elif record.count >= self._max_events:
            self._ship_record(component, record)
            record = self._start(component, bytearray())
        start = len(record.buffer)
        event_id = self._write(record.buffer, event)
        if len(record.buffer) > self._max_buffer and record.count:
            record = self._split(component, record, start)
        record.count += 1
        if waiter is not None:
            if record.waiters is None:
                record.waiters = []
            record.waiters.append(waiter)
        return event_id

    def _start(self, component: str, buffer: bytearray) -> _Open:
        if not self._open:
            self._on_open()  # the lingerer sleeps without a deadline when nothing is open
        record = self._open[component] = _Open(monotonic(), buffer)
        return record

    def _split(self, component: str, record: _Open, start: int) -> _Open:
        # The line just written overflowed the record: ship what came before it and open a
        # record holding it. If there is no room, drop the line again: nothing accepted.
        line = record.buffer[start:]
        del record.buffer[start:]
        self._ship_record(component, record)
        return self._start(component, line)

    def _ship_alone(self, event: WireEvent, waiter: Any) -> str:
        buffer = bytearray()
        event_id = self._write(buffer, event)
        waiters = None if waiter is None else [waiter]
        self._ship(event.component, bytes(memoryview(buffer)[1:]), 1, waiters)
        return event_id

    def _ship_record(self, component: str, record: _Open) -> None:
        if record.count:  # a record opened for an event that then failed to encode is empty
            self._ship(component, record.value(), record.count, record.waiters)
        del self._open[component]

    def ship_due(self, now: float) -> float | None:
        """Ship records open for ``linger`` seconds; return the next deadline (monotonic).

        Called by the lingerer thread. A full queue postpones the rest by a few ms.
        """
        with self._lock:
            for component, record in list(self._open.items()):
                if record.since + self._linger <= now:
                    try:
                        self._ship_record(component, record)
                    except BufferError:
                        return now + _RETRY_DELAY
            if not self._open:
                return None
            return min(r.since for r in self._open.values()) + self._linger

    def ship_all(self) -> None:
        """Ship every open record now. Raises ``BufferError``; what is left stays open."""
        with self._lock:
            for component, record in list(self._open.items()):
                self._ship_record(component, record)

    def refuse(self, error: Callable[[], ProducerError]) -> None:
        """From now on :meth:`add` raises ``error()``; open records can still be shipped."""
        with self._lock:
            self._refusal = error

    @property
    def buffered(self) -> int:
        """Events accepted and not yet handed to Kafka."""
        with self._lock:
            return sum(record.count for record in self._open.values())
