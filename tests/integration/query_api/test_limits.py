"""ClickHouse refusing a read on the real server: a busy server is a 503 with Retry-After,
a read past its own limit a 400 naming it — never a 500."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from threading import Thread

import pytest
from clickhouse_driver import Client

from query_api.clickhouse_repository import ClickHouseEventsRepository
from query_api.errors import QueryTooLarge
from query_api.filters import EventFilter
from query_api.server import check_read_settings
from query_api.settings import ApiSettings
from query_api.store import ClickHouseStore
from tests.integration.query_api.support import ALL, OpenApi, build, insert_ch, serve
from tests.support.names import unique
from tests.support.private_clickhouse import free_port
from tests.support.services import Endpoints
from tests.unit.query_api.helpers import event

LIMIT_OK = {"max_memory_usage": 10_000_000_000}  # a setting the server takes


@contextmanager
def _running_query(endpoints: Endpoints, ch_client: Client) -> Iterator[None]:
    """A query of the API's ClickHouse user held running (about 3 s) on a second client."""
    marker = unique("held")
    blocker = Client.from_url(endpoints.clickhouse_url)
    thread = Thread(target=blocker.execute, args=(f"SELECT sleep(3) AS {marker}",))
    thread.start()
    try:
        seen = f"SELECT count() FROM system.processes WHERE query LIKE '%AS {marker}'"
        deadline = time.monotonic() + 10
        while not ch_client.execute(seen)[0][0] and time.monotonic() < deadline:
            time.sleep(0.05)  # bounded wait for the server to list it
        yield
    finally:
        thread.join()
        blocker.disconnect()


async def test_too_many_simultaneous_queries_is_a_503_with_retry_after(
    endpoints: Endpoints, ch_client: Client, ch_database: str, open_api: OpenApi
) -> None:
    insert_ch(ch_client, ch_database, [event()])
    limit = {"max_concurrent_queries_for_user": 1}
    async with open_api(api_clickhouse_settings=limit) as http:
        with _running_query(endpoints, ch_client):
            response = await http.get("/v1/stats", headers=ALL)
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "5"
        body = response.json()
        assert body["error"] == "store_unavailable"
        assert "TOO_MANY_SIMULTANEOUS_QUERIES" in body["message"]


async def test_a_read_past_its_memory_limit_is_a_400_naming_the_limit(
    ch_client: Client, ch_database: str, open_api: OpenApi
) -> None:
    insert_ch(ch_client, ch_database, [event()])
    async with open_api(api_clickhouse_settings={"max_memory_usage": 1000}) as http:
        for path in ("/v1/events", "/v1/stats", "/v1/stats/timeseries"):
            response = await http.get(path, headers=ALL)
            assert response.status_code == 400, (path, response.text)
            body = response.json()
            assert body["error"] == "query_too_large"
            assert "MEMORY_LIMIT_EXCEEDED" in body["message"]
    async with open_api() as http:
        assert (await http.get("/v1/stats", headers=ALL)).json()["total"] == 1


def test_settings_the_server_refuses_stop_the_api_before_it_serves(
    api_settings: ApiSettings,
) -> None:
    # An unknown setting name was sent with every read: a 500 on each, after a clean start.
    result = subprocess.run(
        [sys.executable, "-m", "eventpipe", "api", "--port", str(free_port())],
        env={
            **os.environ,
            "EVENTPIPE_CLICKHOUSE_URL": api_settings.clickhouse_url,
            "EVENTPIPE_CLICKHOUSE_DATABASE": api_settings.clickhouse_database,
            "EVENTPIPE_API_CLICKHOUSE_SETTINGS": '{"no_such_knob": 1}',
        },
        capture_output=True,
        text=True,
        timeout=60,  # the old code served on
    )
    assert result.returncode != 0
    (line,) = [text for text in result.stderr.splitlines() if text.startswith("eventpipe: ")]
    assert "refused EVENTPIPE_API_CLICKHOUSE_SETTINGS" in line and "no_such_knob" in line, line
    assert "Traceback" not in result.stderr and "Stack trace" not in result.stderr
    check_read_settings(api_settings.model_copy(update={"api_clickhouse_settings": LIMIT_OK}))


async def test_a_read_longer_than_max_query_size_is_a_400(
    ch_client: Client, ch_database: str, api_settings: ApiSettings, open_api: OpenApi
) -> None:
    # Each value is bound, escaped and repeated in the SQL (twice over days that may hold
    # copies): 100 environments of 1,000 quotes, a 100 kB URL that uvicorn takes, made
    # SQL past the server's max_query_size (256 KiB). That syntax error was a 500.
    insert_ch(ch_client, ch_database, [event()])
    where = EventFilter(environments=("'" * 1_000,) * 100)
    store = ClickHouseStore(api_settings, threads=1, query_timeout=30)
    repo = ClickHouseEventsRepository(store, ch_database, max_buckets=100)
    try:
        await store.start(10)
        with pytest.raises(QueryTooLarge, match="max_query_size"):
            await repo.stats(where)
        with pytest.raises(QueryTooLarge, match="max_query_size"):
            await repo.timeseries(where, "1h", None)
        assert (await repo.page(EventFilter(environments=("x",)), 10, None)).items == []
    finally:
        await store.close()
    # The same answer over HTTP, where an operator set a lower max_query_size.
    async with open_api(api_clickhouse_settings={"max_query_size": 2_000}) as http:
        params = {"environment": "x" * 3_000}
        for path in ("/v1/events", "/v1/stats", "/v1/stats/timeseries"):
            response = await http.get(path, params=params, headers=ALL)
            assert response.status_code == 400, (path, response.text)
            assert response.json()["error"] == "query_too_large"


async def test_a_limit_set_to_break_is_still_an_error_never_a_partial_answer(
    ch_client: Client, ch_database: str, api_settings: ApiSettings
) -> None:
    # A limit whose overflow mode is `break` or `any` (in the API user's profile, or sent
    # by the API) made ClickHouse stop early and answer what it had: a 200 with 3 of 5
    # events counted, or a last page with events left. Every read now says `throw`.
    for i in range(5):  # five parts
        insert_ch(ch_client, ch_database, [event(component=f"c{i}")])
    partial = {
        "max_rows_to_group_by": 1,
        "group_by_overflow_mode": "any",
        "max_rows_to_read": 2,
        "read_overflow_mode": "break",
        "max_result_rows": 1,
        "result_overflow_mode": "break",
    }
    store = ClickHouseStore(api_settings, threads=1, query_timeout=30, query_settings=partial)
    repo = ClickHouseEventsRepository(store, ch_database, max_buckets=100)
    try:
        await store.start(10)
        async with serve(build(api_settings, repo)) as http:
            for path in ("/v1/events", "/v1/stats", "/v1/stats/timeseries"):
                response = await http.get(path, headers=ALL)
                assert response.status_code == 400, (path, response.text)
                assert response.json()["error"] == "query_too_large", path
    finally:
        await store.close()
