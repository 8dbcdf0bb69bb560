"""Access-log lines/s: the receiver against a bare asyncio line reader, same run.

* ours — ``front_doors.access_logs.serve`` (TCP mode) in the bench process: 8 clients
  (threads, blocking sockets) stream Combined Log Format lines; each line is parsed,
  validated by the contract, packed with its neighbours into records per component and
  delivered by the shared producer (unparseable lines would be dead-lettered). Timed from
  the first byte sent until the producer has closed, i.e. Kafka acknowledged every event.
* peer — what a team writes by hand: an asyncio server reading each connection with
  ``readline()``, parsing with the *same* parser (so both produce the same events),
  ``orjson.dumps`` and one ``produce()`` per line (one event per record, no validation,
  no dead letters), ``flush()`` at the end. Same librdkafka settings (idempotent,
  acks=all, lz4, murmur2). It is the honest floor for "socket → Kafka in Python": the
  ratio shows what chunked reading, validation and packing cost or save.

Both read the same bytes from 8 connections into a fresh 12-partition topic each.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from bench.harness import BenchContext, Result, benchmark
from eventpipe.kafka import TopicSpec, ensure_topics
from front_doors.access_logs import AccessLogSettings, AccessPublisher, parse_line, serve
from producers.kafka import librdkafka_config
from producers.settings import ProducerSettings

__all__ = ["run"]

_CONNECTIONS = 8
_PEER = "bare asyncio readline() + same parser + orjson + produce() per line (confluent-kafka)"
_AGENTS = ["Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0", "curl/8.5.0", "kube-probe/1.29"]


def _payloads(n: int) -> list[bytes]:
    rng = random.Random(5)
    per = n // _CONNECTIONS
    out = []
    for c in range(_CONNECTIONS):
        lines = []
        for i in range(per):
            status = rng.choice((200, 200, 200, 201, 304, 404, 500))
            lines.append(
                f"10.{c}.{i % 256}.{rng.randrange(256)} - - [01/Jan/2025:10:{i // 60 % 60:02d}:"
                f'{i % 60:02d} +0000] "GET /api/v1/items/{i}?page={i % 7} HTTP/1.1" {status} '
                f'{rng.randrange(10_000)} "https://shop.example/" "{rng.choice(_AGENTS)}"\n'
            )
        out.append("".join(lines).encode())
    return out


async def _send_all(port: int, payloads: list[bytes]) -> None:
    """One thread per connection (the default executor has fewer threads than that)."""
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
        await asyncio.gather(*(loop.run_in_executor(pool, _send, port, p) for p in payloads))


def _send(port: int, payload: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(payload)


async def _ours(ctx: BenchContext, topic: str, payloads: list[bytes], n: int) -> float:
    settings = AccessLogSettings(
        kafka_bootstrap=ctx.kafka_bootstrap, topic=topic, access_component="web", access_port=0
    )
    stop = asyncio.Event()
    publishers: list[AccessPublisher] = []
    ports: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            settings,
            stop,
            publisher_ready=publishers.append,
            on_listening=lambda host, port: ports.set_result(port),
        )
    )
    port = await ports
    start = time.perf_counter()
    await _send_all(port, payloads)
    counters = publishers[0].counters
    while counters["lines"] < n:  # noqa: ASYNC110 - the counters have no callback
        await asyncio.sleep(0.005)
    stop.set()
    await task  # closes the producer: every event acknowledged
    seconds = time.perf_counter() - start
    if counters["events"] != n:
        raise RuntimeError(f"ours: {counters.snapshot()}")
    return n / seconds


async def _peer(ctx: BenchContext, topic: str, payloads: list[bytes], n: int) -> float:
    conf = librdkafka_config(ProducerSettings(kafka_bootstrap=ctx.kafka_bootstrap, topic=topic))
    producer = Producer(conf)
    failed: list[Any] = []
    read = 0
    all_read = asyncio.Event()

    def on_delivery(err: Any, msg: Any) -> None:
        if err is not None:
            failed.append(err)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal read
        while line := await reader.readline():
            event = parse_line(line.rstrip(b"\n"), "web")
            while True:
                try:
                    producer.produce(topic, orjson.dumps(event), "web", on_delivery=on_delivery)
                    break
                except BufferError:
                    producer.poll(0.01)
            producer.poll(0)
            read += 1
        writer.close()
        if read == n:
            all_read.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    start = time.perf_counter()
    await _send_all(port, payloads)
    await all_read.wait()
    left = await asyncio.to_thread(producer.flush, 120)
    seconds = time.perf_counter() - start
    server.close()
    await server.wait_closed()
    if left or failed:
        raise RuntimeError(f"peer: {left} undelivered, {len(failed)} failed")
    return n / seconds


def _measure(ctx: BenchContext, contender: Any, payloads: list[bytes], n: int) -> float:
    topic = f"bench.access.{time.time_ns()}"
    ensure_topics({"bootstrap.servers": ctx.kafka_bootstrap}, [TopicSpec(topic, 12)])
    try:
        rate: float = asyncio.run(contender(ctx, topic, payloads, n))
        return rate
    finally:
        admin = AdminClient({"bootstrap.servers": ctx.kafka_bootstrap})
        for future in admin.delete_topics([topic], operation_timeout=30).values():
            future.result(timeout=60)


@benchmark(
    "access_log_lines", description="access-log lines/s over 8 TCP connections vs bare asyncio"
)
def run(ctx: BenchContext) -> list[Result]:
    n, rounds = (4_000, 1) if ctx.smoke else (400_000, 2)
    payloads = _payloads(n)
    ours: list[float] = []
    peer: list[float] = []
    for round_ in range(rounds):
        ctx.console.print(f"round {round_ + 1}/{rounds}: {n:,} lines per contender")
        ours.append(_measure(ctx, _ours, payloads, n))
        peer.append(_measure(ctx, _peer, payloads, n))
    size = sum(len(p) for p in payloads) / n
    conditions = (
        f"{n:,} Combined Log Format lines (~{size:.0f} B) over {_CONNECTIONS} TCP connections, "
        f"best of {rounds}; timed to the last Kafka acknowledgement; ours packs (producer "
        f"defaults), peer 1 line/record; 12 partitions; one process; {ctx.machine()}"
    )
    return [Result.against("access_log_lines", max(ours), "lines/s", _PEER, max(peer), conditions)]
