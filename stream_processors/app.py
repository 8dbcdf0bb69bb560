"""The Faust app of a worker: the one place where the steps are wired together.

Delivery semantics
==================

* **At-least-once from Kafka, effectively-once in reads.** The agent takes raw records
  with ``noack_take`` (nothing is acknowledged implicitly; a message may stand for a run of
  consecutive records, see :mod:`stream_processors.consumer`), gathers them into a batch,
  and acknowledges a record only after its batch is durable: dead letters acknowledged by
  Kafka, valid events confirmed by ClickHouse, in that order. Faust commits only offsets
  whose records were acknowledged, so a crash or a rebalance at any point redelivers
  whatever was not yet confirmed. (Faust's ``take()`` would acknowledge a batch even when
  the agent raises; we never use it.)
* **Sink outages are back-pressure.** A failing insert is retried with capped exponential
  back-off for as long as it takes; the agent pulls nothing meanwhile and Faust pauses
  fetching when its buffers fill. Valid events are never dead-lettered because the sink is
  down, and the worker does not crash.
* **Rebalance.** When partitions are about to be revoked the pending batch is written at
  once; Faust waits for every taken record to be acknowledged before it commits and hands
  partitions over, so the new owner starts exactly after what was stored. If the sink is
  down then, the hand-over waits for it (there is nothing the new owner could do either).
* **Shutdown (SIGTERM).** The pending batch is written, waiting up to
  ``worker_shutdown_grace_seconds``; if it cannot be, it is left unacknowledged — never
  half-acknowledged — and redelivered after the restart. Once a batch is left unwritten
  (this, or a failure no retry mends, which stops the worker), no later batch is written:
  it would save a high-water mark past the unwritten records, and the restart would skip
  them as stored.
* **Duplicates.** Redelivery can meet rows already stored (a crash between the insert and
  the offset commit). Three layers keep them out of reads: (1) each partition's
  high-water mark of stored offsets, written after every insert and read when a partition
  is assigned, so redelivered records already stored are skipped; (2) on servers that
  support it, an insert deduplication token naming the batch's offset ranges, so a retried
  insert that had in fact succeeded is dropped by the server; (3) event ids are
  deterministic (set by the client, or derived from topic/partition/offset/line) and the
  table is a ReplacingMergeTree keyed by them, so any remaining copy collapses on merge
  and reads deduplicate by ``event_id`` meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import faust
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from eventpipe.logs import get_logger
from events.errors import InvalidRatioExceeded
from events.topics import dlq_topic
from stream_processors.assignor import BacklogAssignor, read_backlog
from stream_processors.batcher import Batcher
from stream_processors.consumer import FastTransport
from stream_processors.deadletters import DeadLetters, KafkaDeadLetters
from stream_processors.guard import InvalidRatioGuard
from stream_processors.metrics import WorkerMetrics
from stream_processors.offsets import ClickHouseOffsets, OffsetStore
from stream_processors.retry import Backoff
from stream_processors.rollups import RollupRefresher
from stream_processors.settings import WorkerSettings
from stream_processors.sink import ClickHouseSink, EventSink
from stream_processors.writer import BatchWriter

__all__ = ["EXIT_GUARD", "SinkApp", "create_app"]

#: The worker's exit status when the invalid-ratio guard stopped it.
EXIT_GUARD = 3

log = get_logger(__name__)


class SinkApp(faust.App):
    """A Faust app that flushes its batcher when a rebalance starts and at shutdown."""

    batcher: Batcher
    sink_agent: Any
    fatal: BaseException | None = None
    crashing: asyncio.Future[Any] | None = None
    shutdown_grace: float
    closers: list[Any]
    #: Seconds from the start of a stop to a hard exit (run_worker sets it; None: never).
    stop_deadline: float | None = None
    hard_stop: threading.Timer | None = None
    #: Read by FastConsumer: how many consecutive records one delivery may hold.
    delivery_max_records: int = 1
    delivery_max_bytes: int = 0

    def _new_transport(self) -> Any:
        # Faust's aiokafka transport, with a consumer that delivers records without four
        # asyncio tasks each (stream_processors.consumer).
        return FastTransport(self.conf.broker_consumer, self)

    def on_rebalance_start(self) -> None:
        super().on_rebalance_start()
        # Called from Faust's consumer thread: only set a flag; the timer acts on it.
        self.batcher.request_flush()

    async def on_stop(self) -> None:
        self._arm_hard_stop()
        written = await self.batcher.drain(self.shutdown_grace)
        if not written:
            log.warning("shutdown: the pending batch is left for redelivery after the restart")
        # We own the ack discipline: what we were handed is now written (or deliberately
        # left unacknowledged). Records still inside Faust's own take buffer were never
        # handed to us; waiting for their acks would hang the shutdown forever. Without the
        # wait, Faust commits exactly the acknowledged offsets and the rest is redelivered.
        self.conf.stream_wait_empty = False
        await super().on_stop()
        for closer in self.closers:
            closer.close()

    def _arm_hard_stop(self, exit_now: Callable[[int], object] = os._exit) -> None:
        """Bound the stop: Faust's shutdown can hang for good when a last offset commit is
        sent to a consumer thread that has already stopped (seen once in five guard trips).
        By then the batch is written or deliberately left unacknowledged, so exiting loses
        nothing; the caller cancels ``hard_stop`` when the stop finishes in time."""
        if self.stop_deadline is None or self.hard_stop is not None:
            return
        code = 0 if self.fatal is None else 1
        if isinstance(self.fatal, InvalidRatioExceeded):
            code = EXIT_GUARD

        def give_up() -> None:
            log.critical("shutdown did not finish; exiting anyway", after_s=self.stop_deadline)
            exit_now(code)

        self.hard_stop = threading.Timer(self.stop_deadline, give_up)
        self.hard_stop.daemon = True
        self.hard_stop.start()


def _stop_fatally(app: SinkApp, exc: BaseException) -> None:
    app.fatal = exc
    app.crashing = asyncio.ensure_future(app.crash(exc))


def _broker(settings: WorkerSettings) -> list[str]:
    return [f"kafka://{host.strip()}" for host in settings.kafka_bootstrap.split(",")]


def create_app(
    settings: WorkerSettings,
    *,
    sink: EventSink | None = None,
    dead_letters: DeadLetters | None = None,
    offsets: OffsetStore | None = None,
    metrics: WorkerMetrics | None = None,
) -> SinkApp:
    """A new worker app. The twins (sink, dead letters, offsets) default to the real ones."""
    app = SinkApp(
        settings.worker_group,
        broker=_broker(settings),
        broker_credentials=_credentials(settings),
        store="memory://",
        datadir=settings.data_dir(),
        autodiscover=False,
        value_serializer="raw",
        key_serializer="raw",
        topic_allow_declare=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        stream_buffer_maxsize=settings.worker_stream_buffer,
        consumer_max_fetch_size=4 * 1024 * 1024,
        web_enabled=settings.worker_web_port != 0,
        web_port=settings.worker_web_port or 6066,
        web_bind=settings.worker_web_host,
        web_host=settings.worker_web_host,
        stream_wait_empty=True,
        PartitionAssignor=BacklogAssignor,
    )
    if settings.worker_assign_by_backlog:
        conf, group = settings.librdkafka_security(), settings.worker_group
        timeout = settings.worker_assign_backlog_timeout_seconds
        assignor = app.assignor
        assert isinstance(assignor, BacklogAssignor)  # the PartitionAssignor given above
        assignor.backlog_of = lambda topics: read_backlog(conf, group, topics, timeout)
    metrics = metrics or WorkerMetrics()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eventpipe-sink")
    on_clickhouse = sink is None  # the roll-up timer runs only beside the real sink
    sink = sink or ClickHouseSink(settings)
    dead_letters = dead_letters or KafkaDeadLetters(
        settings.librdkafka_security(), dlq_topic(settings.topic)
    )
    offsets = offsets or ClickHouseOffsets(settings, settings.worker_group)
    writer = BatchWriter(
        sink=sink,
        dead_letters=dead_letters,
        offsets=offsets,
        metrics=metrics,
        backoff=Backoff(settings.worker_retry_initial_seconds, settings.worker_retry_max_seconds),
        group=settings.worker_group,
        executor=executor,
        columns_executor=ThreadPoolExecutor(max_workers=1, thread_name_prefix="eventpipe-columns"),
    )
    app.batcher = Batcher(
        writer,
        InvalidRatioGuard(settings.worker_invalid_ratio_max, settings.worker_invalid_window),
        metrics,
        max_rows=settings.worker_batch_max_rows,
        max_seconds=settings.worker_batch_max_seconds,
        on_fatal=lambda exc: _stop_fatally(app, exc),
        max_in_flight=settings.worker_batches_in_flight,
        drained=lambda: _drained(app, app.batcher),
    )
    app.shutdown_grace = settings.worker_shutdown_grace_seconds
    app.delivery_max_records = settings.worker_delivery_max_records
    app.delivery_max_bytes = settings.worker_delivery_max_bytes
    app.closers = [c for c in (sink, dead_letters, offsets) if hasattr(c, "close")]
    if on_clickhouse and settings.worker_rollup_interval_seconds > 0:
        refresher = RollupRefresher(settings)
        app.timer(interval=settings.worker_rollup_interval_seconds)(refresher.tick)
        app.closers.append(refresher)
    _wire(app, settings, metrics)
    return app


def _wire(app: SinkApp, settings: WorkerSettings, metrics: WorkerMetrics) -> None:
    topic = app.topic(settings.topic, key_type=bytes, value_type=bytes)
    take = settings.worker_take_max_records
    within = min(0.1, settings.worker_batch_max_seconds / 10)
    batcher = app.batcher

    @app.agent(topic, name="sink", concurrency=1)
    async def sink_agent(stream: Any) -> None:  # faust.Stream; StreamT lacks noack_take
        async for events in stream.noack_take(take, within=within):
            await batcher.add(stream, events)

    app.sink_agent = sink_agent

    app.timer(interval=within)(batcher.tick)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def forget_revoked(_app: Any, revoked: set[Any], **_: Any) -> None:
        batcher.forget({(tp.topic, tp.partition) for tp in revoked})
        log.info("partitions revoked", count=len(revoked))

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def note_assigned(_app: Any, assigned: set[Any], **_: Any) -> None:
        mine = sorted(tp.partition for tp in assigned if tp.topic == settings.topic)
        log.info("partitions assigned", topic=settings.topic, partitions=mine)

    metrics.watch_lag(lambda: _lag(app, batcher))

    @app.page("/metrics")
    class Metrics(View):
        async def get(self, request: Request) -> Response:
            body = generate_latest(metrics.registry)
            # aiohttp wants the charset apart from the media type.
            return self.bytes(body, content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/healthz")
    class Health(View):
        async def get(self, request: Request) -> Response:
            return self.json({"status": "ok"})


def _highwaters(app: SinkApp) -> dict[tuple[str, int], int | None] | None:
    """Each assigned partition's high-water mark from the last fetch (None before one);
    None before the consumer has started."""
    consumer = app.consumer
    try:
        assignment = consumer.assignment()
    except Exception:  # not started yet
        return None
    return {(tp.topic, tp.partition): consumer.highwater(tp) for tp in assignment}


def _lag(app: SinkApp, batcher: Batcher) -> dict[tuple[str, int], int]:
    acked = batcher.acked_next()
    return {
        tp: max(0, high - acked.get(tp, 0))
        for tp, high in (_highwaters(app) or {}).items()
        if high is not None
    }


def _drained(app: SinkApp, batcher: Batcher) -> bool:
    """Whether the worker has read every record its partitions held at the last fetch.

    Per assigned partition: the offset after the last record gathered, or where Faust's
    consumer reads next (its read offset; the committed one after an assignment) for a
    partition nothing was gathered from, has reached the high-water mark the broker gave
    with the last fetch. No mark yet: not drained.
    """
    highs = _highwaters(app)
    if highs is None:
        return False
    taken = batcher.taken_next()
    # Faust's defaultdict, keyed by its TP (a named tuple: plain tuples find it); .get()
    # adds nothing.
    read: Any = getattr(app.consumer, "_read_offset", {})
    for tp, high in highs.items():
        if high is None:
            return False
        at = taken.get(tp)
        if at is None:
            last = read.get(tp)
            at = 0 if last is None else last + 1
        if at < high:
            return False
    return True


def _credentials(settings: WorkerSettings) -> Any:
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    if protocol == "SSL":
        return faust.SSLCredentials(ssl.create_default_context())
    password = (
        settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
    )
    return faust.SASLCredentials(
        username=settings.kafka_sasl_username,
        password=password,
        mechanism=settings.kafka_sasl_mechanism or "PLAIN",
        ssl_context=ssl.create_default_context() if protocol == "SASL_SSL" else None,
    )
