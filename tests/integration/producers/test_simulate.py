"""``eventpipe simulate`` end to end, and the producer benchmark at smoke size."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

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
