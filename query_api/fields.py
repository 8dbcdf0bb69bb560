"""The allow-list of filterable fields: public names, aliases, and the columns they read.

Only names found here (or ``data.<path>``, whose path is a bound parameter) ever reach SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from events.model import KINDS, SEVERITIES
from query_api.predicates import Column

__all__ = [
    "ALIASES",
    "COMPONENT",
    "DATA_PREFIX",
    "EVENT_ID",
    "FIELDS",
    "HTTP_METHOD",
    "HTTP_STATUS",
    "KIND",
    "SEVERITY",
    "TIMESTAMP",
    "DataPath",
    "resolve",
]

EVENT_ID: Final = Column("event_id", "event_id", "uuid")
TIMESTAMP: Final = Column("timestamp", "ts_ms", "time")
COMPONENT: Final = Column("component", "component", "text")
KIND: Final = Column("kind", "kind", "enum", choices=KINDS)
SEVERITY: Final = Column("severity", "severity", "enum", choices=SEVERITIES)
HTTP_METHOD: Final = Column("http.method", "http_method", "text", upper_case=True)
HTTP_STATUS: Final = Column("http.status", "http_status", "number", zero_absent=True)

FIELDS: Final[dict[str, Column]] = {
    c.name: c
    for c in (
        EVENT_ID,
        TIMESTAMP,
        COMPONENT,
        Column("environment", "environment", "text"),
        KIND,
        SEVERITY,
        Column("message", "message", "text"),
        Column("user", "user", "text"),
        Column("function", "function", "text"),
        Column("reason", "reason", "text"),
        Column("trace_id", "trace_id", "text"),
        Column("data", "data", "text"),
        HTTP_METHOD,
        Column("http.path", "http_path", "text"),
        HTTP_STATUS,
        Column("http.ip", "http_ip", "text"),
        Column("http.bytes", "http_bytes", "number", nullable=True),
        Column("http.duration_ms", "http_duration_ms", "number", nullable=True),
        Column("http.user_agent", "http_user_agent", "text"),
    )
}
#: The replaced systems' names for our fields.
ALIASES: Final[dict[str, str]] = {
    "createdAt": "timestamp",
    "email": "user",
    "service": "component",
    "code": "http.status",
    "method": "http.method",
}
DATA_PREFIX: Final = "data."


@dataclass(frozen=True)
class DataPath:
    """A scalar leaf of ``data``: ``data.items.0.sku`` → path ``items.0.sku``."""

    path: str


def resolve(name: str) -> Column | DataPath | None:
    """The column (or data leaf) a field name refers to; ``None`` when not allowed."""
    if name.startswith(DATA_PREFIX) and len(name) > len(DATA_PREFIX):
        return DataPath(name[len(DATA_PREFIX) :])
    return FIELDS.get(ALIASES.get(name, name))
