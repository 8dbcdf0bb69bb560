"""``eventpipe simulate`` on the in-memory twin: clear errors for bad options, a summary."""

from __future__ import annotations

import signal
import threading
from typing import Any

import pytest
from typer.testing import CliRunner

from eventpipe.cli import app
from eventpipe.cli import simulate as command
from producers import EventProducer, MemoryKafka, SimulatorSettings
from producers.simulator import SimulationSummary, run_simulation

runner = CliRunner()


@pytest.fixture
def kafka(monkeypatch: pytest.MonkeyPatch) -> MemoryKafka:
    """The command's runs go to an in-memory Kafka; no topic to wait for."""
    twin = MemoryKafka()

    def run(settings: SimulatorSettings, **kwargs: Any) -> SimulationSummary:
        with EventProducer(settings, kafka=twin) as producer:
            return run_simulation(settings, producer=producer, **kwargs)

    monkeypatch.setattr(command, "run_simulation", run)
    monkeypatch.setattr(command, "_wait_for_topic", lambda settings, wait: None)
    return twin


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--rate", "0"], "--rate"),
        (["--rate", "-5"], "--rate"),
        (["--rate", "nan"], "--rate"),
        (["--rate", "inf"], "--rate"),
        (["--duration", "0"], "--duration"),
        (["--duration", "-1"], "--duration"),
        (["--count", "0"], "--count"),
        (["--services", ""], "--services"),
        (["--services", " , ,"], "--services"),
        (["--services", "Payments"], "--services"),
    ],
)
def test_invalid_options_are_a_clear_error_not_a_traceback(
    kafka: MemoryKafka, options: list[str], named: str
) -> None:
    done = runner.invoke(app, ["simulate", *options, "--quiet"])
    assert done.exit_code == 2, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)
    assert named in done.output and "Traceback" not in done.output
    assert not kafka.topics  # nothing was sent


def test_an_invalid_environment_variable_is_a_clear_error(
    kafka: MemoryKafka, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTPIPE_SIMULATE_RATE", "0")
    done = runner.invoke(app, ["simulate", "--count", "10", "--quiet"])
    assert done.exit_code == 2 and "EVENTPIPE_SIMULATE_RATE" in done.output


@pytest.mark.parametrize("quiet", [True, False])
def test_a_run_prints_its_summary(kafka: MemoryKafka, quiet: bool) -> None:
    options = ["--count", "300", "--rate", "1e9", "--topic", "cli.events"]
    done = runner.invoke(app, ["simulate", *options, *(["--quiet"] if quiet else [])])
    assert done.exit_code == 0, done.output
    assert "300 / 0" in done.output  # delivered / failed
    assert sum(1 for _ in kafka.values("cli.events")) > 0


def test_a_full_queue_is_reported_with_the_summary_and_exit_status_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class FillsUp(MemoryKafka):
        def produce(self, topic: str, value: bytes, key: str, **kwargs: Any) -> None:
            try:
                super().produce(topic, value, key, **kwargs)
            except BufferError:
                self.capacity = None
                raise

    twin = FillsUp(capacity=2)

    def run(settings: SimulatorSettings, **kwargs: Any) -> SimulationSummary:
        with EventProducer(settings, kafka=twin) as producer:
            return run_simulation(settings, producer=producer, **kwargs)

    monkeypatch.setattr(command, "run_simulation", run)
    monkeypatch.setattr(command, "_wait_for_topic", lambda settings, wait: None)
    monkeypatch.setenv("EVENTPIPE_PRODUCER_BLOCK_TIMEOUT", "0")
    monkeypatch.setenv("EVENTPIPE_PRODUCER_RECORD_EVENTS", "10")
    done = runner.invoke(app, ["simulate", "--count", "5000", "--rate", "1e9", "--quiet"])
    assert done.exit_code == 1, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)
    assert "queue" in done.output and "delivered / failed" in done.output


def test_a_second_signal_quits_at_once() -> None:
    # The first ends the run cleanly; the second was swallowed, so a run closing against
    # a broker that had gone away could not be interrupted for the delivery timeout.
    stop = threading.Event()
    handler = command._stopper(stop)
    handler(signal.SIGINT, None)
    assert stop.is_set()
    with pytest.raises(KeyboardInterrupt):
        handler(signal.SIGINT, None)
