"""Waiting for room in the producer's full local queue: one bound per call, one signal.

librdkafka frees a record's room in its local queue only once the record's delivery report
has been served, and the producer's poll thread serves them. It says so on a
:class:`RoomSignal`; a caller whose offer found the queue full waits on that signal
(:meth:`producers.EventProducer._offer_within`; the asyncio twin sleeps its loop instead)
within a :class:`RoomWait`: ``timeout`` seconds from the first time the call found the
queue full, shared by every event of the call, and ended early by an optional ``stop``
condition (the simulator's Ctrl-C).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from time import monotonic

from producers.errors import QueueFull

__all__ = ["RoomSignal", "RoomWait"]


class RoomWait:
    """How long one call may still wait for room. Not thread-safe: one per call."""

    __slots__ = ("_deadline", "_stop", "timeout")

    def __init__(self, timeout: float, stop: Callable[[], bool] | None = None) -> None:
        self.timeout = timeout
        self._stop = stop
        self._deadline: float | None = None

    def started(self) -> RoomWait:
        """Start the clock now rather than when the queue is first found full."""
        self.left()
        return self

    def left(self) -> float:
        """Seconds left; 0 once the bound has passed or ``stop()`` is true. The first call
        starts the clock."""
        now = monotonic()
        if self._deadline is None:
            self._deadline = now + self.timeout
        if self._stop is not None and self._stop():
            return 0.0
        return max(0.0, self._deadline - now)

    def full(self, outcome: str, *, accepted: list[str] | None = None) -> QueueFull:
        """The error for a call that found no room within this bound."""
        return QueueFull(
            f"the local Kafka queue stayed full for {self.timeout:g} s: {outcome}",
            accepted=accepted,
        )


class RoomSignal:
    """Counts the polls that served delivery reports, each of which may have made room.

    A waiter reads :attr:`seen` *before* its offer, so a report served between a failed
    offer and the wait still wakes it. Thread-safe.
    """

    def __init__(self) -> None:
        self._served = 0
        self._changed = threading.Condition(threading.Lock())

    @property
    def seen(self) -> int:
        return self._served

    def made(self) -> None:
        """Reports were served (the poll thread): wake every waiter."""
        with self._changed:
            self._served += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        """Until reports are served after :attr:`seen` read ``seen``; at most ``timeout`` s."""
        with self._changed:
            self._changed.wait_for(lambda: self._served != seen, timeout)
