"""What the collector answers when it cannot take a request, as HTTP errors.

::

    CollectorError                 answered as {"error": code, "message": ...}
    ├── BadRequest          400    the body is not one event, a JSON array or NDJSON
    ├── Unauthorized        401    no token, or an unknown one
    ├── Forbidden           403    the token may not write a component in the request
    ├── PayloadTooLarge     413    too many bytes or too many events
    ├── UnsupportedEncoding 415    a Content-Encoding other than gzip/deflate/identity
    └── Unavailable         503    Kafka did not take (part of) the request: send it again
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "BadRequest",
    "CollectorError",
    "Forbidden",
    "PayloadTooLarge",
    "Unauthorized",
    "Unavailable",
    "UnsupportedEncoding",
]


class CollectorError(Exception):
    """Base: ``status``, a machine-readable ``code``, a message, and optional extra fields."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}

    def headers(self) -> dict[str, str] | None:
        return None


class BadRequest(CollectorError):
    status, code = 400, "invalid_request"


class Unauthorized(CollectorError):
    status, code = 401, "unauthorized"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(CollectorError):
    status, code = 403, "forbidden"


class PayloadTooLarge(CollectorError):
    status, code = 413, "payload_too_large"


class UnsupportedEncoding(CollectorError):
    status, code = 415, "unsupported_encoding"


class Unavailable(CollectorError):
    status, code = 503, "kafka_unavailable"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}
