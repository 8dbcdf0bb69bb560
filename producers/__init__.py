"""Producers: how Python services publish events to eventpipe.

* :class:`EventProducer` — the client: ``emit(event)``, ``log``, ``error``, ``event``,
  ``access``, ``bind(component)``; validated, packed into NDJSON records per component,
  delivered by an idempotent confluent-kafka producer, failures reported.
* :class:`AsyncEventProducer` — the asyncio twin: awaitables resolve on acknowledgement.
* :class:`EventHandler` — a ``logging.Handler`` shipping log records as events.
* :mod:`producers.simulator` — simulated services: the demo and the load generator.

See ``docs/producers.md``.
"""

from producers.aio import AsyncEventProducer
from producers.client import EventProducer
from producers.delivery import DeliveryFailure, ProducerStats
from producers.errors import (
    DeliveryFailed,
    FlushTimeout,
    ProducerClosed,
    ProducerError,
    ProducerFailed,
    QueueFull,
)
from producers.handler import EventHandler
from producers.helpers import BoundEmitter
from producers.memory import MemoryKafka
from producers.room import RoomWait
from producers.settings import ProducerSettings, SimulatorSettings

__all__ = [
    "AsyncEventProducer",
    "BoundEmitter",
    "DeliveryFailed",
    "DeliveryFailure",
    "EventHandler",
    "EventProducer",
    "FlushTimeout",
    "MemoryKafka",
    "ProducerClosed",
    "ProducerError",
    "ProducerFailed",
    "ProducerSettings",
    "ProducerStats",
    "QueueFull",
    "RoomWait",
    "SimulatorSettings",
]
