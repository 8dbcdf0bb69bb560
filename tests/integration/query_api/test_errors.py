"""Malformed input over the real server: always a 400 with a useful body, never a 500."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from query_api import ApiSettings
from tests.integration.query_api.support import ALL, OpenApi, build, serve
from tests.unit.query_api.test_check import BAD
from tests.unit.query_api.test_parser import MALFORMED


@pytest.mark.parametrize(("query", "position"), [(q, p) for q, p, _ in MALFORMED + BAD])
async def test_every_malformed_query_class_is_a_400_with_its_position(
    open_api: OpenApi, query: str, position: int
) -> None:
    async with open_api() as http:
        for path in ("/v1/events", "/v1/stats", "/v1/stats/timeseries"):
            response = await http.get(path, params={"q": query or " "}, headers=ALL)
            if not query.strip():
                assert response.status_code == 200  # an empty q filters nothing
                continue
            assert response.status_code == 400, response.text
            body = response.json()
            assert body["error"] == "invalid_query"
            assert body["position"] == position and body["expected"]


_PIECES = st.sampled_from(
    ["(", ")", "AND", "OR", "NOT", "in", "eq", "ct", "gte", "'x'", "'", '"', "\\", ",", "12",
     "-1e9", "message", "data.a", "http.status", "createdAt", "'2018-1-1'", "severity", "'ERROR'",
     "event_id", "%", "%(p0)s", ";", "`"]
)  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_PIECES, max_size=12).map(" ".join))
def test_random_queries_never_cause_a_server_error(api_settings: ApiSettings, query: str) -> None:
    async def ask() -> None:
        async with serve(build(api_settings)) as http:
            for path in ("/v1/events", "/v1/stats"):
                response = await http.get(path, params={"q": query}, headers=ALL)
                assert response.status_code in (200, 400), (query, response.text)

    asyncio.run(ask())
