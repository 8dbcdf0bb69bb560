"""The dead-letter topic: count, read and replay its letters.

A dead letter's value is the original bytes of the offending line; its headers say why
(``eventpipe.reason.*``) and where it came from (``eventpipe.source.*``). Replaying
publishes each original line again, as a one-line record, to the ingest topic — after a
fix upstream — where it is validated again like any other record. Replay commits its
progress in its own consumer group, so running it twice does not publish twice.

A replay of every letter keeps its progress in :data:`REPLAY_GROUP`; a replay of one reason
code in ``<REPLAY_GROUP>.<code>``, so the letters of other reasons it passes over are still
there for a later replay. Each kind of run skips what the other has sent: a reason run starts
after both its own and the full replay's progress; a full run skips a letter its reason's
group has passed (counted as ``replayed_before``).

Letters of the access-log front door hold raw log lines, not events: published to the
ingest topic they could only fail again, as ``bad_json``, with their provenance lost. Replay
leaves them (counted as ``log_lines``); feed the lines to ``eventpipe access-logs`` again.
It also leaves letters holding only the start of a line too large for Kafka (header
``eventpipe.raw.truncated_from``; counted as ``truncated``): the whole line is in its source
topic, and it is over the event size limit anyway.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition

from eventpipe.kafka import durable_producer_config
from events.errors import FatalError
from events.model import COMPONENT_PATTERN
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

__all__ = [
    "CHECKPOINT",
    "REPLAY_GROUP",
    "DeadLetterView",
    "ReplayFailed",
    "as_json",
    "count_letters",
    "read_letters",
    "replay_key",
    "replay_letters",
]

REPLAY_GROUP = "eventpipe-dlq-replay"
H_REPLAYED_FROM = "eventpipe.replayed_from"
_COMPONENT_NAME = re.compile(COMPONENT_PATTERN)  # with fullmatch: "a\n" is no name
_COMPONENT = re.compile(rb'"component"\s*:\s*"(' + COMPONENT_PATTERN.strip("^$").encode() + rb')"')


class ReplayFailed(FatalError):
    """Kafka refused a replayed letter; progress is saved up to it, so a run after the fix
    (a topic's ``max.message.bytes``, an ACL, ...) resumes there."""


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


def _ends(consumer: Consumer, topic: str, timeout: float) -> dict[int, tuple[int, int]]:
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
        ends = _ends(consumer, dlq, timeout)
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
        ends = _ends(consumer, dlq, timeout)
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


def replay_letters(
    conf: Mapping[str, Any],
    dlq: str,
    ingest: str,
    *,
    reason: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] = lambda done, total: None,
    timeout: float = 30.0,
) -> Counter[str]:
    """Publish the letters not replayed before back to ``ingest``. Blocking.

    Progress is committed every :data:`CHECKPOINT` letters, each time only after Kafka
    acknowledged everything sent so far, so an interrupted replay resumes without
    publishing anything twice. Returns counts ``replayed``, ``skipped`` (other reasons),
    ``replayed_before`` (by a replay of their reason), ``log_lines`` (raw access-log lines,
    never replayed: see the module's text) and ``truncated`` (letters holding only the start
    of a line too large for Kafka). Raises :class:`ReplayFailed` when Kafka refused a letter.
    """
    group = REPLAY_GROUP if reason is None else f"{REPLAY_GROUP}.{reason}"
    consumer = Consumer({**conf, "group.id": group, "enable.auto.commit": False})
    producer = Producer(durable_producer_config(conf))
    counts: Counter[str] = Counter(replayed=0, skipped=0, log_lines=0, truncated=0)
    refused: dict[int, tuple[int, str]] = {}  # dlq partition -> first refused offset, why
    try:
        ends = _ends(consumer, dlq, timeout)
        starts = _resume_points(consumer, dlq, ends, timeout)
        if reason is not None:  # what a replay of every letter sent is done, whatever its code
            passed = _committed(conf, REPLAY_GROUP, dlq, ends, timeout)
            starts = {p: max(start, passed[p]) for p, start in starts.items()}
        by_reason = _ReasonProgress(conf, dlq, ends, timeout)
        total = sum(max(ends[p][1] - starts[p], 0) for p in ends)
        reached: dict[int, int] = {}
        for done, msg in enumerate(
            _consume_to_end(consumer, starts, {p: hi for p, (_, hi) in ends.items()}, dlq, timeout),
            1,
        ):
            letter = DeadLetterView.of(msg)
            if reason is not None and letter.code != reason:
                counts["skipped"] += 1
            elif letter.is_log_line:
                counts["log_lines"] += 1
            elif letter.truncated_from:
                counts["truncated"] += 1
            elif reason is None and by_reason.passed(letter):
                counts["replayed_before"] += 1
            else:
                counts["replayed"] += 1
                if not dry_run:
                    _republish(producer, ingest, msg, refused)
            reached[letter.partition] = letter.offset + 1
            progress(done, total)
            if refused:
                break  # stop at Kafka's first refusal: the checkpoint says which and why
            if not dry_run and done % CHECKPOINT == 0:
                _checkpoint(consumer, producer, dlq, reached, refused, timeout)
        if not dry_run:
            _checkpoint(consumer, producer, dlq, reached, refused, timeout)
        return counts
    except BaseException:
        # Interrupted (Ctrl-C, an error): save the progress made since the last checkpoint,
        # or the next run sends those letters again, and events without an id of their own
        # would be stored twice (their id derives from the new record's offset).
        if not dry_run and reached:
            with contextlib.suppress(Exception):  # not acknowledged: left for the next run
                _checkpoint(consumer, producer, dlq, reached, refused, timeout)
        raise
    finally:
        consumer.close()


