"""Start-up helpers shared by the front doors: bounded waits for dependencies, stop signals.

Entry points wait (bounded) for what they need before building anything, so a front door
started together with the services does not crash-loop, and one started against a wrong
address says so plainly instead of hanging.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from eventpipe.config import KafkaConnection
from eventpipe.kafka import describe_topics
from events.errors import FatalError

__all__ = ["StartupFailed", "stop_on_signals", "wait_for_topic"]

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StartupFailed(FatalError):
    """A dependency did not answer in time, or is missing (e.g. the topic)."""


def wait_for_topic(settings: KafkaConnection, timeout: float) -> None:
    """Wait until Kafka answers and the ingest topic exists. Blocking.

    Raises :class:`StartupFailed` naming the problem after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    conf = settings.librdkafka_security()
    while True:
        try:
            if describe_topics(conf, [settings.topic], timeout=5.0):
                return
            problem = f"topic {settings.topic} does not exist (run `eventpipe topics create`)"
        except Exception as exc:  # KafkaException: the broker is not reachable yet
            problem = f"Kafka at {settings.kafka_bootstrap} not reachable: {exc}"
        if time.monotonic() >= deadline:
            raise StartupFailed(problem)
        time.sleep(0.5)


@contextmanager
def stop_on_signals(loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> Iterator[None]:
    """Call ``stop()`` on SIGINT/SIGTERM while the block runs (main thread only)."""
    for sig in _STOP_SIGNALS:
        loop.add_signal_handler(sig, stop)
    try:
        yield
    finally:
        for sig in _STOP_SIGNALS:
            loop.remove_signal_handler(sig)
