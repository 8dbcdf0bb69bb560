"""Settings of the operator commands (``eventpipe migrate``, ``eventpipe topics ...``)."""

from __future__ import annotations

from pydantic import Field

from eventpipe.config import ClickHouseConnection, KafkaConnection, LogSettings, PostgresConnection

__all__ = ["AdminSettings", "BenchSettings"]


class AdminSettings(KafkaConnection, ClickHouseConnection, LogSettings):
    topic_partitions: int = Field(
        default=12, ge=1, le=10_000, description="Partitions of the ingest topic when created."
    )
    topic_replication: int = Field(
        default=1, ge=1, le=16, description="Replication factor of topics we create."
    )
    topic_retention_hours: int = Field(
        default=168, ge=1, description="retention.ms of the ingest topic, in hours."
    )
    dlq_retention_hours: int = Field(
        default=720, ge=1, description="retention.ms of the dead-letter topic, in hours."
    )
    startup_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds to wait for Kafka/ClickHouse when starting.",
    )


class BenchSettings(AdminSettings, PostgresConnection):
    """Where ``eventpipe bench`` finds the services."""
