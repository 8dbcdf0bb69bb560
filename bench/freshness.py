"""Freshness: event time to readable in ClickHouse, at a fixed rate.

Events are produced live at half the measured maximum rate (``ingest_e2e_2w``: from this
run when it is part of it, which then runs first; else from results.json), each stamped
with its creation time. A poller asks ClickHouse every 50 ms which insert batches became
readable (a batch shares one ``ingested_ms``) and notes when it first saw each; an event's
freshness is that moment minus its event time.
Our two workers and the bare consumer (two processes) are measured the same way.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import orjson
from clickhouse_driver import Client
from confluent_kafka import Producer

from bench.contenders import BareConsumers, Contender, Workers
from bench.dataset import COMPONENTS
from bench.harness import RESULTS_PATH, BenchContext, Result, benchmark
from bench.ingest_e2e import drop_database, fresh_database
from eventpipe.kafka import PARTITIONER, TopicSpec, ensure_topics
from events.codec import pack_lines

__all__ = ["run_freshness"]

_DEFAULT_RATE = 20_000.0
_MAX_RATE = "ingest_e2e_2w"


def _target_rate(ctx: BenchContext) -> float:
    if ctx.smoke:
        return 300.0
    if _MAX_RATE in ctx.measured:  # measured in this run: run_benchmarks ran it first
        return ctx.measured[_MAX_RATE].value / 2
    if RESULTS_PATH.exists():
        for row in json.loads(RESULTS_PATH.read_text()):
            if row["name"] == _MAX_RATE:
                return float(row["value"]) / 2
    return _DEFAULT_RATE


class _Poller(threading.Thread):
    """Notes when each insert batch (one ``ingested_ms``) first became readable."""

    def __init__(self, url: str, database: str) -> None:
        super().__init__(daemon=True)
        self.client = Client.from_url(url)
        self.database = database
        self.seen: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        newest = 0
        while not self.stop.is_set():
            rows = self.client.execute(
                f"SELECT DISTINCT ingested_ms FROM `{self.database}`.events "
                f"WHERE ingested_ms > {newest - 10_000}"
            )
            now_ms = time.time() * 1000
            for (batch,) in rows:
                self.seen.setdefault(int(batch), now_ms)
                newest = max(newest, int(batch))
            time.sleep(0.05)
        self.client.disconnect()


def _produce_live(bootstrap: str, topic: str, rate: float, seconds: float) -> int:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "partitioner": PARTITIONER, "linger.ms": 20,
         "compression.type": "lz4", "enable.idempotence": True}
    )  # fmt: skip
    sent, start, tick = 0, time.monotonic(), 0.02
    # Ids from a random prefix and a counter: uuid4() per event would cost the load
    # generator ~4 us an event, CPU that both contenders share with it.
    prefix = str(uuid.uuid4())[:24]
    while (elapsed := time.monotonic() - start) < seconds:
        due = int(rate * (elapsed + tick)) - sent
        now_ms = int(time.time() * 1000)
        by_component: dict[str, list[bytes]] = {}
        for i in range(sent, sent + due):
            component = COMPONENTS[i % len(COMPONENTS)]
            line = orjson.dumps(
                {"event_id": f"{prefix}{i:012x}", "timestamp": now_ms, "component": component,
                 "message": f"live event {i}", "severity": "INFO", "data": {"i": i}}
            )  # fmt: skip
            by_component.setdefault(component, []).append(line)
        for component, lines in by_component.items():
            for record in pack_lines(lines, max_events=500):
                producer.produce(topic, key=component.encode(), value=record)
        producer.poll(0)
        sent += due
        time.sleep(max(0.0, start + elapsed + tick - time.monotonic()))
    producer.flush(60)
    return sent


def _p99(ctx: BenchContext, contender: Contender, rate: float, seconds: float, tag: str) -> float:
    client = Client.from_url(ctx.clickhouse_url)
    topic = f"bench.fresh.{tag}.{time.time_ns()}"
    ensure_topics(
        {"bootstrap.servers": ctx.kafka_bootstrap},
        [TopicSpec(topic, 12), TopicSpec(topic + ".dlq", 3)],
    )
    database = fresh_database(client, f"bench_fresh_{tag}")
    contender.start(
        bootstrap=ctx.kafka_bootstrap, clickhouse_url=ctx.clickhouse_url, topic=topic,
        database=database, group=f"bench-fresh-{tag}-{time.time_ns()}",
    )  # fmt: skip
    poller = _Poller(ctx.clickhouse_url, database)
    try:
        contender.wait_stable(partitions=12)
        poller.start()
        sent = _produce_live(ctx.kafka_bootstrap, topic, rate, seconds)
        deadline = time.monotonic() + 120
        while client.execute(f"SELECT count() FROM `{database}`.events")[0][0] < sent:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{contender.name}: not all {sent} live events arrived")
            time.sleep(0.2)
        time.sleep(0.2)
    finally:
        poller.stop.set()
        poller.join()
        contender.stop()
    rows = client.execute(f"SELECT ingested_ms, ts_ms FROM `{database}`.events")
    drop_database(client, database)  # no merge of its rows while the next one is measured
    client.disconnect()
    lags = sorted(poller.seen[int(batch)] - int(ts) for batch, ts in rows)
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
    ctx.console.print(
        f"  {contender.name} x{contender.processes}: p99 {p99:,.0f} ms over {len(lags):,} events"
    )
    return p99


def run_freshness(ctx: BenchContext) -> list[Result]:
    """p99 event-time-to-readable at half the maximum rate, 2 workers vs the bare consumer."""
    rate = _target_rate(ctx)
    seconds = 4.0 if ctx.smoke else 30.0
    ours = _p99(ctx, Workers(2), rate, seconds, "ours")
    floor = _p99(ctx, BareConsumers(2), rate, seconds, "floor")
    cond = f"{rate:,.0f} events/s for {seconds:.0f}s, 2 processes, batches <= 1 s; {ctx.machine()}"
    return [
        Result.against(
            "freshness_p99",
            ours,
            "ms p99 (lower is better)",
            "bare_confluent_consumer",
            floor,
            cond,
        )
    ]


benchmark(
    "freshness_p99",
    description="p99 event time to readable at half the max rate",
    after=(_MAX_RATE,),
)(run_freshness)
