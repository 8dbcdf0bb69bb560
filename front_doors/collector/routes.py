"""The collector's routes: ingest, the replaced services' routes, and operations.

Every ingest route reads the same way: who is calling (token → scope), what they sent
(body → items), publish and answer. The work is in :mod:`~front_doors.collector.ingest`.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from eventpipe.kafka import describe_topics
from front_doors.collector.body import read_body
from front_doors.collector.compat import LEGACY_EVENT, LEGACY_LOG, Legacy
from front_doors.collector.errors import Unauthorized
from front_doors.collector.ingest import Outcome, ingest
from front_doors.collector.parse import parse_items
from front_doors.collector.schemas import ErrorBody, IngestResponse
from front_doors.collector.settings import CollectorSettings

__all__ = ["router"]

router = APIRouter()

_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "Not one event, a JSON array or NDJSON; or no item is a valid event."),
        (401, "No token, or an unknown one."),
        (403, "The token may not write a component named in the request; nothing was sent."),
        (413, "Too many bytes or too many events in one request."),
        (415, "Unsupported Content-Encoding."),
        (503, "Kafka did not acknowledge some events: `failed` lists them; send them again."),
    )
}


def _body_doc(description: str) -> dict[str, Any]:
    schema = {"type": "object", "description": description}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"oneOf": [schema, {"type": "array", "items": schema}]}
                },
                "application/x-ndjson": {
                    "schema": {"type": "string", "description": "one object a line"}
                },
            },
        }
    }


@router.post(
    "/v1/events",
    status_code=202,
    response_model=IngestResponse,
    responses=_ERRORS,
    tags=["ingest"],
    summary="Publish events",
    openapi_extra=_body_doc("An event as in the contract (docs: events/schema)."),
)
async def post_events(request: Request) -> dict[str, Any]:
    """One event, a JSON array of events, or NDJSON. Answered once Kafka acknowledged every
    accepted event; invalid items are listed under `rejected` with the reason."""
    return await _ingest(request)


@router.post(
    "/logs",
    status_code=202,
    response_model=IngestResponse,
    responses=_ERRORS,
    tags=["compatibility"],
    summary="Publish log lines (replaced log service)",
    openapi_extra=_body_doc("{severity, service, message, timestamp?}"),
)
async def post_logs(request: Request) -> dict[str, Any]:
    """`{severity, service, message, timestamp?}` (or an array): `service` is the component;
    a timestamp without an offset is UTC, a number below 10^11 epoch seconds."""
    return await _ingest(request, LEGACY_LOG)


@router.post(
    "/event",
    status_code=202,
    response_model=IngestResponse,
    responses=_ERRORS,
    tags=["compatibility"],
    summary="Publish a business event (replaced event service)",
    openapi_extra=_body_doc("{email, environment, component, message, data}"),
)
async def post_event(request: Request) -> dict[str, Any]:
    """`{email, environment, component, message, data}` (or an array): `email` is the user;
    the kind is `event`."""
    return await _ingest(request, LEGACY_EVENT)


async def _ingest(request: Request, legacy: Legacy | None = None) -> dict[str, Any]:
    state = request.app.state
    settings: CollectorSettings = state.settings
    scope = state.tokens.scope_of(_bearer(request))
    body = await read_body(request.headers, request.stream(), settings.collector_max_body_bytes)
    items = parse_items(body, request.headers.get("content-type"), settings.collector_max_events)
    outcome: Outcome = await ingest(state.producer, items, scope, legacy)
    state.metrics.count_events(len(outcome.ids), len(outcome.rejected), len(outcome.failed))
    outcome.raise_for_status()
    return outcome.body()


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("use Authorization: Bearer <token>")
    return token.strip()


@router.get("/healthz", tags=["operations"], summary="Liveness")
async def healthz() -> dict[str, str]:
    """200 while the process serves requests; checks nothing else."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    tags=["operations"],
    summary="Readiness",
    responses={503: {"description": "Kafka or the topic is unavailable."}},
)
async def readyz(request: Request) -> JSONResponse:
    """200 when Kafka answers and the ingest topic exists now, else 503."""
    settings: CollectorSettings = request.app.state.settings
    try:
        found = await asyncio.to_thread(
            describe_topics, settings.librdkafka_security(), [settings.topic], timeout=3.0
        )
    except Exception:  # KafkaException: the broker does not answer
        found = []
    ready = bool(found)
    return JSONResponse({"status": "ready" if ready else "unavailable"}, 200 if ready else 503)


@router.get("/metrics", tags=["operations"], summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """This process's metrics in the Prometheus text format."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
