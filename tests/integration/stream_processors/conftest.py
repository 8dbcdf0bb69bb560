from __future__ import annotations

from typing import Any

import pytest

from tests.support.names import unique
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
