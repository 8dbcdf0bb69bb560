"""The documented error responses shared by the data routes."""

from __future__ import annotations

from typing import Any, Final

from query_api.schemas import ErrorOut

__all__ = ["ERRORS"]

ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    400: {
        "model": ErrorOut,
        "description": "A parameter or the query is malformed, or the read is larger "
        "than a limit allows (`query_too_large`, too many timeseries values).",
        "content": {
            "application/json": {
                "example": {
                    "error": "invalid_query",
                    "message": "expected AND, OR or ')' at position 21, found 'buyer'",
                    "position": 21,
                    "expected": ["AND", "OR", "')'"],
                    "found": "'buyer'",
                }
            }
        },
    },
    401: {"model": ErrorOut, "description": "No bearer token, or an unknown one."},
    403: {"model": ErrorOut, "description": "The token may not read a requested component."},
    503: {
        "model": ErrorOut,
        "description": "ClickHouse did not answer in time, or is busy; retry after "
        "`Retry-After` seconds.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    },
}
