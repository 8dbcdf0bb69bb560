"""Kafka plumbing shared by every service: topic creation and client configuration.

Partitioning: every producer of ours uses librdkafka's ``murmur2_random`` partitioner, which
hashes keys exactly like Java's default partitioner and aiokafka's (so Faust's), so one
component lands in one partition whichever client wrote it. (confluent-kafka's own default,
``consistent_random``, is CRC32-based and would disagree.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

__all__ = [
    "LIBRDKAFKA_LOGGER",
    "PARTITIONER",
    "TopicDescription",
    "TopicSpec",
    "admin_client",
    "describe_topics",
    "durable_producer_config",
    "ensure_topics",
]

PARTITIONER = "murmur2_random"
LIBRDKAFKA_LOGGER = "librdkafka"


def durable_producer_config(conf: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    """confluent-kafka producer settings every writer of ours shares: Java-compatible keys,
    idempotence (so acks=all and retries that neither duplicate nor reorder), lz4."""
    return {
        **conf,
        "partitioner": PARTITIONER,
        "enable.idempotence": True,
        "acks": "all",
        "compression.type": "lz4",
        **overrides,
    }


@dataclass(frozen=True)
class TopicSpec:
    """A topic to create when missing. Existing topics are left as they are."""

    name: str
    partitions: int = 12
    replication: int = 1
    config: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TopicDescription:
    name: str
    partitions: int
    replication: int


def admin_client(conf: Mapping[str, Any]) -> AdminClient:
    """An admin client whose librdkafka log lines go to Python logging, not raw to stderr."""
    return _admin(conf)


def _admin(conf: Mapping[str, Any]) -> AdminClient:
    # librdkafka's own log lines ("%3|...|FAIL|...") would go straight to stderr, breaking
    # the one-JSON-object-per-line logs; routed to Python logging instead. An admin client
    # is never polled, so they stay queued: its failures arrive as KafkaExceptions.
    config: dict[str, Any] = {**conf, "socket.timeout.ms": 10_000}
    config["logger"] = logging.getLogger(LIBRDKAFKA_LOGGER)
    return AdminClient(config)


def ensure_topics(
    conf: Mapping[str, Any], specs: Iterable[TopicSpec], *, timeout: float = 30.0
) -> list[str]:
    """Create the missing topics; return the names created now. Idempotent and blocking.

    Raises :class:`confluent_kafka.KafkaException` for anything but "already exists".
    """
    admin = _admin(conf)
    wanted = list(specs)
    existing = set(admin.list_topics(timeout=timeout).topics)
    new = [
        NewTopic(
            spec.name,
            num_partitions=spec.partitions,
            replication_factor=spec.replication,
            config=dict(spec.config),
        )
        for spec in wanted
        if spec.name not in existing
    ]
    if not new:
        return []
    created: list[str] = []
    for name, future in admin.create_topics(new, operation_timeout=timeout).items():
        try:
            future.result(timeout=timeout)
            created.append(name)
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":  # a racing creator won
                raise
    _wait_for_metadata(admin, created, timeout)
    return created


def _wait_for_metadata(admin: AdminClient, names: list[str], timeout: float) -> None:
    # CreateTopics returns before every partition has a leader; producing right away can
    # fail with UNKNOWN_TOPIC_OR_PART. Wait until metadata shows leaders for all of them.
    deadline = time.monotonic() + timeout
    while names and time.monotonic() < deadline:
        topics = admin.list_topics(timeout=timeout).topics
        ready = all(
            name in topics
            and topics[name].error is None
            and topics[name].partitions
            and all(p.leader >= 0 for p in topics[name].partitions.values())
            for name in names
        )
        if ready:
            return
        time.sleep(0.1)


def describe_topics(
    conf: Mapping[str, Any], names: Iterable[str] | None = None, *, timeout: float = 10.0
) -> list[TopicDescription]:
    """Partition and replica counts of the named topics (all non-internal ones by default)."""
    metadata = _admin(conf).list_topics(timeout=timeout)
    if names is None:
        names = sorted(t for t in metadata.topics if not t.startswith("__"))
    selected = list(names)
    out: list[TopicDescription] = []
    for name in selected:
        topic = metadata.topics.get(name)
        if topic is None or topic.error is not None:
            continue
        replicas = max((len(p.replicas) for p in topic.partitions.values()), default=0)
        out.append(TopicDescription(name, len(topic.partitions), replicas))
    return out
