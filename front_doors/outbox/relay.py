"""The relay: outbox rows to Kafka, in batches, delivered at least once and never lost.

One run (:meth:`Relay.run_once`):

1. rows left SENDING longer than the lease go back to AWAITING (their relay died between
   claiming and marking);
2. batches of ``outbox_batch_size`` AWAITING rows are claimed (SENDING, ``FOR UPDATE SKIP
   LOCKED``: relays running at once take disjoint batches) and sent through
   :class:`~producers.AsyncEventProducer` (``emit_each``: offered in row order, and a
   component's rows accepted in that order even when the local queue is full), whose
   awaitables resolve on Kafka's acknowledgement; acknowledged rows become DELIVERED;
3. the failed part of a batch is sent again after a doubling back-off, up to
   ``outbox_retries`` times, and then goes back to AWAITING for a later run;
4. DELIVERED rows older than ``outbox_clean_minutes`` are deleted.

A run ends when the outbox has no AWAITING rows left, or when ``outbox_run_ttl_seconds``
passed (the batch in hand is finished first). A run that goes on (its batches keep coming
back full) does steps 1 and 4 again every ``interval``, between two batches.

Hazard: a relay that dies after Kafka acknowledged a batch but before marking it leaves
the rows SENDING; after the lease they are sent again. That repeat is harmless: each row
carries its ``event_id`` (set when it was written), and the stream processors store one
event per id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg

from events.errors import InvalidEvent, RetryableError
from front_doors.counters import Counters
from front_doors.deadletters import DeadLetters, Rejected
from front_doors.outbox.settings import OutboxSettings
from front_doors.outbox.store import Claim, OutboxRow, OutboxStore
from producers import AsyncEventProducer, ProducerClosed, ProducerFailed

__all__ = ["COUNTERS", "Connect", "Relay", "RunReport"]

_log = logging.getLogger("front_doors.outbox")

#: Opens an autocommit ``psycopg.AsyncConnection`` to the outbox's database.
Connect = Callable[[], Awaitable[psycopg.AsyncConnection[Any]]]
#: Counters of the relay (``eventpipe_outbox_<name>_total``).
COUNTERS = {
    "delivered": "Outbox rows delivered to Kafka (acknowledged) and marked DELIVERED.",
    "send_failures": "Sends of a row that Kafka did not acknowledge (each attempt counts).",
    "released": "Rows put back to AWAITING after their retries ran out.",
    "dead_lettered": "Rows that are not valid events, sent to the dead-letter topic.",
    "reclaimed": "Rows found SENDING past their lease and put back to AWAITING.",
    "cleaned": "DELIVERED rows deleted after outbox_clean_minutes.",
    "runs": "Runs of the relay.",
    "run_errors": "Runs abandoned because PostgreSQL failed.",
}
_FATAL = (ProducerClosed, ProducerFailed)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


@dataclass
class RunReport:
    """What one run did."""

    batches: int = 0
    delivered: int = 0
    send_failures: int = 0
    released: int = 0
    dead_lettered: int = 0
    reclaimed: int = 0
    cleaned: int = 0
    errors: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line for people."""
        return (
            f"{self.batches} batch(es): {self.delivered} delivered, {self.send_failures} failed "
            f"sends, {self.released} back to AWAITING, {self.dead_lettered} dead-lettered, "
            f"{self.reclaimed} reclaimed, {self.cleaned} cleaned"
        )

    @property
    def clean(self) -> bool:
        """Nothing failed: every claimed row was delivered (or dead-lettered)."""
        return not (self.released or self.errors)


