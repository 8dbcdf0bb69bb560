"""Settings of the access-log receiver (``eventpipe access-logs``): ``EVENTPIPE_ACCESS_*``.

Two modes: a TCP server (the default) that any number of web servers or shippers stream
lines to, or, with ``access_follow``, a file follower reading one growing log file. The
producer's knobs (``EVENTPIPE_PRODUCER_*``) tune packing and delivery;
``producer_environment`` sets the events' environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from events.limits import MAX_EVENT_BYTES
from events.model import COMPONENT_PATTERN
from producers.settings import ProducerSettings

__all__ = ["AccessLogSettings"]


class AccessLogSettings(ProducerSettings):
    """Where lines come from, how much one line and one connection may hold."""

    access_component: str = Field(
        pattern=COMPONENT_PATTERN,
        description="Component of every access event (required): the web service logging.",
    )
    access_host: str = Field(default="127.0.0.1", description="Address the TCP server binds.")
    access_port: int = Field(
        default=5140, ge=0, le=65535, description="Port of the TCP server (0: any free port)."
    )
    access_max_connections: int = Field(
        default=1024, ge=1, description="Connections served at once; more are closed at once."
    )
    access_idle_timeout_seconds: float = Field(
        default=300.0, gt=0, description="Close a connection that sent nothing for this long."
    )
    access_shutdown_grace_seconds: float = Field(
        default=10.0,
        ge=0,
        description="On shutdown, how long connections may go on sending (each is ended "
        "once its client is quiet for a moment); what is still unread then is lost.",
    )
    access_max_line_bytes: int = Field(
        default=65_536,
        ge=256,
        le=MAX_EVENT_BYTES,
        description="Longest line; a longer one is dead-lettered (its first bytes kept).",
    )
    access_read_bytes: int = Field(
        default=65_536,
        ge=1_024,
        le=4 * 1024 * 1024,
        description="Bytes read at a time from a connection or file (also the per-connection "
        "buffer bound: a client that sends faster waits in TCP).",
    )
    access_follow: Path | None = Field(
        default=None, description="Follow this log file instead of serving TCP."
    )
    access_follow_from: Literal["start", "end"] = Field(
        default="start",
        description="Where to begin a file with no saved position: its start (nothing "
        "missed) or its end (only new lines).",
    )
    access_state_dir: Path = Field(
        default=Path(".state/access-logs"),
        description="Directory of the followed files' saved positions.",
    )
    access_poll_seconds: float = Field(
        default=0.25, gt=0, le=60, description="How often to look for new lines at the end."
    )
    access_checkpoint_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often the follower waits for Kafka and saves its position.",
    )
    access_rotate_wait_seconds: float = Field(
        default=1.0,
        ge=0,
        description="After a rename rotation, keep reading the old file until it has been "
        "quiet this long (the writer may not have reopened yet).",
    )
    access_startup_timeout: float = Field(
        default=30.0, gt=0, description="Seconds to wait for Kafka and the topic at start."
    )
    access_metrics_port: int | None = Field(
        default=None, ge=1, le=65535, description="Serve Prometheus /metrics on this port."
    )
    producer_client_id: str = Field(
        default="eventpipe-access-logs", min_length=1, description="Kafka client.id."
    )
