"""Settings of the HTTP collector (``eventpipe collector``): ``EVENTPIPE_COLLECTOR_*``.

Write tokens come from ``collector_tokens_file`` and/or ``collector_tokens`` (format in
:mod:`front_doors.collector.tokens`). With neither, every request is refused (401) unless
``collector_allow_anonymous`` is set — for a laptop, never for a shared deployment. The
producer's knobs (``EVENTPIPE_PRODUCER_*``) tune how events are packed and delivered.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from producers.settings import ProducerSettings

__all__ = ["CollectorSettings"]


class CollectorSettings(ProducerSettings):
    """Where the collector listens, who may write, and how much one request may carry."""

    collector_host: str = Field(default="127.0.0.1", description="Address to listen on.")
    collector_port: int = Field(default=8080, ge=1, le=65535, description="Port to listen on.")
    collector_workers: int = Field(
        default=1, ge=1, le=64, description="uvicorn worker processes (one producer each)."
    )
    collector_tokens_file: Path | None = Field(
        default=None,
        description="File of write tokens: one `TOKEN=component,...` (or `TOKEN=*`) a line.",
    )
    collector_tokens: SecretStr | None = Field(
        default=None, description="Write tokens inline, `TOKEN=scope` entries separated by `;`."
    )
    collector_allow_anonymous: bool = Field(
        default=False,
        description="Let requests without a token write every component (development only).",
    )
    collector_max_body_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        description="Largest request body, both as sent and after decompression; larger "
        "ones get 413.",
    )
    collector_max_events: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="Most events in one request; more get 413.",
    )
    collector_startup_timeout: float = Field(
        default=30.0, gt=0, description="Seconds to wait for Kafka and the topic at start."
    )
    collector_root_path: str = Field(
        default="", description="Path prefix when served behind a proxy (ASGI root_path)."
    )
    # The producer's defaults, tuned for request/response: a caller waits for the answer.
    producer_delivery_timeout_ms: int = Field(
        default=30_000,
        ge=1_000,
        description="librdkafka message.timeout.ms: the longest a request waits for Kafka "
        "before its events are answered 503 (failed, send again).",
    )
    producer_block_timeout: float = Field(
        default=5.0,
        ge=0,
        description="Seconds a request waits for room in a full local queue before 503.",
    )
    producer_client_id: str = Field(
        default="eventpipe-collector", min_length=1, description="Kafka client.id."
    )
