"""All three front doors into one topic, through a real worker, into ClickHouse: each event
readable exactly once — even the outbox rows a crashed relay sent twice."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import psycopg
from clickhouse_driver import Client

from events.codec import iter_lines
from front_doors.access_logs import AccessLogSettings, AccessPublisher, serve
from front_doors.collector import CollectorSettings, WriteTokens, create_app
from front_doors.deadletters import KafkaDeadLetters
from front_doors.outbox import OutboxSettings, Relay, write_event
from front_doors.outbox.run import connector
from producers import AsyncEventProducer
from tests.support.kafka import read_all
from tests.support.names import unique
from tests.support.pipeline import WorkerProcess, stored_events, wait_for_rows
from tests.support.services import Endpoints


async def _collector(endpoints: Endpoints, topic: str) -> list[str]:
    settings = CollectorSettings(kafka_bootstrap=endpoints.kafka_bootstrap, topic=topic)
    app = create_app(settings, tokens=WriteTokens.parse("t=*"))
    items = [{"component": "checkout", "message": f"m{i}", "user": "bob"} for i in range(20)]
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c") as client,
    ):
        response = await client.post(
            "/v1/events", json=items, headers={"Authorization": "Bearer t"}
        )
    assert response.status_code == 202
    ids: list[str] = response.json()["ids"]
    return ids


async def _access_logs(endpoints: Endpoints, topic: str) -> int:
    settings = AccessLogSettings(
        kafka_bootstrap=endpoints.kafka_bootstrap,
        topic=topic,
        access_component="web",
        access_port=0,
    )
    stop, ports = asyncio.Event(), asyncio.get_running_loop().create_future()
    publishers: list[AccessPublisher] = []
    task = asyncio.create_task(
        serve(
            settings,
            stop,
            publisher_ready=publishers.append,
            on_listening=lambda host, port: ports.set_result(port),
        )
    )
    when = "01/Jan/2025:10:00:{:02d} +0000"
    lines = b"".join(
        f'10.0.0.{i} - alice [{when.format(i)}] "GET /a/{i} HTTP/1.1" 404 {i}\n'.encode()
        for i in range(30)
    )
    port = await ports
    await asyncio.to_thread(_send, port, lines)
    while publishers[0].counters["lines"] < 30:  # noqa: ASYNC110 - counters have no callback
        await asyncio.sleep(0.02)
    stop.set()
    await task
    return 30


def _send(port: int, data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(data)


async def _relay_once(settings: OutboxSettings) -> None:
    producer = AsyncEventProducer(settings)
    dead = KafkaDeadLetters(settings, key="outbox", client_id="test")
    try:
        relay = Relay(settings, connect=connector(settings), producer=producer, dead_letters=dead)
        assert (await relay.run_once()).clean
    finally:
        await producer.close(30)
        await dead.close(30)


async def _outbox_sent_twice(settings: OutboxSettings, dsn: str, table: str) -> list[str]:
    with psycopg.connect(dsn) as conn, conn.transaction():
        ids = [
            write_event(
                conn, {"component": "orders", "kind": "event", "message": f"o{i}"}, table=table
            )
            for i in range(10)
        ]
    await _relay_once(settings)
    # A relay that died after Kafka's acknowledgement, before marking: rows still SENDING.
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f"UPDATE \"{table}\" SET state = 'SENDING', claimed_at = now() - interval '1 hour'"
        )
    await _relay_once(settings)
    return ids


async def test_front_door_events_are_readable_exactly_once_in_clickhouse(
    endpoints: Endpoints,
    topic: str,
    kafka_conf: dict[str, Any],
    ch_client: Client,
    ch_database: str,
    make_outbox_settings: Any,
    pg_dsn: str,
    outbox_table: str,
) -> None:
    collected = await _collector(endpoints, topic)
    await _access_logs(endpoints, topic)
    outboxed = await _outbox_sent_twice(make_outbox_settings(), pg_dsn, outbox_table)
    sent = sum(len(list(iter_lines(m.value() or b""))) for m in read_all(kafka_conf, topic))
    assert sent == 20 + 30 + 10 * 2  # the outbox rows went out twice

    env = {
        "EVENTPIPE_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "EVENTPIPE_CLICKHOUSE_URL": endpoints.clickhouse_url,
        "EVENTPIPE_CLICKHOUSE_DATABASE": ch_database,
        "EVENTPIPE_TOPIC": topic,
        "EVENTPIPE_WORKER_GROUP": unique("grp"),
        "EVENTPIPE_WORKER_BATCH_MAX_SECONDS": "0.5",
    }
    with WorkerProcess(env) as worker:
        await asyncio.to_thread(wait_for_rows, ch_client, ch_database, 60)
        assert await asyncio.to_thread(worker.terminate) == 0
    stored = stored_events(ch_client, ch_database)
    assert len(stored) == 60
    assert set(collected) | set(outboxed) <= set(stored)
    access = [e for e in stored.values() if e["kind"] == "access"]
    assert len(access) == 30
    assert {(e["component"], e["user"], e["http"]["status"]) for e in access} == {
        ("web", "alice", 404)
    }
