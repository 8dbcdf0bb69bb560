"""Whatever a client sends, the collector answers 2xx/4xx naming the problem, never 500."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from front_doors.collector import CollectorSettings, WriteTokens, create_app
from producers import AsyncEventProducer, MemoryKafka

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_FIELDS = st.sampled_from(
    [
        "component",
        "message",
        "severity",
        "kind",
        "timestamp",
        "http",
        "data",
        "user",
        "event_id",
        "service",
        "email",
        "environment",
    ]
)
_EVENTISH = st.dictionaries(_FIELDS, _JSON | st.just("payments"), max_size=6)


def _dumps(value: Any) -> bytes:
    # The standard library writes what orjson refuses (2**64, Infinity): hostile input too.
    return json.dumps(value).encode()


_BODIES = st.one_of(
    _JSON.map(_dumps),
    _EVENTISH.map(_dumps),
    st.lists(_EVENTISH, max_size=5).map(_dumps),
    st.lists(_EVENTISH.map(_dumps), max_size=5).map(b"\n".join),
    st.binary(max_size=200),
)


@pytest.fixture(scope="module")
def producer() -> Iterator[AsyncEventProducer]:
    made = AsyncEventProducer(CollectorSettings(topic="fuzz"), kafka=MemoryKafka())
    yield made
    made.sync.close(5)


async def _post(producer: AsyncEventProducer, route: str, body: bytes, kind: str | None) -> Any:
    settings_ = CollectorSettings(topic="fuzz", collector_max_events=50)
    app = create_app(settings_, producer=producer, tokens=WriteTokens.parse("t=payments"))
    headers = {"Authorization": "Bearer t", **({"Content-Type": kind} if kind else {})}
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://c") as client,
    ):
        return await client.post(route, content=body, headers=headers)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    route=st.sampled_from(["/v1/events", "/logs", "/event"]),
    body=_BODIES,
    kind=st.sampled_from([None, "application/json", "application/x-ndjson", "text/plain"]),
)
def test_no_body_gets_a_server_error(
    producer: AsyncEventProducer, route: str, body: bytes, kind: str | None
) -> None:
    response = asyncio.run(_post(producer, route, body, kind))
    assert response.status_code in {202, 400, 403, 413}, response.text
    answer = response.json()
    if response.status_code != 202:
        assert answer["message"]
    for rejected in answer.get("rejected", []):
        assert rejected["code"] and rejected["message"]
