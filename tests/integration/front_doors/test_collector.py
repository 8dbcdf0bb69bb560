"""The HTTP collector on the real broker: 202 means the events are in Kafka."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest

from events.codec import decode, iter_lines
from events.model import Event
from front_doors.collector import CollectorSettings, WriteTokens, create_app
from producers import AsyncEventProducer
from tests.integration.front_doors.conftest import closed_port
from tests.support.kafka import read_all
from tests.support.names import unique
from tests.support.services import ROOT, Endpoints

TOKENS = "pay-token=payments;ops-token=*"


def _events(conf: dict[str, Any], topic: str) -> list[Event]:
    return [
        decode(line) for message in read_all(conf, topic) for _, line in iter_lines(message.value())
    ]


@asynccontextmanager
async def _client(
    settings: CollectorSettings, producer: AsyncEventProducer | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, producer=producer, tokens=WriteTokens.parse(TOKENS))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://collector") as client,
    ):
        yield client


@pytest.fixture
def settings(endpoints: Endpoints, topic: str) -> CollectorSettings:
    return CollectorSettings(
        kafka_bootstrap=endpoints.kafka_bootstrap,
        topic=topic,
        collector_max_body_bytes=64 * 1024,
        collector_max_events=100,
    )


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_accepted_events_are_in_kafka_when_the_answer_comes(
    settings: CollectorSettings, kafka_conf: dict[str, Any], topic: str
) -> None:
    items = [{"component": "payments", "message": f"m{i}", "data": {"i": i}} for i in range(50)]
    async with _client(settings) as client:
        response = await client.post("/v1/events", json=items, headers=_auth("pay-token"))
        assert response.status_code == 202
        stored = _events(kafka_conf, topic)  # read before the producer is closed
    ids = response.json()["ids"]
    assert len(ids) == 50
    assert [str(e.event_id) for e in stored] == ids  # one component: one partition, in order
    assert [e.data for e in stored] == [{"i": i} for i in range(50)]


async def test_refused_requests_send_nothing(
    settings: CollectorSettings, kafka_conf: dict[str, Any], topic: str
) -> None:
    mixed = [{"component": "payments", "message": "ok"}, {"component": "orders", "message": "x"}]
    async with _client(settings) as client:
        no_token = await client.post("/v1/events", json=mixed)
        unknown = await client.post("/v1/events", json=mixed, headers=_auth("guess"))
        out_of_scope = await client.post("/v1/events", json=mixed, headers=_auth("pay-token"))
        too_big = await client.post(
            "/v1/events",
            json={"component": "payments", "message": "x" * 70_000},
            headers=_auth("ops-token"),
        )
        too_many = await client.post("/v1/events", json=mixed * 51, headers=_auth("ops-token"))
    statuses = [r.status_code for r in (no_token, unknown, out_of_scope, too_big, too_many)]
    assert statuses == [401, 401, 403, 413, 413]
    assert "orders" in out_of_scope.json()["message"]
    assert read_all(kafka_conf, topic) == []


async def test_a_partial_batch_stores_exactly_the_valid_items(
    settings: CollectorSettings, kafka_conf: dict[str, Any], topic: str
) -> None:
    lines = [
        b'{"component":"payments","message":"one"}',
        b'{"component":"payments","message":"two","severity":"LOUD"}',
        b"{broken",
        b'{"component":"orders","kind":"access","http":{"method":"get","path":"/","status":200}}',
    ]
    headers = _auth("ops-token") | {"Content-Type": "application/x-ndjson"}
    async with _client(settings) as client:
        response = await client.post("/v1/events", content=b"\n".join(lines), headers=headers)
    assert response.status_code == 202
    body = response.json()
    assert [(r["index"], r["code"], r["field"]) for r in body["rejected"]] == [
        (1, "invalid_field", "severity"),
        (2, "bad_json", ""),
    ]
    stored = _events(kafka_conf, topic)
    assert sorted(str(e.event_id) for e in stored) == sorted(body["ids"])
    assert sorted((e.component, e.kind) for e in stored) == [
        ("orders", "access"),
        ("payments", "log"),
    ]


async def test_the_compatibility_routes_publish_contract_events(
    settings: CollectorSettings, kafka_conf: dict[str, Any], topic: str
) -> None:
    log = {"severity": "error", "service": "payments", "message": "declined", "timestamp": 1.7e9}
    event = {
        "email": "buyer@example.com",
        "environment": "production",
        "component": "payments",
        "message": "buyer paid",
        "data": {"amount": 12.5},
    }
    async with _client(settings) as client:
        logs = await client.post("/logs", json=log, headers=_auth("pay-token"))
        events = await client.post("/event", json=event, headers=_auth("pay-token"))
    assert (logs.status_code, events.status_code) == (202, 202)
    stored = {e.kind: e for e in _events(kafka_conf, topic)}
    assert (stored["log"].severity, stored["log"].timestamp_ms) == ("ERROR", 1_700_000_000_000)
    assert (stored["event"].user, stored["event"].data) == ("buyer@example.com", {"amount": 12.5})


async def test_a_replaced_payload_naming_a_field_twice_is_rejected_not_half_kept(
    settings: CollectorSettings, kafka_conf: dict[str, Any], topic: str
) -> None:
    # `service` is `component` on /logs and `email` is `user` on /event: a payload with
    # both spellings used to keep whichever key came last in the JSON and drop the other.
    logs = [
        {"service": "payments", "component": "orders", "message": "a"},
        {"component": "orders", "service": "payments", "message": "b"},
        {"service": "payments", "message": "kept"},
    ]
    event = {"email": "a@example.com", "user": "b@example.com", "component": "payments"}
    async with _client(settings) as client:
        on_logs = await client.post("/logs", json=logs, headers=_auth("ops-token"))
        on_event = await client.post(
            "/event", json=event | {"message": "m"}, headers=_auth("ops-token")
        )
    assert on_logs.status_code == 202, on_logs.text
    assert [(r["index"], r["code"], r["field"]) for r in on_logs.json()["rejected"]] == [
        (0, "invalid_field", "service"),
        (1, "invalid_field", "service"),
    ]
    assert on_event.status_code == 400, on_event.text
    assert [(r["code"], r["field"]) for r in on_event.json()["rejected"]] == [
        ("invalid_field", "email")
    ]
    assert [(e.component, e.message) for e in _events(kafka_conf, topic)] == [("payments", "kept")]


async def test_kafka_down_is_a_503_naming_the_events_to_send_again(
    settings: CollectorSettings,
) -> None:
    down = settings.model_copy(
        update={
            "kafka_bootstrap": f"127.0.0.1:{closed_port()}",
            "producer_delivery_timeout_ms": 1_000,
        }
    )
    producer = AsyncEventProducer(down)
    try:
        async with _client(down, producer) as client:
            items = [{"component": "payments", "message": "a"}, {"component": "payments"}]
            response = await client.post("/v1/events", json=items, headers=_auth("ops-token"))
            ready = await client.get("/readyz")
    finally:
        await producer.close(10)
    assert response.status_code == 503
    body = response.json()
    assert ([f["index"] for f in body["failed"]], body["ids"]) == ([0], [])
    assert body["failed"][0]["event_id"]  # to send it again with: Kafka may have it anyway
    assert [r["index"] for r in body["rejected"]] == [1]
    assert ready.status_code == 503


async def test_readyz_answers_when_kafka_and_the_topic_are_there(
    settings: CollectorSettings,
) -> None:
    async with _client(settings) as client:
        assert (await client.get("/readyz")).json() == {"status": "ready"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def collector_process(endpoints: Endpoints, topic: str, tmp_path: Any) -> Iterator[str]:
    """``eventpipe collector`` in its own process; yields its base URL."""
    port = _free_port()
    tokens = tmp_path / "tokens"
    tokens.write_text("# write tokens\nfile-token=payments\n")
    env = {
        **os.environ,
        "EVENTPIPE_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "EVENTPIPE_TOPIC": topic,
        "EVENTPIPE_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "eventpipe", "collector", "--port", str(port)]
    process = subprocess.Popen([*command, "--tokens-file", str(tokens)], env=env, cwd=ROOT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the collector exited"
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError("the collector did not become ready")


def test_the_collector_command_serves_over_http(
    collector_process: str, kafka_conf: dict[str, Any], topic: str
) -> None:
    body = orjson.dumps({"component": "payments", "message": unique("over-http")})
    headers = _auth("file-token") | {"Content-Type": "application/json"}
    with httpx.Client(base_url=collector_process, timeout=30) as client:
        accepted = client.post("/v1/events", content=body, headers=headers)
        refused = client.post("/v1/events", content=body, headers=_auth("pay-token"))
    assert (accepted.status_code, refused.status_code) == (202, 401)
    (stored,) = _events(kafka_conf, topic)
    assert str(stored.event_id) == accepted.json()["ids"][0]
