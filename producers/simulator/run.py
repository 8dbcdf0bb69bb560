"""``run_simulation``: simulated services publishing through an :class:`EventProducer`.

The CLI's ``simulate`` command, ``make run`` and the benchmarks all call this; it reports
progress through a callback and returns a summary, and never touches signals or the
terminal (the caller stops it by setting ``stop``).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic, sleep
from typing import Any, Final

from producers.client import EventProducer
from producers.delivery import ProducerStats
from producers.errors import QueueFull
from producers.room import RoomWait
from producers.settings import SimulatorSettings
from producers.simulator.catalogue import service
from producers.simulator.generate import EventPool
from producers.simulator.pacing import Bursts, Schedule, Steady

__all__ = ["SimulationProgress", "SimulationSummary", "run_simulation"]

_TICK: Final = 0.005  # seconds to sleep when nothing is due
_BATCH: Final = 2_000  # most events emitted between two looks at the clock and `stop`


@dataclass(frozen=True)
class SimulationProgress:
    emitted: int
    elapsed: float
    rate: float  #: events/s over the last report interval
    phase: str


@dataclass(frozen=True)
class SimulationSummary:
    emitted: int
    seconds: float
    by_service: dict[str, int]
    by_kind: dict[str, int]
    by_severity: dict[str, int]
    producer: ProducerStats  #: after the final flush
    #: Why the run stopped early (Kafka could not keep up: the queue stayed full), else None.
    #: The counts above are still exactly the events the producer accepted.
    error: str | None = None

    @property
    def rate(self) -> float:
        """Achieved events per second."""
        return self.emitted / self.seconds if self.seconds > 0 else 0.0


def run_simulation(
    settings: SimulatorSettings,
    *,
    producer: EventProducer | None = None,
    on_progress: Callable[[SimulationProgress], None] | None = None,
    stop: threading.Event | None = None,
    report_every: float = 0.25,
) -> SimulationSummary:
    """Emit simulated events until the count or duration is reached, or ``stop`` is set.

    Blocks. Uses ``producer`` when given (and leaves it open, flushed), else opens and closes
    its own. When Kafka cannot keep up for ``producer_block_timeout`` seconds (``QueueFull``)
    the run stops there: what was accepted is still delivered and summarised, and the
    summary's ``error`` says why. Raises what else the producer raises (``FlushTimeout``,
    ``ProducerFailed``).
    """
    pool = EventPool(
        [service(name) for name in settings.simulate_services],
        seed=settings.simulate_seed,
        size=settings.simulate_pool,
    )
    schedule: Schedule = (
        Bursts(settings.simulate_rate, settings.simulate_seed)
        if settings.simulate_bursts
        else Steady(settings.simulate_rate)
    )
    own = producer is None
    active = EventProducer(settings) if producer is None else producer
    try:
        run = _drive(
            active, pool, schedule, settings, stop or threading.Event(), on_progress, report_every
        )
    finally:
        if own:
            active.close()
    if not own:
        active.flush()
    return SimulationSummary(
        emitted=run.emitted,
        seconds=run.seconds,
        by_service=run.counts(pool, "component"),
        by_kind=run.counts(pool, "kind"),
        by_severity=run.counts(pool, "severity"),
        producer=active.stats(),
        error=run.error,
    )


@dataclass(frozen=True)
class _Run:
    replayed: int  #: the first ``replayed`` events of the pool's cycle were all accepted ...
    partial: list[dict[str, Any]]  #: ... and then these of a batch the queue cut short
    seconds: float
    error: str | None

    @property
    def emitted(self) -> int:
        return self.replayed + len(self.partial)

    def counts(self, pool: EventPool, key: str) -> dict[str, int]:
        counts = pool.counts(self.replayed, key)
        counts.update(str(event.get(key)) for event in self.partial)
        return dict(counts)


def _emit_batch(
    producer: EventProducer, batch: list[dict[str, Any]], stop: threading.Event, wait: float
) -> None:
    """Emit ``batch``, or raise :class:`_CutShort` with the events accepted before the queue
    stayed full for ``wait`` seconds (one bound for the batch), or before ``stop`` was set
    while waiting for room (then without a reason: the run was stopped, it did not fail).
    One ``emit_many`` per component: ``QueueFull`` then says how many of that component's
    events (a prefix) were accepted, so the summary counts exactly what was sent.
    """
    by_component: dict[str, list[dict[str, Any]]] = {}
    for event in batch:
        by_component.setdefault(event["component"], []).append(event)
    room = RoomWait(wait, stop.is_set)
    accepted: list[dict[str, Any]] = []
    for events in by_component.values():
        taken = _emit_component(producer, events, room)
        accepted.extend(events[:taken])
        if taken < len(events):
            reason = (
                None
                if stop.is_set()
                else f"the local Kafka queue stayed full for {wait:g} s: {len(accepted)} of "
                f"{len(batch)} events of the last batch accepted"
            )
            raise _CutShort(accepted, reason)


def _emit_component(producer: EventProducer, events: list[dict[str, Any]], room: RoomWait) -> int:
    """How many of ``events`` (one component's, in order) were accepted: all of them, or
    those before the batch's wait for room ran out or its ``stop`` was set (the producer's
    own wait, which looks at ``stop``: Ctrl-C must not wait ``producer_block_timeout``).
    """
    try:
        producer.emit_many(events, room=room)
    except QueueFull as exc:
        return len(exc.accepted)
    return len(events)


class _CutShort(Exception):
    def __init__(self, accepted: list[dict[str, Any]], reason: str | None) -> None:
        super().__init__(reason or "stopped")
        self.accepted = accepted
        self.reason = reason


def _drive(
    producer: EventProducer,
    pool: EventPool,
    schedule: Schedule,
    settings: SimulatorSettings,
    stop: threading.Event,
    on_progress: Callable[[SimulationProgress], None] | None,
    report_every: float,
) -> _Run:
    events = itertools.cycle(pool.events)
    limit = settings.simulate_count
    duration = settings.simulate_duration
    emitted = reported = 0
    start = last_report = monotonic()
    while not stop.is_set() and emitted != limit:
        now = monotonic()
        elapsed = now - start
        ended = duration is not None and elapsed >= duration
        if duration is not None and ended:
            elapsed = duration  # emit what was due by the end, then stop
        due = _due(schedule, elapsed, emitted, limit)
        if due > 0:
            batch = list(itertools.islice(events, due))
            try:
                _emit_batch(producer, batch, stop, settings.producer_block_timeout)
            except _CutShort as cut:
                return _Run(emitted, cut.accepted, monotonic() - start, cut.reason)
            emitted += due
        if ended:
            break
        if on_progress is not None and now - last_report >= report_every:
            rate = (emitted - reported) / max(now - last_report, 1e-9)
            on_progress(SimulationProgress(emitted, now - start, rate, schedule.phase(elapsed)))
            reported, last_report = emitted, now
        if due <= 0:
            sleep(_TICK)
    seconds = monotonic() - start
    if on_progress is not None:
        on_progress(SimulationProgress(emitted, seconds, emitted / max(seconds, 1e-9), "done"))
    return _Run(emitted, [], seconds, None)


def _due(schedule: Schedule, elapsed: float, emitted: int, limit: int | None) -> int:
    """Events to emit now: behind the schedule, within the count, at most one batch."""
    behind = schedule.due(elapsed) - emitted  # a float: infinite for absurd rates
    if limit is not None:
        behind = min(behind, limit - emitted)
    return int(min(behind, _BATCH)) if behind >= 1 else 0
