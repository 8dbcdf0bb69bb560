"""Operator commands against services that are not there, topics and groups that do not
exist: one line naming the problem, a non-zero status, in bounded time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.support.names import unique
from tests.support.services import ROOT

CLOSED = "127.0.0.1:1"


def eventpipe(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eventpipe", *args],
        env={**os.environ, "COLUMNS": "200", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("eventpipe: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "command",
    [["dlq", "count"], ["dlq", "show"], ["dlq", "replay", "--dry-run"], ["lag"],
     ["lag", "-g", "g"], ["topics", "describe"], ["topics", "create"]],
)  # fmt: skip
def test_kafka_not_reachable(command: list[str]) -> None:
    started = time.monotonic()
    result = eventpipe(*command, EVENTPIPE_KAFKA_BOOTSTRAP=CLOSED, EVENTPIPE_STARTUP_TIMEOUT="5")
    assert time.monotonic() - started < 40
    line = one_error_line(result)
    assert line.startswith(f"eventpipe: Kafka at {CLOSED}: "), line
    assert "%3|" not in result.stderr  # librdkafka's raw log lines


@pytest.mark.parametrize("command", [["migrate"], ["rollup"], ["api", "--port", "1"]])
def test_clickhouse_not_reachable(command: list[str]) -> None:
    # The API used to start uvicorn anyway, and its lifespan ended in a traceback.
    result = eventpipe(
        *command,
        EVENTPIPE_CLICKHOUSE_URL="clickhouse://default:hunter2@127.0.0.1:1/default",
        EVENTPIPE_STARTUP_TIMEOUT="2",
        EVENTPIPE_API_STARTUP_TIMEOUT="2",
    )
    line = one_error_line(result)
    assert line.startswith("eventpipe: ClickHouse at 127.0.0.1:1: "), line
    assert "hunter2" not in result.stderr


@pytest.mark.parametrize("command", [["dlq", "count"], ["dlq", "show"], ["dlq", "replay"]])
def test_dlq_of_a_topic_that_does_not_exist(kafka_conf: dict[str, Any], command: list[str]) -> None:
    missing = unique("nope")
    result = eventpipe(
        *command, EVENTPIPE_KAFKA_BOOTSTRAP=kafka_conf["bootstrap.servers"], EVENTPIPE_TOPIC=missing
    )
    assert result.returncode == 1
    assert f"{missing}.dlq" in one_error_line(result)  # was: 0 letters, status 0


def test_lag_of_a_topic_that_does_not_exist(kafka_conf: dict[str, Any]) -> None:
    missing = unique("nope")
    result = eventpipe(
        "lag", "--topic", missing, "-g", "g",
        EVENTPIPE_KAFKA_BOOTSTRAP=kafka_conf["bootstrap.servers"],
    )  # fmt: skip
    assert f"topic {missing} does not exist" in one_error_line(result)  # was: total 0


def test_lag_of_a_group_that_does_not_exist(kafka_conf: dict[str, Any], topic: str) -> None:
    group = unique("nogroup")
    result = eventpipe(
        "lag", "--topic", topic, "-g", group,
        EVENTPIPE_KAFKA_BOOTSTRAP=kafka_conf["bootstrap.servers"],
    )  # fmt: skip
    assert f"consumer group {group} not known" in one_error_line(result)  # was: a lag table


def test_describe_a_topic_that_does_not_exist(kafka_conf: dict[str, Any], topic: str) -> None:
    missing = unique("nope")
    result = eventpipe(
        "topics", "describe", topic, missing,
        EVENTPIPE_KAFKA_BOOTSTRAP=kafka_conf["bootstrap.servers"],
    )  # fmt: skip
    assert f"topic {missing} does not exist" in one_error_line(result)  # was: status 0


@pytest.mark.parametrize("command", [["dlq", "count"], ["lag", "-g", "g"], ["topics", "describe"]])
def test_ctrl_c_ends_a_read_only_command_at_once(command: list[str]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "eventpipe", *command],
        env={**os.environ, "EVENTPIPE_KAFKA_BOOTSTRAP": CLOSED},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    time.sleep(4)  # imported, settings read, inside librdkafka's blocking metadata call
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert time.monotonic() - sent < 3  # was: until librdkafka's timeout (up to 30 s)
    assert proc.returncode != 0
