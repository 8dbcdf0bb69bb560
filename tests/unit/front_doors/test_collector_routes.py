"""The collector's HTTP behaviour over the in-memory Kafka twin."""

from __future__ import annotations

import gzip
import uuid
from typing import Any

import httpx
import orjson
import pytest

from producers import MemoryKafka
from tests.unit.front_doors.conftest import auth, events_in


def _event(component: str = "payments", **fields: Any) -> dict[str, Any]:
    return {"component": component, "message": "paid", **fields}


async def test_one_event_is_accepted_with_its_id_once_kafka_has_it(
    collector: httpx.AsyncClient, kafka: MemoryKafka
) -> None:
    response = await collector.post("/v1/events", json=_event(user="alice"), headers=auth())
    assert response.status_code == 202
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, [])
    (event,) = events_in(kafka)  # already delivered when the answer came
    assert str(event.event_id) == body["ids"][0]
    assert (event.component, event.message, event.user) == ("payments", "paid", "alice")


async def test_an_array_with_invalid_items_stores_the_valid_ones_and_names_the_others(
    collector: httpx.AsyncClient, kafka: MemoryKafka
) -> None:
    items = [_event(), {"component": "payments"}, 42, _event(severity="LOUD"), _event()]
    response = await collector.post("/v1/events", json=items, headers=auth())
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 2
    assert [(r["index"], r["code"], r["field"]) for r in body["rejected"]] == [
        (1, "missing_field", "message"),
        (2, "not_object", ""),
        (3, "invalid_field", "severity"),
    ]
    assert sorted(str(e.event_id) for e in events_in(kafka)) == sorted(body["ids"])


@pytest.mark.parametrize("content_type", ["application/x-ndjson", "text/plain", None])
async def test_ndjson_is_read_by_content_type_or_sniffed(
    collector: httpx.AsyncClient, kafka: MemoryKafka, content_type: str | None
) -> None:
    body = b'{"component":"payments","message":"a"}\n\n{"component":"orders","message":"b"}\n'
    headers = auth() | ({"Content-Type": content_type} if content_type else {})
    response = await collector.post("/v1/events", content=body, headers=headers)
    assert response.status_code == 202, response.text
    assert sorted(e.message for e in events_in(kafka)) == ["a", "b"]


async def test_a_bad_line_of_ndjson_is_rejected_alone(
    collector: httpx.AsyncClient, kafka: MemoryKafka
) -> None:
    body = b'{"component":"payments","message":"a"}\n{"component":\n[1]\n'
    headers = auth() | {"Content-Type": "application/x-ndjson"}
    response = await collector.post("/v1/events", content=body, headers=headers)
    assert response.status_code == 202
    rejected = response.json()["rejected"]
    assert [(r["index"], r["code"]) for r in rejected] == [(1, "bad_json"), (2, "not_object")]
    assert [e.message for e in events_in(kafka)] == ["a"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"", "empty"),
        (b"   \n ", "empty"),
        (b"[]", "empty"),
        (b"{not json", "not valid JSON"),
        (b'"a string"', "must be an event"),
    ],
)
async def test_a_body_that_holds_no_event_is_a_400_naming_the_problem(
    collector: httpx.AsyncClient, body: bytes, needle: str
) -> None:
    headers = auth() | {"Content-Type": "application/json"}
    response = await collector.post("/v1/events", content=body, headers=headers)
    assert response.status_code == 400
    assert needle in response.json()["message"]


async def test_a_single_invalid_event_is_a_400_naming_the_field(
    collector: httpx.AsyncClient, kafka: MemoryKafka
) -> None:
    response = await collector.post("/v1/events", json=_event(severity="LOUD"), headers=auth())
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_events" and "severity" in body["message"]
    assert body["rejected"][0]["field"] == "severity"
    assert events_in(kafka) == []


@pytest.mark.parametrize(
    ("headers", "status", "needle"),
    [
        ({}, 401, "Bearer"),
        ({"Authorization": "Bearer nope"}, 401, "unknown token"),
        ({"Authorization": "Basic cGF5OnBheQ=="}, 401, "Bearer"),
        (auth("pay-token"), 403, "orders"),
    ],
)
async def test_tokens_decide_who_may_write_what(
    collector: httpx.AsyncClient,
    kafka: MemoryKafka,
    headers: dict[str, str],
    status: int,
    needle: str,
) -> None:
    items = [_event("payments"), _event("orders")]
    response = await collector.post("/v1/events", json=items, headers=headers)
    assert response.status_code == status
    assert needle in response.json()["message"]
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    assert events_in(kafka) == []  # nothing of a refused request is sent


async def test_a_scoped_token_writes_its_components(
    collector: httpx.AsyncClient, kafka: MemoryKafka
) -> None:
    items = [_event("payments"), _event("orders")]
    response = await collector.post("/v1/events", json=items, headers=auth("shop-token"))
    assert response.status_code == 202
    assert sorted(e.component for e in events_in(kafka)) == ["orders", "payments"]


async def test_a_malformed_component_is_rejected_alone_not_refused_for_the_scope(
    collector: httpx.AsyncClient, kafka: MemoryKafka
) -> None:
    # "payments\n" is no component (the contract rejects it); it must not be taken for one
    # outside the token's scope, which would refuse the whole request.
    items = [_event("payments"), _event("payments\n")]
    response = await collector.post("/v1/events", json=items, headers=auth("pay-token"))
    assert response.status_code == 202, response.text
    assert [(r["index"], r["field"]) for r in response.json()["rejected"]] == [(1, "component")]
    assert [e.component for e in events_in(kafka)] == ["payments"]


