from __future__ import annotations

from typing import Any, NamedTuple

import pytest
from clickhouse_driver import Client

from tests.support.names import unique
from tests.support.pipeline import make_lines, produce
from tests.support.services import Endpoints


@pytest.fixture
def worker_env(endpoints: Endpoints, ch_database: str, topic: str) -> dict[str, str]:
    """Settings of a worker on this test's topic and database, in its own group."""
    return {
        "EVENTPIPE_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "EVENTPIPE_CLICKHOUSE_URL": endpoints.clickhouse_url,
        "EVENTPIPE_CLICKHOUSE_DATABASE": ch_database,
        "EVENTPIPE_TOPIC": topic,
        "EVENTPIPE_WORKER_GROUP": unique("grp"),
        "EVENTPIPE_WORKER_BATCH_MAX_ROWS": "2000",
        "EVENTPIPE_WORKER_BATCH_MAX_SECONDS": "0.5",
        "EVENTPIPE_WORKER_RETRY_MAX_SECONDS": "2",
        "EVENTPIPE_LOG_LEVEL": "INFO",
    }


@pytest.fixture
def conf(kafka_conf: dict[str, Any]) -> dict[str, Any]:
    return kafka_conf


class Pipeline(NamedTuple):
    """What a worker test works with: the broker's settings, its topic, the ClickHouse
    client and database, and the worker's settings (one fixture for the five)."""

    conf: dict[str, Any]
    topic: str
    ch_client: Client
    ch_database: str
    worker_env: dict[str, str]

    def backlog(
        self, n: int, *, seed: int, per_record: int, components: int = 6
    ) -> list[tuple[str, bytes]]:
        """``n`` valid events (``make_lines``), published ``per_record`` to a record."""
        lines = make_lines(n, seed=seed, components=components)
        produce(self.conf, self.topic, lines, per_record=per_record)
        return lines

    def settings(self, **overrides: object) -> dict[str, str]:
        """The worker's settings with ``name=value`` ones replaced (``EVENTPIPE_NAME``)."""
        return self.worker_env | {f"EVENTPIPE_{k.upper()}": str(v) for k, v in overrides.items()}


@pytest.fixture
def pipeline(
    conf: dict[str, Any],
    topic: str,
    ch_client: Client,
    ch_database: str,
    worker_env: dict[str, str],
) -> Pipeline:
    return Pipeline(conf, topic, ch_client, ch_database, worker_env)
