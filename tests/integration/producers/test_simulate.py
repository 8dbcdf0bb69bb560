"""``eventpipe simulate`` end to end, and the producer benchmark at smoke size."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaException, TopicPartition

from bench.harness import BenchContext
from bench.producer_throughput import run
from events.model import KINDS
from tests.integration.producers.conftest import read_events
from tests.support.services import ROOT, Endpoints


def test_the_simulate_command_publishes_the_count_and_summarises(
    endpoints: Endpoints, kafka_conf: dict[str, Any], topic: str
) -> None:
    env = {
        **os.environ,
        "EVENTPIPE_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "EVENTPIPE_SIMULATE_SERVICES": "payments,orders,users,billing",
    }
    command = ["simulate", "--count", "1500", "--rate", "100000", "--seed", "3", "--quiet"]
    done = subprocess.run(
        [sys.executable, "-m", "eventpipe", *command, "--topic", topic],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "1,500" in done.stderr and "1,500 / 0" in done.stderr  # emitted; delivered / failed
    events = [e for _, events in read_events(kafka_conf, topic) for e in events]
    assert len(events) == 1_500
    assert {e.component for e in events} == {"payments", "orders", "users", "billing"}
    assert {e.kind for e in events} == set(KINDS)


def test_the_producer_benchmark_runs_at_smoke_size(endpoints: Endpoints) -> None:
    ctx = BenchContext(endpoints.kafka_bootstrap, endpoints.clickhouse_url, scale="smoke")
    results = run(ctx)
    assert [r.name for r in results] == [
        "producer_throughput",
        "producer_throughput_batch",
        "producer_throughput_unpacked",
        "producer_bytes_per_event",
    ]
    for result in results:
        assert result.value > 0 and result.peer_value and result.ratio is not None


def _simulate(endpoints: Endpoints, topic: str, *options: str, **popen: Any) -> Any:
    env = {**os.environ, "EVENTPIPE_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap}
    command = [sys.executable, "-m", "eventpipe", "simulate", *options, "--topic", topic]
    return subprocess.Popen(command, cwd=ROOT, env=env, text=True, **popen)


def _delivered(kafka_conf: dict[str, Any], topic: str) -> list[Any]:
    events = [e for _, events in read_events(kafka_conf, topic) for e in events]
    assert len({e.event_id for e in events}) == len(events)  # replayed, yet distinct
    return events


@pytest.mark.parametrize("quiet", [True, False])
def test_a_closed_output_pipe_neither_stops_the_run_nor_fails_it(
    endpoints: Endpoints, kafka_conf: dict[str, Any], topic: str, quiet: bool
) -> None:
    options = ["--count", "3000", "--rate", "100000", *(["--quiet"] if quiet else [])]
    process = _simulate(
        endpoints, topic, *options, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    process.stderr.close()  # the reader went away (`eventpipe simulate 2>&1 | head -1`)
    assert process.wait(timeout=300) == 0
    assert len(_delivered(kafka_conf, topic)) == 3_000


def test_a_duration_run_delivers_rate_times_duration_events(
    endpoints: Endpoints, kafka_conf: dict[str, Any], topic: str
) -> None:
    process = _simulate(
        endpoints, topic, "--rate", "1000", "--duration", "2", "--quiet", stderr=subprocess.PIPE
    )
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert len(_delivered(kafka_conf, topic)) == 2_000
    assert "2,000 / 0" in err  # delivered / failed


def test_ctrl_c_stops_cleanly_and_the_summary_is_what_kafka_holds(
    endpoints: Endpoints, kafka_conf: dict[str, Any], topic: str
) -> None:
    process = _simulate(endpoints, topic, "--rate", "2000", "--seed", "5", stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not _any_record(kafka_conf, topic):  # the run is under way: Ctrl-C
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=300)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    emitted = int(re.search(r"emitted\D+([\d,]+) in", err)[1].replace(",", ""))  # type: ignore[index]
    delivered = re.search(r"delivered / failed\D+([\d,]+) / ([\d,]+)", err)
    assert delivered is not None
    events = _delivered(kafka_conf, topic)
    assert emitted == len(events) == int(delivered[1].replace(",", "")) > 0
    assert delivered[2] == "0"


def _any_record(kafka_conf: dict[str, Any], topic: str) -> bool:
    consumer = Consumer({**kafka_conf, "group.id": f"probe-{time.monotonic_ns()}"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return any(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] > 0
            for p in partitions
        )
    except KafkaException:  # a new topic's leaders are still being elected
        return False
    finally:
        consumer.close()
