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
from typing import Final

from producers.client import EventProducer
from producers.delivery import ProducerStats
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
    its own. Raises what the producer raises (``QueueFull`` when Kafka cannot keep up for
    ``producer_block_timeout`` seconds, ``FlushTimeout`` when it cannot deliver).
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
        emitted, seconds = _drive(
            active, pool, schedule, settings, stop or threading.Event(), on_progress, report_every
        )
    finally:
        if own:
            active.close()
    if not own:
        active.flush()
    return SimulationSummary(
        emitted=emitted,
        seconds=seconds,
        by_service=dict(pool.counts(emitted, "component")),
        by_kind=dict(pool.counts(emitted, "kind")),
        by_severity=dict(pool.counts(emitted, "severity")),
        producer=active.stats(),
    )


def _drive(
    producer: EventProducer,
    pool: EventPool,
    schedule: Schedule,
    settings: SimulatorSettings,
    stop: threading.Event,
    on_progress: Callable[[SimulationProgress], None] | None,
    report_every: float,
) -> tuple[int, float]:
    emit_many = producer.emit_many
    events = itertools.cycle(pool.events)
    limit = settings.simulate_count
    duration = settings.simulate_duration
    emitted = reported = 0
    start = last_report = monotonic()
    while not stop.is_set():
        now = monotonic()
        elapsed = now - start
        if (duration is not None and elapsed >= duration) or emitted == limit:
            break
        due = int(schedule.due(elapsed)) - emitted
        if limit is not None:
            due = min(due, limit - emitted)
        if due <= 0:
            sleep(_TICK)
            continue
        batch = min(due, _BATCH)
        emit_many(list(itertools.islice(events, batch)))
        emitted += batch
        if on_progress is not None and now - last_report >= report_every:
            rate = (emitted - reported) / max(now - last_report, 1e-9)
            on_progress(SimulationProgress(emitted, elapsed, rate, schedule.phase(elapsed)))
            reported, last_report = emitted, now
    seconds = monotonic() - start
    if on_progress is not None:
        on_progress(SimulationProgress(emitted, seconds, emitted / max(seconds, 1e-9), "done"))
    return emitted, seconds
