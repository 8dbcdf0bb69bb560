"""Writes one batch: dead letters, then the columnar insert, then the high-water marks.

Each step runs in the worker's single sink thread (the clients are synchronous) and is
retried with capped exponential back-off until it succeeds: a sink outage becomes
back-pressure, never loss, never a dead letter. Only at shutdown may a deadline make it
give up (:class:`~stream_processors.retry.GaveUp`); the batch then stays unacknowledged
and Kafka redelivers it after the restart.

The insert's columns are built once per batch, in a columns thread of their own when
there is one (:meth:`BatchWriter.prepare`, called as the batch is launched): a batch's
columns are then built while the batches before it are being inserted, and the sink
thread only sends them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any, TypeVar

from eventpipe.logs import get_logger
from storage.rows import to_columns
from stream_processors.batch import PendingBatch
from stream_processors.deadletters import DeadLetters
from stream_processors.metrics import WorkerMetrics
from stream_processors.offsets import TP, OffsetStore
from stream_processors.retry import Backoff, retry_until_done
from stream_processors.sink import EventSink

__all__ = ["BatchWriter"]

log = get_logger(__name__)
T = TypeVar("T")
_OFFSET_ATTEMPTS = 3


class BatchWriter:
    def __init__(
        self,
        *,
        sink: EventSink,
        dead_letters: DeadLetters,
        offsets: OffsetStore,
        metrics: WorkerMetrics,
        backoff: Backoff,
        group: str,
        executor: Executor,
        columns_executor: Executor | None = None,
    ) -> None:
        self._sink = sink
        self._dead_letters = dead_letters
        self._offsets = offsets
        self._metrics = metrics
        self._backoff = backoff
        self._group = group
        self._executor = executor
        self._columns_executor = columns_executor

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _on_retry(self, operation: str) -> Callable[[int, BaseException, float], None]:
        def note(attempt: int, exc: BaseException, delay: float) -> None:
            self._metrics.retries.labels(operation).inc()
            log.warning(
                "retrying",
                operation=operation,
                attempt=attempt,
                delay_s=round(delay, 2),
                error=str(exc),
            )

        return note

    async def write(self, batch: PendingBatch, deadline: Callable[[], float | None]) -> None:
        """Make the batch durable. Returns only when it is; raises GaveUp at a deadline."""
        decoded = batch.decoded
        if decoded.dead:
            await retry_until_done(
                lambda: self._in_thread(self._dead_letters.publish, decoded.dead),
                self._backoff,
                on_retry=self._on_retry("dead_letters"),
                deadline=deadline,
            )
        if decoded.events:
            token = batch.dedup_token(self._group)
            # One job in the sink thread takes the columns and inserts them: no hop through
            # the event loop between the two (it is busy decoding the next batch).
            await retry_until_done(
                lambda: self._in_thread(self._insert, batch, token),
                self._backoff,
                on_retry=self._on_retry("insert"),
                deadline=deadline,
            )
            started = batch.insert_started
            assert started is not None  # set by _insert before any write it confirmed
            self._observe_insert(batch, time.monotonic() - started)
        await self._save_marks(batch)

    async def load_marks(
        self, tps: list[TP], deadline: Callable[[], float | None]
    ) -> Mapping[TP, int]:
        """The stored high-water marks of ``tps``, retried until ClickHouse answers."""
        return await retry_until_done(
            lambda: self._in_thread(self._offsets.load, tps),
            self._backoff,
            on_retry=self._on_retry("offsets_load"),
            deadline=deadline,
        )

    @staticmethod
    def _columns(batch: PendingBatch) -> Sequence[Sequence[Any]]:
        d = batch.decoded
        return to_columns(
            d.events,
            src_topic=d.src_topic,
            src_partition=d.src_partition,
            src_offset=d.src_offset,
            src_line=d.src_line,
            ingested_ms=int(time.time() * 1000),
        )

    def prepare(self, batch: PendingBatch) -> None:
        """Start building ``batch``'s columns in the columns thread, if there is one.

        Called on the event loop as the batch is launched, while the batches before it may
        still be in the sink thread.
        """
        if self._columns_executor is not None and batch.decoded.events:
            batch.columns_job = self._columns_executor.submit(self._columns, batch)

    def _insert(self, batch: PendingBatch, token: str) -> None:
        """Insert the batch's columns (sink thread), built once: retries send the same."""
        if batch.columns is None:
            job = batch.columns_job
            batch.columns = self._columns(batch) if job is None else job.result()
        if batch.insert_started is None:
            batch.insert_started = time.monotonic()
        self._sink.write(batch.columns, dedup_token=token)

    def _observe_insert(self, batch: PendingBatch, seconds: float) -> None:
        rows = len(batch.decoded.events)
        m = self._metrics
        m.inserted.inc(rows)
        m.batch_rows.observe(rows)
        m.insert_seconds.observe(seconds)
        oldest = min(e.timestamp for e in batch.decoded.events)
        m.freshness.observe(max(0.0, time.time() - oldest / 1000))

    async def _save_marks(self, batch: PendingBatch) -> None:
        # Best effort: a missing mark costs duplicate rows after a crash (which reads
        # deduplicate), never loss — so a few attempts, then carry on.
        for attempt in range(1, _OFFSET_ATTEMPTS + 1):
            try:
                await self._in_thread(self._offsets.save, batch.marks)
                return
            except Exception as exc:  # any failure here is survivable; see above
                self._metrics.retries.labels("offsets").inc()
                log.warning("saving high-water marks failed", attempt=attempt, error=str(exc))
                await asyncio.sleep(self._backoff.delay(attempt))
