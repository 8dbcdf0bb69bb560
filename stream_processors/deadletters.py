"""Where invalid lines go: the :class:`DeadLetters` interface, Kafka, and a memory twin.

A dead letter is the original bytes of the offending line (or the empty record) with its
reason and provenance as headers (names in :mod:`events.topics`); a line too large for
Kafka is cut (:func:`events.topics.dead_letter_value`), and a letter the topic refuses
for its size (a ``max.message.bytes`` under Kafka's default) is sent again on its own,
then without its line. ``publish`` blocks until Kafka acknowledged every letter, because
the source record is acknowledged right after: a letter that was not durable would be lost.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

from confluent_kafka import KafkaError, Message, Producer

from eventpipe.kafka import durable_producer_config
from events.errors import RetryableError
from events.topics import H_TRUNCATED, dead_letter_headers, dead_letter_value
from stream_processors.decode import DeadLetter

__all__ = ["DeadLetters", "KafkaDeadLetters", "MemoryDeadLetters", "headers_of"]


class DeadLetters(Protocol):
    def publish(self, letters: Sequence[DeadLetter]) -> None:
        """Send every letter and wait until all are durable. Blocking.

        Raises :class:`RetryableError` when Kafka did not acknowledge all of them; the
        caller retries the whole list (the dead-letter topic is at-least-once).
        """


def headers_of(letter: DeadLetter, now_ms: int) -> list[tuple[str, str | bytes | None]]:
    return dead_letter_headers(
        letter.reason,
        source=letter.topic,
        partition=letter.partition,
        offset=letter.offset,
        line=letter.line,
        now_ms=now_ms,
    )


class KafkaDeadLetters:
    """Dead letters on ``<topic>.dlq`` through an idempotent confluent-kafka producer."""

    def __init__(self, conf: dict[str, Any], topic: str, *, timeout: float = 30.0) -> None:
        self._topic = topic
        self._timeout = timeout
        self._producer = Producer(durable_producer_config(conf, **{"linger.ms": 5}))

    def publish(self, letters: Sequence[DeadLetter]) -> None:
        failures: list[KafkaError] = []
        too_large: list[DeadLetter] = []

        def delivered(letter: DeadLetter) -> Any:
            def note(err: KafkaError | None, _msg: Message) -> None:
                if err is None:
                    return
                if err.code() == KafkaError.MSG_SIZE_TOO_LARGE:
                    too_large.append(letter)
                else:
                    failures.append(err)

            return note

        now_ms = int(time.time() * 1000)
        for letter in letters:
            self._produce(letter, now_ms, delivered(letter))
        remaining = self._producer.flush(self._timeout)
        if not (remaining or failures):
            # The topic's max.message.bytes is under what we sent (a batch of letters, or
            # one): each refused letter again on its own, then, if still refused, without
            # its line (H_TRUNCATED says how long it was; the line stays at its source).
            # Retrying the same batch would be refused for good, stalling the worker.
            for letter in too_large:
                alone = self._alone(letter, now_ms, whole=True)
                if not alone and not self._alone(letter, now_ms, whole=False):
                    failures.append(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
        if remaining or failures:
            first = failures[0] if failures else "timed out"
            raise RetryableError(
                f"{len(failures) + remaining} of {len(letters)} dead letters not delivered: {first}"
            )

    def _alone(self, letter: DeadLetter, now_ms: int, *, whole: bool) -> bool:
        """Send one letter and wait for it; whether it was delivered. ``whole=False``
        sends it without its line. Raises RetryableError when Kafka did not answer."""
        errors: list[KafkaError] = []

        def note(err: KafkaError | None, _msg: Message) -> None:
            if err is not None:
                errors.append(err)

        self._produce(letter, now_ms, note, whole=whole)
        if self._producer.flush(self._timeout):
            raise RetryableError("a dead letter sent on its own was not acknowledged in time")
        if errors and errors[0].code() != KafkaError.MSG_SIZE_TOO_LARGE:
            raise RetryableError(f"a dead letter not delivered: {errors[0]}")
        return not errors

    def _produce(
        self, letter: DeadLetter, now_ms: int, on_delivery: Any, *, whole: bool = True
    ) -> None:
        value, cut = dead_letter_value(letter.raw)
        if not whole:
            value, cut = b"", [(H_TRUNCATED, str(len(letter.raw)).encode())]
        while True:
            try:
                self._producer.produce(
                    self._topic,
                    value=value,
                    key=f"{letter.topic}:{letter.partition}".encode(),
                    headers=headers_of(letter, now_ms) + cut,
                    on_delivery=on_delivery,
                )
                return
            except BufferError:  # local queue full: let deliveries drain, then go on
                self._producer.poll(0.5)

    def close(self) -> None:
        self._producer.flush(self._timeout)


class MemoryDeadLetters:
    """The in-memory twin for unit tests."""

    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []
        self.fail_next = 0

    def publish(self, letters: Sequence[DeadLetter]) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise RetryableError("memory dead letters told to fail")
        self.letters.extend(letters)

    def close(self) -> None:
        return None
