"""Gathers taken records into batches, writes them, then acknowledges them.

The agent hands each ``take()`` to :meth:`Batcher.add`; a batch is launched when it holds
``max_rows`` events or when it is ``max_seconds`` old (:meth:`tick`, from a timer, so the
tail of a quiet stream flushes). A lock makes the two exclusive.

The end of a backlog: when the batch before was launched full (the worker was behind) and
the worker has now read everything its partitions hold (``drained``, from the consumer's
high-water marks), the pending batch is launched at the next tick rather than once it is
``max_seconds`` old: its events are the newest there are, and nothing more is coming to
fill it. In steady traffic batches are launched by age, not full, so this never adds
inserts there.

Pipelining: up to ``max_in_flight`` batches may be in flight (handed to the writer: the
oldest inserted in the sink thread, the next one's columns built meanwhile in the columns
thread) while the next one is gathered on the event loop. Launching a batch first waits
until fewer are in flight, and each write begins only once the one before it has settled,
so batches are written and acknowledged in order, at most ``max_in_flight + 1`` exist at
once (the memory bound), and a slow or failing sink stops the agent from pulling
(back-pressure). Records are acknowledged only after their batch is durable.

Records below a partition's high-water mark (:mod:`stream_processors.offsets`) were stored
before a crash or rebalance and are acknowledged without being written again.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from eventpipe.logs import get_logger
from events.errors import InvalidRatioExceeded
from stream_processors.batch import PendingBatch
from stream_processors.consumer import Part, RunMessage
from stream_processors.decode import decode_record
from stream_processors.guard import InvalidRatioGuard
from stream_processors.metrics import WorkerMetrics
from stream_processors.offsets import TP
from stream_processors.retry import GaveUp
from stream_processors.writer import BatchWriter

__all__ = ["Batcher"]

log = get_logger(__name__)
_NO_MARK = -1


class Batcher:
    def __init__(
        self,
        writer: BatchWriter,
        guard: InvalidRatioGuard,
        metrics: WorkerMetrics,
        *,
        max_rows: int,
        max_seconds: float,
        on_fatal: Callable[[BaseException], None],
        max_in_flight: int = 1,
        drained: Callable[[], bool] | None = None,
    ) -> None:
        self._writer = writer
        self._guard = guard
        self._metrics = metrics
        self._max_rows = max_rows
        self._max_seconds = max_seconds
        self._on_fatal = on_fatal
        self._pending = PendingBatch()
        self._stream: Any = None
        self._lock = asyncio.Lock()
        self._marks: dict[TP, int] = {}
        self._acked_next: dict[TP, int] = {}
        self._deadline: float | None = None
        self._flush_requested = False
        self._max_in_flight = max_in_flight
        #: Write tasks launched and not yet settled, oldest first.
        self._inflight: deque[asyncio.Future[bool]] = deque()
        #: A batch was left unwritten: no later one may be written, acknowledged or marked.
        self._halted = False
        #: Whether the worker has read all its partitions hold (see the module's text).
        self._drained = drained
        #: The batch launched last was full: the worker was behind, reading a backlog.
        self._behind = False
        #: Per partition, the offset after the last record gathered.
        self._taken_next: dict[TP, int] = {}

    # --- called by the agent and timers (event loop) ------------------------------------

    async def add(self, stream: Any, events: Sequence[Any]) -> None:
        """Decode ``events`` into the current batch, launching it each time it fills up."""
        async with self._lock:
            self._stream = stream
            await self._load_marks({(e.message.topic, e.message.partition) for e in events})
            for event in events:
                self._gather(event)
                if self._pending.rows >= self._max_rows:
                    await self._launch(full=True)
            if self._due():
                await self._launch()

    async def tick(self) -> None:
        """Launch the batch if it is old enough, a flush was requested, or it ends a
        backlog the worker has now read (timer)."""
        if self._pending.empty or not (
            self._due() or self._flush_requested or self._backlog_read()
        ):
            return
        if self._lock.locked():
            return  # the agent is in add(), which launches due batches itself
        async with self._lock:
            if not self._pending.empty:
                await self._launch()

    async def drain(self, grace: float) -> bool:
        """Write everything within ``grace`` seconds (shutdown). False: some left unacked."""
        self._deadline = time.monotonic() + grace
        try:
            async with asyncio.timeout(grace + 1), self._lock:
                written = True
                if not self._pending.empty:
                    written = await self._launch()
                return await self._settle() and written
        except TimeoutError:
            return False

    async def written(self) -> bool:
        """Wait for the batches in flight, if any; whether they became durable."""
        async with self._lock:
            return await self._settle()

    def request_flush(self) -> None:
        """Ask for the pending batch to be written at the next tick (rebalance start)."""
        self._flush_requested = True

    def forget(self, tps: set[TP]) -> None:
        """Partitions were revoked: their marks may change under the next owner."""
        for tp in tps:
            self._marks.pop(tp, None)
            self._acked_next.pop(tp, None)
            self._taken_next.pop(tp, None)

    def acked_next(self) -> Mapping[TP, int]:
        """Next offset to acknowledge, per partition seen (for the lag gauge)."""
        return dict(self._acked_next)

    def taken_next(self) -> Mapping[TP, int]:
        """The offset after the last record gathered, per partition seen."""
        return self._taken_next

    # --- internals --------------------------------------------------------------------

    def _due(self) -> bool:
        return not self._pending.empty and self._pending.age() >= self._max_seconds

    def _backlog_read(self) -> bool:
        return self._behind and self._drained is not None and self._drained()

    async def _load_marks(self, tps: set[TP]) -> None:
        missing = [tp for tp in tps if tp not in self._marks]
        if not missing:
            return
        # Retried while ClickHouse is unreachable (back-pressure, as for inserts): a mark
        # that could not be read must not be taken as "none stored".
        found = await self._writer.load_marks(missing, lambda: self._deadline)
        for tp in missing:
            self._marks[tp] = found.get(tp, _NO_MARK)
            if tp in found:
                log.info(
                    "high-water mark loaded", topic=tp[0], partition=tp[1], next_offset=found[tp]
                )

    def _gather(self, event: Any) -> None:
        batch = self._pending
        if batch.empty:
            batch.started = time.monotonic()
        message = event.message
        topic, partition = message.topic, message.partition
        tp = (topic, partition)
        batch.acks.append(event)
        # A partition revoked while add() waited for the batch in flight was forgotten:
        # its records taken before then are written (a copy at worst, never a loss).
        mark = self._marks.get(tp, _NO_MARK)
        if message.__class__ is RunMessage:  # consecutive records in one delivery
            parts: Sequence[Part] = message.parts
        else:
            parts = (Part(message.offset, round(message.timestamp * 1000), message.value),)
        batch.records += len(parts)
        self._taken_next[tp] = parts[-1].offset + 1
        first = -1
        for offset, record_ms, value in parts:
            if offset < mark:
                batch.skipped += 1
                continue
            if first < 0:
                first = offset
            decode_record(
                batch.decoded,
                value,
                topic=topic,
                partition=partition,
                offset=offset,
                record_ms=record_ms,
            )
        if first >= 0:  # what was decoded: first..last (only a prefix can be below the mark)
            batch.cover(tp, first)
            batch.cover(tp, parts[-1].offset)

    def _count(self, batch: PendingBatch) -> None:
        metrics, dead = self._metrics, batch.decoded.dead
        metrics.records.inc(batch.records)
        metrics.events.inc(batch.rows + len(dead))
        metrics.valid.inc(batch.rows)
        for letter in dead:
            metrics.invalid.labels(letter.reason.code).inc()
        if batch.skipped:
            metrics.skipped.inc(batch.skipped)

    async def _launch(self, *, full: bool = False) -> bool:
        """Start writing the pending batch, once fewer than ``max_in_flight`` are in flight.

        ``full``: it holds ``max_rows`` events. Returns whether the batches waited for
        became durable.
        """
        batch, self._pending = self._pending, PendingBatch()
        self._flush_requested = False
        self._behind = full
        self._writer.prepare(batch)  # its columns, built while earlier batches are inserted
        previous_ok = await self._settle(keep=self._max_in_flight - 1)
        after = self._inflight[-1] if self._inflight else None
        self._inflight.append(asyncio.ensure_future(self._write_and_ack(batch, after)))
        # Let the write begin now, not once the caller next yields: add() may go on
        # decoding for a while, and the sink thread would idle meanwhile.
        await asyncio.sleep(0)
        return previous_ok

    async def _settle(self, keep: int = 0) -> bool:
        """Wait until at most ``keep`` batches are in flight; whether those became durable."""
        ok = True
        while len(self._inflight) > keep:
            task = self._inflight.popleft()
            ok = await task and ok
        return ok

    async def _write_and_ack(self, batch: PendingBatch, after: asyncio.Future[bool] | None) -> bool:
        """Write, then ack, once the batch launched before it (``after``) has settled.
        False when a shutdown deadline made the write give up.

        Once a batch is left unwritten, every later one is left too: written, it would be
        acknowledged and save a high-water mark past the unwritten records, which the
        restart would then skip as stored (loss).
        """
        try:
            if after is not None:
                await asyncio.shield(after)  # in order; its failure sets _halted
            if self._halted:
                return False
            await self._writer.write(batch, lambda: self._deadline)
        except GaveUp as exc:
            # Left unacknowledged on purpose: Kafka redelivers it after the restart.
            self._halted = True
            log.warning(
                "shutdown: batch not written, left for redelivery", rows=batch.rows, error=str(exc)
            )
            return False
        except Exception as exc:  # not the sink's outage (retried above): a bug
            self._halted = True
            log.critical("batch could not be written, stopping the worker", error=repr(exc))
            self._on_fatal(exc)
            return False
        except BaseException:
            self._halted = True  # the write was cancelled (a stop): the same holds
            raise
        # A partition revoked while the batch was in flight was forgotten: its mark stays
        # unknown, to be read again if it comes back (its next owner may store more).
        for event in batch.acks:
            await self._stream.ack(event)
            message = event.message
            tp = (message.topic, message.partition)
            if tp in self._marks:
                self._acked_next[tp] = message.offset + 1
        for tp, mark in batch.marks.items():
            if tp in self._marks:
                self._marks[tp] = max(mark, self._marks[tp])
        self._count(batch)
        log.debug(
            "batch written", rows=batch.rows, dead=len(batch.decoded.dead), records=batch.records
        )
        try:
            self._guard.observe(batch.rows, len(batch.decoded.dead))
        except InvalidRatioExceeded as exc:
            log.critical("invalid-ratio guard tripped, stopping the worker", reason=str(exc))
            self._on_fatal(exc)
        return True