async def test_oversize_bodies_and_batches_are_413(make_collector: Any, kafka: MemoryKafka) -> None:
    async with make_collector(collector_max_body_bytes=2048, collector_max_events=3) as client:
        too_big = await client.post("/v1/events", json=_event(message="x" * 4096), headers=auth())
        too_many = await client.post("/v1/events", json=[_event()] * 4, headers=auth())
        ndjson = b"\n".join(orjson.dumps(_event()) for _ in range(4))
        too_many_lines = await client.post(
            "/v1/events", content=ndjson, headers=auth() | {"Content-Type": "application/x-ndjson"}
        )
        bomb = gzip.compress(b" " * 100_000)  # 100 kB of nothing in a few hundred bytes
        inflated = await client.post(
            "/v1/events", content=bomb, headers=auth() | {"Content-Encoding": "gzip"}
        )
    for response in (too_big, too_many, too_many_lines, inflated):
        assert response.status_code == 413, response.text
        assert response.json()["error"] == "payload_too_large"
    assert events_in(kafka) == []


async def test_gzip_bodies_are_read(collector: httpx.AsyncClient, kafka: MemoryKafka) -> None:
    content = gzip.compress(orjson.dumps([_event(), _event()]))
    headers = auth() | {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    response = await collector.post("/v1/events", content=content, headers=headers)
    assert response.status_code == 202
    assert len(events_in(kafka)) == 2


@pytest.mark.parametrize(("encoding", "status"), [("br", 415), ("gzip", 400)])
async def test_unknown_or_broken_encodings_are_4xx(
    collector: httpx.AsyncClient, encoding: str, status: int
) -> None:
    headers = auth() | {"Content-Encoding": encoding}
    response = await collector.post("/v1/events", content=b"not compressed", headers=headers)
    assert response.status_code == status


async def test_events_kafka_does_not_acknowledge_are_503_with_the_failed_indexes(
    collector: httpx.AsyncClient, kafka: MemoryKafka
) -> None:
    kafka.fail_with = "broker says no"
    response = await collector.post("/v1/events", json=[_event(), {"x": 1}], headers=auth())
    assert response.status_code == 503
    assert response.headers["retry-after"]
    body = response.json()
    assert body["error"] == "kafka_unavailable"
    assert [f["index"] for f in body["failed"]] == [0]
    assert "broker says no" in body["failed"][0]["message"]
    assert [r["index"] for r in body["rejected"]] == [1]
    # The id it went out with: sent again with it, a copy Kafka kept anyway is the same event.
    assert uuid.UUID(body["failed"][0]["event_id"])
    given = str(uuid.uuid4())
    again = await collector.post("/v1/events", json=[_event(event_id=given)], headers=auth())
    assert [f["event_id"] for f in again.json()["failed"]] == [given]


async def test_logs_route_maps_the_replaced_payload(
    collector: httpx.AsyncClient, kafka: MemoryKafka
) -> None:
    payload = {
        "severity": "warn",
        "service": "payments",
        "message": "card declined",
        "timestamp": "2024-03-01T12:00:00",
    }
    response = await collector.post("/logs", json=payload, headers=auth("pay-token"))
    assert response.status_code == 202
    (event,) = events_in(kafka)
    assert (event.component, event.kind, event.severity) == ("payments", "log", "WARNING")
    assert event.timestamp_ms == 1_709_294_400_000  # no offset: UTC


async def test_logs_route_names_the_callers_field_when_rejecting(
    collector: httpx.AsyncClient,
) -> None:
    payload = {"severity": "info", "message": "no service"}
    response = await collector.post("/logs", json=payload, headers=auth())
    assert response.status_code == 400
    assert response.json()["rejected"][0]["field"] == "service"


async def test_logs_route_checks_the_scope_of_the_service(collector: httpx.AsyncClient) -> None:
    payload = {"severity": "info", "service": "orders", "message": "m"}
    response = await collector.post("/logs", json=payload, headers=auth("pay-token"))
    assert response.status_code == 403


async def test_event_route_maps_the_replaced_payload(
    collector: httpx.AsyncClient, kafka: MemoryKafka
) -> None:
    payload = {
        "email": "a@b.c",
        "environment": "production",
        "component": "orders",
        "message": "buyer paid",
        "data": {"order": 7},
    }
    response = await collector.post("/event", json=[payload], headers=auth("shop-token"))
    assert response.status_code == 202
    (event,) = events_in(kafka)
    assert (event.kind, event.user, event.environment) == ("event", "a@b.c", "production")
    assert (event.component, event.message, event.data) == ("orders", "buyer paid", {"order": 7})


async def test_operations_routes_need_no_token(collector: httpx.AsyncClient) -> None:
    await collector.post("/v1/events", json=_event(), headers=auth())
    assert (await collector.get("/healthz")).json() == {"status": "ok"}
    metrics = (await collector.get("/metrics")).text
    assert 'eventpipe_collector_events_total{outcome="accepted"} 1.0' in metrics
    assert 'route="/v1/events",status="202"' in metrics
    assert (await collector.get("/openapi.json")).status_code == 200
