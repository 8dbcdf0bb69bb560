"""Faust's Kafka consumer, with less of Faust's machinery per record.

Two changes, both below Faust's streams, which see ordinary messages and acknowledge them
as usual:

* **Runs.** Faust spends ~130 µs of its own work per message on this machine (an event, the
  channel queue, the stream iterator, sensors, acknowledgement), whatever the message
  holds. Records that carry one event each (producers in other languages) would be bound
  by it. :class:`FastConsumer` therefore hands each fetched run of consecutive records of a
  partition to Faust as one :class:`RunMessage` (at most ``delivery_max_records`` records
  and ``delivery_max_bytes`` bytes of values), whose :attr:`~RunMessage.parts` are the
  records themselves, each with its own offset and time. Acknowledging a run acknowledges
  every offset in it, so Faust commits exactly what it would have committed record by
  record; the agent decodes each part as the record it is.
* **No tasks per delivery**, below.

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
with the same race and the same cancellation. This change alters nothing else in Faust: the
messages, their order, acknowledgements and commits are exactly Faust's.
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator, Mapping, Sequence
from typing import Any, NamedTuple

from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.transport.drivers.aiokafka import Transport as AIOKafkaTransport
from faust.types import TP
from faust.types.tuples import ConsumerMessage, ack_lock
from mode.services import WaitResults

__all__ = ["FastConsumer", "FastTransport", "Part", "RunMessage", "runs_of"]


class Part(NamedTuple):
    """One Kafka record inside a run: where it is, its time, its bytes."""

    offset: int
    timestamp_ms: int
    value: bytes | None


class _Run:
    """Consecutive records of one partition, shaped like the aiokafka record Faust reads."""

    __slots__ = (
        "checksum",
        "headers",
        "key",
        "offset",
        "partition",
        "parts",
        "serialized_key_size",
        "serialized_value_size",
        "timestamp",
        "timestamp_type",
        "topic",
        "value",
    )

    def __init__(self, records: Sequence[Any]) -> None:
        last = records[-1]
        self.topic = last.topic
        self.partition = last.partition
        self.offset = last.offset  # what Faust tracks, acknowledges and commits past
        self.timestamp = last.timestamp
        self.timestamp_type = last.timestamp_type
        self.headers: list[tuple[str, bytes]] = []
        self.key = None
        self.value = None  # the records are in ``parts``
        self.checksum = None
        self.serialized_key_size = 0
        self.serialized_value_size = sum(r.serialized_value_size for r in records)
        self.parts = tuple(Part(r.offset, r.timestamp, r.value) for r in records)


class RunMessage(ConsumerMessage):
    """A Faust message standing for consecutive records of one partition.

    ``offset`` and ``timestamp`` are the last record's; ``parts`` are all of them, in order.
    Its value is ``None``: read the parts.
    """

    parts: tuple[Part, ...]


def runs_of(
    records: Sequence[Any], *, after: int | None, max_records: int, max_bytes: int
) -> list[Any]:
    """``records`` (one partition, in offset order) with runs put together.

    Each maximal run of consecutive offsets, all past ``after`` (Faust's read offset: what
    is at or before it is left to Faust to judge), is cut into pieces of at most
    ``max_records`` records and ``max_bytes`` bytes of values; a piece of two or more
    records becomes one run, a lone record stays as it is.
    """
    out: list[Any] = []
    piece: list[Any] = []
    size = 0

    def close() -> None:
        if len(piece) > 1:
            out.append(_Run(piece))
        else:
            out.extend(piece)
        piece.clear()

    for record in records:
        if after is not None and record.offset <= after:
            close()
            out.append(record)
            continue
        value_size = record.serialized_value_size
        if piece and (
            record.offset != piece[-1].offset + 1
            or len(piece) >= max_records
            or size + value_size > max_bytes
        ):
            close()
        if not piece:
            size = 0
        piece.append(record)
        size += value_size
    close()
    return out


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
    """The aiokafka consumer, delivering runs of records, without a task per delivery."""

    @property
    def _run_limits(self) -> tuple[int, int]:
        # Set on the app by create_app (stream_processors.app.SinkApp); 1 record = off.
        app = self.app
        return getattr(app, "delivery_max_records", 1), getattr(app, "delivery_max_bytes", 0)

    async def _getmany(
        self,
        active_partitions: Any,
        timeout: float,  # noqa: ASYNC109 - Faust's signature
    ) -> Mapping[TP, list[Any]]:
        records = await super()._getmany(active_partitions, timeout)
        max_records, max_bytes = self._run_limits
        if max_records <= 1 or not records:
            return records
        read = self._read_offset
        return {
            tp: runs_of(batch, after=read.get(tp), max_records=max_records, max_bytes=max_bytes)
            for tp, batch in records.items()
        }

    def _to_message(self, tp: TP, record: Any) -> ConsumerMessage:
        if record.__class__ is not _Run:
            return super()._to_message(tp, record)
        first = record.parts[0].offset
        read = self._read_offset.get(tp)
        # Faust's fetch loop takes any jump past its read offset for a gap in the log and
        # counts it as acknowledged; the records of a run are not a gap, and become
        # acknowledged only with the run (ack). So: note a real gap before the run (as the
        # loop would), then let the loop see the run's last offset as the next one.
        if read is not None and first > read + 1 and self.app.topics.acks_enabled_for(tp.topic):
            committed = self._committed_offset[tp]
            start = read + 1 if committed is None else max(read + 1, committed + 1)
            if start < first:
                gap = self._gap[tp]
                gap.addi(start, first)
                gap.merge_overlaps()
        self._read_offset[tp] = record.offset - 1
        message = RunMessage(
            record.topic,
            record.partition,
            record.offset,
            record.timestamp / 1000.0,
            record.timestamp_type,
            record.headers,
            None,
            None,
            None,
            0,
            record.serialized_value_size,
            tp,
            generation_id=self.app.consumer_generation_id,
        )
        message.parts = record.parts
        return message

    def ack(self, message: Any) -> bool:
        with ack_lock:  # re-entrant; Faust's own ack takes it too
            if not super().ack(message):
                return False
            if message.__class__ is RunMessage:
                # The run's other records, exactly as if each had been acknowledged.
                tp = message.tp
                committed = self._committed_offset[tp]
                index, acked = self._acked_index[tp], self._acked[tp]
                added = 0
                for part in message.parts[:-1]:
                    offset = part.offset
                    if (committed is None or offset >= committed) and offset not in index:
                        index.add(offset)
                        acked.append(offset)
                        added += 1
                self._n_acked += added
            return True

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
