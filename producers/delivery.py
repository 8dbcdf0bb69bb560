"""Delivery reports: counters, the failure callback, and waking the awaiting coroutines.

librdkafka calls back once per *record* (many events), from whichever thread polls. A
failure is never swallowed: it is counted, logged, handed to the ``on_failure`` callback
with the record (so the caller can send it again), and raised in every coroutine awaiting
one of its events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple, Protocol

from producers.errors import DeliveryFailed
from producers.kafka import DeliveryCallback

__all__ = ["DeliveryFailure", "DeliveryTracker", "Generation", "ProducerStats", "Waiter"]

_log = logging.getLogger("producers.delivery")


class Waiter(Protocol):
    """A handle on one event, settled on its event loop when Kafka reports on its record:
    an ``asyncio.Future[None]``, or a :class:`producers.group.Slot` of a batch."""

    def done(self) -> bool: ...
    def get_loop(self) -> asyncio.AbstractEventLoop: ...
    def set_result(self, result: None, /) -> None: ...
    def set_exception(self, exception: BaseException, /) -> None: ...


@dataclass(frozen=True)
class DeliveryFailure:
    """A record Kafka did not acknowledge; ``record`` is its NDJSON value."""

    component: str
    events: int
    reason: str
    retriable: bool
    record: bytes


class ProducerStats(NamedTuple):
    """Counters of events since the producer started."""

    accepted: int  #: returned from emit() without error
    delivered: int  #: acknowledged by Kafka
    failed: int  #: reported failed (see DeliveryFailure)
    pending: int  #: accepted, not yet delivered or failed
    records: int  #: records handed to Kafka


class Generation:
    """The records shipped between two marks (``flush`` calls), and how many have settled;
    ``earlier`` is the generation before, until it and all before it have settled."""

    __slots__ = ("earlier", "settled", "shipped")

    def __init__(self, earlier: Generation | None) -> None:
        self.earlier = earlier
        self.shipped = 0
        self.settled = 0


class DeliveryTracker:
    """Counts events handed to Kafka and their outcome. Thread-safe where documented."""

    def __init__(self, on_failure: Callable[[DeliveryFailure], None] | None = None) -> None:
        self._on_failure = on_failure
        self._lock = threading.Lock()
        #: Events and records handed to Kafka; written only under the packer's lock.
        self.sent = 0
        self.records = 0
        self.delivered = 0
        self.failed = 0
        #: The records shipped since the last :meth:`mark`; written under the packer's lock.
        self._generation = Generation(None)
        self._single = partial(self._done, self._generation, 1, None)
        self._refused: deque[tuple[int, list[Waiter] | None, DeliveryFailure, Generation]] = deque()

    def callback(self, events: int, waiters: list[Waiter] | None) -> DeliveryCallback:
        """The delivery callback of one record (pure; allocation-free for single events).
        Call with the packer's lock held, as :meth:`shipped` after it."""
        if events == 1 and waiters is None:
            return self._single
        return partial(self._done, self._generation, events, waiters)

    def shipped(self, events: int) -> None:
        """A record was handed to Kafka. Call with the packer's lock held."""
        self.sent += events
        self.records += 1
        self._generation.shipped += 1

    def mark(self) -> Generation:
        """The records shipped so far, as one :class:`Generation` to wait for
        (:meth:`settled`); later ones belong to the next. Call with the packer's lock held."""
        current = self._generation
        self._generation = Generation(current)
        self._single = partial(self._done, self._generation, 1, None)
        return current

    @staticmethod
    def settled(generation: Generation) -> bool:
        """Whether every record of ``generation`` and of those before it was delivered or
        reported failed (records shipped after the mark do not count)."""
        older: Generation | None = generation
        while older is not None:
            if older.settled < older.shipped:
                return False
            older = older.earlier
        generation.earlier = None  # all settled: forget them
        return True

    def refused(
        self, events: int, waiters: list[Waiter] | None, component: str, record: bytes, error: Any
    ) -> None:
        """librdkafka refused a record outright; it is reported by :meth:`report_refused`.

        Called with the packer's lock held, which user callbacks must never run under (one
        that emits again would deadlock), hence the deferral. Counts it as shipped.
        """
        generation = self._generation
        self.shipped(events)
        failure = DeliveryFailure(component, events, str(error), _retriable(error), record)
        self._refused.append((events, waiters, failure, generation))

    def report_refused(self) -> None:
        """Report the refused records; called by the poll thread and by flush()."""
        while self._refused:
            try:
                events, waiters, failure, generation = self._refused.popleft()
            except IndexError:  # another thread took the last one
                return
            self._failed(generation, events, waiters, failure)

    def stats(self, buffered: int) -> ProducerStats:
        delivered, failed, sent = self.delivered, self.failed, self.sent
        return ProducerStats(
            accepted=sent + buffered,
            delivered=delivered,
            failed=failed,
            pending=sent + buffered - delivered - failed,
            records=self.records,
        )

    def _done(
        self,
        generation: Generation,
        events: int,
        waiters: list[Waiter] | None,
        error: Any,
        message: Any,
    ) -> None:
        if error is None:
            with self._lock:
                self.delivered += events
                generation.settled += 1
            if waiters:
                _settle(waiters, None)
            return
        component = _text(message.key())
        record = message.value() or b""
        failure = DeliveryFailure(component, events, str(error), _retriable(error), record)
        self._failed(generation, events, waiters, failure)

    def _failed(
        self,
        generation: Generation,
        events: int,
        waiters: list[Waiter] | None,
        failure: DeliveryFailure,
    ) -> None:
        try:
            _log.error(
                "kafka delivery failed: %d event(s) of %s: %s",
                events,
                failure.component,
                failure.reason,
            )
            if waiters:
                _settle(waiters, failure)
            if self._on_failure is not None:
                # An exception escaping here would surface in poll() of another thread.
                try:
                    self._on_failure(failure)
                except Exception:
                    _log.exception("on_failure callback raised")
        finally:
            # Counted as settled only once reported: flush() and a pending count of 0 then
            # mean every on_failure call has returned.
            with self._lock:
                self.failed += events
                generation.settled += 1


