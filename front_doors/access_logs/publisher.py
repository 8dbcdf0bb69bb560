"""Lines → access events through the producer; lines that are not events → dead letters.

:meth:`AccessPublisher.publish` never waits for Kafka's acknowledgements (the producer
packs the events of many lines into each record and reports delivery in the background);
it waits only while the producer's local queue is full, which stops reading from the
connection or file — back-pressure, never loss. Each line is judged on its own: one bad
line never sinks its neighbours.

With ``event_ids`` (the file follower) each event's id is derived from where its line
is, so reading a stretch of a file again after a crash re-sends the same events, which
the stream processors store once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any, Final

from events.errors import InvalidEvent
from front_doors.access_logs.lines import Line
from front_doors.access_logs.parse import parse_line
from front_doors.counters import Counters
from front_doors.deadletters import DeadLetters, Rejected
from producers import AsyncEventProducer, QueueFull

__all__ = ["COUNTERS", "AccessPublisher", "EventIds"]

_log = logging.getLogger("front_doors.access_logs")
_FULL_BACKOFF = 0.01
_FULL_WARN_EVERY = 10.0

#: ``event_ids(offset) -> event_id``: the id of the event of the line at ``offset``.
EventIds = Callable[[int], str]
#: Counters of the receiver (``eventpipe_access_<name>_total``).
COUNTERS: Final = {
    "lines": "Lines read (blank lines not counted).",
    "events": "Access events handed to the producer.",
    "dead_lettered": "Lines that are not access events, sent to the dead-letter topic.",
    "connections": "TCP connections accepted.",
    "connections_refused": "TCP connections closed at once: too many open.",
    "connections_idle": "TCP connections closed after the idle timeout.",
    "connections_broken": "TCP connections that ended with an error.",
    "rotations": "Followed files replaced (rename) or truncated (copytruncate).",
    "checkpoints": "Positions saved after Kafka acknowledged everything before them.",
}


class AccessPublisher:
    """Shared by every connection (one event loop)."""

    def __init__(
        self,
        producer: AsyncEventProducer,
        dead_letters: DeadLetters,
        component: str,
        *,
        max_line: int,
        counters: Counters | None = None,
    ) -> None:
        self._producer = producer
        self._dead = dead_letters
        self._component = component
        self._max_line = max_line
        self.counters = counters or Counters("eventpipe_access", COUNTERS)

    async def publish(
        self, lines: Sequence[Line], source: str, event_ids: EventIds | None = None
    ) -> None:
        """Publish the events of ``lines`` from ``source`` (``tcp://...``, ``file://...``).

        Returns once every line is handed to the producer or the dead letters; waits (never
        blocks the loop) while the producer's queue is full. Raises ``ProducerClosed`` /
        ``ProducerFailed`` when the producer can no longer deliver.
        """
        events = dead = 0
        # The sync face of the same producer: it never waits for the network, and with
        # block=False not for room either (QueueFull instead), so it cannot block the
        # loop; it costs a third less per line than awaiting the async emit.
        emit = self._producer.sync.emit
        for line in lines:
            try:
                event = self._event(line)
                if event_ids is not None:
                    event["event_id"] = event_ids(line.offset)
                try:
                    emit(event, block=False)
                except QueueFull:
                    await self._emit_when_room(event)
                events += 1
            except InvalidEvent as reason:
                await self._dead_letter(line, reason, source)
                dead += 1
        self.counters.add("lines", len(lines))
        self.counters.add("events", events)
        self.counters.add("dead_lettered", dead)

    async def reject(self, lines: Sequence[Line], source: str, why: str) -> None:
        """Dead-letter ``lines`` as a whole (e.g. a line a connection broke off)."""
        reason = InvalidEvent("invalid_field", "", why)
        for line in lines:
            await self._dead_letter(line, reason, source)
        self.counters.add("lines", len(lines))
        self.counters.add("dead_lettered", len(lines))

    async def _dead_letter(self, line: Line, reason: InvalidEvent, source: str) -> None:
        await self._dead.publish(Rejected(line.raw, reason, source, line.offset, line.number))

    def _event(self, line: Line) -> dict[str, Any]:
        if line.too_long:
            raise InvalidEvent(
                "too_large",
                "",
                f"the line is over {self._max_line:,} bytes; its first {self._max_line:,} "
                "are kept here",
            )
        return parse_line(line.raw, self._component)

    async def _emit_when_room(self, event: dict[str, Any]) -> None:
        """Offer ``event`` until the producer's queue has room: back-pressure, not loss."""
        waited = 0.0
        while True:
            await asyncio.sleep(_FULL_BACKOFF)
            waited += _FULL_BACKOFF
            try:
                self._producer.sync.emit(event, block=False)
                return
            except QueueFull:
                if waited >= _FULL_WARN_EVERY:  # Kafka is slow or away
                    _log.warning("the producer's queue stays full: waiting for Kafka")
                    waited = 0.0
