"""``/healthz`` (the process answers), ``/readyz`` (ClickHouse answers), ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from query_api.params import Repo

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    """200 while the process serves requests; checks nothing else."""
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness", responses={503: {"description": "Not ready."}})
async def readyz(repo: Repo) -> JSONResponse:
    """200 when ClickHouse answers a query now, else 503."""
    ready = await repo.ready()
    return JSONResponse({"status": "ready" if ready else "unavailable"}, 200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """This process's metrics in the Prometheus text format."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
