"""Faust's Kafka consumer without four asyncio tasks per record.

For every record, Faust's fetch loop (``Consumer._drain_messages``) hands the record to the
topic conductor under ``wait_first(callback(message), suspend_flow.wait())``, so that a
rebalance can abandon a delivery blocked on a full stream buffer. mode's ``wait_first``
builds four tasks for that (the delivery, the flow event, the service's stopped and crashed
events), races them with ``asyncio.wait`` and cancels the three losers: on records that
carry one event each, that was most of a worker's time (see docs/architecture.md).

Almost every delivery finishes without ever suspending: the conductor decodes the record
and puts it into a stream buffer that has room. :class:`FastConsumer` therefore runs the
delivery coroutine up to its first suspension point in place, and only when it really has
to wait (a full buffer, flow control) hands the rest of it to the original ``wait_first``,
with the same race and the same cancellation. Nothing else in Faust changes; the records,
their order, acknowledgements and commits are exactly Faust's.
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from typing import Any

from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.transport.drivers.aiokafka import Transport as AIOKafkaTransport
from mode.services import WaitResults

__all__ = ["FastConsumer", "FastTransport"]


class _Resumed:
    """Awaits the rest of a coroutine already run up to a suspension point.

    ``pending`` is what the coroutine yielded there (a future it waits on, or ``None`` for
    a bare yield); this re-yields it to the task driving us, then forwards what the task
    sends or throws, exactly as ``await coroutine`` would have from the start.
    """

    __slots__ = ("_coro", "_pending")

    def __init__(self, coro: Coroutine[Any, Any, Any], pending: Any) -> None:
        self._coro = coro
        self._pending = pending

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, pending = self._coro, self._pending
        while True:
            try:
                sent = yield pending
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # CancelledError included: the coroutine decides
                try:
                    pending = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    pending = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


class FastConsumer(AIOKafkaConsumer):
    """The aiokafka consumer with a delivery path that creates no task per record."""

    async def wait_first(self, *coros: Any, timeout: Any = None) -> WaitResults:  # noqa: ASYNC109 - mode's signature
        # Faust's fetch loop is the only caller: wait_first(delivery, suspend_flow.wait()).
        plain = timeout is not None or len(coros) != 2 or self.suspend_flow.is_set()
        if plain or not all(isinstance(c, Coroutine) for c in coros):
            return await super().wait_first(*coros, timeout=timeout)
        delivery, flow = coros
        try:
            pending = delivery.send(None)
        except StopIteration as stop:  # delivered without waiting: the common case
            flow.close()
            return WaitResults([delivery], [stop.value], False)
        except BaseException:
            flow.close()
            raise
        return await super().wait_first(_Resumed(delivery, pending), flow)


class FastTransport(AIOKafkaTransport):
    """Faust's aiokafka transport with :class:`FastConsumer`."""

    Consumer = FastConsumer
