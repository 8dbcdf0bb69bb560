"""Dead letters of the front doors: input that is not an event, on ``<topic>.dlq``.

The same record form as the stream processors' dead letters (see
``stream_processors/deadletters.py``), so one tool reads both: the value is the original
bytes of the offending line, the headers (names in :mod:`events.topics`) carry the reason
— a contract reason code, the field and a message — and the provenance. A front door's
input is not a Kafka partition, so the provenance headers read:

================================  ===============================================
``eventpipe.source.topic``        where the line came from: ``tcp://10.0.0.7:51234``,
                                  ``file:///var/log/nginx/access.log``,
                                  ``postgres:eventpipe_outbox``
``eventpipe.source.partition``    ``-1``
``eventpipe.source.offset``       byte offset of the line in its stream or file (the row
                                  id for the outbox)
``eventpipe.source.line``         1-based line number in the connection or file
================================  ===============================================

:class:`KafkaDeadLetters` never blocks the event loop: ``publish`` queues the letter in
librdkafka and returns (waiting with ``asyncio.sleep`` while the local queue is full);
``flush`` waits for the acknowledgements in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from confluent_kafka import Producer

from eventpipe.config import KafkaConnection
from eventpipe.kafka import durable_producer_config
from events.errors import InvalidEvent, RetryableError
from events.topics import dead_letter_headers, dead_letter_value, dlq_topic

__all__ = [
    "DeadLetterStats",
    "DeadLetters",
    "KafkaDeadLetters",
    "MemoryDeadLetters",
    "Rejected",
    "headers_of",
]

_log = logging.getLogger("front_doors.deadletters")
_FULL_BACKOFF = 0.01


@dataclass(frozen=True, slots=True)
class Rejected:
    """One line that is not an event, why, and where it came from."""

    raw: bytes
    reason: InvalidEvent
    source: str
    offset: int
    line: int


class DeadLetterStats(NamedTuple):
    published: int  #: handed to Kafka
    delivered: int  #: acknowledged
    failed: int  #: reported failed by Kafka (logged with the reason)


class DeadLetters(Protocol):
    async def publish(self, letter: Rejected) -> None:
        """Queue one letter; returns without waiting for Kafka (see :meth:`flush`)."""

    async def flush(self, timeout: float) -> None:  # noqa: ASYNC109 - bounds a blocking flush
        """Wait until every queued letter is acknowledged; ``RetryableError`` if not."""

    def stats(self) -> DeadLetterStats: ...

    async def close(self, timeout: float) -> None:  # noqa: ASYNC109 - bounds a blocking flush
        """Flush (as :meth:`flush`), then release the client. Call once, at shutdown."""


def headers_of(letter: Rejected, now_ms: int) -> list[tuple[str, str | bytes | None]]:
    """The dead-letter headers of ``letter`` (see the module docstring)."""
    return dead_letter_headers(
        letter.reason,
        source=letter.source,
        partition=-1,
        offset=letter.offset,
        line=letter.line,
        now_ms=now_ms,
    )


class KafkaDeadLetters:
    """Letters on ``dlq_topic(settings.topic)``, keyed by ``key`` (the component)."""

    def __init__(self, settings: KafkaConnection, *, key: str, client_id: str) -> None:
        self._topic = dlq_topic(settings.topic)
        self._key = key.encode()
        self._lock = threading.Lock()
        self._published = self._delivered = self._failed = 0
        self._producer = Producer(
            durable_producer_config(
                settings.librdkafka_security(),
                **{"client.id": f"{client_id}-dlq", "linger.ms": 20},
            )
        )

    async def publish(self, letter: Rejected) -> None:
        value, cut = dead_letter_value(letter.raw)
        headers = headers_of(letter, time.time_ns() // 1_000_000) + cut
        while True:
            try:
                self._producer.produce(
                    self._topic, value, self._key, headers=headers, on_delivery=self._done
                )
                break
            except BufferError:  # local queue full: let deliveries drain, never block the loop
                self._producer.poll(0)
                await asyncio.sleep(_FULL_BACKOFF)
        self._published += 1
        self._producer.poll(0)  # serve delivery reports that are ready; never waits

    async def flush(self, timeout: float) -> None:  # noqa: ASYNC109 - bounds a blocking flush
        left = await asyncio.to_thread(self._producer.flush, timeout)
        if left:
            raise RetryableError(f"{left} dead letter(s) not acknowledged after {timeout:g} s")

    async def close(self, timeout: float) -> None:  # noqa: ASYNC109 - bounds a blocking flush
        try:
            await self.flush(timeout)
        finally:
            await asyncio.to_thread(self._producer.close)

    def stats(self) -> DeadLetterStats:
        with self._lock:
            return DeadLetterStats(self._published, self._delivered, self._failed)

    def _done(self, error: Any, message: Any) -> None:
        # Runs in whichever thread polls (the loop's or flush()'s worker thread).
        with self._lock:
            if error is None:
                self._delivered += 1
                return
            self._failed += 1
        _log.error("dead letter not delivered to %s: %s", self._topic, error)


class MemoryDeadLetters:
    """The in-memory twin for unit tests: :attr:`letters` in publish order."""

    def __init__(self) -> None:
        self.letters: list[Rejected] = []

    async def publish(self, letter: Rejected) -> None:
        self.letters.append(letter)

    async def flush(self, timeout: float) -> None:  # noqa: ASYNC109 - mirrors the protocol
        return None

    def stats(self) -> DeadLetterStats:
        n = len(self.letters)
        return DeadLetterStats(n, n, 0)

    async def close(self, timeout: float) -> None:  # noqa: ASYNC109 - mirrors the protocol
        return None
