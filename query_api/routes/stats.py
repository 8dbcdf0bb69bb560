"""``GET /v1/stats`` and ``GET /v1/stats/timeseries``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from query_api.params import FILTER_NAMES, Repo, Where, known_parameters
from query_api.repository import GroupBy, Interval
from query_api.routes.responses import ERRORS
from query_api.schemas import SeriesOut, StatsOut

__all__ = ["router"]

router = APIRouter(prefix="/v1/stats", tags=["stats"], responses=ERRORS)


@router.get(
    "",
    response_model=StatsOut,
    summary="Counts of the matching events",
    dependencies=[Depends(known_parameters(FILTER_NAMES))],
)
async def stats(where: Where, repo: Repo) -> StatsOut:
    """Totals by severity, component and kind, the error rate, the first and last time."""
    return StatsOut.of(await repo.stats(where))


@router.get(
    "/timeseries",
    response_model=SeriesOut,
    summary="Counts per time bucket",
    dependencies=[Depends(known_parameters(FILTER_NAMES, ("interval", "group_by")))],
)
async def timeseries(
    where: Where,
    repo: Repo,
    interval: Annotated[Interval, Query(description="Bucket width (UTC).")] = "1h",
    group_by: Annotated[GroupBy | None, Query(description="Split each bucket.")] = None,
) -> SeriesOut:
    """Counts per bucket from ``since`` (or the first event) to ``until`` (or the last),
    empty buckets included as zeros."""
    return SeriesOut.of(await repo.timeseries(where, interval, group_by))
