"""``eventpipe collector``: serve the HTTP collector (FastAPI on uvicorn)."""

from __future__ import annotations

import os

import typer

from eventpipe.config import InvalidSetting
from eventpipe.tokens import sources_problem
from front_doors.clihelp import help_text

__all__ = ["register"]


def collector(
    host: str = typer.Option(None, help="Listen address [EVENTPIPE_COLLECTOR_HOST]."),
    port: int = typer.Option(None, help="Listen port [EVENTPIPE_COLLECTOR_PORT]."),
    workers: int = typer.Option(None, help="Worker processes [EVENTPIPE_COLLECTOR_WORKERS]."),
    tokens_file: str = typer.Option(
        None, help="Write tokens, `TOKEN=component,...` a line [EVENTPIPE_COLLECTOR_TOKENS_FILE]."
    ),
) -> None:
    """Serve POST /v1/events (one event, a JSON array or NDJSON), the replaced services'
    POST /logs and POST /event, /healthz, /readyz, /metrics and the docs at /docs.

    A 202 is sent only after Kafka acknowledged every accepted event; invalid items are
    listed with their reasons. Each write token is bound to the components it may write
    (EVENTPIPE_COLLECTOR_TOKENS or the tokens file). Settings: EVENTPIPE_COLLECTOR_*,
    EVENTPIPE_KAFKA_*, EVENTPIPE_PRODUCER_* (see docs/collector.md).
    """
    from front_doors.collector.server import serve
    from front_doors.collector.settings import CollectorSettings

    given = {
        "EVENTPIPE_COLLECTOR_HOST": host,
        "EVENTPIPE_COLLECTOR_PORT": port,
        "EVENTPIPE_COLLECTOR_WORKERS": workers,
        "EVENTPIPE_COLLECTOR_TOKENS_FILE": tokens_file,
    }
    # uvicorn's worker processes build their settings from the environment (the app is
    # made by a factory in each process), so options travel there, not as arguments.
    os.environ.update({name: str(value) for name, value in given.items() if value is not None})
    settings = CollectorSettings()
    problem = sources_problem(
        settings.collector_tokens_file,
        settings.collector_tokens,
        variable="EVENTPIPE_COLLECTOR_TOKENS",
    )  # read by each server process as it starts: check them now
    if problem:
        raise InvalidSetting(problem)
    serve(settings)


def register(app: typer.Typer) -> None:
    app.command("collector", help=help_text(collector.__doc__))(collector)
