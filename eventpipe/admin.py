"""Operator actions shared by the CLI, the stack runner and the tests: topics, migrations,
roll-ups."""

from __future__ import annotations

import time
from collections.abc import Callable

from eventpipe.kafka import TopicSpec, describe_topics, ensure_topics
from eventpipe.settings import AdminSettings
from events.topics import dlq_topic
from storage.client import connect, wait_until_ready
from storage.migrations import Migration, MigrationOptions, migrate
from storage.retention import RetentionReport
from storage.rollup import RefreshReport, refresh

__all__ = [
    "apply_migrations",
    "create_pipeline_topics",
    "partitions_note",
    "pipeline_topics",
    "refresh_rollups",
]

_HOUR_MS = 3_600_000


def pipeline_topics(settings: AdminSettings) -> list[TopicSpec]:
    """The ingest topic and its dead-letter topic."""
    return [
        TopicSpec(
            settings.topic,
            partitions=settings.topic_partitions,
            replication=settings.topic_replication,
            config={"retention.ms": str(settings.topic_retention_hours * _HOUR_MS)},
        ),
        TopicSpec(
            dlq_topic(settings.topic),
            partitions=min(settings.topic_partitions, 3),
            replication=settings.topic_replication,
            config={"retention.ms": str(settings.dlq_retention_hours * _HOUR_MS)},
        ),
    ]


def create_pipeline_topics(settings: AdminSettings) -> list[str]:
    """Create the ingest and dead-letter topics when missing; return those created."""
    return ensure_topics(
        settings.librdkafka_security(), pipeline_topics(settings), timeout=settings.startup_timeout
    )


def partitions_note(settings: AdminSettings) -> str | None:
    """A line for the operator when the ingest topic has another partition count than
    ``EVENTPIPE_TOPIC_PARTITIONS`` (which applies only when the topic is created): workers
    past the partition count stay idle, whatever the setting says."""
    conf = settings.librdkafka_security()
    found = describe_topics(conf, [settings.topic], timeout=settings.startup_timeout)
    if not found or found[0].partitions == settings.topic_partitions:
        return None
    have, wanted = found[0].partitions, settings.topic_partitions
    return (
        f"{settings.topic} has {have} partitions, not EVENTPIPE_TOPIC_PARTITIONS={wanted}: "
        f"the setting applies when the topic is created, and more than {have} workers "
        f"leave some idle. To add partitions: kafka-topics.sh --alter --topic "
        f"{settings.topic} --partitions {wanted} (a component's later events may then go "
        "to another partition, ahead of its earlier ones)"
    )


def refresh_rollups(settings: AdminSettings) -> RefreshReport:
    """Roll up the settled, ended days that have no roll-up yet (see storage.rollup)."""
    client = connect(settings)
    try:
        wait_until_ready(settings, settings.startup_timeout)
        return refresh(client, settings.clickhouse_database, now_ms=int(time.time() * 1000))
    finally:
        client.disconnect()


def apply_migrations(
    settings: AdminSettings,
    on_apply: Callable[[Migration], None] | None = None,
    on_retention: Callable[[RetentionReport], None] | None = None,
) -> tuple[str, list[int]]:
    """Apply pending migrations and align the events TTL with ``retention_days``; return
    the server version and the versions applied. Callbacks: see :func:`migrate`."""
    client = connect(settings)
    try:
        caps = wait_until_ready(settings, settings.startup_timeout)
        applied = migrate(
            client,
            caps,
            MigrationOptions(settings.clickhouse_database, settings.retention_days),
            on_apply=on_apply,
            on_retention=on_retention,
        )
        return str(caps.version), applied
    finally:
        client.disconnect()
