"""``AsyncEventProducer``: the asyncio twin of :class:`~producers.EventProducer`.

``await producer.emit(event)`` (and ``log``/``error``/``event``/``access``) returns the event
id once Kafka has *acknowledged* the record holding the event, or raises
:class:`~producers.errors.DeliveryFailed`. Validation, encoding and packing run inline (a few
µs, no I/O); a full local queue is waited out within the same bound as
:class:`~producers.EventProducer`'s (:class:`~producers.room.RoomWait`), but with
``asyncio.sleep``, never by blocking the loop. Delivery reports arrive on the producer's
poll thread (``on_failure`` runs there) and are handed to the loop with
``call_soon_threadsafe``, each to its own loop. Use one instance from one event loop at a
time (one kept across ``asyncio.run()`` calls is fine).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping, Sequence
from types import TracebackType
from typing import Any

from events.errors import InvalidEvent
from events.wire import WireEvent
from producers.client import EventProducer
from producers.delivery import DeliveryFailure, ProducerStats, Waiter
from producers.errors import DeliveryFailed, ProducerError, QueueFull
from producers.group import WaitGroup
from producers.helpers import EventHelpers, EventInput
from producers.kafka import KafkaClient
from producers.room import RoomWait
from producers.settings import ProducerSettings

__all__ = ["AsyncEventProducer"]

_BACKOFF = 0.005  # seconds between offers while the local queue is full


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
        wire = self.sync._prepare(event)
        event_id = await self._offer(wire, waiter, RoomWait(self._block_timeout))
        if waiter is not None:
            await waiter
        return event_id

    async def emit_each(self, events: Sequence[EventInput]) -> list[str | Exception]:
        """Queue every valid event of ``events``; once Kafka settled each, return per event
        its id or what went wrong (``InvalidEvent``, ``QueueFull``, ``DeliveryFailed``, ...).
        A ``DeliveryFailed`` names the event's id (``event_id``): Kafka may have stored it
        after all, so send it again with that id.

        For request handlers publishing batches (the HTTP collector): one event failing
        never affects its neighbours, and the batch waits on one group, not on a future and
        a task per event. A full local queue is waited out for ``producer_block_timeout``
        in all, not per event: past it, each event that finds no room is ``QueueFull`` at
        once (a request of 10,000 events would otherwise wait up to 10,000 times as long).
        Events are accepted in order, and a component's events keep it: once one finds no
        room, the component's later events are ``QueueFull`` too, without an offer.
        Cancelling the await does not withdraw accepted events.
        """
        group = WaitGroup(asyncio.get_running_loop(), len(events))
        room = RoomWait(self._block_timeout)
        stalled: set[str] = set()  # components with an event that found no room
        results: list[str | Exception] = []
        for index, event in enumerate(events):
            try:
                results.append(await self._accept_in_order(event, group.slot(index), room, stalled))
            except (InvalidEvent, ProducerError) as exc:
                results.append(exc)
                group.skip(index, exc)
        await group.wait()
        for index, failure in group.failures.items():
            accepted = results[index]
            if isinstance(failure, DeliveryFailed) and isinstance(accepted, str):
                results[index] = failure.for_event(accepted)  # its id, to send it again with
            elif isinstance(failure, Exception):
                results[index] = failure
        return results

    async def _accept_in_order(
        self, event: EventInput, waiter: Waiter, room: RoomWait, stalled: set[str]
    ) -> str:
        """Accept ``event`` unless an earlier event of its component found no room (noted
        in ``stalled``): accepting it then would put it before that one."""
        wire = self.sync._prepare(event)
        if wire.component in stalled:
            raise room.full("an earlier event of its component was not accepted")
        try:
            return await self._offer(wire, waiter, room)
        except QueueFull:
            stalled.add(wire.component)
            raise

    async def _offer(self, wire: WireEvent, waiter: Waiter | None, room: RoomWait) -> str:
        """Accept a prepared event, sleeping the loop while the queue is full, within
        ``room`` (:meth:`EventProducer._offer_within`'s bound, without blocking)."""
        while True:
            try:
                return self.sync._offer(wire, waiter)
            except BufferError:
                left = room.left()
                if left <= 0:
                    raise room.full("event not accepted") from None
                await asyncio.sleep(min(left, _BACKOFF))

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
