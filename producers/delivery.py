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

__all__ = ["DeliveryFailure", "DeliveryTracker", "ProducerStats", "Waiter"]

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
        self._single = partial(self._done, 1, None)
        self._refused: deque[tuple[int, list[Waiter] | None, DeliveryFailure]] = deque()

    def callback(self, events: int, waiters: list[Waiter] | None) -> DeliveryCallback:
        """The delivery callback of one record (pure; allocation-free for single events)."""
        if events == 1 and waiters is None:
            return self._single
        return partial(self._done, events, waiters)

    def shipped(self, events: int) -> None:
        """A record was handed to Kafka. Call with the packer's lock held."""
        self.sent += events
        self.records += 1

    def refused(
        self, events: int, waiters: list[Waiter] | None, component: str, record: bytes, error: Any
    ) -> None:
        """librdkafka refused a record outright; it is reported by :meth:`report_refused`.

        Called with the packer's lock held, which user callbacks must never run under (one
        that emits again would deadlock), hence the deferral. Counts it as shipped.
        """
        self.shipped(events)
        failure = DeliveryFailure(component, events, str(error), _retriable(error), record)
        self._refused.append((events, waiters, failure))

    def report_refused(self) -> None:
        """Report the refused records; called by the poll thread and by flush()."""
        while self._refused:
            try:
                events, waiters, failure = self._refused.popleft()
            except IndexError:  # another thread took the last one
                return
            self._failed(events, waiters, failure)

    def stats(self, buffered: int) -> ProducerStats:
        delivered, failed, sent = self.delivered, self.failed, self.sent
        return ProducerStats(
            accepted=sent + buffered,
            delivered=delivered,
            failed=failed,
            pending=sent + buffered - delivered - failed,
            records=self.records,
        )

    def _done(self, events: int, waiters: list[Waiter] | None, error: Any, message: Any) -> None:
        if error is None:
            with self._lock:
                self.delivered += events
            if waiters:
                _settle(waiters, None)
            return
        component = _text(message.key())
        record = message.value() or b""
        failure = DeliveryFailure(component, events, str(error), _retriable(error), record)
        self._failed(events, waiters, failure)

    def _failed(self, events: int, waiters: list[Waiter] | None, failure: DeliveryFailure) -> None:
        with self._lock:
            self.failed += events
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


def _retriable(error: Any) -> bool:
    return bool(getattr(error, "retriable", lambda: False)())


def _text(key: bytes | str | None) -> str:
    if isinstance(key, bytes):
        return key.decode("utf-8", "replace")
    return key or ""


def _settle(waiters: list[Waiter], failure: DeliveryFailure | None) -> None:
    # Runs in a poll thread: futures belong to their event loop, so hand them over.
    loop = waiters[0].get_loop()
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
