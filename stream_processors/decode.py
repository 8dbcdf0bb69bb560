"""Kafka records → settled events plus dead letters. Pure: no Faust, no I/O.

Each record's NDJSON lines are decoded with the contract's fast path: all at once
(:func:`events.wire.decode_wire_record`) in the common case, where every line is a valid
event, and otherwise each line on its own (:func:`events.wire.decode_wire`), so that one
bad line never sinks its neighbours and each gets its own verdict. A valid event without
``event_id`` gets the stable id derived from its source (topic, partition, offset, line),
and one without ``timestamp`` gets the record's time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat
from operator import attrgetter, is_
from typing import Final

from events.codec import derive_event_id, iter_lines
from events.errors import InvalidEvent
from events.wire import WireEvent, decode_wire, decode_wire_record

__all__ = ["DeadLetter", "Decoded", "decode_record"]

_EMPTY_RECORD: Final = InvalidEvent("bad_json", "", "the record holds no events")
_EVENT_ID: Final = attrgetter("event_id")
_TIMESTAMP: Final = attrgetter("timestamp")
#: Newlines from which a record is decoded whole: the one call has fixed costs (~4 µs here)
#: that only records of about this many lines or more win back.
WHOLE_RECORD_LINES: Final = 8


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One offending line (or empty record) and why, with where it came from."""

    raw: bytes
    reason: InvalidEvent
    topic: str
    partition: int
    offset: int
    line: int  # 1-based; 0 for a record with no lines at all


@dataclass(slots=True)
class Decoded:
    """Accumulates decoded events column-friendly: parallel source lists, dead letters."""

    events: list[WireEvent] = field(default_factory=list)
    src_topic: list[str] = field(default_factory=list)
    src_partition: list[int] = field(default_factory=list)
    src_offset: list[int] = field(default_factory=list)
    src_line: list[int] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.events)


def decode_record(
    into: Decoded,
    value: bytes | None,
    *,
    topic: str,
    partition: int,
    offset: int,
    record_ms: int,
) -> None:
    """Decode one record's lines into ``into``. Never raises for any record content."""
    if not value:
        into.dead.append(DeadLetter(value or b"", _EMPTY_RECORD, topic, partition, offset, 0))
        return
    events = into.events
    seen, dead_before = len(events), len(into.dead)
    whole = decode_wire_record(value) if value.count(b"\n") >= WHOLE_RECORD_LINES else None
    if whole is not None:
        _fill_ids_and_times(whole, topic=topic, partition=partition, offset=offset, ms=record_ms)
        events.extend(whole)
        into.src_line.extend(range(1, len(whole) + 1))
    else:
        for number, line in iter_lines(value):
            try:
                event = decode_wire(line)
            except InvalidEvent as reason:
                into.dead.append(DeadLetter(line, reason, topic, partition, offset, number))
                continue
            if event.event_id is None:
                event.event_id = derive_event_id(topic, partition, offset, number)
            if event.timestamp is None:
                event.timestamp = record_ms
            events.append(event)
            into.src_line.append(number)
    added = len(events) - seen
    if added:
        into.src_topic.extend([topic] * added)
        into.src_partition.extend([partition] * added)
        into.src_offset.extend([offset] * added)
    elif len(into.dead) == dead_before:  # only blank lines: still not silently dropped
        into.dead.append(DeadLetter(value, _EMPTY_RECORD, topic, partition, offset, 0))


def _fill_ids_and_times(
    events: list[WireEvent], *, topic: str, partition: int, offset: int, ms: int
) -> None:
    """Settle a whole record's missing ids and times (line n is ``events[n - 1]``)."""
    # The checks run in C: most producers set both fields on every event.
    if any(map(is_, map(_EVENT_ID, events), repeat(None))):
        for number, event in enumerate(events, start=1):
            if event.event_id is None:
                event.event_id = derive_event_id(topic, partition, offset, number)
    if any(map(is_, map(_TIMESTAMP, events), repeat(None))):
        for event in events:
            if event.timestamp is None:
                event.timestamp = ms
