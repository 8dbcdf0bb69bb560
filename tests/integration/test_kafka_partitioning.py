"""A component lands in exactly one partition, the one Java clients and aiokafka pick."""

from __future__ import annotations

import subprocess
from collections import defaultdict
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner
from confluent_kafka import Consumer, Producer, TopicPartition

from eventpipe.kafka import PARTITIONER
from tests.support.services import LOCAL, ROOT

COMPONENTS = [f"svc-{i}" for i in range(40)] + ["payments", "orders", "users", "a", "ünïcode"]
PARTITIONS = 12


def java_partitions(keys: list[str]) -> dict[str, int]:
    libs = subprocess.run(
        ["bash", str(LOCAL / "kafka.sh"), "libs"], capture_output=True, text=True, check=True
    ).stdout.strip()
    out = subprocess.run(
        [
            "java",
            "-cp",
            f"{libs}/*",
            str(ROOT / "tests/support/PartitionFor.java"),
            str(PARTITIONS),
            *keys,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return {line.rsplit(" ", 1)[0]: int(line.rsplit(" ", 1)[1]) for line in out.splitlines()}


def produce_and_collect(conf: dict[str, Any], topic: str) -> dict[str, set[int]]:
    producer = Producer({**conf, "partitioner": PARTITIONER})
    for round_ in range(3):
        for component in COMPONENTS:
            producer.produce(topic, key=component.encode(), value=f'{{"r":{round_}}}'.encode())
    assert producer.flush(30) == 0
    consumer = Consumer({**conf, "group.id": topic, "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    seen: dict[str, set[int]] = defaultdict(set)
    wanted = 3 * len(COMPONENTS)
    count = 0
    while count < wanted:
        msg = consumer.poll(10)
        assert msg is not None, f"only {count} of {wanted} records came back"
        assert msg.error() is None
        seen[msg.key().decode()].add(msg.partition())
        count += 1
    consumer.close()
    return seen


def test_components_land_where_java_and_aiokafka_put_them(
    kafka_conf: dict[str, Any], topic: str
) -> None:
    seen = produce_and_collect(kafka_conf, topic)
    assert all(len(parts) == 1 for parts in seen.values()), "a component spread over partitions"
    ours = {key: next(iter(parts)) for key, parts in seen.items()}

    aiokafka = DefaultPartitioner()
    all_partitions = list(range(PARTITIONS))
    theirs = {c: aiokafka(c.encode(), all_partitions, all_partitions) for c in COMPONENTS}
    assert ours == theirs

    assert ours == java_partitions(COMPONENTS)
    assert len(set(ours.values())) > 6, "keys should spread over the partitions"


@pytest.mark.parametrize("wrong", ["consistent_random"])
def test_librdkafka_default_partitioner_would_disagree(
    kafka_conf: dict[str, Any], topic: str, wrong: str
) -> None:
    # Guards the reason PARTITIONER exists: the default hashes differently from Java.
    producer = Producer({**kafka_conf, "partitioner": wrong})
    placed: dict[str, int] = {}

    def remember(err: Any, msg: Any) -> None:
        placed[msg.key().decode()] = msg.partition()

    for component in COMPONENTS:
        producer.produce(topic, key=component.encode(), value=b"{}", on_delivery=remember)
    producer.flush(30)
    aiokafka = DefaultPartitioner()
    all_partitions = list(range(PARTITIONS))
    assert placed != {c: aiokafka(c.encode(), all_partitions, all_partitions) for c in COMPONENTS}
