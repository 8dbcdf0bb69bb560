"""Operator commands against services that are not there, topics and groups that do not
exist: one line naming the problem, a non-zero status, in bounded time."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.names import unique
from tests.support.services import ROOT, Endpoints

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
    assert time.monotonic() - sent < 8  # was: until librdkafka's timeout (up to 30 s)
    assert proc.returncode != 0


@pytest.mark.parametrize("command", [["migrate"], ["rollup"]])
def test_wrong_clickhouse_credentials(endpoints: Endpoints, command: list[str]) -> None:
    # ClickHouse 18.16 sends its C++ stack trace in the exception's text: it was printed
    # after the error line, a dozen lines of frames.
    url = urlsplit(endpoints.clickhouse_url)
    result = eventpipe(
        *command,
        EVENTPIPE_CLICKHOUSE_URL=f"clickhouse://nobody:hunter2@{url.hostname}:{url.port}/default",
        EVENTPIPE_STARTUP_TIMEOUT="2",
    )
    line = one_error_line(result)
    assert line.startswith(f"eventpipe: ClickHouse at {url.hostname}:{url.port}: "), line
    assert "Exception" in line and "Stack trace" not in line, line
    logs = [text for text in result.stderr.splitlines() if text.startswith("{")]
    assert result.stderr.splitlines() == [*logs, line]  # nothing but JSON logs and the error
    assert "hunter2" not in result.stderr


@pytest.mark.parametrize("command", [["migrate"], ["api", "--port", "1"]])
def test_a_refused_login_is_not_waited_out(endpoints: Endpoints, command: list[str]) -> None:
    # A wrong user or password was retried until EVENTPIPE_STARTUP_TIMEOUT ran out (60 s
    # by default); no wait can mend it. With a 10-minute timeout, the command would hit
    # the 60 s bound of `eventpipe()` here.
    url = urlsplit(endpoints.clickhouse_url)
    result = eventpipe(
        *command,
        EVENTPIPE_CLICKHOUSE_URL=f"clickhouse://nobody:hunter2@{url.hostname}:{url.port}/default",
        EVENTPIPE_STARTUP_TIMEOUT="600",
        EVENTPIPE_API_STARTUP_TIMEOUT="600",
    )
    assert one_error_line(result).startswith(f"eventpipe: ClickHouse at {url.hostname}:")


def test_the_api_refuses_to_start_on_an_unmigrated_database(endpoints: Endpoints) -> None:
    # It used to log "clickhouse ready" and serve a 500 for every read; workers refused.
    missing = unique("nodb")
    result = eventpipe(
        "api", "--port", "1",
        EVENTPIPE_CLICKHOUSE_URL=endpoints.clickhouse_url,
        EVENTPIPE_CLICKHOUSE_DATABASE=missing,
        EVENTPIPE_API_STARTUP_TIMEOUT="5",
    )  # fmt: skip
    line = one_error_line(result)
    assert f"database {missing} is not migrated: run `eventpipe migrate`" in line, line


def test_ctrl_c_ends_topics_create_at_once() -> None:
    # Creating topics is idempotent, so ending it anywhere is safe; it used to wait inside
    # librdkafka's metadata call for EVENTPIPE_STARTUP_TIMEOUT (60 s by default).
    proc = subprocess.Popen(
        [sys.executable, "-m", "eventpipe", "topics", "create"],
        env={**os.environ, "EVENTPIPE_KAFKA_BOOTSTRAP": CLOSED, "EVENTPIPE_STARTUP_TIMEOUT": "60"},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    time.sleep(4)  # imported, settings read, inside librdkafka's blocking metadata call
    proc.send_signal(signal.SIGINT)
    try:
        proc.communicate(timeout=30)  # far less than the metadata call's 60 s
    finally:
        proc.kill()
    assert proc.returncode != 0


@pytest.mark.parametrize("reply_timeout", ["1", "600"])
def test_a_server_that_does_not_answer_the_native_protocol(reply_timeout: str) -> None:
    # The operator's likely mistake: the HTTP port (8123) in EVENTPIPE_CLICKHOUSE_URL. The
    # message was "Code: 209. (127.0.0.1:...)". And the first attempt waited out
    # EVENTPIPE_CLICKHOUSE_TIMEOUT whatever the start-up timeout: with 600 s, it would hit
    # the 60 s bound of `eventpipe()` here.
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        result = eventpipe(
            "migrate",
            EVENTPIPE_CLICKHOUSE_URL=f"clickhouse://default@127.0.0.1:{port}/default",
            EVENTPIPE_CLICKHOUSE_TIMEOUT=reply_timeout,
            EVENTPIPE_STARTUP_TIMEOUT="2",
        )
    line = one_error_line(result)
    assert line.startswith(f"eventpipe: ClickHouse at 127.0.0.1:{port}: connected, but no"), line
    assert "native protocol" in line, line


def test_access_logs_on_a_port_in_use(kafka_conf: dict[str, Any], topic: str) -> None:
    # It was an OSError traceback from asyncio's create_server.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = eventpipe(
            "access-logs", "--component", "web", "--port", str(port),
            EVENTPIPE_KAFKA_BOOTSTRAP=kafka_conf["bootstrap.servers"], EVENTPIPE_TOPIC=topic,
        )  # fmt: skip
    line = one_error_line(result)
    assert f"('127.0.0.1', {port})" in line and "address already in use" in line, line


def test_access_logs_following_a_directory(
    kafka_conf: dict[str, Any], topic: str, tmp_path: Path
) -> None:
    # It was an IsADirectoryError traceback from the follower's first open.
    result = eventpipe(
        "access-logs", "--component", "web", "--follow", str(tmp_path),
        EVENTPIPE_KAFKA_BOOTSTRAP=kafka_conf["bootstrap.servers"], EVENTPIPE_TOPIC=topic,
    )  # fmt: skip
    line = one_error_line(result)
    assert "Is a directory" in line and str(tmp_path) in line, line


def test_outbox_relay_without_postgres_is_one_line() -> None:
    # psycopg's message spans lines (a hint after a newline), and rich wrapped it at 80
    # columns: three lines, none of them starting with "eventpipe: ".
    result = eventpipe(
        "outbox-relay", "--once", "--ensure-schema",
        EVENTPIPE_POSTGRES_DSN="postgresql://nobody:hunter2@127.0.0.1:1/eventpipe",
        EVENTPIPE_OUTBOX_STARTUP_TIMEOUT="2",
        COLUMNS="80",
    )  # fmt: skip
    assert result.returncode == 2
    line = one_error_line(result)
    assert line.startswith("eventpipe: PostgreSQL not reachable: "), line
    assert "hunter2" not in result.stderr


def test_simulate_without_kafka_or_its_topic_is_one_line(kafka_conf: dict[str, Any]) -> None:
    # rich wrapped the message at the terminal's width, without the "eventpipe: " of the
    # other commands, and Kafka's error was its repr: KafkaError{code=_TRANSPORT,...}.
    unreachable = eventpipe(
        "simulate", "--wait", "1", "--count", "1", EVENTPIPE_KAFKA_BOOTSTRAP=CLOSED, COLUMNS="80"
    )
    line = one_error_line(unreachable)
    assert line.startswith(f"eventpipe: Kafka at {CLOSED} not reachable: "), line
    assert "KafkaError{" not in line, line
    missing = unique("a_topic_name_long_enough_to_be_wrapped")
    absent = eventpipe(
        "simulate", "--wait", "1", "--count", "1",
        EVENTPIPE_KAFKA_BOOTSTRAP=kafka_conf["bootstrap.servers"], EVENTPIPE_TOPIC=missing,
        COLUMNS="80",
    )  # fmt: skip
    line = one_error_line(absent)
    assert line == f"eventpipe: topic {missing} does not exist (run `eventpipe topics create`)"
    assert absent.returncode == 2
