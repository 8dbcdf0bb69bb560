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
from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import accumulate
from time import monotonic
from typing import Any, TypeVar

from events.limits import MAX_EVENT_BYTES
from events.wire import ENCODE_ERRORS, WireEvent, encode_wire_lines
from producers.errors import ProducerError
from producers.lines import LineWriter

__all__ = ["Batch", "RecordPacker", "Ship"]

_T = TypeVar("_T")

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
        # The final newline goes into the buffer for the one copy and out again, so the
        # record stays as it was when shipping fails (a second copy of a record of tens of
        # KiB cost ~0.05 µs per event).
        buffer = self.buffer
        buffer += b"\n"
        try:
            return bytes(memoryview(buffer)[1:])
        finally:
            del buffer[-1]


class _Run:
    """One component's events of a batch, encoded as one NDJSON blob, and how many of them
    were accepted. The blob is cut into lines only when a record bound falls inside it."""

    __slots__ = ("blob", "component", "count", "done", "ends", "events", "lines")

    def __init__(self, component: str, events: list[WireEvent]) -> None:
        self.component = component
        self.events = events
        self.count = len(events)
        self.blob = encode_wire_lines(events)  # every line ends with a newline
        self.done = 0
        self.lines: list[bytes] | None = None
        self.ends: list[int] = []

    def cut(self) -> list[bytes]:
        """The lines (without newlines); ``ends[k]`` is the size of the first ``k`` with one
        newline each."""
        if self.lines is None:
            lines = self.blob.split(b"\n")  # JSON text holds no raw newline
            lines.pop()  # after the last newline
            self.lines = lines
            self.ends = [0, *accumulate(len(line) + 1 for line in lines)]
        return self.lines


