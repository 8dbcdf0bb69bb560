"""ClickHouse stopped for 20 s mid-stream, then restarted: nothing lost, nothing doubled."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clickhouse_driver import Client

from events.topics import dlq_topic
from storage.client import capabilities
from storage.migrations import MigrationOptions, migrate
from tests.support.kafka import read_all
from tests.support.pipeline import (
    WorkerProcess,
    expected_events,
    make_lines,
    produce,
    stored_events,
    wait_for_rows,
)
from tests.support.private_clickhouse import PrivateClickHouse


@pytest.fixture
def private_clickhouse(tmp_path: Path) -> Iterator[PrivateClickHouse]:
    server = PrivateClickHouse(tmp_path / "state")
    server.start()
    yield server
    server.stop()


def _on(
    server: PrivateClickHouse, worker_env: dict[str, str], database: str
) -> tuple[Client, dict[str, str]]:
    """A client of ``server`` with ``database`` migrated, and a worker environment for it
    that notices an outage within seconds."""
    client = Client.from_url(server.url)
    migrate(client, capabilities(client), MigrationOptions(database))
    return client, worker_env | {
        "EVENTPIPE_CLICKHOUSE_URL": server.url,
        "EVENTPIPE_CLICKHOUSE_DATABASE": database,
        "EVENTPIPE_CLICKHOUSE_TIMEOUT": "5",
        "EVENTPIPE_CLICKHOUSE_CONNECT_TIMEOUT": "1",
    }


def test_clickhouse_outage_is_backpressure_not_loss(
    conf: dict[str, Any],
    topic: str,
    worker_env: dict[str, str],
    private_clickhouse: PrivateClickHouse,
) -> None:
    client, env = _on(private_clickhouse, worker_env, "outage")
    lines = make_lines(24_000, seed=6, components=12)
    chunks = [lines[i : i + 1_000] for i in range(0, len(lines), 1_000)]

    def trickle() -> None:  # events keep arriving during the outage
        for chunk in chunks:
            produce(conf, topic, chunk, per_record=50)
            time.sleep(1.0)

    producer = threading.Thread(target=trickle)
    with WorkerProcess(env) as worker:
        worker.wait_assigned()
        producer.start()
        wait_for_rows(client, "outage", 3_000)
        client.disconnect()
        private_clickhouse.stop()
        time.sleep(20)
        assert worker.alive(), "the worker must ride out a sink outage"
        private_clickhouse.start()
        producer.join()
        wait_for_rows(client, "outage", len(lines), timeout=180)
        assert worker.terminate() == 0
        assert "retrying" in worker.log()
    try:
        assert stored_events(client, "outage") == expected_events([line for _, line in lines])
    finally:
        client.disconnect()
    assert read_all(conf, dlq_topic(topic)) == [], "valid events must never be dead-lettered"


def test_partitions_first_seen_during_an_outage_wait_for_their_marks(
    conf: dict[str, Any],
    topic: str,
    worker_env: dict[str, str],
    private_clickhouse: PrivateClickHouse,
) -> None:
    # A partition's first records need its high-water mark from ClickHouse. With the server
    # down at that moment the agent used to crash, and the worker consumed nothing more.
    client, env = _on(private_clickhouse, worker_env, "marks")
    lines = make_lines(3_000, seed=7, components=12)
    with WorkerProcess(env) as worker:
        worker.wait_assigned()
        client.disconnect()
        private_clickhouse.stop()
        produce(conf, topic, lines, per_record=50)
        time.sleep(10)
        assert worker.alive()
        private_clickhouse.start()
        wait_for_rows(client, "marks", len(lines), timeout=120)
        assert worker.terminate() == 0
        assert "offsets_load" in worker.log()
    try:
        assert stored_events(client, "marks") == expected_events([line for _, line in lines])
    finally:
        client.disconnect()
