"""The shared event contract: models, codec, topics, errors, JSON Schema.

Pure: imports no Kafka, Faust, ClickHouse or HTTP code, and nothing else of eventpipe's.
Producers, stream processors and the read API all import it.
"""

from events.codec import decode, derive_event_id, encode, iter_lines, pack_lines
from events.errors import (
    REASON_CODES,
    EventpipeError,
    FatalError,
    InvalidEvent,
    InvalidRatioExceeded,
    ReasonCode,
    RetryableError,
    SinkUnavailable,
)
from events.model import KINDS, SEVERITIES, Event, Http, Kind, Severity
from events.topics import DEFAULT_INGEST_TOPIC, dlq_topic

__all__ = [
    "DEFAULT_INGEST_TOPIC",
    "KINDS",
    "REASON_CODES",
    "SEVERITIES",
    "Event",
    "EventpipeError",
    "FatalError",
    "Http",
    "InvalidEvent",
    "InvalidRatioExceeded",
    "Kind",
    "ReasonCode",
    "RetryableError",
    "Severity",
    "SinkUnavailable",
    "decode",
    "derive_event_id",
    "dlq_topic",
    "encode",
    "iter_lines",
    "pack_lines",
]
