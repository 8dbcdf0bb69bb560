"""Settings of a stream-processing worker (``eventpipe worker``).

Batch defaults follow ClickHouse's guidance — thousands of rows per insert and about one
insert per second per worker: a batch is written when it holds ``worker_batch_max_rows``
events or is ``worker_batch_max_seconds`` old, whichever comes first — or, at the end of a
backlog (the batch before went full), once the worker has read all its partitions hold.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import Field

from eventpipe.config import ClickHouseConnection, KafkaConnection, LogSettings

__all__ = ["WorkerSettings"]


class WorkerSettings(KafkaConnection, ClickHouseConnection, LogSettings):
    worker_group: str = Field(
        default="eventpipe-sink",
        pattern=r"^[A-Za-z0-9._-]{1,200}$",
        description="Consumer group (and Faust app id); workers with the same group share "
        "the topic's partitions.",
    )
    worker_batch_max_rows: int = Field(
        default=50_000,
        ge=1,
        le=1_000_000,
        description="Write a batch once it holds this many events.",
    )
    worker_batch_max_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="Write a batch once its oldest event waited this long.",
    )
    worker_batches_in_flight: int = Field(
        default=2,
        ge=1,
        le=8,
        description="Batches handed to the sink at once: the oldest is inserted while the "
        "next one's columns are built, and the agent gathers one more meanwhile. They are "
        "written and acknowledged strictly in order. Memory: up to this many batches plus "
        "the one being gathered. 1 writes one batch at a time.",
    )
    worker_take_max_records: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description="Deliveries taken from the stream per step (each holds one record, or a "
        "run of records: worker_delivery_max_records).",
    )
    worker_delivery_max_records: int = Field(
        default=1_000,
        ge=1,
        le=100_000,
        description="Consecutive records of a partition handed to the agent as one delivery, "
        "at most this many (Faust's own cost is per delivery, ~130 µs here: records of one "
        "event each would be bound by it). 1 delivers record by record.",
    )
    worker_delivery_max_bytes: int = Field(
        default=256 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="Bytes of record values in one delivery, at most (a lone record larger "
        "than this is still delivered alone). Bounds memory with worker_stream_buffer.",
    )
    worker_retry_initial_seconds: float = Field(
        default=0.2, gt=0, description="First back-off after a failed insert or dead-letter send."
    )
    worker_retry_max_seconds: float = Field(
        default=30.0, gt=0, description="Cap of the exponential back-off between retries."
    )
    worker_shutdown_grace_seconds: float = Field(
        default=10.0,
        ge=0,
        description="On shutdown, how long to keep trying to write the pending batch before "
        "leaving it unacknowledged (Kafka redelivers it after the restart).",
    )
    worker_stop_timeout_seconds: float = Field(
        default=20.0,
        gt=0,
        description="Once a stop has begun (SIGTERM, the invalid-ratio guard), exit anyway "
        "if Faust's own shutdown has not finished this many seconds after "
        "worker_shutdown_grace_seconds (it can wait forever on an offset commit to a "
        "consumer thread that already stopped). Nothing is lost: the batch was written or "
        "left unacknowledged, and uncommitted records are redelivered and skipped by the "
        "high-water marks.",
    )
    worker_invalid_ratio_max: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Stop the worker when the share of invalid events over the guard window "
        "exceeds this (a bad deploy upstream, not bad luck). 1 disables the guard.",
    )
    worker_invalid_window: int = Field(
        default=10_000,
        ge=100,
        description="Events in the invalid-ratio guard's sliding window.",
    )
    worker_assign_by_backlog: bool = Field(
        default=True,
        description="When a rebalance finds a backlog, the group leader hands the topic's "
        "partitions out by backlog (end offset minus committed offset) rather than by count, "
        "so a catch-up is shared evenly even though keys (components) load partitions "
        "unevenly. Only when the busiest worker's share falls by 10% or more; otherwise the "
        "usual sticky, count-balanced assignment stands. See stream_processors.assignor.",
    )
    worker_assign_backlog_timeout_seconds: float = Field(
        default=2.0,
        gt=0,
        le=30,
        description="How long the group leader may spend reading the backlog when it assigns "
        "partitions (it blocks the leader's event loop meanwhile); past it, partitions are "
        "assigned by count.",
    )
    worker_web_port: int = Field(
        default=6066,
        ge=0,
        le=65535,
        description="Port of the worker's web server (/metrics, Faust's own pages); 0 disables it.",
    )
    worker_web_host: str = Field(default="127.0.0.1", description="Bind address of the web server.")
    worker_startup_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds to wait at start for ClickHouse, and for Kafka and the ingest "
        "topic; then (at once for a database not migrated) the worker exits with status 2, "
        "naming what is missing.",
    )
    worker_gc_threshold: int = Field(
        default=1_000_000,
        ge=700,
        description="Net allocations of container objects between young-generation garbage "
        "collections (Python's default is 700). Each collection walks every live young "
        "object, and the batches in flight keep about three per event alive (an id, the "
        "data arrays): a threshold below that collects them over and over (at 50,000, ~15% "
        "of a worker's CPU). Above it, a steady worker's freed batches keep the count low "
        "and collections are rare. Raise it with worker_batch_max_rows (about 3 x rows x "
        "(worker_batches_in_flight + 1)).",
    )
    worker_rollup_interval_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How often the worker rolls up settled, ended days for /v1/stats "
        "(storage.rollup); 0 never does (then run `eventpipe rollup` from cron).",
    )
    worker_data_dir: Path | None = Field(
        default=None,
        description="Faust's data directory. The worker keeps no Faust tables, so nothing is "
        "written there, but Faust creates it; unset: eventpipe-<group> under the system's "
        "temporary directory (never the working directory).",
    )
    worker_stream_buffer: int = Field(
        default=2_000,
        ge=1,
        description="Deliveries buffered per partition before Faust pauses fetching. The "
        "memory bound: this many times the larger of a record and worker_delivery_max_bytes.",
    )

    def data_dir(self) -> Path:
        """Where Faust may keep its (empty) data directory."""
        return (
            self.worker_data_dir or Path(tempfile.gettempdir()) / f"eventpipe-{self.worker_group}"
        )
