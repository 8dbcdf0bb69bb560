"""The one external system of the producer: a Kafka producer handle.

:class:`KafkaClient` is the small part of ``confluent_kafka.Producer`` we use;
:class:`producers.memory.MemoryKafka` is its in-memory twin for tests.
:func:`librdkafka_config` turns settings into the handle's configuration.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from confluent_kafka import Producer

from eventpipe.kafka import durable_producer_config
from producers.settings import ProducerSettings

__all__ = [
    "KAFKA_LOGGER",
    "DeliveryCallback",
    "KafkaClient",
    "create_kafka_client",
    "librdkafka_config",
]

#: librdkafka's own log lines go here (served by poll()), never straight to stderr.
KAFKA_LOGGER = "producers.kafka"

#: ``(error, message)``: ``error`` is a ``KafkaError`` or ``None`` on success.
DeliveryCallback = Callable[[Any, Any], None]

# The broker's default message.max.bytes; a packed record may be up to MAX_RECORD_BYTES plus
# framing, which librdkafka's own default (1,000,000) would reject.
_MESSAGE_MAX_BYTES = 1_048_588


class KafkaClient(Protocol):
    """What the producer needs from Kafka. Thread-safe; ``produce`` never blocks."""

    def produce(self, topic: str, value: bytes, key: str, *, on_delivery: DeliveryCallback) -> None:
        """Queue a record; raises ``BufferError`` when the local queue is full."""

    def poll(self, timeout: float) -> int:
        """Serve delivery callbacks (in the calling thread); wait up to ``timeout`` s."""

    def flush(self, timeout: float) -> int:
        """Wait until the queue is empty or ``timeout`` passes; return records left."""

    def purge(self) -> None:
        """Drop every queued and in-flight record; their callbacks report the purge."""

    def __len__(self) -> int:
        """Records queued or in flight."""


def librdkafka_config(settings: ProducerSettings) -> dict[str, Any]:
    """confluent-kafka configuration: durable, ordered, compressed, Java-compatible keys."""
    # Idempotence implies acks=all and in-order retries: a retried batch can neither
    # duplicate nor overtake the one after it, so order within a component holds.
    conf = durable_producer_config(settings.librdkafka_security())
    conf |= {
        "client.id": settings.producer_client_id,
        "compression.type": settings.producer_compression,
        "linger.ms": settings.producer_kafka_linger_ms,
        "batch.size": settings.producer_batch_bytes,
        "message.max.bytes": _MESSAGE_MAX_BYTES,
        "queue.buffering.max.kbytes": settings.producer_queue_kbytes,
        # The byte bound above binds first; a message bound would bite one-event records.
        "queue.buffering.max.messages": 1_000_000,
        "message.timeout.ms": settings.producer_delivery_timeout_ms,
    }
    conf.update(settings.producer_librdkafka)
    return conf


def create_kafka_client(
    settings: ProducerSettings,
    *,
    on_error: Callable[[Any], None],
    extra: Mapping[str, Any] | None = None,
) -> KafkaClient:
    """A confluent-kafka producer; ``on_error(KafkaError)`` runs from poll().

    ``extra`` adds options that cannot come from the environment (``stats_cb``, ...).
    Does not connect yet: connecting happens in librdkafka's threads, so this never blocks.
    """
    conf = librdkafka_config(settings)
    conf["error_cb"] = on_error
    conf["logger"] = logging.getLogger(KAFKA_LOGGER)
    conf.update(extra or {})
    client: KafkaClient = Producer(conf)
    return client
