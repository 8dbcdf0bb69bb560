"""Writes one batch: dead letters, then the columnar insert, then the high-water marks.

Each step runs in the worker's single sink thread (the clients are synchronous) and is
retried with capped exponential back-off until it succeeds: a sink outage becomes
back-pressure, never loss, never a dead letter. Only at shutdown may a deadline make it
give up (:class:`~stream_processors.retry.GaveUp`); the batch then stays unacknowledged
and Kafka redelivers it after the restart.
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
    ) -> None:
        self._sink = sink
        self._dead_letters = dead_letters
        self._offsets = offsets
        self._metrics = metrics
        self._backoff = backoff
        self._group = group
        self._executor = executor

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
            columns = await self._in_thread(self._columns, batch)
            token = batch.dedup_token(self._group)
            started = time.monotonic()
            await retry_until_done(
                lambda: self._in_thread(self._insert, columns, token),
                self._backoff,
                on_retry=self._on_retry("insert"),
                deadline=deadline,
            )
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

    def _insert(self, columns: Sequence[Sequence[Any]], token: str) -> None:
        self._sink.write(columns, dedup_token=token)

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
