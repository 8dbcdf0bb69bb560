"""Start-up checks shared by the entry points: is Kafka there, does the topic exist."""

from __future__ import annotations

import time

from eventpipe.config import KafkaConnection
from eventpipe.kafka import describe_topics
from events.errors import FatalError

__all__ = ["StartupFailed", "wait_for_topic"]


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
