"""The service around the routes: tokens from a file, scope on real data, readiness,
ClickHouse going away, and ``eventpipe api`` serving over uvicorn."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from clickhouse_driver import Client

from query_api import ApiSettings, create_app
from query_api.clickhouse_repository import ClickHouseEventsRepository
from query_api.store import ClickHouseStore
from tests.integration.query_api.support import ALL, PAY, build, insert_ch, serve
from tests.support.services import Endpoints
from tests.unit.query_api.helpers import event

_NOWHERE = "clickhouse://default@127.0.0.1:1/default"


async def test_tokens_from_a_file_and_scope_on_every_endpoint(
    ch_client: Client, ch_database: str, api_settings: ApiSettings, tmp_tokens: Path
) -> None:
    events = [event(component="payments", severity="ERROR"), event(component="orders")]
    insert_ch(ch_client, ch_database, events)
    app = create_app(api_settings.model_copy(update={"api_tokens_file": tmp_tokens}))
    async with serve(app) as http:
        assert (await http.get("/v1/stats")).status_code == 401
        stats = (await http.get("/v1/stats", headers=PAY)).json()
        assert (stats["total"], stats["by_component"], stats["error_rate"]) == (
            1,
            {"payments": 1},
            1.0,
        )
        assert (await http.get("/v1/stats", headers=ALL)).json()["total"] == 2
        series = (await http.get("/v1/stats/timeseries", headers=PAY)).json()
        assert sum(b["count"] for b in series["buckets"]) == 1
        forbidden = await http.get("/v1/events", params={"component": "orders"}, headers=PAY)
        assert forbidden.status_code == 403
        orders_id = events[1]["event_id"]
        assert (await http.get(f"/v1/events/{orders_id}", headers=PAY)).status_code == 404
        assert (await http.get("/readyz")).json() == {"status": "ready"}


async def test_clickhouse_going_away_is_503_and_not_ready() -> None:
    store = ClickHouseStore(ApiSettings(clickhouse_url=_NOWHERE, clickhouse_connect_timeout=0.5),
                            threads=1, query_timeout=5)  # fmt: skip
    repo = ClickHouseEventsRepository(store, "eventpipe", max_buckets=10)
    try:
        async with serve(build(ApiSettings(), repo)) as http:
            assert (await http.get("/readyz")).status_code == 503
            assert (await http.get("/healthz")).status_code == 200
            response = await http.get("/v1/events", headers=ALL)
            assert response.status_code == 503
            assert response.json()["error"] == "store_unavailable"
            metrics = (await http.get("/metrics")).text
            assert 'route="/v1/events",status="503"' in metrics
    finally:
        await store.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_eventpipe_api_serves_over_uvicorn(
    endpoints: Endpoints, ch_client: Client, ch_database: str, tmp_tokens: Path
) -> None:
    insert_ch(ch_client, ch_database, [event()])
    port = _free_port()
    env = {
        **os.environ,
        "EVENTPIPE_CLICKHOUSE_URL": endpoints.clickhouse_url,
        "EVENTPIPE_CLICKHOUSE_DATABASE": ch_database,
        "EVENTPIPE_API_TOKENS_FILE": str(tmp_tokens),
        "EVENTPIPE_API_PORT": str(port),
        "EVENTPIPE_LOG_LIBRARY_LEVEL": "INFO",  # uvicorn's own start/stop lines
    }
    cli = Path(sys.executable).with_name("eventpipe")
    process = subprocess.Popen([str(cli), "api"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):  # wait for start-up (bounded), not a timing assertion
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        body = httpx.get(f"{base}/v1/events", headers=ALL).json()
        assert len(body["items"]) == 1
        assert "eventpipe_api_requests_total" in httpx.get(f"{base}/metrics").text
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert "clickhouse ready" in stderr and "Application shutdown complete" in stderr
