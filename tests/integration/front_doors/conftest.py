"""Front doors against the real services: per-test outbox tables and settings."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from front_doors.outbox import OutboxSettings, ensure_schema
from tests.support.names import unique
from tests.support.services import Endpoints


@pytest.fixture
def pg_dsn(endpoints: Endpoints) -> str:
    assert endpoints.postgres_dsn, "the services fixture found no PostgreSQL"
    return endpoints.postgres_dsn


@pytest.fixture
def outbox_table(pg_dsn: str) -> Iterator[str]:
    """A fresh outbox table of its own, dropped afterwards."""
    name = unique("outbox")
    with psycopg.connect(pg_dsn) as conn:
        ensure_schema(conn, name)
    yield name
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'DROP TABLE IF EXISTS "{name}"')


@pytest.fixture
def make_outbox_settings(endpoints: Endpoints, topic: str, pg_dsn: str, outbox_table: str) -> Any:
    def make(**overrides: Any) -> OutboxSettings:
        given: dict[str, Any] = {
            "kafka_bootstrap": endpoints.kafka_bootstrap,
            "topic": topic,
            "postgres_dsn": pg_dsn,
            "outbox_table": outbox_table,
            "outbox_retry_backoff_seconds": 0.05,
            **overrides,
        }
        return OutboxSettings(**given)

    return make


def closed_port() -> int:
    """A loopback port nobody listens on: a Kafka that is down."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port
