"""Collector throughput: events/s through ``eventpipe collector``, against producing directly.

* ours — ``eventpipe collector`` (one uvicorn worker, its own process, default settings)
  receiving NDJSON requests of 1,000 events from 4 concurrent connections (httpx in the
  bench process); timed from the first request to the last 202, and a 202 means Kafka
  acknowledged every event of the request;
* peer — the same events produced directly with :class:`~producers.EventProducer` in the
  bench process (``emit`` per event, then ``flush``: every event acknowledged), which is
  what a service that *can* embed the client does. The ratio is the price of HTTP.

Both get the same events — ``bench.dataset``'s (12 components, ~400 B) without
``event_id`` and ``timestamp``, as an application hands them over — each run on a fresh
12-partition topic. Note the collector has two processes (server and client) against the
peer's one: on a 2-core machine the client's cost is part of the price.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from confluent_kafka.admin import AdminClient

from bench.dataset import COMPONENTS, make_event
from bench.harness import BenchContext, Result, benchmark
from eventpipe.kafka import TopicSpec, ensure_topics
from producers import EventProducer, ProducerSettings

__all__ = ["run"]

_PER_REQUEST = 1_000
_CONNECTIONS = 4
_TOKEN = "bench-token"
_ROOT = Path(__file__).resolve().parents[1]
_PEER = "EventProducer.emit per event + flush, in one process (no HTTP)"


def _events(n: int) -> list[dict[str, Any]]:
    rng, now_ms = random.Random(11), int(time.time() * 1000)
    events = [make_event(i, rng, now_ms) for i in range(n)]
    for event in events:
        del event["event_id"], event["timestamp"]
    return events


def _topic(ctx: BenchContext, label: str) -> str:
    name = f"bench.collector.{label}.{time.time_ns()}"
    ensure_topics({"bootstrap.servers": ctx.kafka_bootstrap}, [TopicSpec(name, 12)])
    return name


def _drop(ctx: BenchContext, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": ctx.kafka_bootstrap})
    for future in admin.delete_topics([topic], operation_timeout=30).values():
        future.result(timeout=60)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start_collector(ctx: BenchContext, topic: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "EVENTPIPE_KAFKA_BOOTSTRAP": ctx.kafka_bootstrap,
        "EVENTPIPE_TOPIC": topic,
        "EVENTPIPE_COLLECTOR_TOKENS": f"{_TOKEN}=*",
        "EVENTPIPE_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "eventpipe", "collector", "--port", str(port)]
    process = subprocess.Popen(command, env=env, cwd=_ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the collector exited at start")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the collector did not become ready")


async def _post_all(port: int, bodies: list[bytes]) -> int:
    """Post every body over ``_CONNECTIONS`` connections; return events accepted."""
    queue = list(reversed(bodies))
    headers = {"Authorization": f"Bearer {_TOKEN}", "Content-Type": "application/x-ndjson"}
    limits = httpx.Limits(max_connections=_CONNECTIONS)
    accepted = 0
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=120, limits=limits
    ) as client:

        async def worker() -> None:
            nonlocal accepted
            while queue:
                response = await client.post("/v1/events", content=queue.pop(), headers=headers)
                if response.status_code != 202:
                    raise RuntimeError(f"collector answered {response.status_code}")
                accepted += response.json()["accepted"]

        await asyncio.gather(*(worker() for _ in range(_CONNECTIONS)))
    return accepted


def _ours(ctx: BenchContext, events: list[dict[str, Any]]) -> float:
    topic, port = _topic(ctx, "ours"), _free_port()
    lines = [orjson.dumps(event) for event in events]
    bodies = [b"\n".join(lines[i : i + _PER_REQUEST]) for i in range(0, len(lines), _PER_REQUEST)]
    process = _start_collector(ctx, topic, port)
    try:
        start = time.perf_counter()
        accepted = asyncio.run(_post_all(port, bodies))
        seconds = time.perf_counter() - start
    finally:
        process.terminate()
        process.wait(60)
        _drop(ctx, topic)
    if accepted != len(events):
        raise RuntimeError(f"ours: {accepted} of {len(events)} accepted")
    return len(events) / seconds


def _peer(ctx: BenchContext, events: list[dict[str, Any]]) -> float:
    topic = _topic(ctx, "peer")
    try:
        producer = EventProducer(ProducerSettings(kafka_bootstrap=ctx.kafka_bootstrap, topic=topic))
        start = time.perf_counter()
        for event in events:
            producer.emit(event)
        producer.flush()
        seconds = time.perf_counter() - start
        producer.close()
    finally:
        _drop(ctx, topic)
    stats = producer.stats()
    if stats.delivered != len(events) or stats.failed:
        raise RuntimeError(f"peer: {stats}")
    return len(events) / seconds


@benchmark(
    "collector_throughput",
    description="events/s through the HTTP collector (NDJSON, 1,000/request) vs EventProducer",
)
def run(ctx: BenchContext) -> list[Result]:
    n, rounds = (2_000, 1) if ctx.smoke else (200_000, 2)
    events = _events(n)
    ours: list[float] = []
    peer: list[float] = []
    for round_ in range(rounds):
        ctx.console.print(f"round {round_ + 1}/{rounds}: {n:,} events per contender")
        ours.append(_ours(ctx, events))
        peer.append(_peer(ctx, events))
    size = sum(len(orjson.dumps(e)) for e in events) / len(events)
    conditions = (
        f"{n:,} events/contender, best of {rounds}; {len(COMPONENTS)} components, "
        f"~{size:.0f} B JSON (no id/time); NDJSON requests of {_PER_REQUEST:,} events over "
        f"{_CONNECTIONS} connections to 1 uvicorn worker (own process), 202 = acknowledged; "
        f"12 partitions, producer defaults; {ctx.machine()}"
    )
    return [
        Result.against("collector_throughput", max(ours), "events/s", _PEER, max(peer), conditions)
    ]
