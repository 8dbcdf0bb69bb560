"""The README's run command, from a fresh clone, until events are readable through the API.

Everything is the clone's own: its virtualenv, its Kafka/ClickHouse/PostgreSQL (on free
ports, in its own state directory), its workers, API, collector and simulator. Only the
package caches (pip, Maven) are shared with this machine, as they would be for a user.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.private_clickhouse import free_port
from tests.support.services import ROOT

RUN_BUDGET = 1_200  # seconds, fresh virtualenv and first service start included


def _readable(api_port: int, token: str) -> list[dict[str, object]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{api_port}/v1/events?limit=5",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        items: list[dict[str, object]] = json.loads(reply.read())["items"]
        return items


@pytest.mark.timeout(RUN_BUDGET + 300)
def test_make_run_from_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "eventpipe"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    ports = {
        name: free_port()
        for name in ("kafka", "controller", "ch", "ch_http", "pg", "api", "collector")
    }
    worker_web = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("EVENTPIPE_")},
        "EVENTPIPE_STATE_DIR": str(tmp_path / "state"),
        "EVENTPIPE_KAFKA_PORT": str(ports["kafka"]),
        "EVENTPIPE_KAFKA_CONTROLLER_PORT": str(ports["controller"]),
        "EVENTPIPE_CLICKHOUSE_PORT": str(ports["ch"]),
        "EVENTPIPE_CLICKHOUSE_HTTP_PORT": str(ports["ch_http"]),
        "EVENTPIPE_POSTGRES_PORT": str(ports["pg"]),
        "EVENTPIPE_STACK_API_PORT": str(ports["api"]),
        "EVENTPIPE_STACK_COLLECTOR_PORT": str(ports["collector"]),
        "EVENTPIPE_STACK_WORKER_WEB_PORT": str(worker_web),
        "EVENTPIPE_STACK_SIMULATE_RATE": "50",
    }
    log = (tmp_path / "run.log").open("wb")
    run = subprocess.Popen(
        ["make", "run"],
        cwd=clone,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    tokens = tmp_path / "state" / "stack" / "tokens.env"
    items: list[dict[str, object]] = []
    deadline = time.monotonic() + RUN_BUDGET
    try:
        while not items:
            assert run.poll() is None, (tmp_path / "run.log").read_text()[-4000:]
            assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()[-4000:]
            time.sleep(2)
            if tokens.exists():
                token = dict(line.split("=", 1) for line in tokens.read_text().split())["read"]
                try:
                    items = _readable(ports["api"], token)
                except OSError:
                    continue
        assert {"event_id", "timestamp", "component", "severity"} <= set(items[0])
        output = (tmp_path / "run.log").read_text()
        assert "eventpipe is running" in output and "curl -s -H 'Authorization: Bearer" in output
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C does
        run.wait(180)
        log.close()
        # Whatever the outcome, leave no service of the clone running.
        subprocess.run(
            ["bash", str(clone / "deploy/local/services.sh"), "down"], env=env, check=False
        )
    output = (tmp_path / "run.log").read_text()
    assert "stopping worker-0" in output
    assert "kafka: stopped" in output and "clickhouse: stopped" in output
    with pytest.raises(urllib.error.URLError, match="refused"):
        _readable(ports["api"], "anything")
