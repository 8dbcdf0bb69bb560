"""The worker's roll-up timer rolls up settled days and shrugs off an absent server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from clickhouse_driver import Client

from eventpipe.config import ClickHouseConnection, LogSettings
from eventpipe.logs import configure
from query_api.timeparse import format_ms
from stream_processors.rollups import RollupRefresher
from tests.integration.query_api.support import insert_ch
from tests.support.services import ROOT, Endpoints
from tests.unit.query_api.helpers import event


def test_a_tick_rolls_up_settled_days(
    endpoints: Endpoints, ch_client: Client, ch_database: str
) -> None:
    insert_ch(
        ch_client,
        ch_database,
        [event(timestamp=format_ms(1_704_067_200_000 + i)) for i in range(5)],
    )
    ch_client.execute(f"OPTIMIZE TABLE `{ch_database}`.events FINAL")
    refresher = RollupRefresher(
        ClickHouseConnection(
            clickhouse_url=endpoints.clickhouse_url, clickhouse_database=ch_database
        )
    )
    try:
        asyncio.run(refresher.tick())
    finally:
        refresher.close()
    rows = ch_client.execute(
        f"SELECT partition, sum(events) FROM `{ch_database}`.events_daily GROUP BY partition"
    )
    assert rows == [("20240101", 5)]


def test_a_failed_tick_is_logged_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    # Logging as a worker sets it up, whatever an earlier test left: structlog's own default
    # prints to stdout, a configured process logs to stderr (this test read stdout, so it
    # failed after any test that had configured logging ran first).
    configure(LogSettings(log_format="json"), service="worker")
    refresher = RollupRefresher(
        ClickHouseConnection(
            clickhouse_url="clickhouse://default@127.0.0.1:1/default",
            clickhouse_connect_timeout=0.5,
        )
    )
    try:
        asyncio.run(refresher.tick())
    finally:
        refresher.close()
    assert '"event": "roll-up refresh failed"' in capsys.readouterr().err


def test_the_rollup_command(endpoints: Endpoints, ch_client: Client, ch_database: str) -> None:
    insert_ch(ch_client, ch_database, [event(timestamp=format_ms(1_704_067_200_000))])
    ch_client.execute(f"OPTIMIZE TABLE `{ch_database}`.events FINAL")
    env = {
        **os.environ,
        "EVENTPIPE_CLICKHOUSE_URL": endpoints.clickhouse_url,
        "EVENTPIPE_CLICKHOUSE_DATABASE": ch_database,
    }
    command = [sys.executable, "-m", "eventpipe", "rollup"]
    first = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert "rolled up: 20240101_" in first.stderr
    again = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert "rolled up: nothing new" in again.stderr
