"""Consumer lag: per partition and in total, for the groups reading a topic.

Lag of a partition = its high-water mark - the group's committed offset (a partition the
group never committed counts from the log start). Read with the admin API and watermark
requests; nothing joins the group, so asking never triggers a rebalance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from eventpipe.kafka import admin_client

__all__ = [
    "GroupLag",
    "PartitionLag",
    "committed_offsets",
    "consumer_groups",
    "groups_reading",
    "measure_lag",
]


@dataclass(frozen=True)
class PartitionLag:
    partition: int
    committed: int | None
    high: int
    lag: int


@dataclass(frozen=True)
class GroupLag:
    group: str
    topic: str
    partitions: tuple[PartitionLag, ...]

    @property
    def total(self) -> int:
        return sum(p.lag for p in self.partitions)


def consumer_groups(conf: Mapping[str, Any], *, timeout: float = 10.0) -> list[str]:
    """Every consumer group the cluster knows, sorted.

    Raises :class:`~confluent_kafka.KafkaException` when a broker did not answer (an empty
    list then would be a lie).
    """
    return _groups(admin_client(conf), timeout)


def _groups(admin: AdminClient, timeout: float) -> list[str]:
    listed = admin.list_consumer_groups(request_timeout=timeout).result()
    if listed.errors:
        raise KafkaException(listed.errors[0])
    return sorted(g.group_id for g in listed.valid)


def groups_reading(conf: Mapping[str, Any], topic: str, *, timeout: float = 10.0) -> list[str]:
    """Consumer groups that have committed offsets for ``topic``."""
    admin = admin_client(conf)
    found = []
    for group in _groups(admin, timeout):
        offsets = _committed_all(admin, group, timeout)
        if any(tp.topic == topic for tp in offsets):
            found.append(group)
    return found


def committed_offsets(
    conf: Mapping[str, Any], group: str, topic: str, *, timeout: float = 10.0
) -> dict[int, int]:
    """The offsets ``group`` committed on ``topic``, by partition (a partition it never
    committed is absent). Blocking; joins nothing."""
    return _committed(admin_client(conf), group, topic, timeout)


def _committed(admin: AdminClient, group: str, topic: str, timeout: float) -> dict[int, int]:
    return {
        tp.partition: tp.offset
        for tp in _committed_all(admin, group, timeout)
        if tp.topic == topic and tp.offset >= 0
    }


def _committed_all(admin: AdminClient, group: str, timeout: float) -> list[TopicPartition]:
    request = [ConsumerGroupTopicPartitions(group)]
    future = admin.list_consumer_group_offsets(request, request_timeout=timeout)[group]
    return list(future.result().topic_partitions or [])


def measure_lag(
    conf: Mapping[str, Any], topic: str, groups: Iterable[str], *, timeout: float = 10.0
) -> list[GroupLag]:
    """Lag of each group on each partition of ``topic``. Blocking."""
    admin = admin_client(conf)
    probe = Consumer({**conf, "group.id": "eventpipe-lag-probe", "enable.auto.commit": False})
    try:
        metadata = probe.list_topics(topic, timeout=timeout).topics[topic]
        if metadata.error is not None:  # e.g. the topic does not exist: no lag to report
            raise KafkaException(metadata.error)
        partitions = sorted(metadata.partitions)
        marks = {
            p: probe.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
            for p in partitions
        }
        out = []
        for group in groups:
            committed = _committed(admin, group, topic, timeout)
            rows = tuple(
                PartitionLag(
                    p, committed.get(p), marks[p][1], marks[p][1] - committed.get(p, marks[p][0])
                )
                for p in partitions
            )
            out.append(GroupLag(group, topic, rows))
        return out
    finally:
        probe.close()
