"""An in-memory twin of the Kafka producer handle, for tests and dry runs.

Behaves like ``confluent_kafka.Producer`` where the producer relies on it: ``produce`` queues
and raises ``BufferError`` past ``capacity`` records; delivery callbacks run from ``poll`` /
``flush`` in the calling thread. ``available = False`` is a broker that is down (nothing is
delivered, nothing fails); ``fail_with`` makes every delivery fail with that reason.
"""

from __future__ import annotations

import builtins
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from confluent_kafka import KafkaError

from producers.kafka import DeliveryCallback

__all__ = ["MemoryKafka", "MemoryKafkaError", "MemoryMessage"]


@dataclass(frozen=True)
class MemoryMessage:
    """The parts of ``confluent_kafka.Message`` delivery callbacks read."""

    _topic: str
    _key: str
    _value: bytes
    _offset: int

    def topic(self) -> str:
        return self._topic

    def key(self) -> bytes:
        return self._key.encode()

    def value(self) -> bytes:
        return self._value

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def error(self) -> None:
        return None


@dataclass(frozen=True)
class MemoryKafkaError:
    """The parts of ``confluent_kafka.KafkaError`` the producer reads."""

    reason: builtins.str
    is_retriable: bool = False
    is_fatal: bool = False

    def str(self) -> builtins.str:
        return self.reason

    def name(self) -> builtins.str:
        return "_MEMORY"

    def code(self) -> int:
        return KafkaError._FAIL  # a generic local failure: the handler reads codes

    def retriable(self) -> bool:
        return self.is_retriable

    def fatal(self) -> bool:
        return self.is_fatal

    def __str__(self) -> builtins.str:
        return self.reason


class MemoryKafka:
    """Records per topic in :attr:`topics`; see the module docstring. Thread-safe."""

    def __init__(self, *, capacity: int | None = None) -> None:
        self.capacity = capacity
        self.available = True
        self.fail_with: str | None = None
        self.topics: dict[str, list[MemoryMessage]] = defaultdict(list)
        self._queue: list[tuple[MemoryMessage, DeliveryCallback]] = []
        self._offsets: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def produce(self, topic: str, value: bytes, key: str, *, on_delivery: DeliveryCallback) -> None:
        with self._lock:
            if self.capacity is not None and len(self._queue) >= self.capacity:
                raise BufferError("Local: Queue full")
            offset = self._offsets[topic]
            self._offsets[topic] = offset + 1
            self._queue.append((MemoryMessage(topic, key, value, offset), on_delivery))

    def poll(self, timeout: float = 0.0) -> int:
        with self._lock:
            if not self.available:
                batch = []
            else:
                batch, self._queue = self._queue, []
                if self.fail_with is None:
                    for message, _ in batch:
                        self.topics[message.topic()].append(message)
        error = None if self.fail_with is None else MemoryKafkaError(self.fail_with)
        for message, callback in batch:
            callback(error, message)
        if not batch and timeout > 0:
            time.sleep(min(timeout, 0.01))
        return len(batch)

    def flush(self, timeout: float = -1) -> int:
        deadline = time.monotonic() + (timeout if timeout >= 0 else 1e9)
        self.poll(0)
        while len(self) and time.monotonic() < deadline:
            self.poll(0.01)
        return len(self)

    def purge(self) -> None:
        with self._lock:
            batch, self._queue = self._queue, []
        error = MemoryKafkaError("Local: Purged in queue")
        for message, callback in batch:
            callback(error, message)

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)

    def values(self, topic: str) -> list[bytes]:
        """The values delivered to ``topic``, in order."""
        return [message.value() for message in self.topics[topic]]
