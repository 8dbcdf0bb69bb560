"""docker-compose.yml: structure checked always; `docker compose config` where it exists."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from eventpipe.cli import app
from eventpipe.config_docs import render

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_long_running_services_have_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("kafka", "clickhouse", "worker", "api", "collector"):
        assert "healthcheck" in services[name], name


def test_start_order_waits_for_health_and_init(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["init"]["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "clickhouse": {"condition": "service_healthy"},
    }
    for name in ("worker", "api", "collector", "simulator"):
        assert services[name]["depends_on"] == {
            "init": {"condition": "service_completed_successfully"}
        }


def test_workers_can_be_scaled(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker  # a fixed host port would forbid --scale


def test_required_settings_fail_fast() -> None:
    text = COMPOSE.read_text()
    for name in (
        "EVENTPIPE_CLICKHOUSE_PASSWORD",
        "EVENTPIPE_API_TOKENS",
        "EVENTPIPE_COLLECTOR_TOKENS",
    ):
        assert re.search(r"\$\{" + name + r":\?", text), name


def test_commands_exist_and_settings_are_known(compose: dict[str, Any]) -> None:
    commands = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    known = set(re.findall(r"`(EVENTPIPE_[A-Z0-9_]+)`", render()))
    for name, service in compose["services"].items():
        command = service.get("command")
        if command:
            assert command[0] in commands, f"{name}: unknown command {command[0]}"
        for variable in service.get("environment") or {}:
            if variable.startswith("EVENTPIPE_"):
                assert variable in known, f"{name}: {variable} is not a setting"


def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if (
        docker is None
        or subprocess.run([docker, "compose", "version"], capture_output=True).returncode
    ):
        pytest.skip(
            "the docker compose plugin is not installed here; the structure is checked above"
        )
    env = (ROOT / ".env.example").read_text()
    (tmp_path / ".env").write_text(env)
    env_file = str(tmp_path / ".env")
    result = subprocess.run(
        [docker, "compose", "--env-file", env_file, "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
