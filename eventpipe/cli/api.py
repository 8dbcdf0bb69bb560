"""``eventpipe api``: serve the read API (FastAPI on uvicorn)."""

from __future__ import annotations

import typer

from eventpipe.config import InvalidSetting
from eventpipe.tokens import sources_problem

__all__ = ["register"]


def api(
    host: str = typer.Option(None, help="Listen address [EVENTPIPE_API_HOST]."),
    port: int = typer.Option(None, help="Listen port [EVENTPIPE_API_PORT]."),
    workers: int = typer.Option(None, help="Worker processes [EVENTPIPE_API_WORKERS]."),
) -> None:
    """Serve /v1/events, /v1/stats, /healthz, /readyz, /metrics and the docs at /docs."""
    from query_api.server import serve
    from query_api.settings import ApiSettings

    given = {"api_host": host, "api_port": port, "api_workers": workers}
    # Through the model, so an option is checked like its variable (a port out of range,
    # 0 workers) instead of being ignored for being falsy or failing deep in uvicorn.
    settings = ApiSettings(**{k: v for k, v in given.items() if v is not None})  # type: ignore[arg-type]
    # Each server process reads the tokens as it starts: checked here, a bad file is one
    # line now, not a traceback after the wait for ClickHouse.
    problem = sources_problem(
        settings.api_tokens_file, settings.api_tokens, variable="EVENTPIPE_API_TOKENS"
    )
    if problem:
        raise InvalidSetting(problem)
    serve(settings, host=settings.api_host, port=settings.api_port, workers=settings.api_workers)


def register(app: typer.Typer) -> None:
    app.command("api")(api)
