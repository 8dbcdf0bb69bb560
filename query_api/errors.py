"""The read API's exceptions, shaped around what the caller does next.

::

    ApiError                     base; carries the HTTP status and a machine-readable code
    ├── BadRequest          400  fix the request and send it again
    │   ├── InvalidQuery         the ``q`` language: names the position and what was expected
    │   ├── InvalidCursor        a cursor we did not issue, or one that was altered
    │   └── QueryTooLarge        the read passed a limit of ClickHouse's: narrow it
    ├── Unauthorized        401  send a (valid) bearer token
    ├── Forbidden           403  the token may not read that component
    ├── NotFound            404  no such event (or not one the token may see)
    └── StoreUnavailable    503  ClickHouse did not answer, or is busy; retry later
                                 (with ``Retry-After``)

:mod:`query_api.clickhouse_errors` decides which ClickHouse errors become which of these.

Pure: no FastAPI here; :mod:`query_api.app` maps these onto JSON responses.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ApiError",
    "BadRequest",
    "Forbidden",
    "InvalidCursor",
    "InvalidQuery",
    "NotFound",
    "QueryTooLarge",
    "StoreUnavailable",
    "Unauthorized",
]


class ApiError(Exception):
    """An error the API answers with ``status`` and a JSON body from :meth:`body`."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}

    def headers(self) -> dict[str, str] | None:
        """HTTP headers the response carries besides the body."""
        return None


class BadRequest(ApiError):
    status = 400
    code = "bad_request"


class InvalidQuery(BadRequest):
    """``q`` is not a valid query: ``position`` is a 0-based offset into the text."""

    code = "invalid_query"

    def __init__(self, message: str, *, position: int, expected: tuple[str, ...], found: str):
        super().__init__(message)
        self.position = position
        self.expected = expected
        self.found = found

    def body(self) -> dict[str, Any]:
        return {
            **super().body(),
            "position": self.position,
            "expected": list(self.expected),
            "found": self.found,
        }


class InvalidCursor(BadRequest):
    code = "invalid_cursor"


class QueryTooLarge(BadRequest):
    """The read passed a limit ClickHouse enforces on one query (memory, rows, bytes):
    asking again gets the same answer; a narrower time range or filter may not."""

    code = "query_too_large"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class StoreUnavailable(ApiError):
    """ClickHouse did not answer, ran out of time, or is busy: the same request may succeed
    later. ``retry_after`` (seconds) is sent as ``Retry-After``."""

    status = 503
    code = "store_unavailable"
    retry_after: ClassVar[int] = 5

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