class Batch:
    """Events offered together to :meth:`RecordPacker.add_many`, and what it accepted.

    ``ids`` holds the event ids: of every event once the batch is packed per component,
    else (one by one) of the events accepted so far.
    """

    __slots__ = ("events", "ids", "one_by_one", "plan")

    def __init__(self, events: Sequence[WireEvent]) -> None:
        self.events = events
        self.ids: list[str] = []
        self.plan: list[_Run] | None = None
        self.one_by_one = False

    @property
    def complete(self) -> bool:
        if self.plan is None:
            return len(self.ids) == len(self.events)
        return all(run.done == run.count for run in self.plan)

    def accepted_ids(self) -> list[str]:
        """The ids of the events accepted so far, in the batch's order."""
        if self.plan is None:
            return list(self.ids)
        taken = {id(e) for run in self.plan for e in run.events[: run.done]}
        return [i for i, e in zip(self.ids, self.events, strict=True) if id(e) in taken]


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
        self._writer = LineWriter()
        self._write = self._writer.write
        self._max_events = max_events
        # A buffer holds a newline before each line, the record one after each: the same
        # size, so the buffer's bound is the record's.
        self._max_buffer = max_bytes
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
            record = self._open.get(event.component)
            if record is None or record.count >= self._max_events or waiter is not None:
                return self._add(event, waiter)
            # _add's common case, inlined: the component's record is open with room for one
            # more event, and there is no waiter to note (emit's path). This runs per event,
            # and the call into _add cost ~0.3 µs of it. Keep the two in step.
            buffer = record.buffer
            start = len(buffer)
            event_id = self._write(buffer, event)
            if len(buffer) > self._max_buffer and record.count:
                record = self._split(event.component, record, start)
            record.count += 1
            return event_id
        finally:
            self._release()

    def add_many(self, batch: Batch) -> None:
        """Accept the events of ``batch`` it has not accepted yet.

        Packed records (``max_events > 1``) are filled one component at a time, a run of
        lines per record (one encoder call per component, :meth:`_plan`). Raises as
        :meth:`add` does; ``batch`` then knows what was accepted — for each component, its
        events up to the first that found no room (so order within a component holds) —
        and offering it again goes on from there.
        """
        self._acquire()
        try:
            if self._refusal is not None:
                raise self._refusal()
            if batch.plan is None and not batch.one_by_one:
                if self._max_events > 1 and len(batch.events) > 1:
                    batch.plan = self._plan(batch)
                batch.one_by_one = batch.plan is None
            if batch.plan is None:
                add, accepted, events = self._add, batch.ids.append, batch.events
                for index in range(len(batch.ids), len(events)):
                    accepted(add(events[index], None))
            else:
                for run in batch.plan:
                    self._add_run(run)
        finally:
            self._release()

    def _plan(self, batch: Batch) -> list[_Run] | None:
        """Each component's events encoded in one call; ``None`` when an event cannot be
        encoded or is too large (then the events go one by one, and the first such event
        raises with those before it accepted).

        Stamps a fresh ``event_id`` on events without one; ``batch.ids`` lists them all.
        """
        missing = [event for event in batch.events if event.event_id is None]
        for event, event_id in zip(missing, self._writer.new_ids(len(missing)), strict=True):
            event.event_id = event_id  # type: ignore[assignment]  # encoded as given
        groups: dict[str, list[WireEvent]] = {}
        for event in batch.events:
            groups.setdefault(event.component, []).append(event)
        runs = []
        for component, events in groups.items():
            try:
                run = _Run(component, events)
            except ENCODE_ERRORS:
                return None
            if len(run.blob) > MAX_EVENT_BYTES and max(map(len, run.cut())) > MAX_EVENT_BYTES:
                return None
            runs.append(run)
        batch.ids = [str(event.event_id) for event in batch.events]
        return runs

    def _add_run(self, run: _Run) -> None:
        # With the lock held: the lines not yet accepted go into records, as many per
        # record as the event and byte bounds allow; a full record ships before the next.
        record = self._open.get(run.component)
        if record is None:
            record = self._start(run.component, bytearray())
        if (
            run.done == 0
            and record.count + run.count <= self._max_events
            and len(record.buffer) + len(run.blob) <= self._max_buffer
        ):  # the common case: the whole run fits the open record
            buffer = record.buffer
            buffer += b"\n"
            buffer += memoryview(run.blob)[:-1]
            record.count += run.count
            run.done = run.count
            return
        lines, ends, total = run.cut(), run.ends, run.count
        while run.done < total:
            record = self._open.get(run.component)
            if record is None:
                record = self._start(run.component, bytearray())
            start = run.done
            room = self._max_events - record.count
            # ends[k]: bytes of lines[:k], a newline each; the largest k that still fits.
            fits = ends[start] + self._max_buffer - len(record.buffer)
            stop = max(bisect_right(ends, fits, start, min(start + room, total) + 1) - 1, start)
            if stop == start and record.count == 0:
                stop = start + 1  # a line over the byte bound goes alone
            if stop > start:
                buffer = record.buffer
                buffer += b"\n"
                buffer += b"\n".join(lines[start:stop])
                record.count += stop - start
                run.done = stop
            if run.done < total:
                self._ship_record(run.component, record)  # full: ship before the next line

    def _add(self, event: WireEvent, waiter: Any) -> str:
        # With the lock held. Nothing changes before the line is written, and a failed
        # ship or write undoes it: an exception means the event was not accepted.
        # add() inlines the common case (an open record with room, no waiter).
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
        self.ship_all_then(lambda: None)

    def ship_all_then(self, then: Callable[[], _T]) -> _T:
        """Ship every open record, then ``then()`` with the lock still held: nothing is
        accepted or shipped in between (``flush`` marks what it waits for). Raises
        ``BufferError``; what is left stays open."""
        with self._lock:
            for component, record in list(self._open.items()):
                self._ship_record(component, record)
            return then()

    def drop_all(self, report: Ship) -> None:
        """Hand every open record to ``report`` (as to ``ship``) instead of shipping it,
        and forget it: for giving up at close."""
        with self._lock:
            for component, record in self._open.items():
                if record.count:
                    report(component, record.value(), record.count, record.waiters)
            self._open.clear()

    def after_fork_in_child(self, error: Callable[[], ProducerError]) -> None:
        """In a forked child: a fresh lock (the parent's may have been held by a thread
        that does not exist here), no open records (the parent ships its own), and from
        now on :meth:`add` raises ``error()``."""
        self._lock = threading.Lock()
        self._acquire = self._lock.acquire
        self._release = self._lock.release
        self._open = {}
        self._refusal = error

    def refuse(self, error: Callable[[], ProducerError]) -> None:
        """From now on :meth:`add` raises ``error()``; open records can still be shipped."""
        with self._lock:
            self._refusal = error

    @property
    def buffered(self) -> int:
        """Events accepted and not yet handed to Kafka."""
        with self._lock:
            return sum(record.count for record in self._open.values())