CHECKPOINT = 1_000


def _resume_points(
    consumer: Consumer, dlq: str, ends: Mapping[int, tuple[int, int]], timeout: float
) -> dict[int, int]:
    committed = consumer.committed([TopicPartition(dlq, p) for p in ends], timeout=timeout)
    low = {p: lo for p, (lo, _) in ends.items()}
    return {tp.partition: max(tp.offset, low[tp.partition]) for tp in committed}


def _committed(
    conf: Mapping[str, Any], group: str, dlq: str, partitions: Iterable[int], timeout: float
) -> dict[int, int]:
    """The offsets ``group`` committed on ``dlq`` (negative where none), without joining it."""
    consumer = Consumer({**conf, "group.id": group, "enable.auto.commit": False})
    try:
        wanted = [TopicPartition(dlq, p) for p in partitions]
        return {tp.partition: tp.offset for tp in consumer.committed(wanted, timeout=timeout)}
    finally:
        consumer.close()


class _ReasonProgress:
    """How far the replays of each reason code got, looked up once per code seen."""

    def __init__(
        self, conf: Mapping[str, Any], dlq: str, partitions: Iterable[int], timeout: float
    ) -> None:
        self._args = (conf, dlq, list(partitions), timeout)
        self._of: dict[str, dict[int, int]] = {}

    def passed(self, letter: DeadLetterView) -> bool:
        if letter.code not in self._of:
            conf, dlq, partitions, timeout = self._args
            group = f"{REPLAY_GROUP}.{letter.code}"
            self._of[letter.code] = _committed(conf, group, dlq, partitions, timeout)
        return letter.offset < self._of[letter.code].get(letter.partition, -1)


def _checkpoint(
    consumer: Consumer,
    producer: Producer,
    dlq: str,
    reached: Mapping[int, int],
    refused: Mapping[int, tuple[int, str]],
    timeout: float,
) -> None:
    if producer.flush(timeout):
        raise TimeoutError("replayed records were not all acknowledged; progress not saved")
    # A refused letter and those after it in its partition stay for the next run.
    upto = {p: min(o, refused[p][0]) if p in refused else o for p, o in reached.items()}
    if upto:
        offsets = [TopicPartition(dlq, p, o) for p, o in upto.items()]
        consumer.commit(offsets=offsets, asynchronous=False)
    if refused:
        p, (offset, why) = min(refused.items())
        raise ReplayFailed(
            f"Kafka refused letter {dlq}:{p}:{offset}: {why}; progress saved up to it: "
            "run the replay again once that is fixed"
        )


def replay_key(raw: bytes) -> bytes | None:
    """The Kafka key a replayed line goes out with: its event's component, so it joins its
    component's partition. The top-level ``component`` of a line that parses (a pattern
    would find a ``"component"`` nested in ``data`` first, when ``data`` comes first); the
    first well-formed ``"component": "..."`` of one that does not; else none."""
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError:
        match = _COMPONENT.search(raw)
        return match.group(1) if match else None
    component = event.get("component") if isinstance(event, dict) else None
    if isinstance(component, str) and _COMPONENT_NAME.fullmatch(component):
        return component.encode()
    return None


def _republish(
    producer: Producer, ingest: str, msg: Message, refused: dict[int, tuple[int, str]]
) -> None:
    raw = msg.value() or b""
    key = replay_key(raw)
    partition, offset = msg.partition() or 0, msg.offset() or 0
    origin = f"{msg.topic()}:{partition}:{offset}".encode()

    def delivered(error: KafkaError | None, _msg: Message) -> None:
        # flush() counts a refused record as done: without this it would be "replayed".
        if error is not None and offset < refused.get(partition, (offset + 1, ""))[0]:
            refused[partition] = (offset, error.str())

    while True:
        try:
            producer.produce(
                ingest, value=raw, key=key, headers=[(H_REPLAYED_FROM, origin)],
                on_delivery=delivered,
            )  # fmt: skip
            producer.poll(0)  # serve the delivery reports that are in
            return
        except BufferError:
            producer.poll(0.5)


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
