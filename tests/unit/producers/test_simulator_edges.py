"""The simulator at its edges: exact stops, huge rates, idle progress, a full queue."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
from pydantic import ValidationError

from producers import EventProducer, MemoryKafka, SimulatorSettings
from producers.simulator import SimulationProgress, SimulationSummary, run_simulation
from tests.unit.producers.conftest import TOPIC, delivered


def test_a_duration_run_emits_every_event_due_by_its_end() -> None:
    # The loop looks at the clock every few ms: the events due in the last tick are still
    # emitted, so a duration gives exactly rate x duration events, whatever the timing.
    kafka = MemoryKafka()
    settings = SimulatorSettings(topic=TOPIC, simulate_rate=4_000, simulate_duration=0.5)
    with EventProducer(settings, kafka=kafka) as producer:
        summary = run_simulation(settings, producer=producer)
    assert summary.emitted == 2_000 == len(delivered(kafka))


def test_a_duration_and_a_count_stop_at_whichever_comes_first() -> None:
    kafka = MemoryKafka()
    settings = SimulatorSettings(
        topic=TOPIC, simulate_rate=4_000, simulate_duration=0.5, simulate_count=1_500
    )
    with EventProducer(settings, kafka=kafka) as producer:
        summary = run_simulation(settings, producer=producer)
    assert summary.emitted == 1_500 == len(delivered(kafka))


@pytest.mark.parametrize("bursts", [False, True])
def test_a_rate_too_large_for_floats_runs_as_fast_as_it_can(bursts: bool) -> None:
    # 1e308 x a burst factor is infinity; int(infinity) used to raise OverflowError.
    kafka = MemoryKafka()
    settings = SimulatorSettings(
        topic=TOPIC, simulate_rate=1e308, simulate_bursts=bursts, simulate_count=3_000
    )
    with EventProducer(settings, kafka=kafka) as producer:
        summary = run_simulation(settings, producer=producer)
    assert summary.emitted == 3_000 == len(delivered(kafka))


def test_progress_is_reported_while_nothing_is_due() -> None:
    # At 0.5 events/s the first event is due after 2 s: the progress bar still moves
    # (elapsed, a rate of 0, the phase) in the meantime instead of freezing.
    kafka = MemoryKafka()
    settings = SimulatorSettings(topic=TOPIC, simulate_rate=0.5)
    stop = threading.Event()
    reports: list[SimulationProgress] = []

    def seen(update: SimulationProgress) -> None:
        reports.append(update)
        stop.set()

    guard = threading.Timer(10, stop.set)  # never hang, whatever happens
    guard.start()
    try:
        with EventProducer(settings, kafka=kafka) as producer:
            run_simulation(settings, producer=producer, stop=stop, on_progress=seen, report_every=0)
    finally:
        guard.cancel()
    assert reports[0].emitted == 0 and reports[0].phase == "steady"
    assert reports[0].rate == 0


class _FillsUp(MemoryKafka):
    """A broker that takes a few records, then has no room until the run has stopped."""

    def produce(self, topic: str, value: bytes, key: str, **kwargs: Any) -> None:
        try:
            super().produce(topic, value, key, **kwargs)
        except BufferError:
            self.capacity = None  # room again for the final flush (the run has given up)
            raise


def test_a_full_queue_ends_the_run_with_a_summary_of_exactly_what_was_accepted() -> None:
    kafka = _FillsUp(capacity=7)
    settings = SimulatorSettings(
        topic=TOPIC,
        simulate_rate=1e9,
        simulate_count=5_000,
        producer_block_timeout=0,
        producer_record_events=10,
    )
    with EventProducer(settings, kafka=kafka) as producer:
        summary = run_simulation(settings, producer=producer)
    events = delivered(kafka)
    assert summary.error is not None and "queue" in summary.error
    assert 0 < summary.emitted == len(events) < 5_000
    assert summary.producer.delivered == len(events)
    assert summary.by_service == dict(Counter(e.component for e in events))
    assert summary.by_kind == dict(Counter(e.kind for e in events))
    assert summary.by_severity == dict(Counter(e.severity for e in events))


def test_a_run_that_reached_its_end_has_no_error() -> None:
    kafka = MemoryKafka()
    settings = SimulatorSettings(topic=TOPIC, simulate_rate=1e9, simulate_count=100)
    with EventProducer(settings, kafka=kafka) as producer:
        summary = run_simulation(settings, producer=producer)
    assert summary.error is None and summary.emitted == 100


@pytest.mark.parametrize("name", ["simulate_rate", "simulate_duration"])
def test_settings_refuse_infinite_rates_and_durations(name: str) -> None:
    with pytest.raises(ValidationError, match="finite number"):
        SimulatorSettings(**{name: float("inf")})


def test_stop_while_the_queue_stays_full_ends_the_run_at_once_and_cleanly() -> None:
    # Ctrl-C while Kafka takes nothing: the run used to sit in emit_many's wait for room
    # (producer_block_timeout, 30 s by default) and then report "the queue stayed full".
    kafka = MemoryKafka(capacity=2)
    kafka.available = False
    settings = SimulatorSettings(
        topic=TOPIC,
        simulate_rate=1e9,
        simulate_count=5_000,
        producer_block_timeout=600,
        producer_record_events=10,
    )
    stop = threading.Event()
    summaries: list[SimulationSummary] = []
    with EventProducer(settings, kafka=kafka) as producer:
        flush = producer.flush

        def back_at_the_final_flush(timeout: float | None = None) -> None:
            kafka.available = True  # Kafka comes back once the run has ended
            flush(timeout)

        producer.flush = back_at_the_final_flush  # type: ignore[method-assign]

        def run() -> None:
            summaries.append(run_simulation(settings, producer=producer, stop=stop))

        runner = threading.Thread(target=run, daemon=True)
        runner.start()
        while producer.stats().accepted < 20:  # two records queued, the next ones wait
            time.sleep(0.01)
        stop.set()
        runner.join(timeout=60)  # a hang guard: the run ends as soon as it sees `stop`
        stuck = runner.is_alive()
        kafka.available = True  # let a stuck run finish, whatever happens
        runner.join()
    assert not stuck
    (summary,) = summaries
    assert summary.error is None
    assert summary.emitted == summary.producer.delivered == len(delivered(kafka)) < 5_000
