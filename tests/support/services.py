"""One fixture, three sources of real services.

1. Endpoints given in the environment (``EVENTPIPE_TEST_KAFKA_BOOTSTRAP``,
   ``EVENTPIPE_TEST_CLICKHOUSE_URL``, optional ``EVENTPIPE_TEST_POSTGRES_DSN``): used as
   they are, never stopped.
2. Else, where a Docker engine answers: testcontainers starts apache/kafka (KRaft), a
   current ClickHouse and PostgreSQL, and removes them at the end.
3. Else: the project's own ``deploy/local`` scripts start what is not running yet (Apache
   Kafka from Maven Central jars, the distribution's ClickHouse and PostgreSQL) and stop, at
   the end, exactly what they started.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "deploy" / "local"
Source = Literal["env", "docker", "local"]


@dataclass(frozen=True)
class Endpoints:
    kafka_bootstrap: str
    clickhouse_url: str
    postgres_dsn: str | None
    source: Source
    clickhouse_http_port: int | None = None


def _from_env() -> Endpoints | None:
    kafka = os.environ.get("EVENTPIPE_TEST_KAFKA_BOOTSTRAP")
    clickhouse = os.environ.get("EVENTPIPE_TEST_CLICKHOUSE_URL")
    if not (kafka and clickhouse):
        return None
    return Endpoints(kafka, clickhouse, os.environ.get("EVENTPIPE_TEST_POSTGRES_DSN"), "env")


def _docker_answers() -> bool:
    if os.environ.get("EVENTPIPE_TEST_NO_DOCKER"):
        return False
    if not os.environ.get("DOCKER_HOST") and not Path("/var/run/docker.sock").exists():
        return False  # the docker client would leak its socket finding that out
    try:
        import docker

        client = docker.from_env(timeout=3)
    except Exception:
        return False
    try:
        client.ping()
    except Exception:
        return False
    finally:
        client.close()
    return True


def _from_docker() -> tuple[Endpoints, Callable[[], None]]:  # pragma: no cover - needs Docker
    from testcontainers.clickhouse import ClickHouseContainer
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    kafka = KafkaContainer("apache/kafka:4.1.1").with_kraft()
    clickhouse = ClickHouseContainer("clickhouse/clickhouse-server:25.8")
    postgres = PostgresContainer("postgres:16-alpine", username="eventpipe", dbname="eventpipe")
    started = [c.start() for c in (kafka, clickhouse, postgres)]
    ch_port = clickhouse.get_exposed_port(9000)
    endpoints = Endpoints(
        kafka.get_bootstrap_server(),
        f"clickhouse://{clickhouse.username}:{clickhouse.password}@"
        f"{clickhouse.get_container_host_ip()}:{ch_port}/default",
        postgres.get_connection_url(driver=None),
        "docker",
        int(clickhouse.get_exposed_port(8123)),
    )

    def stop() -> None:
        for container in started:
            container.stop()

    return endpoints, stop


def _script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(LOCAL / f"{name}.sh"), *args], capture_output=True, text=True, check=False
    )


def _from_local() -> tuple[Endpoints, Callable[[], None]]:
    started: list[str] = []
    for name in ("kafka", "clickhouse", "postgres"):
        if _script(name, "status").returncode == 0:
            continue
        result = _script(name, "start")
        if result.returncode != 0:
            raise RuntimeError(f"deploy/local/{name}.sh start failed:\n{result.stderr}")
        started.append(name)
    env = dict(
        line.split("=", 1) for line in _script("services", "env").stdout.split() if "=" in line
    )
    endpoints = Endpoints(
        env["EVENTPIPE_KAFKA_BOOTSTRAP"],
        env["EVENTPIPE_CLICKHOUSE_URL"],
        env["EVENTPIPE_POSTGRES_DSN"],
        "local",
        int(os.environ.get("EVENTPIPE_CLICKHOUSE_HTTP_PORT", "18123")),
    )

    def stop() -> None:
        for name in reversed(started):
            _script(name, "stop")

    return endpoints, stop


def resolve() -> tuple[Endpoints, Callable[[], None]]:
    """The endpoints to test against, and how to stop what was started for them."""
    endpoints = _from_env()
    if endpoints is not None:
        return endpoints, lambda: None
    if _docker_answers():
        return _from_docker()
    return _from_local()
