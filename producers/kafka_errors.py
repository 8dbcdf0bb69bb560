"""librdkafka's error reports: logged by kind, fatal ones end the producer, then listeners.

librdkafka reconnects and retries by itself, so most reports are news, not failures:
``_TRANSPORT`` (a connection dropped or refused; librdkafka logs those itself) goes to
debug, the rest to warning. A *fatal* error (``error.fatal()``, e.g. the idempotent producer
lost its sequence) means this producer can deliver nothing more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError

__all__ = ["KafkaErrors"]

_log = logging.getLogger("producers.kafka_errors")


class KafkaErrors:
    """The ``error_cb`` of a producer; runs in its poll thread."""

    def __init__(self, on_fatal: Callable[[Any], None]) -> None:
        self._on_fatal = on_fatal
        self._listeners: list[Callable[[Any], None]] = []

    def add_listener(self, listener: Callable[[Any], None]) -> None:
        self._listeners.append(listener)

    def __call__(self, error: Any) -> None:
        if error.fatal():
            _log.error("kafka producer failed: %s", error)
            self._on_fatal(error)
        elif error.code() == KafkaError._TRANSPORT:
            _log.debug("kafka: %s", error)
        else:
            _log.warning("kafka: %s", error)
        for listener in list(self._listeners):
            try:
                listener(error)
            except Exception:  # escaping, it would surface in poll() of another thread
                _log.exception("kafka error listener raised")
