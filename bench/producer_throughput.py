"""Producer throughput: events/s from one process into the real broker, ours against a bare loop.

* ours — ``EventProducer.emit(event)`` per event: validation (``events.wire``), a fresh
  ``event_id`` and emit time, encoding, packing per component (defaults: 500 events /
  256 KiB / 10 ms), delivery reports counted;
* peer — what most teams write by hand: ``orjson.dumps(event)``, one event per record,
  ``produce(..., on_delivery=cb)`` and ``poll(0)`` per event, no validation, no event id;
* also ours through ``emit_many()`` in batches of 1,000 (a collector's path), and ours with
  one event per record (``producer_record_events=1``), against the same peer.

Both get the same events — ``bench.dataset``'s (12 components, ~400 B with a nested payload)
without ``event_id`` and ``timestamp``, as an application hands them over — and the
same librdkafka configuration (idempotent, acks=all, lz4, linger 5 ms, murmur2), each a
fresh 12-partition topic. A run is timed from the first event to the last acknowledgement
(flush included); contenders alternate, best of the rounds. Bytes per event on the wire are
librdkafka's ``txbytes`` to the brokers (produce requests with their framing) over events.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from bench.dataset import COMPONENTS, make_event
from bench.harness import BenchContext, Result, benchmark
from eventpipe.kafka import TopicSpec, ensure_topics
from producers.client import EventProducer
from producers.kafka import librdkafka_config
from producers.settings import ProducerSettings

__all__ = ["run"]

_STATS_MS = 500
_PEER = "bare confluent-kafka loop (orjson, 1 event/record, no validation)"
_BATCH = 1_000


@dataclass(frozen=True)
class Measured:
    rate: float  #: events/s, first event to last acknowledgement
    wire: float  #: bytes per event sent to the brokers


class _WireBytes:
    """The latest librdkafka statistics: bytes sent to the brokers."""

    def __init__(self) -> None:
        self.sent = 0

    def __call__(self, raw: str) -> None:
        brokers = json.loads(raw).get("brokers", {}).values()
        self.sent = sum(int(broker.get("txbytes", 0)) for broker in brokers)

    def settle(self, poll: Callable[[float], Any]) -> int:
        """Wait for one more statistics report (they come every _STATS_MS)."""
        deadline = time.monotonic() + 2.5 * _STATS_MS / 1000
        while time.monotonic() < deadline:
            poll(0.05)
        return self.sent


Feed = Callable[[EventProducer, list[dict[str, Any]], int], None]


def _one_by_one(producer: EventProducer, events: list[dict[str, Any]], n: int) -> None:
    """``emit()`` per event: what an application does."""
    emit = producer.emit
    for event in itertools.islice(itertools.cycle(events), n):
        emit(event)


def _in_batches(producer: EventProducer, events: list[dict[str, Any]], n: int) -> None:
    """``emit_many()`` per 1,000 events: what a collector receiving batches does."""
    source = itertools.cycle(events)
    for done in range(0, n, _BATCH):
        producer.emit_many(list(itertools.islice(source, min(_BATCH, n - done))))


def _ours(
    settings: ProducerSettings, events: list[dict[str, Any]], n: int, feed: Feed = _one_by_one
) -> Measured:
    wire = _WireBytes()
    producer = EventProducer(
        settings, kafka_config={"statistics.interval.ms": _STATS_MS, "stats_cb": wire}
    )
    start = time.perf_counter()
    feed(producer, events, n)
    producer.flush()
    seconds = time.perf_counter() - start
    sent = wire.settle(time.sleep)  # the producer's own thread serves the statistics
    producer.close()
    stats = producer.stats()
    if stats.delivered != n or stats.failed:
        raise RuntimeError(f"ours: {stats}")
    return Measured(n / seconds, sent / n)


def _bare(settings: ProducerSettings, events: list[dict[str, Any]], n: int) -> Measured:
    wire = _WireBytes()
    conf = {**librdkafka_config(settings), "statistics.interval.ms": _STATS_MS, "stats_cb": wire}
    producer = Producer(conf)
    topic, failed = settings.topic, []

    def on_delivery(err: Any, msg: Any) -> None:
        if err is not None:
            failed.append(err)

    dumps, produce, poll = orjson.dumps, producer.produce, producer.poll
    start = time.perf_counter()
    for event in itertools.islice(itertools.cycle(events), n):
        value = dumps(event)
        while True:
            try:
                produce(topic, value, event["component"], on_delivery=on_delivery)
                break
            except BufferError:
                poll(0.01)
        poll(0)
    left = producer.flush(120)
    seconds = time.perf_counter() - start
    if left or failed:
        raise RuntimeError(f"bare: {left} undelivered, {len(failed)} failed")
    return Measured(n / seconds, wire.settle(producer.poll) / n)


def _topic(ctx: BenchContext, label: str) -> ProducerSettings:
    name = f"bench.producer.{label}.{time.time_ns()}"
    ensure_topics({"bootstrap.servers": ctx.kafka_bootstrap}, [TopicSpec(name, 12)])
    return ProducerSettings(kafka_bootstrap=ctx.kafka_bootstrap, topic=name)


def _measure(
    ctx: BenchContext, contender: Callable[[ProducerSettings], Measured], label: str
) -> Measured:
    settings = _topic(ctx, label)
    try:
        return contender(settings)
    finally:
        admin = AdminClient({"bootstrap.servers": ctx.kafka_bootstrap})
        for future in admin.delete_topics([settings.topic], operation_timeout=30).values():
            future.result(timeout=60)


def _events(n: int) -> list[dict[str, Any]]:
    # The application's view: the producer stamps the id and the time.
    rng, now_ms = random.Random(7), int(time.time() * 1000)
    events = [make_event(i, rng, now_ms) for i in range(n)]
    for event in events:
        del event["event_id"], event["timestamp"]
    return events


def _best(runs: list[Measured]) -> Measured:
    return max(runs, key=lambda m: m.rate)


@benchmark(
    "producer_throughput",
    "producer_throughput_batch",
    "producer_throughput_unpacked",
    "producer_bytes_per_event",
    description="events/s through EventProducer vs a bare confluent-kafka loop; bytes/event",
)
def run(ctx: BenchContext) -> list[Result]:
    n, rounds = (2_000, 1) if ctx.smoke else (400_000, 2)
    events = _events(8_192)
    contenders: dict[str, Callable[[ProducerSettings], Measured]] = {
        "ours": lambda s: _ours(s, events, n),
        "bare": lambda s: _bare(s, events, n),
        "batch": lambda s: _ours(s, events, n, _in_batches),
        "single": lambda s: _ours(s.model_copy(update={"producer_record_events": 1}), events, n),
    }
    runs: dict[str, list[Measured]] = {name: [] for name in contenders}
    for round_ in range(rounds):  # alternating, so drift on a shared machine hits everyone
        ctx.console.print(f"round {round_ + 1}/{rounds}: {n:,} events per contender")
        for name, contender in contenders.items():
            runs[name].append(_measure(ctx, contender, name))
    best = {name: max(measured, key=lambda m: m.rate) for name, measured in runs.items()}
    size = sum(len(orjson.dumps(e)) for e in events) / len(events)
    cond = (
        f"{n:,} events/contender, best of {rounds}; {len(COMPONENTS)} components, "
        f"~{size:.0f} B JSON in (no id/time); 12 partitions; idempotent acks=all lz4 "
        f"linger 5 ms; one process; {ctx.machine()}"
    )
    packed = "ours packs <=500 events/256 KiB/10 ms"
    peer = best["bare"]

    def against(name: str, ours: Measured, how: str) -> Result:
        return Result.against(name, ours.rate, "events/s", _PEER, peer.rate, f"{how}; {cond}")

    return [
        against("producer_throughput", best["ours"], f"emit() per event, {packed}"),
        against("producer_throughput_batch", best["batch"], f"emit_many(1,000), {packed}"),
        against("producer_throughput_unpacked", best["single"], "emit(), 1 event/record"),
        Result.against(
            "producer_bytes_per_event",
            best["ours"].wire,
            "bytes/event on the wire (lower is better)",
            _PEER,
            peer.wire,
            f"emit(), {packed}; {cond}",
        ),
    ]