def _retriable(error: Any) -> bool:
    return bool(getattr(error, "retriable", lambda: False)())


def _text(key: bytes | str | None) -> str:
    if isinstance(key, bytes):
        return key.decode("utf-8", "replace")
    return key or ""


def _settle(waiters: list[Waiter], failure: DeliveryFailure | None) -> None:
    # Runs in a poll thread: futures belong to their event loop, so hand them over, each
    # to its own. A record may hold waiters of two loops: one cancelled as its loop closed
    # (asyncio.run returned) and the next loop's, which must not be handed to the closed one.
    loop = waiters[0].get_loop()
    if len(waiters) > 1 and any(waiter.get_loop() is not loop for waiter in waiters):
        by_loop: dict[asyncio.AbstractEventLoop, list[Waiter]] = {}
        for waiter in waiters:
            by_loop.setdefault(waiter.get_loop(), []).append(waiter)
        for loop, theirs in by_loop.items():
            _hand_over(loop, theirs, failure)
        return
    _hand_over(loop, waiters, failure)


def _hand_over(
    loop: asyncio.AbstractEventLoop, waiters: list[Waiter], failure: DeliveryFailure | None
) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody is awaiting any more
        loop.call_soon_threadsafe(_resolve, waiters, failure)


def _resolve(waiters: list[Waiter], failure: DeliveryFailure | None) -> None:
    for waiter in waiters:
        if waiter.done():  # cancelled by its awaiter
            continue
        if failure is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(
                DeliveryFailed(failure.reason, events=failure.events, retriable=failure.retriable)
            )
