"""Realistic synthetic events for benchmarks, and putting them on a topic fast.

Events look like what services emit: ~12 components, a mix of logs, errors, business events
and access logs, users, trace ids and small nested ``data`` payloads (~400 bytes of JSON).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
from confluent_kafka import Producer
from rich.progress import Progress

from eventpipe.kafka import PARTITIONER
from events.codec import pack_lines

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


def _lines(n: int, seed: int) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    now_ms = int(time.time() * 1000)
    for i in range(n):
        event = make_event(i, rng, now_ms)
        yield event["component"], orjson.dumps(event)


def produce_events(
    bootstrap: str, topic: str, n: int, *, per_record: int = 500, seed: int = 7
) -> dict[str, int]:
    """Put ``n`` events on ``topic``, ``per_record`` lines per record, keyed by component.

    Records are packed the way our client packs them (NDJSON, one component per record,
    murmur2 keys, lz4). Returns ``{"records": ..., "bytes": ...}``.
    """
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "partitioner": PARTITIONER,
            "compression.type": "lz4",
            "linger.ms": 50,
            "batch.size": 1_000_000,
            "enable.idempotence": True,
        }
    )
    pending: dict[str, list[bytes]] = {c: [] for c in COMPONENTS}
    records = size = 0

    def send(component: str) -> None:
        nonlocal records, size
        for record in pack_lines(pending[component], max_events=per_record):
            while True:
                try:
                    producer.produce(topic, key=component.encode(), value=record)
                    break
                except BufferError:
                    producer.poll(0.1)
            records += 1
            size += len(record)
        pending[component] = []
        producer.poll(0)

    with Progress(transient=True) as progress:
        task = progress.add_task(f"producing {n:,} events to {topic}", total=n)
        for i, (component, line) in enumerate(_lines(n, seed)):
            pending[component].append(line)
            if len(pending[component]) >= per_record:
                send(component)
            if i % 10_000 == 0:
                progress.update(task, completed=i)
        for component in COMPONENTS:
            if pending[component]:
                send(component)
        if producer.flush(120):
            raise RuntimeError("producer could not deliver every record")
    return {"records": records, "bytes": size}
