"""Settings of the local stack (``eventpipe stack up``, what ``make run`` runs)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from eventpipe.config import LogSettings

__all__ = ["StackSettings"]


class StackSettings(LogSettings):
    state_dir: Path | None = Field(
        default=None,
        description="State directory shared with deploy/local (default: .state in the source "
        "tree); the stack keeps its logs, pids and demo tokens under stack/.",
    )
    stack_workers: int = Field(
        default=2, ge=1, le=64, description="Stream-processing workers to run."
    )
    stack_worker_web_port: int = Field(
        default=6066, ge=1, le=65000, description="Web port of the first worker; worker i uses +i."
    )
    stack_api_port: int = Field(default=8000, ge=1, le=65535, description="Port of the read API.")
    stack_collector_port: int = Field(
        default=8100, ge=1, le=65535, description="Port of the HTTP collector."
    )
    stack_simulate_rate: float = Field(
        default=200.0,
        ge=0,
        description="Events/s of the simulated services (0: no simulator).",
    )
    stack_ready_timeout: float = Field(
        default=180.0,
        gt=0,
        description="Seconds to wait for every process to be ready.",
    )
    stack_stop_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds each process gets to stop before SIGKILL.",
    )
    stack_manage_services: bool = Field(
        default=True,
        description="Start Kafka/ClickHouse/PostgreSQL with deploy/local when not running, and "
        "stop at the end those it started.",
    )
