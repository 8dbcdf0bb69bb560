"""Response models: the JSON shapes of the read API, with examples for the OpenAPI page."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from events.model import Kind, Severity
from query_api.cursor import encode_cursor
from query_api.repository import GroupBy, Interval, Page, Series, Stats
from query_api.timeparse import format_ms

__all__ = ["ErrorOut", "EventOut", "EventPage", "HttpOut", "SeriesOut", "StatsOut"]

_EVENT_EXAMPLE: dict[str, Any] = {
    "event_id": "1f4e804b-ebec-44f5-b2ac-48f54cf62c46",
    "timestamp": "2026-11-22T18:29:24.123Z",
    "component": "payments",
    "environment": "production",
    "kind": "event",
    "severity": "WARNING",
    "message": "payment authorised",
    "user": "alice@example.com",
    "data": {"order_id": 12345, "amount": 99.95},
}


class _OmitNone(BaseModel):
    """Absent optional fields are left out of the JSON, as they were on the wire."""

    @model_serializer(mode="wrap")
    def _omit_none(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if v is not None}


class HttpOut(_OmitNone):
    method: str
    path: str
    status: int
    ip: str | None = None
    bytes: int | None = None
    duration_ms: float | None = None
    user_agent: str | None = None


class EventOut(_OmitNone):
    model_config = ConfigDict(json_schema_extra={"examples": [_EVENT_EXAMPLE]})

    event_id: str
    timestamp: str = Field(description="RFC 3339, UTC, milliseconds.")
    component: str
    kind: Kind
    severity: Severity
    environment: str | None = None
    message: str | None = None
    user: str | None = None
    function: str | None = None
    reason: str | None = None
    trace_id: str | None = None
    data: dict[str, Any] | None = None
    http: HttpOut | None = None


class EventPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_EVENT_EXAMPLE], "next_cursor": "WzEsMTc2"}]}
    )

    items: list[EventOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last page."
    )

    @classmethod
    def of(cls, page: Page) -> EventPage:
        cursor = None if page.next_key is None else encode_cursor(page.next_key)
        # One validation pass in pydantic-core for the whole page (no per-item Python call).
        return cls.model_validate({"items": page.items, "next_cursor": cursor})


class StatsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "total": 3,
                    "by_severity": {"DEBUG": 0, "INFO": 2, "WARNING": 0, "ERROR": 1,
                                    "CRITICAL": 0},
                    "by_component": {"payments": 2, "orders": 1},
                    "by_kind": {"log": 2, "error": 1, "event": 0, "access": 0},
                    "error_rate": 0.3333333333333333,
                    "first": "2026-11-22T18:00:00.000Z",
                    "last": "2026-11-22T18:29:24.123Z",
                }
            ]
        }
    )  # fmt: skip

    total: int
    by_severity: dict[str, int]
    by_component: dict[str, int]
    by_kind: dict[str, int]
    error_rate: float = Field(description="(ERROR + CRITICAL) / total; 0 when total is 0.")
    first: str | None
    last: str | None

    @classmethod
    def of(cls, stats: Stats) -> StatsOut:
        return cls(
            total=stats.total,
            by_severity=stats.by_severity,
            by_component=stats.by_component,
            by_kind=stats.by_kind,
            error_rate=stats.error_rate,
            first=None if stats.first_ms is None else format_ms(stats.first_ms),
            last=None if stats.last_ms is None else format_ms(stats.last_ms),
        )


class BucketOut(BaseModel):
    start: str = Field(
        description="Bucket start, RFC 3339 UTC; the bucket is [start, start+interval)."
    )
    count: int
    groups: dict[str, int] | None = Field(
        default=None,
        description="Counts per group_by value (zeros included); null without group_by.",
    )


class SeriesOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "interval": "1h",
                    "group_by": "kind",
                    "buckets": [
                        {"start": "2026-11-22T17:00:00.000Z", "count": 0,
                         "groups": {"log": 0, "error": 0, "event": 0, "access": 0}},
                        {"start": "2026-11-22T18:00:00.000Z", "count": 3,
                         "groups": {"log": 2, "error": 1, "event": 0, "access": 0}},
                    ],
                }
            ]
        }
    )  # fmt: skip

    interval: Interval
    group_by: GroupBy | None
    buckets: list[BucketOut]

    @classmethod
    def of(cls, series: Series) -> SeriesOut:
        buckets = [
            {"start": format_ms(b.start_ms), "count": b.count, "groups": b.groups}
            for b in series.buckets
        ]
        return cls.model_validate(
            {"interval": series.interval, "group_by": series.group_by, "buckets": buckets}
        )


class ErrorOut(BaseModel):
    """Every error: a code and a message; query errors add where and what was expected."""

    error: str
    message: str
    position: int | None = None
    expected: list[str] | None = None
    found: str | None = None
