"""Events shaped for the jobs people do: a log line, an error, a business event, a request.

Pure functions returning the event as a ``dict`` (validated later, by the producer). Extra
keyword fields are event fields (``user``, ``function``, ``reason``, ``trace_id``, ``data``,
``timestamp``, ...); a name that is not an event field ends up under ``data``.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any, Final

from events.limits import MAX_MESSAGE_CHARS

__all__ = [
    "HTTP_OPTIONS",
    "MAX_TRACEBACK_CHARS",
    "access_event",
    "business_event",
    "error_event",
    "exception_data",
    "log_event",
]

#: Tracebacks are cut to their last characters: the innermost frames matter most, and one
#: event must stay under MAX_EVENT_BYTES (131,072) whatever the stack depth.
MAX_TRACEBACK_CHARS: Final = 32_768
#: Optional HTTP facts an access event takes among its keyword fields.
HTTP_OPTIONS: Final = ("ip", "bytes", "duration_ms", "user_agent")


def log_event(
    component: str, message: str, severity: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """An application log line (kind ``log``)."""
    return {**fields, "component": component, "message": message, "severity": severity}


def business_event(
    component: str, message: str, severity: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """A business or audit event (kind ``event``)."""
    return {
        **fields,
        "component": component,
        "message": message,
        "severity": severity,
        "kind": "event",
    }


def error_event(
    component: str,
    message: str,
    severity: str,
    exc: BaseException | None,
    fields: dict[str, Any],
) -> dict[str, Any]:
    """An error (kind ``error``); ``exc`` adds ``data.exception`` with its traceback."""
    event = {**fields, "component": component, "message": message, "severity": severity}
    event["kind"] = "error"
    data = fields.get("data")
    # A data that is not a mapping is left for validation to refuse (InvalidEvent, naming
    # it), as log() and event() do: merging into it would raise a TypeError instead.
    if exc is not None and (data is None or isinstance(data, Mapping)):
        event["data"] = {**(data or {}), "exception": exception_data(exc)}
    return event


def access_event(
    component: str,
    method: str,
    path: str,
    status: int,
    message: str | None,
    fields: dict[str, Any],
) -> dict[str, Any]:
    """An HTTP request (kind ``access``); ``ip``, ``bytes``, ``duration_ms`` and
    ``user_agent`` among ``fields`` go into ``http``."""
    rest = dict(fields)
    http: dict[str, Any] = {"method": method, "path": path, "status": status}
    for name in HTTP_OPTIONS:
        value = rest.pop(name, None)
        if value is not None:
            http[name] = value
    event = {**rest, "component": component, "kind": "access", "http": http}
    if message is not None:
        event["message"] = message
    return event


def exception_data(exc: BaseException) -> dict[str, str]:
    """``{"type", "message", "traceback"}`` of an exception, the traceback cut to size."""
    text = "".join(traceback.format_exception(exc))
    if len(text) > MAX_TRACEBACK_CHARS:
        text = "…" + text[-(MAX_TRACEBACK_CHARS - 1) :]
    cls = type(exc)
    name = (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )
    try:
        message = str(exc)
    except Exception:  # a broken __str__ must not turn reporting an error into another one
        message = "<exception str() failed>"  # what the traceback module writes then
    return {"type": name, "message": message[:MAX_MESSAGE_CHARS], "traceback": text}
