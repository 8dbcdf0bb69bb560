"""Kafka topic names and the dead-letter header names, shared by every client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from events.limits import MAX_LETTER_BYTES

if TYPE_CHECKING:
    from events.errors import InvalidEvent

__all__ = [
    "DEFAULT_INGEST_TOPIC",
    "DLQ_HEADERS",
    "DLQ_SUFFIX",
    "H_CODE",
    "H_FIELD",
    "H_LINE",
    "H_MESSAGE",
    "H_OFFSET",
    "H_PARTITION",
    "H_TIME",
    "H_TOPIC",
    "H_TRUNCATED",
    "LOG_LINE_SOURCES",
    "SOURCE_FILE",
    "SOURCE_TCP",
    "dead_letter_headers",
    "dead_letter_value",
    "dlq_topic",
]

DEFAULT_INGEST_TOPIC: Final = "eventpipe.events"
DLQ_SUFFIX: Final = ".dlq"

# Headers of a dead letter; the value is the original bytes of the offending line.
H_CODE: Final = "eventpipe.reason.code"
H_FIELD: Final = "eventpipe.reason.field"
H_MESSAGE: Final = "eventpipe.reason.message"
H_TOPIC: Final = "eventpipe.source.topic"
H_PARTITION: Final = "eventpipe.source.partition"
H_OFFSET: Final = "eventpipe.source.offset"
H_LINE: Final = "eventpipe.source.line"
H_TIME: Final = "eventpipe.dead_lettered_at"
DLQ_HEADERS: Final = (H_CODE, H_FIELD, H_MESSAGE, H_TOPIC, H_PARTITION, H_OFFSET, H_LINE, H_TIME)
# Only on a letter whose line was cut to MAX_LETTER_BYTES: the line's real size.
H_TRUNCATED: Final = "eventpipe.raw.truncated_from"

# How the access-log front door names a letter's source (H_TOPIC): the connection or the
# file a raw log line came from. Such letters hold log lines, never events.
SOURCE_TCP: Final = "tcp://"
SOURCE_FILE: Final = "file://"
LOG_LINE_SOURCES: Final = (SOURCE_TCP, SOURCE_FILE)


def dlq_topic(ingest_topic: str) -> str:
    """The dead-letter topic of an ingest topic: ``<ingest topic>.dlq``."""
    return ingest_topic + DLQ_SUFFIX


def dead_letter_headers(
    reason: InvalidEvent, *, source: str, partition: int, offset: int, line: int, now_ms: int
) -> list[tuple[str, str | bytes | None]]:
    """The headers of a dead letter: why (reason code, field, message) and where from.

    The one definition every writer of ``<topic>.dlq`` uses (workers, front doors), so
    one tool (``eventpipe dlq``) reads them all.
    """
    return [
        (H_CODE, reason.code.encode()),
        (H_FIELD, reason.field.encode()),
        (H_MESSAGE, reason.message.encode()),
        (H_TOPIC, source.encode()),
        (H_PARTITION, str(partition).encode()),
        (H_OFFSET, str(offset).encode()),
        (H_LINE, str(line).encode()),
        (H_TIME, str(now_ms).encode()),
    ]


def dead_letter_value(raw: bytes) -> tuple[bytes, list[tuple[str, str | bytes | None]]]:
    """What a dead letter carries for the line ``raw``, and the header saying it was cut.

    A line over :data:`~events.limits.MAX_LETTER_BYTES` (only ever a ``too_large`` one; a
    broker takes a compressed record far larger than its bytes) is cut to that many bytes,
    with :data:`H_TRUNCATED` giving its size: Kafka would refuse the whole letter, and a
    worker that could not write it would stop at that record for good. The whole line stays
    in its source topic, at the offset the letter names.
    """
    if len(raw) <= MAX_LETTER_BYTES:
        return raw, []
    return raw[:MAX_LETTER_BYTES], [(H_TRUNCATED, str(len(raw)).encode())]
