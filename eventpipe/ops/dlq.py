"""The dead-letter topic: count and read its letters (:mod:`eventpipe.ops.replay` replays them).

A dead letter's value is the original bytes of the offending line; its headers say why
(``eventpipe.reason.*``) and where it came from (``eventpipe.source.*``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from confluent_kafka import Consumer, Message, TopicPartition

from events.topics import (
    H_CODE,
    H_FIELD,
    H_LINE,
    H_MESSAGE,
    H_OFFSET,
    H_PARTITION,
    H_TIME,
    H_TOPIC,
    H_TRUNCATED,
    LOG_LINE_SOURCES,
)

__all__ = ["DeadLetterView", "as_json", "count_letters", "partition_ends", "read_letters"]


@dataclass(frozen=True)
class DeadLetterView:
    partition: int
    offset: int
    raw: bytes
    code: str
    field: str
    message: str
    source: str  # topic:partition:offset:line
    dead_lettered_ms: int
    truncated_from: int = 0  # the line's size when the letter holds only its start

    @property
    def is_log_line(self) -> bool:
        """A raw line of the access-log front door (its source is a connection or a file:
        events.topics.LOG_LINE_SOURCES), not an event."""
        return self.source.startswith(LOG_LINE_SOURCES)

    @classmethod
    def of(cls, msg: Message) -> DeadLetterView:
        h = {k: _text(v) for k, v in list(msg.headers() or [])}
        source = ":".join(h.get(k, "?") for k in (H_TOPIC, H_PARTITION, H_OFFSET, H_LINE))
        return cls(
            msg.partition() or 0, msg.offset() or 0, msg.value() or b"", h.get(H_CODE, "?"),
            h.get(H_FIELD, ""), h.get(H_MESSAGE, ""), source, int(h.get(H_TIME, "0") or 0),
            int(h.get(H_TRUNCATED, "0") or 0),
        )  # fmt: skip


def _text(value: str | bytes | None) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value or ""


def partition_ends(consumer: Consumer, topic: str, timeout: float) -> dict[int, tuple[int, int]]:
    """Each partition of ``topic`` with its low and high watermarks now. Blocking."""
    partitions = consumer.list_topics(topic, timeout=timeout).topics[topic].partitions
    return {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
        for p in partitions
    }


def _consume_to_end(
    consumer: Consumer,
    starts: Mapping[int, int],
    ends: Mapping[int, int],
    topic: str,
    timeout: float,
) -> Iterator[Message]:
    todo = {p: end for p, end in ends.items() if starts[p] < end}
    consumer.assign([TopicPartition(topic, p, starts[p]) for p in todo])
    deadline = time.monotonic() + timeout
    while todo:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{topic}: could not read partitions {sorted(todo)} to the end")
        for msg in consumer.consume(500, timeout=1.0):
            if msg.error() or msg.partition() not in todo:
                continue
            deadline = time.monotonic() + timeout
            yield msg
            if (msg.offset() or 0) + 1 >= todo[msg.partition() or 0]:
                todo.pop(msg.partition() or 0, None)


def count_letters(
    conf: Mapping[str, Any], dlq: str, *, by_reason: bool = False, timeout: float = 30.0
) -> Counter[str]:
    """Letters in the topic now: total under ``"total"``, and per reason code if asked."""
    consumer = Consumer({**conf, "group.id": "eventpipe-dlq-reader", "enable.auto.commit": False})
    try:
        ends = partition_ends(consumer, dlq, timeout)
        counts: Counter[str] = Counter(total=sum(high - low for low, high in ends.values()))
        if by_reason:
            starts = {p: lo for p, (lo, _) in ends.items()}
            stops = {p: hi for p, (_, hi) in ends.items()}
            for msg in _consume_to_end(consumer, starts, stops, dlq, timeout):
                counts[DeadLetterView.of(msg).code] += 1
        return counts
    finally:
        consumer.close()


def read_letters(
    conf: Mapping[str, Any],
    dlq: str,
    *,
    limit: int,
    reason: str | None = None,
    timeout: float = 30.0,
) -> list[DeadLetterView]:
    """Up to ``limit`` letters, oldest first per partition, optionally of one reason code."""
    consumer = Consumer({**conf, "group.id": "eventpipe-dlq-reader", "enable.auto.commit": False})
    out: list[DeadLetterView] = []
    try:
        ends = partition_ends(consumer, dlq, timeout)
        starts = {p: lo for p, (lo, _) in ends.items()}
        for msg in _consume_to_end(
            consumer, starts, {p: hi for p, (_, hi) in ends.items()}, dlq, timeout
        ):
            letter = DeadLetterView.of(msg)
            if reason is None or letter.code == reason:
                out.append(letter)
                if len(out) >= limit:
                    break
        return out
    finally:
        consumer.close()


def as_json(letter: DeadLetterView) -> bytes:
    return orjson.dumps(
        {
            "partition": letter.partition,
            "offset": letter.offset,
            "reason": {"code": letter.code, "field": letter.field, "message": letter.message},
            "source": letter.source,
            "dead_lettered_ms": letter.dead_lettered_ms,
            "raw": letter.raw.decode(errors="replace"),
            "truncated_from": letter.truncated_from or None,
        }
    )
