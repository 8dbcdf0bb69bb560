"""Producers over the in-memory Kafka twin: no services needed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from events.codec import decode, iter_lines
from events.model import Event
from producers import EventProducer, MemoryKafka, ProducerSettings

TOPIC = "unit.events"
Factory = Callable[..., EventProducer]


def settings(**overrides: Any) -> ProducerSettings:
    return ProducerSettings(topic=TOPIC, **overrides)


@pytest.fixture
def kafka() -> MemoryKafka:
    return MemoryKafka()


@pytest.fixture
def make_producer(kafka: MemoryKafka) -> Iterator[Factory]:
    """Producers on the twin, closed (delivering everything) after the test."""
    made: list[EventProducer] = []

    def make(**overrides: Any) -> EventProducer:
        client = overrides.pop("kafka", kafka)
        on_failure = overrides.pop("on_failure", None)
        producer = EventProducer(settings(**overrides), kafka=client, on_failure=on_failure)
        made.append(producer)
        return producer

    yield make
    for producer in made:
        producer.close(timeout=5)


def events_of(record: bytes) -> list[Event]:
    """The events of one record, decoded by the contract."""
    return [decode(line) for _, line in iter_lines(record)]


def delivered(kafka: MemoryKafka, topic: str = TOPIC) -> list[Event]:
    """Every event delivered to ``topic``, in record order."""
    return [event for value in kafka.values(topic) for event in events_of(value)]
