"""Every emitted event comes back from Kafka equal, field by field, in both record forms."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner

from events.model import Event
from producers import EventProducer
from producers.simulator import EventPool, service
from tests.integration.producers.conftest import read_events

EDGE_CASES: list[dict[str, Any]] = [
    {"component": "edge", "message": 'ünïcode ✓ "quotes" \\ back\nslash', "severity": "warn"},
    {
        "component": "edge",
        "message": "given id and time",
        "event_id": "7b7f9e6c-1b7e-4c4e-9d47-0c5d0f2f9a10",
        "timestamp": "2026-01-02T03:04:05.678+01:00",
    },
    {"component": "edge", "kind": "access", "http": {"method": "get", "path": "/x", "status": 503}},
    {"component": "edge", "message": "nested", "data": {"a": {"b": [1, 2.5, None, True]}}},
]


def inputs() -> list[dict[str, Any]]:
    pool = EventPool(
        [service(n) for n in ("payments", "orders", "users", "billing")], seed=11, size=600
    )
    return EDGE_CASES + pool.events


@pytest.mark.parametrize("per_record", [500, 1], ids=["packed", "one-per-record"])
def test_events_come_back_equal_field_by_field_and_in_order(
    make_settings: Any, kafka_conf: dict[str, Any], topic: str, per_record: int
) -> None:
    sent = inputs()
    with EventProducer(make_settings(producer_record_events=per_record)) as producer:
        ids = [producer.emit(fields) for fields in sent]
    records = read_events(kafka_conf, topic)

    got: dict[str, Event] = {}
    order: dict[str, list[str]] = defaultdict(list)
    partitions: dict[str, set[int]] = defaultdict(set)
    for message, events in records:
        key, partition = (message.key() or b"").decode(), message.partition()
        assert partition is not None
        assert {event.component for event in events} == {key}, "one component per record"
        partitions[key].add(partition)
        for event in events:
            got[str(event.event_id)] = event
            order[key].append(str(event.event_id))
    assert len(got) == len(sent) == len(set(ids))

    for event_id, fields in zip(ids, sent, strict=True):
        expected, actual = Event.model_validate(fields), got[event_id]
        for name in Event.model_fields:
            if name in {"event_id", "timestamp"} and name not in fields:
                assert getattr(actual, name) is not None, name  # stamped by the producer
                continue
            assert getattr(actual, name) == getattr(expected, name), name

    for component, seen in order.items():  # the order of emission, per component
        assert seen == [i for i, f in zip(ids, sent, strict=True) if f["component"] == component]
    murmur2 = DefaultPartitioner()
    every = list(range(12))
    for component, parts in partitions.items():
        assert parts == {murmur2(component.encode(), every, every)}
    if per_record == 1:
        assert len(records) == len(sent)
    else:
        assert len(records) <= len(sent) / 20
