"""Per-test resources on the real services: a fresh database, fresh topics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from clickhouse_driver import Client

from eventpipe.kafka import TopicSpec, ensure_topics
from eventpipe.settings import AdminSettings
from events.topics import dlq_topic
from storage.client import capabilities
from storage.migrations import MigrationOptions, migrate
from storage.version import Capabilities
from tests.support.chdb_executor import ChdbExecutor
from tests.support.kafka import delete_topics
from tests.support.names import unique
from tests.support.services import Endpoints


@pytest.fixture(scope="session")
def ch_client(endpoints: Endpoints) -> Iterator[Client]:
    client = Client.from_url(endpoints.clickhouse_url)
    yield client
    client.disconnect()


@pytest.fixture(scope="session")
def ch_caps(ch_client: Client) -> Capabilities:
    return capabilities(ch_client)


@pytest.fixture
def ch_database(ch_client: Client, ch_caps: Capabilities) -> Iterator[str]:
    """A migrated database of its own, dropped afterwards."""
    name = unique("ept")
    migrate(ch_client, ch_caps, MigrationOptions(name))
    yield name
    ch_client.execute(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture(scope="session")
def chdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbExecutor]:
    """One chdb session for the whole run: chdb allows one data directory per process,
    so tests share it and each works in a database of its own."""
    executor = ChdbExecutor(str(tmp_path_factory.mktemp("chdb") / "data"))
    yield executor
    executor.close()


@pytest.fixture(scope="session")
def kafka_conf(endpoints: Endpoints) -> dict[str, Any]:
    return {"bootstrap.servers": endpoints.kafka_bootstrap}


@pytest.fixture
def topic(kafka_conf: dict[str, Any]) -> Iterator[str]:
    """A fresh 12-partition ingest topic and its dead-letter topic, deleted afterwards."""
    name = unique("ept")
    ensure_topics(kafka_conf, [TopicSpec(name, 12), TopicSpec(dlq_topic(name), 3)])
    yield name
    delete_topics(kafka_conf, [name, dlq_topic(name)])


@pytest.fixture
def admin_settings(endpoints: Endpoints, ch_database: str, topic: str) -> AdminSettings:
    return AdminSettings(
        kafka_bootstrap=endpoints.kafka_bootstrap,
        clickhouse_url=endpoints.clickhouse_url,
        clickhouse_database=ch_database,
        topic=topic,
    )
