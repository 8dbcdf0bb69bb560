"""Operating a worker: the guard, /metrics, start-up checks, graceful SIGTERM."""

from __future__ import annotations

import time
import urllib.request
from typing import Any

from tests.integration.stream_processors.conftest import Pipeline
from tests.support.names import unique
from tests.support.pipeline import WorkerProcess, make_lines, produce, wait_for_rows
from tests.support.private_clickhouse import free_port


def test_guard_stops_the_worker_on_a_bad_deploy(
    conf: dict[str, Any], topic: str, worker_env: dict[str, str]
) -> None:
    bad = [("svc-0", b'{"component": "svc-0", "msg": "renamed field"}')] * 3_000
    produce(conf, topic, bad, per_record=100)
    env = worker_env | {
        "EVENTPIPE_WORKER_INVALID_WINDOW": "1000",
        "EVENTPIPE_WORKER_BATCH_MAX_ROWS": "500",
    }
    worker = WorkerProcess(env).start()
    try:
        code = worker.wait(120)
    finally:
        if worker.alive():
            worker.kill()
    assert code == 3, worker.log()[-3000:]
    trips = [line for line in worker.log().splitlines() if "invalid-ratio guard tripped" in line]
    assert len(trips) == 1
    assert "were invalid" in trips[0]


def test_metrics_endpoint_reports_the_pipeline(pipeline: Pipeline) -> None:
    conf, topic, ch_client, ch_database, worker_env = pipeline
    lines = make_lines(2_000, seed=8)
    produce(conf, topic, [*lines, ("svc-0", b"{broken")], per_record=100)
    port = free_port()
    with WorkerProcess(worker_env, web_port=port) as worker:
        wait_for_rows(ch_client, ch_database, 2_000)
        time.sleep(1.5)
        body = ""
        for _ in range(20):
            try:
                body = (
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
                    .read()
                    .decode()
                )
                if 'eventpipe_worker_invalid_events_total{reason="bad_json"} 1.0' in body:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        worker.terminate()
    assert "eventpipe_worker_valid_events_total 2000.0" in body
    assert 'eventpipe_worker_invalid_events_total{reason="bad_json"} 1.0' in body
    assert "eventpipe_worker_inserted_rows_total 2000.0" in body
    assert "eventpipe_worker_insert_seconds_bucket" in body
    assert "eventpipe_worker_freshness_seconds_count" in body
    assert f'eventpipe_worker_consumer_lag{{partition="0",topic="{topic}"}}' in body


def test_missing_topic_is_a_clear_startup_error(worker_env: dict[str, str]) -> None:
    # Waited for (it may be being created alongside), then named.
    missing = unique("missing")
    env = worker_env | {"EVENTPIPE_TOPIC": missing, "EVENTPIPE_WORKER_STARTUP_TIMEOUT": "3"}
    worker = WorkerProcess(env).start()
    assert worker.wait(60) == 2
    assert f"topic {missing} does not exist (run `eventpipe topics create`)" in worker.log()


def test_unmigrated_database_is_a_clear_startup_error(worker_env: dict[str, str]) -> None:
    worker = WorkerProcess(worker_env | {"EVENTPIPE_CLICKHOUSE_DATABASE": unique("nodb")}).start()
    assert worker.wait(60) == 2
    assert "eventpipe migrate" in worker.log()


def test_unreachable_clickhouse_is_a_clear_startup_error(worker_env: dict[str, str]) -> None:
    env = worker_env | {
        "EVENTPIPE_CLICKHOUSE_URL": "clickhouse://default:hunter2@127.0.0.1:1/default",
        "EVENTPIPE_WORKER_STARTUP_TIMEOUT": "2",
        "EVENTPIPE_CLICKHOUSE_CONNECT_TIMEOUT": "1",
    }
    worker = WorkerProcess(env).start()
    assert worker.wait(60) == 2
    assert "ClickHouse at 127.0.0.1:1: " in worker.log()
    assert "hunter2" not in worker.log()
    assert "Traceback" not in worker.log()


def test_sigterm_stops_cleanly_with_everything_written(pipeline: Pipeline) -> None:
    ch_client, ch_database = pipeline.ch_client, pipeline.ch_database
    pipeline.backlog(500, seed=9, per_record=10)
    env = pipeline.settings(worker_batch_max_seconds=30, worker_batch_max_rows=100_000)
    with WorkerProcess(env) as worker:
        worker.wait_assigned()
        time.sleep(3)  # the batch is gathered but not old enough to be written
        assert worker.terminate() == 0
    assert wait_for_rows(ch_client, ch_database, 500, timeout=5) == 500