class Relay:
    """Delivers the outbox of one database. Use from one event loop; see the module doc."""

    def __init__(
        self,
        settings: OutboxSettings,
        *,
        connect: Connect,
        producer: AsyncEventProducer,
        dead_letters: DeadLetters,
        counters: Counters | None = None,
    ) -> None:
        self.settings = settings
        self.counters = counters or Counters("eventpipe_outbox", COUNTERS)
        self._connect = connect
        self._producer = producer
        self._dead = dead_letters
        self._source = f"postgres:{settings.outbox_table}"

    async def run_once(self) -> RunReport:
        """One run (see the module docstring). Blocks the coroutine until it ends.

        Raises :class:`psycopg.Error` when PostgreSQL fails (rows this run held go back to
        AWAITING after the lease), ``ProducerClosed``/``ProducerFailed`` when the producer
        can no longer deliver. Kafka failures are retried and reported, never raised.
        """
        report = RunReport()
        self.counters.add("runs")
        async with await self._connect() as conn:
            store = OutboxStore(conn, self.settings.outbox_table)
            report.reclaimed += await store.reclaim_expired(self.settings.outbox_lease_seconds)
            await self._drain(store, report)
            report.cleaned += await store.clean(self.settings.outbox_clean_minutes * 60)
        for name in ("reclaimed", "cleaned"):
            self.counters.add(name, getattr(report, name))
        return report

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run, pause ``settings.interval``, repeat, until ``stop`` is set.

        A run that PostgreSQL abandons is logged and counted; the next run starts afresh.
        """
        while not stop.is_set():
            try:
                report = await self.run_once()
            except psycopg.Error as exc:
                self.counters.add("run_errors")
                _log.error("outbox run abandoned: %s", exc)
            else:
                if report.batches or report.reclaimed or report.cleaned:
                    _log.info("outbox run: %s", report.describe())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.interval)

    async def _drain(self, store: OutboxStore, report: RunReport) -> None:
        ttl = self.settings.outbox_run_ttl_seconds
        deadline = None if ttl is None else time.monotonic() + ttl
        size = self.settings.outbox_batch_size
        housekeeping = time.monotonic() + self.settings.interval
        while deadline is None or time.monotonic() < deadline:
            if time.monotonic() >= housekeeping:
                # A run lasts while its batches come back full (a backlog, a busy service):
                # it reclaims and cleans as often as runs start, or a dead relay's rows
                # would wait for it to end, and delivered rows would pile up.
                report.reclaimed += await store.reclaim_expired(self.settings.outbox_lease_seconds)
                report.cleaned += await store.clean(self.settings.outbox_clean_minutes * 60)
                housekeeping = time.monotonic() + self.settings.interval
            claim = await store.claim(size)
            if not claim.rows:
                return
            report.batches += 1
            released = report.released
            await self._deliver(store, claim, report)
            # A short batch means the outbox is drained; released rows mean Kafka is in
            # trouble: claiming them again right away would only spin. The next run will.
            if len(claim.rows) < size or report.released > released:
                return

    async def _deliver(self, store: OutboxStore, claim: Claim, report: RunReport) -> None:
        """Send the claimed rows, retrying the failed ones; mark each row's outcome."""
        pending = claim.rows
        for attempt in range(self.settings.outbox_retries + 1):
            if attempt:
                await asyncio.sleep(self._backoff(attempt))
                await store.extend(claim, [row.id for row in pending])
            failed, error = await self._send(pending, report)
            await self._mark_delivered(store, claim, [r.id for r in pending if r.id not in failed])
            report.delivered += len(pending) - len(failed)
            if not failed:
                return
            report.send_failures += len(failed)
            self.counters.add("send_failures", len(failed))
            pending = [row for row in pending if row.id in failed]
            _log.warning("outbox: %d row(s) of a batch not acknowledged: %s", len(pending), error)
        report.released += await store.release(claim, [row.id for row in pending], error)
        self.counters.add("released", len(pending))

    async def _mark_delivered(self, store: OutboxStore, claim: Claim, ids: list[int]) -> None:
        marked = await store.delivered(claim, ids)
        self.counters.add("delivered", len(ids))
        if marked < len(ids):  # our lease ran out and another relay took rows over
            _log.warning("outbox: %d delivered row(s) were reclaimed meanwhile", len(ids) - marked)

    async def _send(self, rows: Sequence[OutboxRow], report: RunReport) -> tuple[set[int], str]:
        """Emit every row and wait for Kafka; return the ids that failed and one reason."""
        outcomes = await self._emit_in_order(rows)
        failed: set[int] = set()
        invalid: list[Rejected] = []
        reason = ""
        for row, outcome in zip(rows, outcomes, strict=True):
            if isinstance(outcome, _FATAL):
                raise outcome
            if isinstance(outcome, InvalidEvent):
                invalid.append(Rejected(row.payload.encode(), outcome, self._source, row.id, 1))
            elif isinstance(outcome, BaseException):
                failed.add(row.id)
                reason = reason or f"{type(outcome).__name__}: {outcome}"
        if invalid and not await self._dead_letter(invalid, report):
            failed.update(letter.offset for letter in invalid)
            reason = reason or "dead letters not acknowledged"
        return failed, reason

    async def _emit_in_order(self, rows: Sequence[OutboxRow]) -> list[str | Exception]:
        """Per row, its event id once Kafka acknowledged it, or what went wrong.

        The rows go to ``emit_each`` in row order, one at a time: rows emitted concurrently
        (one task each) could be accepted out of order while the local queue is full, and
        a component's events must keep their order.
        """
        parsed = [_event_or_why_not(row) for row in rows]
        events = [event for event in parsed if not isinstance(event, InvalidEvent)]
        outcomes = iter(await self._producer.emit_each(events))
        return [e if isinstance(e, InvalidEvent) else next(outcomes) for e in parsed]

    async def _dead_letter(self, letters: list[Rejected], report: RunReport) -> bool:
        """Dead-letter rows that are not events (written by hand, or under an older
        contract: retrying cannot make them valid); ``False`` when Kafka did not ack."""
        for letter in letters:
            await self._dead.publish(letter)
        try:
            await self._dead.flush(self.settings.outbox_startup_timeout)
        except RetryableError as exc:
            _log.warning("outbox: %s", exc)
            return False
        report.dead_lettered += len(letters)
        self.counters.add("dead_lettered", len(letters))
        return True

    def _backoff(self, attempt: int) -> float:
        first = self.settings.outbox_retry_backoff_seconds
        cap = self.settings.outbox_retry_backoff_max_seconds
        return float(min(cap, first * 2 ** (attempt - 1)))


def _event_or_why_not(row: OutboxRow) -> Any:
    """The event of a row: its JSON payload, with the row's id and time where it has none;
    an ``InvalidEvent`` (returned) for a payload that is not JSON. The producer judges the
    rest."""
    try:
        event = orjson.loads(row.payload)
    except orjson.JSONDecodeError as exc:
        return InvalidEvent("bad_json", "", f"not valid JSON: {exc}")
    if isinstance(event, dict):
        # A row written by hand (another language, a migration) may hold its id and
        # time in its columns only: without them every resend would be a new event.
        if event.get("event_id") is None:
            event["event_id"] = str(row.event_id)
        if event.get("timestamp") is None:
            event["timestamp"] = (row.created_at - _EPOCH) // _MILLISECOND
    return event
