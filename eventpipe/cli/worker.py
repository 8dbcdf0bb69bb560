"""``eventpipe worker``: one stream-processing worker of the consumer group."""

from __future__ import annotations

import typer

__all__ = ["register"]


def worker(
    web_port: int = typer.Option(None, help="Web port for /metrics (0: no web server)."),
    group: str = typer.Option(None, help="Consumer group (default: EVENTPIPE_WORKER_GROUP)."),
) -> None:
    """Run one worker: consume the ingest topic, validate, dead-letter, batch into ClickHouse.

    Start several (on any hosts) with the same group to share the topic's partitions;
    each needs its own --web-port on one host, or --web-port 0.
    """
    from stream_processors.settings import WorkerSettings
    from stream_processors.worker import run_worker

    overrides: dict[str, object] = {}
    if web_port is not None:
        overrides["worker_web_port"] = web_port
    if group is not None:
        overrides["worker_group"] = group
    raise typer.Exit(run_worker(WorkerSettings(**overrides)))  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
