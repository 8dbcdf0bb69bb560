"""Settings come from the environment; the librdkafka configuration they make."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from producers.kafka import librdkafka_config
from producers.settings import ProducerSettings, SimulatorSettings


def test_defaults_make_a_durable_ordered_java_compatible_producer() -> None:
    conf = librdkafka_config(ProducerSettings())
    assert conf["partitioner"] == "murmur2_random"
    assert conf["enable.idempotence"] is True and conf["acks"] == "all"
    assert conf["compression.type"] == "lz4"
    assert conf["message.timeout.ms"] == 120_000


def test_every_knob_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTPIPE_PRODUCER_LINGER_MS", "25")
    monkeypatch.setenv("EVENTPIPE_PRODUCER_RECORD_EVENTS", "1")
    monkeypatch.setenv("EVENTPIPE_PRODUCER_COMPRESSION", "zstd")
    monkeypatch.setenv("EVENTPIPE_PRODUCER_LIBRDKAFKA", '{"linger.ms": 50, "acks": "all"}')
    monkeypatch.setenv("EVENTPIPE_KAFKA_BOOTSTRAP", "kafka:9092")
    settings = ProducerSettings()
    assert (settings.producer_linger_ms, settings.producer_record_events) == (25, 1)
    conf = librdkafka_config(settings)
    assert conf["compression.type"] == "zstd" and conf["linger.ms"] == 50
    assert conf["bootstrap.servers"] == "kafka:9092"


def test_simulated_services_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTPIPE_SIMULATE_SERVICES", "payments, billing,payments")
    assert SimulatorSettings().simulate_services == ["payments", "billing"]


@pytest.mark.parametrize(
    "bad",
    [
        {"producer_record_events": 0},
        {"producer_record_events": 1001},
        {"producer_record_bytes": 2_000_000},
        {"producer_compression": "brotli"},
        {"simulate_services": "Payments"},
        {"simulate_rate": 0},
    ],
)
def test_unsafe_values_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SimulatorSettings(**bad)  # type: ignore[arg-type]


def test_settings_are_frozen() -> None:
    with pytest.raises(ValidationError):
        ProducerSettings().producer_linger_ms = 1  # type: ignore[misc]
