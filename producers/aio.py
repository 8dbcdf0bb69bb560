"""``AsyncEventProducer``: the asyncio twin of :class:`~producers.EventProducer`.

``await producer.emit(event)`` (and ``log``/``error``/``event``/``access``) returns the event
id once Kafka has *acknowledged* the record holding the event, or raises
:class:`~producers.errors.DeliveryFailed`. Validation, encoding and packing run inline (a few
µs, no I/O); a full local queue is waited out with ``asyncio.sleep``, never by blocking
the loop. Delivery reports arrive on the producer's poll thread and are handed to the loop
with ``call_soon_threadsafe``. Use one instance from one event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping, Sequence
from time import monotonic
from types import TracebackType
from typing import Any

from events.errors import InvalidEvent
from producers.client import EventProducer
from producers.delivery import DeliveryFailure, ProducerStats, Waiter
from producers.errors import ProducerError, QueueFull
from producers.group import WaitGroup
from producers.helpers import EventHelpers, EventInput
from producers.kafka import KafkaClient
from producers.settings import ProducerSettings

__all__ = ["AsyncEventProducer"]

_BACKOFF = 0.005


class _RoomWait:
    """One bound on waiting for room in the local queue: ``timeout`` seconds from the first
    time the queue was found full, shared by every event of one call."""

    __slots__ = ("_deadline", "_timeout")

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._deadline: float | None = None

    def expired(self) -> bool:
        now = monotonic()
        if self._deadline is None:
            self._deadline = now + self._timeout
        return now >= self._deadline


class AsyncEventProducer(EventHelpers[Coroutine[Any, Any, str]]):
    """See the module docstring; arguments as for :class:`~producers.EventProducer`."""

    def __init__(
        self,
        settings: ProducerSettings | None = None,
        *,
        on_failure: Callable[[DeliveryFailure], None] | None = None,
        kafka: KafkaClient | None = None,
        kafka_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.sync = EventProducer(
            settings, on_failure=on_failure, kafka=kafka, kafka_config=kafka_config
        )
        self._block_timeout = self.sync.settings.producer_block_timeout

    async def emit(self, event: EventInput, *, wait: bool = True) -> str:
        """Queue one event; return its id when Kafka acknowledged it (``wait=False``: as
        soon as it is accepted, failures then reach only ``on_failure`` and the counters).

        Raises ``InvalidEvent`` (nothing sent), ``QueueFull`` (not accepted after
        ``producer_block_timeout``), ``DeliveryFailed``, ``ProducerClosed``. Cancelling the
        await does not withdraw an accepted event.
        """
        waiter = asyncio.get_running_loop().create_future() if wait else None
        event_id = await self._accept(event, waiter, _RoomWait(self._block_timeout))
        if waiter is not None:
            await waiter
        return event_id

    async def emit_each(self, events: Sequence[EventInput]) -> list[str | Exception]:
        """Queue every valid event of ``events``; once Kafka settled each, return per event
        its id or what went wrong (``InvalidEvent``, ``QueueFull``, ``DeliveryFailed``, ...).

        For request handlers publishing batches (the HTTP collector): one event failing
        never affects its neighbours, and the batch waits on one group, not on a future and
        a task per event. A full local queue is waited out for ``producer_block_timeout``
        in all, not per event: past it, each event that finds no room is ``QueueFull`` at
        once (a request of 10,000 events would otherwise wait up to 10,000 times as long).
        Cancelling the await does not withdraw accepted events.
        """
        group = WaitGroup(asyncio.get_running_loop(), len(events))
        room = _RoomWait(self._block_timeout)
        results: list[str | Exception] = []
        for index, event in enumerate(events):
            try:
                results.append(await self._accept(event, group.slot(index), room))
            except (InvalidEvent, ProducerError) as exc:
                results.append(exc)
                group.skip(index, exc)
        await group.wait()
        for index, failure in group.failures.items():
            if isinstance(failure, Exception):
                results[index] = failure
        return results

    async def _accept(self, event: EventInput, waiter: Waiter | None, room: _RoomWait) -> str:
        wire = self.sync._prepare(event)
        while True:
            try:
                return self.sync._offer(wire, waiter)
            except BufferError:
                if room.expired():
                    raise QueueFull(
                        f"the local Kafka queue stayed full for {self._block_timeout:g} s: "
                        "event not accepted"
                    ) from None
                await asyncio.sleep(_BACKOFF)

    # The timeout bounds the blocking flush in its thread: cancelling the await could not.
    async def flush(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """:meth:`EventProducer.flush` in a worker thread."""
        await asyncio.to_thread(self.sync.flush, timeout)

    async def close(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """:meth:`EventProducer.close` in a worker thread."""
        await asyncio.to_thread(self.sync.close, timeout)

    def stats(self) -> ProducerStats:
        return self.sync.stats()

    def add_error_listener(self, listener: Callable[[Any], None]) -> None:
        self.sync.add_error_listener(listener)

    async def __aenter__(self) -> AsyncEventProducer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
