"""Producers against the real broker: settings for the per-test topic, reading it back."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import Message

from events.codec import decode, iter_lines
from events.model import Event
from producers import ProducerSettings
from tests.support.kafka import read_all
from tests.support.services import Endpoints


@pytest.fixture
def make_settings(endpoints: Endpoints, topic: str) -> Any:
    def make(**overrides: Any) -> ProducerSettings:
        given = {"kafka_bootstrap": endpoints.kafka_bootstrap, "topic": topic, **overrides}
        return ProducerSettings(**given)

    return make


def events_of(message: Message) -> list[Event]:
    """The events of one record, decoded by the contract."""
    return [decode(line) for _, line in iter_lines(message.value() or b"")]


def read_events(conf: dict[str, Any], topic: str) -> list[tuple[Message, list[Event]]]:
    """Every record of ``topic`` with its events, in (partition, offset) order."""
    return [(message, events_of(message)) for message in read_all(conf, topic)]
