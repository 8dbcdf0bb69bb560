"""Small Kafka helpers for tests: delete topics, read a topic back completely."""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient


def delete_topics(conf: dict[str, Any], names: list[str]) -> None:
    """Delete topics and wait for the broker to confirm (missing ones are fine)."""
    admin = AdminClient(conf)  # keep a reference: a destroyed handle fails its futures
    for future in admin.delete_topics(names, operation_timeout=10).values():
        try:
            future.result(timeout=15)
        except Exception as exc:
            if "UNKNOWN_TOPIC" not in str(exc):
                raise


def _watermarks(consumer: Consumer, tp: TopicPartition) -> tuple[int, int]:
    """A partition's low and high watermarks. A topic created a moment ago may have no
    leader yet (``NOT_LEADER_FOR_PARTITION``): retriable errors are retried for 10 s."""
    deadline = time.monotonic() + 10
    while True:
        try:
            low, high = consumer.get_watermark_offsets(tp, timeout=10)
            return int(low), int(high)
        except KafkaException as exc:
            if not exc.args[0].retriable() or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def read_all(conf: dict[str, Any], topic: str, *, timeout: float = 30.0) -> list[Message]:
    """Every record now in ``topic`` (all partitions, from the start), in partition order."""
    consumer = Consumer(
        {**conf, "group.id": f"reader-{time.monotonic_ns()}", "enable.auto.commit": False}
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        ends = {}
        for p in metadata.partitions:
            low, high = _watermarks(consumer, TopicPartition(topic, p))
            if high > low:
                ends[p] = (low, high)
        consumer.assign([TopicPartition(topic, p, low) for p, (low, _) in ends.items()])
        out: list[Message] = []
        remaining = {p: high for p, (_, high) in ends.items()}
        deadline = time.monotonic() + timeout
        while remaining and time.monotonic() < deadline:
            for msg in consumer.consume(1000, timeout=1.0):
                if msg.error():
                    continue
                out.append(msg)
                if msg.offset() + 1 >= remaining.get(msg.partition(), 0):
                    remaining.pop(msg.partition(), None)
        if remaining:
            raise TimeoutError(f"{topic}: partitions {sorted(remaining)} not read to the end")
        return sorted(out, key=lambda m: (m.partition(), m.offset()))
    finally:
        consumer.close()


def wait_for_records(
    conf: dict[str, Any], topic: str, n: int, *, timeout: float = 30.0
) -> list[Message]:
    """:func:`read_all` once ``topic`` holds at least ``n`` records, or at ``timeout``."""
    deadline = time.monotonic() + timeout
    records = read_all(conf, topic)
    while len(records) < n and time.monotonic() < deadline:
        time.sleep(0.5)
        records = read_all(conf, topic)
    return records
