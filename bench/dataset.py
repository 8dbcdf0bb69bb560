"""Realistic synthetic events for benchmarks, and putting them on a topic fast.

Events look like what services emit: ~12 components, a mix of logs, errors, business events
and access logs, users, trace ids and small nested ``data`` payloads (~400 bytes of JSON).
"""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

from rich.progress import Progress

__all__ = ["COMPONENTS", "make_event", "produce_events"]

COMPONENTS = [
    "payments", "orders", "users", "inventory", "shipping", "billing",
    "search", "auth", "gateway", "notifications", "catalog", "reviews",
]  # fmt: skip
_MESSAGES = [
    "payment authorised for order {i}",
    "order {i} created with 3 items",
    "user signed in from a new device",
    "cache miss for key product:{i}",
    "retrying request to upstream after timeout",
    "invoice {i} sent to customer",
]
_SEVERITIES = ["DEBUG", "INFO", "INFO", "INFO", "INFO", "WARNING", "ERROR"]


def make_event(i: int, rng: random.Random, now_ms: int) -> dict[str, Any]:
    """Event number ``i``: deterministic for a given ``rng`` seed."""
    component = COMPONENTS[i % len(COMPONENTS)]
    kind = ("log", "log", "event", "error", "access")[i % 5]
    event: dict[str, Any] = {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "timestamp": now_ms + i % 1000,
        "component": component,
        "environment": "production",
        "kind": kind,
        "severity": "ERROR" if kind == "error" else rng.choice(_SEVERITIES),
        "message": rng.choice(_MESSAGES).format(i=i),
        "user": f"user{i % 5000}@example.com",
        "function": f"{component}.handler",
        "trace_id": f"{rng.getrandbits(64):016x}",
        "data": {"order_id": i, "amount": round(rng.random() * 500, 2), "currency": "EUR",
                 "region": rng.choice(["eu-west-1", "us-east-1"])},
    }  # fmt: skip
    if kind == "error":
        event["reason"] = "upstream timed out after 3 retries"
    if kind == "access":
        event["http"] = {
            "method": rng.choice(["GET", "GET", "POST", "PUT"]),
            "path": f"/api/v1/{component}/{i % 100}",
            "status": rng.choice([200, 200, 200, 201, 404, 500]),
            "ip": "10.0.0.7",
            "bytes": rng.randrange(100, 50_000),
            "duration_ms": round(rng.random() * 250, 3),
        }
    return event


def produce_events(
    bootstrap: str, topic: str, n: int, *, per_record: int = 500, seed: int = 7
) -> dict[str, int]:
    """Put ``n`` events on ``topic`` through our own client, ``per_record`` per record.

    ``EventProducer`` validates and packs them (NDJSON, one component per record, murmur2
    keys, lz4), as services do. Returns ``{"records": ..., "bytes": ...}``.
    """
    from producers import EventProducer, ProducerSettings

    settings = ProducerSettings(
        kafka_bootstrap=bootstrap,
        topic=topic,
        producer_record_events=per_record,
        producer_linger_ms=50,
    )
    rng = random.Random(seed)
    now_ms = int(time.time() * 1000)
    with EventProducer(settings) as producer, Progress(transient=True) as progress:
        task = progress.add_task(f"producing {n:,} events to {topic}", total=n)
        for start in range(0, n, 10_000):
            batch = [make_event(i, rng, now_ms) for i in range(start, min(n, start + 10_000))]
            producer.emit_many(batch)
            progress.update(task, completed=start + len(batch))
        producer.flush()
        stats = producer.stats()
    if stats.failed:
        raise RuntimeError(f"{stats.failed} events were not delivered")
    return {"records": stats.records, "bytes": _topic_bytes(bootstrap, topic)}


def _topic_bytes(bootstrap: str, topic: str) -> int:
    """Uncompressed value bytes now on ``topic`` (reads it once)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"size-{time.time_ns()}"})
    try:
        parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in parts
        }
        consumer.assign([TopicPartition(topic, p, lo) for p, (lo, hi) in ends.items() if hi > lo])
        left, size = sum(hi - lo for lo, hi in ends.values()), 0
        deadline = time.monotonic() + 120
        while left > 0 and time.monotonic() < deadline:
            for msg in consumer.consume(1000, timeout=2.0):
                if not msg.error():
                    size += len(msg.value() or b"")
                    left -= 1
        return size
    finally:
        consumer.close()
