"""The outbox on real PostgreSQL and Kafka: transactions decide, relays deliver exactly once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from typing import Any

import psycopg
import pytest

from events.codec import decode, iter_lines
from events.topics import H_CODE, H_OFFSET, H_TOPIC, dlq_topic
from front_doors.deadletters import KafkaDeadLetters
from front_doors.outbox import (
    OutboxSettings,
    OutsideTransaction,
    Relay,
    RunReport,
    write_event,
    write_event_async,
)
from front_doors.outbox.run import connector
from producers import AsyncEventProducer
from tests.integration.front_doors.conftest import closed_port
from tests.support.kafka import read_all
from tests.support.names import unique
from tests.support.services import Endpoints


def _states(dsn: str, table: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        return dict(conn.execute(f'SELECT state, count(*) FROM "{table}" GROUP BY state'))


def _ids_in_kafka(conf: dict[str, Any], topic: str) -> list[str]:
    return [
        str(decode(line).event_id)
        for message in read_all(conf, topic)
        for _, line in iter_lines(message.value())
    ]


async def _run(settings: OutboxSettings) -> RunReport:
    """One relay, one run, with its own producer and connection."""
    producer = AsyncEventProducer(settings)
    dead = KafkaDeadLetters(settings, key="outbox", client_id="test-relay")
    try:
        relay = Relay(settings, connect=connector(settings), producer=producer, dead_letters=dead)
        return await relay.run_once()
    finally:
        await producer.close(30)
        await dead.close(30)


def _write_committed(dsn: str, table: str, n: int, per_transaction: int) -> list[str]:
    ids: list[str] = []
    with psycopg.connect(dsn) as conn:
        for start in range(0, n, per_transaction):
            with conn.transaction():
                conn.execute("SELECT 1")  # the business change would be here
                for i in range(start, min(n, start + per_transaction)):
                    event = {"component": f"svc{i % 4}", "kind": "event", "message": f"e{i}"}
                    ids.append(write_event(conn, event, table=table))
    return ids


def _place_order_and_fail(conn: psycopg.Connection[Any], table: str) -> None:
    with conn.transaction():
        write_event(conn, {"component": "orders", "message": "placed"}, table=table)
        raise RuntimeError("business failed")


async def test_a_rolled_back_transaction_publishes_nothing(
    make_outbox_settings: Any,
    pg_dsn: str,
    outbox_table: str,
    kafka_conf: dict[str, Any],
    topic: str,
) -> None:
    with psycopg.connect(pg_dsn) as conn:
        with pytest.raises(RuntimeError, match="business failed"):
            _place_order_and_fail(conn, outbox_table)
        committed = conn.execute(f'SELECT count(*) FROM "{outbox_table}"').fetchone()
    assert committed == (0,)
    report = await _run(make_outbox_settings())
    assert (report.batches, report.delivered) == (0, 0)
    assert read_all(kafka_conf, topic) == []


async def test_committed_events_arrive_exactly_once_with_two_relays_and_a_kafka_outage(
    make_outbox_settings: Any,
    pg_dsn: str,
    outbox_table: str,
    kafka_conf: dict[str, Any],
    topic: str,
) -> None:
    ids = _write_committed(pg_dsn, outbox_table, 1_200, per_transaction=40)
    down = make_outbox_settings(
        kafka_bootstrap=f"127.0.0.1:{closed_port()}",
        producer_delivery_timeout_ms=1_000,
        outbox_retries=1,
        outbox_batch_size=500,
    )
    during = await asyncio.gather(_run(down), _run(down))
    assert sum(r.delivered for r in during) == 0
    assert all(r.send_failures and r.released for r in during)
    assert sum(r.released for r in during) == 1_000  # one batch each, then the run stops
    assert _states(pg_dsn, outbox_table) == {"AWAITING": 1_200}
    assert read_all(kafka_conf, topic) == []

    up = make_outbox_settings(outbox_batch_size=100)
    after = await asyncio.gather(_run(up), _run(up))
    assert sum(r.delivered for r in after) == 1_200
    assert all(r.clean for r in after)
    assert _states(pg_dsn, outbox_table) == {"DELIVERED": 1_200}
    in_kafka = _ids_in_kafka(kafka_conf, topic)
    assert Counter(in_kafka) == Counter(ids)  # every event once: none lost, none doubled


async def test_rows_left_sending_by_a_dead_relay_are_delivered_after_the_lease(
    make_outbox_settings: Any,
    pg_dsn: str,
    outbox_table: str,
    kafka_conf: dict[str, Any],
    topic: str,
) -> None:
    ids = _write_committed(pg_dsn, outbox_table, 10, per_transaction=10)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:  # a relay claimed, then died
        conn.execute(
            f"UPDATE \"{outbox_table}\" SET state = 'SENDING', "
            "claimed_at = now() - interval '10 minutes', claim_id = gen_random_uuid()"
        )
    report = await _run(make_outbox_settings(outbox_lease_seconds=60))
    assert (report.reclaimed, report.delivered) == (10, 10)
    assert sorted(_ids_in_kafka(kafka_conf, topic)) == sorted(ids)


async def test_a_long_run_does_not_strand_the_rows_of_a_dead_relay(
    make_outbox_settings: Any,
    pg_dsn: str,
    outbox_table: str,
    kafka_conf: dict[str, Any],
    topic: str,
) -> None:
    # A run goes on while its batches come back full (a backlog after an outage, a busy
    # service). Rows a dead relay left SENDING used to wait for the run to end, however
    # long it took: the lease was only looked at when a run began.
    _write_committed(pg_dsn, outbox_table, 600, per_transaction=600)
    settings = make_outbox_settings(
        outbox_batch_size=2, outbox_lease_seconds=60, outbox_interval_seconds=0.05
    )
    run = asyncio.create_task(_run(settings))
    while "DELIVERED" not in await asyncio.to_thread(_states, pg_dsn, outbox_table):
        assert not run.done(), run
        await asyncio.sleep(0.01)
    with psycopg.connect(pg_dsn) as conn, conn.transaction():  # claimed, then its relay died
        stale = write_event(conn, {"component": "orders", "message": "stale"}, table=outbox_table)
        conn.execute(
            f"UPDATE \"{outbox_table}\" SET state = 'SENDING', claim_id = gen_random_uuid(), "
            "claimed_at = now() - interval '10 minutes' WHERE event_id = %s",
            (stale,),
        )
    report = await run
    assert report.reclaimed == 1, report
    assert _states(pg_dsn, outbox_table) == {"DELIVERED": 601}
    assert stale in _ids_in_kafka(kafka_conf, topic)


async def test_rows_still_within_their_lease_are_left_to_their_relay(
    make_outbox_settings: Any,
    pg_dsn: str,
    outbox_table: str,
    kafka_conf: dict[str, Any],
    topic: str,
) -> None:
    _write_committed(pg_dsn, outbox_table, 3, per_transaction=3)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"UPDATE \"{outbox_table}\" SET state = 'SENDING', claimed_at = now()")
    report = await _run(make_outbox_settings(outbox_lease_seconds=600))
    assert (report.reclaimed, report.delivered) == (0, 0)
    assert _states(pg_dsn, outbox_table) == {"SENDING": 3}


async def test_delivered_rows_are_cleaned_after_their_age(
    make_outbox_settings: Any, pg_dsn: str, outbox_table: str
) -> None:
    _write_committed(pg_dsn, outbox_table, 5, per_transaction=5)
    first = await _run(make_outbox_settings())
    assert (first.delivered, first.cleaned) == (5, 0)  # younger than a day: kept
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(
            f"UPDATE \"{outbox_table}\" SET delivered_at = now() - interval '2 days' "
            'WHERE id IN (SELECT id FROM "' + outbox_table + '" ORDER BY id LIMIT 3)'
        )
    second = await _run(make_outbox_settings())
    assert second.cleaned == 3
    assert _states(pg_dsn, outbox_table) == {"DELIVERED": 2}


async def test_a_row_that_is_not_an_event_is_dead_lettered_with_its_reason(
    make_outbox_settings: Any,
    pg_dsn: str,
    outbox_table: str,
    kafka_conf: dict[str, Any],
    topic: str,
) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:  # written by hand, not by write_event
        conn.execute(
            f'INSERT INTO "{outbox_table}" (event_id, component, payload) VALUES '
            "(gen_random_uuid(), 'orders', '{\"component\": \"orders\"}'), "
            "(gen_random_uuid(), 'orders', 'not json')"
        )
        row_ids = [r[0] for r in conn.execute(f'SELECT id FROM "{outbox_table}" ORDER BY id')]
    report = await _run(make_outbox_settings())
    assert (report.dead_lettered, report.delivered, report.released) == (2, 2, 0)
    letters = read_all(kafka_conf, dlq_topic(topic))
    found = {dict(m.headers())[H_OFFSET].decode(): (m.value(), dict(m.headers())) for m in letters}
    assert set(found) == {str(i) for i in row_ids}
    missing, bad = found[str(row_ids[0])], found[str(row_ids[1])]
    assert missing[0] == b'{"component": "orders"}' and missing[1][H_CODE] == b"missing_field"
    assert bad[0] == b"not json" and bad[1][H_CODE] == b"bad_json"
    assert bad[1][H_TOPIC] == f"postgres:{outbox_table}".encode()
    assert read_all(kafka_conf, topic) == []


async def test_a_row_written_by_hand_is_resent_as_the_same_event(
    make_outbox_settings: Any,
    pg_dsn: str,
    outbox_table: str,
    kafka_conf: dict[str, Any],
    topic: str,
) -> None:
    # A service in another language writes its rows itself: the id and time are columns,
    # not in the payload. A resend (a relay that died after Kafka acknowledged) must be
    # the same event, or readers see it twice.
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        row = conn.execute(
            f'INSERT INTO "{outbox_table}" (event_id, component, payload) VALUES '
            '(gen_random_uuid(), \'orders\', \'{"component": "orders", "message": "paid"}\') '
            "RETURNING event_id, created_at"
        ).fetchone()
    assert row is not None
    event_id, created_at = row
    first = await _run(make_outbox_settings())
    with psycopg.connect(pg_dsn, autocommit=True) as conn:  # as if its relay had died
        conn.execute(
            f"UPDATE \"{outbox_table}\" SET state = 'SENDING', "
            "claimed_at = now() - interval '10 minutes', claim_id = gen_random_uuid()"
        )
    second = await _run(make_outbox_settings(outbox_lease_seconds=60))
    assert (first.delivered, second.delivered) == (1, 1)
    sent = [
        decode(line)
        for message in read_all(kafka_conf, topic)
        for _, line in iter_lines(message.value())
    ]
    assert [(str(e.event_id), e.timestamp) for e in sent] == [
        (str(event_id), created_at.replace(microsecond=created_at.microsecond // 1000 * 1000))
    ] * 2


async def test_the_async_call_and_the_autocommit_guard_on_a_real_connection(
    make_outbox_settings: Any,
    pg_dsn: str,
    outbox_table: str,
    kafka_conf: dict[str, Any],
    topic: str,
) -> None:
    async with await psycopg.AsyncConnection.connect(pg_dsn, autocommit=True) as conn:
        with pytest.raises(OutsideTransaction):
            await write_event_async(conn, {"component": "a", "message": "m"}, table=outbox_table)
        async with conn.transaction():
            event_id = await write_event_async(
                conn, {"component": "a", "message": "m"}, table=outbox_table
            )
            again = await write_event_async(  # the same id twice: kept once
                conn,
                {"component": "a", "message": "m", "event_id": event_id},
                table=outbox_table,
            )
    assert again == event_id
    report = await _run(make_outbox_settings())
    assert report.delivered == 1
    assert _ids_in_kafka(kafka_conf, topic) == [event_id]


async def test_a_full_producer_queue_keeps_each_components_rows_in_order(
    make_outbox_settings: Any,
    pg_dsn: str,
    outbox_table: str,
    kafka_conf: dict[str, Any],
    topic: str,
) -> None:
    # A local queue of 4 records, one row per record and a short wait for room: most rows
    # find the queue full, many not even within the wait, and go again on a retry.
    _write_committed(pg_dsn, outbox_table, 400, per_transaction=400)
    settings = make_outbox_settings(
        producer_record_events=1,
        producer_librdkafka={"queue.buffering.max.messages": 4},
        producer_block_timeout=0.005,
        outbox_batch_size=400,
        outbox_retries=1_000,
        outbox_retry_backoff_seconds=0.001,
        outbox_retry_backoff_max_seconds=0.001,
    )
    report = await _run(settings)
    assert report.delivered == 400 and report.send_failures  # the queue was full, often
    by_component: dict[str, list[int]] = {}
    for message in read_all(kafka_conf, topic):
        for _, line in iter_lines(message.value()):
            event = decode(line)
            by_component.setdefault(event.component, []).append(int(event.message[1:]))
    assert by_component == {f"svc{c}": list(range(c, 400, 4)) for c in range(4)}


def test_the_relay_command_delivers_once_and_exits(
    endpoints: Endpoints, pg_dsn: str, topic: str, kafka_conf: dict[str, Any]
) -> None:
    table = unique("outbox_cli")
    env = {
        **os.environ,
        "EVENTPIPE_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "EVENTPIPE_TOPIC": topic,
        "EVENTPIPE_POSTGRES_DSN": pg_dsn,
        "EVENTPIPE_LOG_LEVEL": "WARNING",
        "LOG_EVENTS_PARTITION_QUANTITY": "7",  # the replaced service's name still works
    }
    command = [sys.executable, "-m", "eventpipe", "outbox-relay", "--table", table]
    try:
        created = subprocess.run([*command, "--once", "--ensure-schema"], env=env, check=False)
        assert created.returncode == 0
        ids = _write_committed(pg_dsn, table, 20, per_transaction=20)
        relayed = subprocess.run([*command, "--once"], env=env, check=False)
        assert relayed.returncode == 0
        assert _states(pg_dsn, table) == {"DELIVERED": 20}
        assert sorted(_ids_in_kafka(kafka_conf, topic)) == sorted(ids)
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(f'DROP TABLE IF EXISTS "{table}"')
