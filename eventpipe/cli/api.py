"""``eventpipe api``: serve the read API (FastAPI on uvicorn)."""

from __future__ import annotations

import typer

__all__ = ["register"]


def api(
    host: str = typer.Option(None, help="Listen address [EVENTPIPE_API_HOST]."),
    port: int = typer.Option(None, help="Listen port [EVENTPIPE_API_PORT]."),
    workers: int = typer.Option(None, help="Worker processes [EVENTPIPE_API_WORKERS]."),
) -> None:
    """Serve /v1/events, /v1/stats, /healthz, /readyz, /metrics and the docs at /docs."""
    from query_api.server import serve
    from query_api.settings import ApiSettings

    settings = ApiSettings()
    serve(
        settings,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers or settings.api_workers,
    )


def register(app: typer.Typer) -> None:
    app.command("api")(api)
