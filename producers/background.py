"""The producer's two background threads.

* :class:`Poller` serves librdkafka's callbacks (delivery reports, errors, its log lines)
  as soon as they arrive, so awaiting coroutines and callers waiting for room in a full
  queue wake without delay and nothing piles up. Outside ``flush``/``close`` it is the only
  thread that serves them.
* :class:`Lingerer` ships partly filled records once their linger time has passed; it sleeps
  until the oldest open record is due, or without a deadline when none is open.

Both are daemon threads: a producer that is never closed cannot hang interpreter exit
(the producer's own ``atexit`` hook flushes it instead).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from time import monotonic

from producers.kafka import KafkaClient
from producers.packer import RecordPacker

__all__ = ["Lingerer", "Poller"]

_log = logging.getLogger("producers.background")
_POLL_TIMEOUT = 0.2


class Poller(threading.Thread):
    """Calls ``kafka.poll`` and then ``after_poll(callbacks served)`` until stopped."""

    def __init__(self, kafka: KafkaClient, name: str, after_poll: Callable[[int], None]) -> None:
        super().__init__(name=f"{name}-poll", daemon=True)
        self._kafka = kafka
        self._after_poll = after_poll
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._after_poll(self._kafka.poll(_POLL_TIMEOUT))
            except Exception:  # a callback raised: keep serving the others
                _log.exception("error in a kafka callback")

    def stop(self) -> None:
        """Stop and wait (at most one poll timeout); then serve what is left."""
        self._stopping.set()
        if self.is_alive() and threading.current_thread() is not self:  # close() in a callback
            self.join()
        self._after_poll(self._kafka.poll(0))


class Lingerer(threading.Thread):
    """Ships records whose linger has passed, until stopped."""

    def __init__(self, packer: RecordPacker, name: str) -> None:
        super().__init__(name=f"{name}-linger", daemon=True)
        self._packer = packer
        self._wake = threading.Event()
        self._stopping = False

    def run(self) -> None:
        while not self._stopping:
            # Clear before looking, so a record opened meanwhile sets the flag again.
            self._wake.clear()
            try:
                due = self._packer.ship_due(monotonic())
            except Exception:  # a bug; keep lingering rather than strand open records
                _log.exception("shipping lingering records failed")
                due = monotonic() + _POLL_TIMEOUT
            self._wake.wait(None if due is None else max(0.0, due - monotonic()))

    def wake(self) -> None:
        """A record was opened while none was: look again. Cheap; any thread."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self.is_alive():
            self.join()
