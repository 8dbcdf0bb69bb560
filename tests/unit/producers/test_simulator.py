"""The simulator: seeded catalogues, pacing, and runs on the in-memory twin."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from events.wire import validate_wire
from producers import EventProducer, MemoryKafka, SimulatorSettings
from producers.simulator import (
    BUILT_IN,
    Bursts,
    EventPool,
    SimulationSummary,
    Steady,
    run_simulation,
    service,
)
from tests.unit.producers.conftest import TOPIC, delivered


def pool(seed: int, size: int = 2_000) -> EventPool:
    return EventPool(
        [service(n) for n in ("payments", "orders", "users", "billing")], seed=seed, size=size
    )


def test_the_same_seed_gives_the_same_events() -> None:
    assert pool(1).events == pool(1).events
    assert pool(1).events != pool(2).events


def test_every_simulated_event_is_valid() -> None:
    for event in pool(3).events:
        validate_wire(event)


def test_the_catalogues_cover_every_kind_severity_and_service() -> None:
    events = pool(4).events
    assert {e["kind"] for e in events} == {"log", "event", "access", "error"}
    assert {e["severity"] for e in events} == {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
    assert {e["component"] for e in events} == {"payments", "orders", "users", "billing"}
    assert {e["http"]["status"] for e in events if e["kind"] == "access"} >= {200, 404, 500}


def test_unknown_services_get_the_generic_catalogue() -> None:
    assert service("payments") is BUILT_IN["payments"]
    assert service("billing").name == "billing" and service("billing").endpoints


def test_counts_follow_the_replayed_pool() -> None:
    events = pool(5, size=10)
    kinds = events.counts(25, "kind")
    assert sum(kinds.values()) == 25
    assert kinds[events.events[0]["kind"]] >= 3


def test_a_steady_schedule_is_linear() -> None:
    assert Steady(200).due(2.5) == 500


def test_bursts_alternate_with_pauses_and_repeat_for_a_seed() -> None:
    a, b = Bursts(100, seed=9), Bursts(100, seed=9)
    times = [t / 10 for t in range(600)]
    dues = [a.due(t) for t in times]
    assert dues == [b.due(t) for t in times]
    assert dues == sorted(dues)
    phases = {a.phase(t).split(" ")[0] for t in times}
    assert phases == {"burst", "pause"}


def run(count: int, **overrides: Any) -> tuple[MemoryKafka, SimulationSummary]:
    kafka = MemoryKafka()
    settings = SimulatorSettings(topic=TOPIC, simulate_count=count, simulate_rate=1e9, **overrides)
    producer = EventProducer(settings, kafka=kafka)
    summary = run_simulation(settings, producer=producer)
    producer.close()
    return kafka, summary


def test_a_run_emits_exactly_the_count_and_summarises_it() -> None:
    kafka, summary = run(3_000, simulate_services=["payments", "orders"])
    events = delivered(kafka)
    assert len(events) == 3_000
    assert summary.emitted == 3_000
    assert summary.by_service == {
        c: sum(1 for e in events if e.component == c) for c in ("payments", "orders")
    }
    assert sum(summary.by_kind.values()) == 3_000
    assert summary.producer.delivered == 3_000
    assert {e.environment for e in events} == {"demo"}


def test_a_run_stops_when_asked() -> None:
    kafka = MemoryKafka()
    settings = SimulatorSettings(topic=TOPIC, simulate_rate=1e9)
    stop = threading.Event()
    with EventProducer(settings, kafka=kafka) as producer:
        summary = run_simulation(
            settings,
            producer=producer,
            stop=stop,
            on_progress=lambda p: stop.set() if p.emitted >= 5_000 else None,
            report_every=0,
        )
    assert summary.emitted >= 5_000 and summary.emitted == len(delivered(kafka))


@pytest.mark.parametrize("bursts", [False, True])
def test_both_paces_run(bursts: bool) -> None:
    kafka, _ = run(500, simulate_bursts=bursts)
    assert len(delivered(kafka)) == 500
