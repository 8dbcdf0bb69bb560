"""Settings of the producer client, the logging handler and the simulator.

Every knob is an ``EVENTPIPE_*`` environment variable (field ``producer_linger_ms`` ↔
``EVENTPIPE_PRODUCER_LINGER_MS``) or a keyword argument; the defaults are the ones we
defend in ``docs/producers.md``. Nothing else in ``producers`` reads the environment.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from eventpipe.config import KafkaConnection, LogSettings
from events.limits import MAX_RECORD_BYTES, MAX_RECORD_EVENTS, MAX_SHORT_CHARS
from events.model import COMPONENT_PATTERN

__all__ = ["Compression", "ProducerSettings", "SimulatorSettings"]

Compression = Literal["lz4", "zstd", "gzip", "snappy", "none"]
LibrdkafkaValue = str | int | float | bool


class ProducerSettings(KafkaConnection, LogSettings):
    """How :class:`~producers.EventProducer` packs, batches and delivers."""

    producer_record_events: int = Field(
        default=500,
        ge=1,
        le=MAX_RECORD_EVENTS,
        description="Most events packed into one Kafka record (one component's, NDJSON). "
        "1 sends one event per record.",
    )
    producer_record_bytes: int = Field(
        default=262_144,
        ge=1_024,
        le=MAX_RECORD_BYTES,
        description="Most bytes of one packed record; an event bigger than this goes alone.",
    )
    producer_linger_ms: float = Field(
        default=10.0,
        ge=0,
        le=60_000,
        description="Longest time an event waits in a partly filled record before it is sent.",
    )
    producer_kafka_linger_ms: float = Field(
        default=5.0, ge=0, le=60_000, description="librdkafka linger.ms: batching of records."
    )
    producer_compression: Compression = Field(
        default="lz4", description="Compression codec of record batches (consumers need cramjam)."
    )
    producer_batch_bytes: int = Field(
        default=1_000_000, ge=1_024, description="librdkafka batch.size: bytes per batch request."
    )
    producer_queue_kbytes: int = Field(
        default=65_536,
        ge=1_024,
        description="Local queue bound in KiB; past it emit() waits (backpressure).",
    )
    producer_block_timeout: float = Field(
        default=30.0,
        ge=0,
        description="Seconds emit() waits for room in a full local queue before QueueFull.",
    )
    producer_delivery_timeout_ms: int = Field(
        default=120_000,
        ge=1_000,
        description="librdkafka message.timeout.ms: how long an accepted event may wait for an "
        "unreachable broker before it is reported failed.",
    )
    producer_client_id: str = Field(
        default="eventpipe-producer", min_length=1, description="Kafka client.id."
    )
    producer_environment: str | None = Field(
        default=None,
        max_length=MAX_SHORT_CHARS,
        description="environment set on events that carry none (production, staging, ...).",
    )
    producer_librdkafka: dict[str, LibrdkafkaValue] = Field(
        default_factory=dict,
        description='Extra librdkafka options, applied last (JSON, e.g. {"acks": "all"}).',
    )
    producer_handler_capacity: int = Field(
        default=10_000,
        ge=1,
        description="Events the logging handler keeps in flight; records past it are dropped "
        "and counted.",
    )
    producer_handler_close_timeout: float = Field(
        default=5.0,
        ge=0,
        description="Seconds the logging handler waits for delivery when it is closed.",
    )


class SimulatorSettings(ProducerSettings):
    """``eventpipe simulate``: simulated services as a demo and a load generator."""

    producer_environment: str | None = Field(
        default="demo",
        max_length=MAX_SHORT_CHARS,
        description="environment set on events that carry none (production, staging, ...).",
    )
    simulate_services: Annotated[list[str], NoDecode] = Field(
        default=["payments", "orders", "users"],
        min_length=1,
        description="Simulated services, comma separated; unknown names get a generic catalogue.",
    )
    simulate_rate: float = Field(
        default=200.0,
        gt=0,
        description="Target events per second, all services together.",
    )
    simulate_bursts: bool = Field(
        default=False,
        description="Random bursts (up to 10x the rate) separated by pauses instead of a "
        "steady rate.",
    )
    simulate_seed: int = Field(default=42, description="Seed: the same seed, the same events.")
    simulate_pool: int = Field(
        default=8_192,
        ge=1,
        le=1_000_000,
        description="Distinct events sampled from the catalogues and replayed (with fresh ids "
        "and times): generating costs more than producing.",
    )
    simulate_duration: float | None = Field(
        default=None,
        gt=0,
        description="Stop after this many seconds (no limit when unset).",
    )
    simulate_count: int | None = Field(
        default=None, ge=1, description="Stop after this many events (no limit when unset)."
    )

    @field_validator("simulate_services", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("simulate_services")
    @classmethod
    def _components(cls, value: list[str]) -> list[str]:
        bad = [name for name in value if not re.match(COMPONENT_PATTERN, name)]
        if bad:
            raise ValueError(f"not component names ({COMPONENT_PATTERN}): {', '.join(bad)}")
        return list(dict.fromkeys(value))
