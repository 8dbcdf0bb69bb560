"""The asyncio twin on the real broker: the await ends when Kafka has the event."""

from __future__ import annotations

from typing import Any

from producers import AsyncEventProducer
from tests.integration.producers.conftest import read_events


async def test_an_awaited_event_is_in_kafka_when_the_await_returns(
    make_settings: Any, kafka_conf: dict[str, Any], topic: str
) -> None:
    async with AsyncEventProducer(make_settings()) as producer:
        api = producer.bind("api", environment="test")
        event_id = await api.error("boom", function="startup", reason="testing", user="admin")
        (_, events), *rest = read_events(kafka_conf, topic)  # before close(): already there
        assert rest == []
    (event,) = events
    assert str(event.event_id) == event_id
    assert (event.kind, event.severity, event.message) == ("error", "ERROR", "boom")
    assert (event.function, event.reason, event.user) == ("startup", "testing", "admin")
