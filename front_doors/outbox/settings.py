"""Settings of the outbox relay (``eventpipe outbox-relay``): ``EVENTPIPE_OUTBOX_*``.

The replaced outbox service's variable names are honoured as well, so its deployment
files keep working: ``LOG_EVENTS_PARTITION_QUANTITY`` (batch size),
``FAILED_LOG_SENDING_RETRIES``, ``LOG_SENDING_FREQUENCY_IN_MINUTES`` and
``OUTBOX_CLEAN_IN_MINUTES``. When both spellings are set, the ``EVENTPIPE_`` one wins.
The producer's own knobs (``EVENTPIPE_PRODUCER_*``) and the Kafka and PostgreSQL
connections come from the shared blocks.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from eventpipe.config import PostgresConnection
from producers.settings import ProducerSettings

__all__ = ["OutboxSettings"]

_IDENTIFIER = r"^[a-z_][a-z0-9_]{0,62}$"


def _aliases(field: str, legacy: str) -> AliasChoices:
    return AliasChoices(f"EVENTPIPE_{field.upper()}", legacy)


class OutboxSettings(ProducerSettings, PostgresConnection):
    """How the relay claims, delivers, retries and cleans outbox rows."""

    # Init by field name (tests, the CLI) while the environment uses the aliases.
    model_config = SettingsConfigDict(populate_by_name=True)

    outbox_table: str = Field(
        default="eventpipe_outbox",
        pattern=_IDENTIFIER,
        description="Outbox table (in the connection's search_path).",
    )
    outbox_batch_size: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        validation_alias=_aliases("outbox_batch_size", "LOG_EVENTS_PARTITION_QUANTITY"),
        description="Rows claimed and sent per batch.",
    )
    outbox_retries: int = Field(
        default=5,
        ge=0,
        le=1_000,
        validation_alias=_aliases("outbox_retries", "FAILED_LOG_SENDING_RETRIES"),
        description="Retries of the failed part of a batch before its rows go back to "
        "AWAITING for a later run.",
    )
    outbox_retry_backoff_seconds: float = Field(
        default=1.0, gt=0, description="First back-off between retries; doubles each time."
    )
    outbox_retry_backoff_max_seconds: float = Field(
        default=30.0, gt=0, description="Cap of the back-off between retries."
    )
    outbox_interval_seconds: float = Field(
        default=5.0, gt=0, description="Pause between two runs of the relay."
    )
    outbox_frequency_minutes: float | None = Field(
        default=None,
        gt=0,
        validation_alias=_aliases("outbox_frequency_minutes", "LOG_SENDING_FREQUENCY_IN_MINUTES"),
        description="Pause between two runs in minutes; overrides outbox_interval_seconds "
        "when set.",
    )
    outbox_run_ttl_seconds: float | None = Field(
        default=None,
        gt=0,
        description="Longest a run keeps claiming batches; the batch in hand is finished. "
        "No limit when unset (a run ends when the outbox is drained).",
    )
    outbox_clean_minutes: float = Field(
        default=1440.0,
        ge=0,
        validation_alias=_aliases("outbox_clean_minutes", "OUTBOX_CLEAN_IN_MINUTES"),
        description="Delete DELIVERED rows older than this.",
    )
    outbox_lease_seconds: float = Field(
        default=300.0,
        ge=1,
        description="A row left SENDING this long (its relay crashed between the Kafka "
        "acknowledgement and marking it) is claimed again. Keep it above the delivery "
        "timeout plus the back-off cap.",
    )
    outbox_startup_timeout: float = Field(
        default=60.0, gt=0, description="Seconds to wait for PostgreSQL and Kafka at start."
    )
    outbox_metrics_port: int | None = Field(
        default=None, ge=1, le=65535, description="Serve Prometheus /metrics on this port."
    )
    # The producer's defaults, tuned for the relay: a failed send is retried by the relay
    # (with the rows still claimed), so librdkafka need not wait two minutes first.
    producer_delivery_timeout_ms: int = Field(
        default=30_000,
        ge=1_000,
        description="librdkafka message.timeout.ms: how long one send may wait for Kafka.",
    )
    producer_client_id: str = Field(
        default="eventpipe-outbox-relay", min_length=1, description="Kafka client.id."
    )

    @property
    def interval(self) -> float:
        """Seconds between runs: the legacy minutes when set, else the seconds."""
        if self.outbox_frequency_minutes is not None:
            return self.outbox_frequency_minutes * 60
        return self.outbox_interval_seconds
