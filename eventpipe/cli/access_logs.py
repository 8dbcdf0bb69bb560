"""``eventpipe access-logs``: receive HTTP access-log lines over TCP, or follow a log file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from eventpipe.cli.failure import fail
from eventpipe.startup import one_line
from front_doors.clihelp import help_text

__all__ = ["register"]

console = Console(stderr=True)


def access_logs(
    component: str = typer.Option(
        None, help="Component of the events, e.g. the web service [EVENTPIPE_ACCESS_COMPONENT]."
    ),
    host: str = typer.Option(None, help="Address to listen on [EVENTPIPE_ACCESS_HOST]."),
    port: int = typer.Option(None, help="TCP port to listen on [EVENTPIPE_ACCESS_PORT]."),
    follow: Path = typer.Option(
        None, help="Follow this log file instead of listening [EVENTPIPE_ACCESS_FOLLOW]."
    ),
    from_end: bool = typer.Option(
        None,
        "--from-end/--from-start",
        help="A followed file with no saved position: skip what it already holds?",
    ),
    environment: str = typer.Option(
        None, help="environment of the events [EVENTPIPE_PRODUCER_ENVIRONMENT]."
    ),
) -> None:
    """Turn HTTP access-log lines into access events for one component.

    Lines in Common or Combined Log Format, or JSON lines (nginx escape=json, Caddy, ...),
    arrive over TCP from any number of connections — `tail -F access.log | nc host 5140`,
    rsyslog/syslog-ng omfwd, Vector or Fluent Bit tcp outputs — or, with --follow, from a
    growing log file that may be rotated (rename or copy-truncate); the follower saves its
    position and resumes there. Unparseable lines go to the dead-letter topic with the raw
    line and the reason. Settings: EVENTPIPE_ACCESS_*, EVENTPIPE_KAFKA_*,
    EVENTPIPE_PRODUCER_* (see docs/access_logs.md).
    """
    from pydantic import ValidationError

    from eventpipe.logs import configure
    from front_doors.access_logs.run import run_access_logs
    from front_doors.access_logs.settings import AccessLogSettings
    from front_doors.startup import StartupFailed

    given: dict[str, Any] = {
        "access_component": component,
        "access_host": host,
        "access_port": port,
        "access_follow": follow,
        "access_follow_from": None if from_end is None else ("end" if from_end else "start"),
        "producer_environment": environment,
    }
    try:
        settings = AccessLogSettings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        if not _component_missing(exc):
            raise  # `eventpipe` names each wrong variable, the other commands' way
        fail("name the component: --component web (or EVENTPIPE_ACCESS_COMPONENT)", 2)
    configure(settings, service="access-logs")
    try:
        run_access_logs(settings)
    except StartupFailed as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    except OSError as exc:  # the port is taken, the followed path is not a file it can read
        fail(one_line(exc), 1)


def _component_missing(exc: Any) -> bool:
    return any(
        error["loc"] == ("access_component",) and error["type"] == "missing"
        for error in exc.errors()
    )


def register(app: typer.Typer) -> None:
    app.command("access-logs", help=help_text(access_logs.__doc__))(access_logs)
