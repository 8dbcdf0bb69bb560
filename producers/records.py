"""A stdlib ``logging.LogRecord`` as an event (pure; used by the logging handler).

* level → severity (custom levels round down to the nearest standard one);
* the formatted message (cut to the contract's limit), ``funcName`` → ``function``;
* ``exc_info`` → kind ``error`` with ``data.exception`` (type, message, traceback);
* ``extra`` fields: ``user``, ``trace_id``, ``reason`` and ``environment`` become the event
  fields of that name (they are filterable in the read API); a ``data`` mapping is merged
  into ``data``; every other one goes under ``data`` by its name, made JSON-safe (unknown
  objects become their ``str``);
* ``data.logger``, ``data.file``, ``data.line`` say where the record came from.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from events.limits import MAX_MESSAGE_CHARS
from producers.shapes import exception_data

__all__ = ["EVENT_EXTRAS", "record_event", "severity_of"]

#: ``extra`` names that become top-level event fields rather than ``data`` entries.
EVENT_EXTRAS: Final = frozenset({"user", "trace_id", "reason", "environment"})
_STANDARD: Final = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)
_MAX_DEPTH: Final = 16


def severity_of(levelno: int) -> str:
    """The event severity of a logging level."""
    if levelno >= logging.CRITICAL:
        return "CRITICAL"
    if levelno >= logging.ERROR:
        return "ERROR"
    if levelno >= logging.WARNING:
        return "WARNING"
    if levelno >= logging.INFO:
        return "INFO"
    return "DEBUG"


def record_event(component: str, record: logging.LogRecord) -> dict[str, Any]:
    """The event of one log record. Raises what ``record.getMessage()`` raises."""
    data: dict[str, Any] = {
        "logger": record.name,
        "file": record.pathname,
        "line": record.lineno,
    }
    event: dict[str, Any] = {
        "component": component,
        "timestamp": int(record.created * 1000),
        "severity": severity_of(record.levelno),
        "message": record.getMessage()[:MAX_MESSAGE_CHARS],
        "function": record.funcName,
        "data": data,
    }
    for key, value in record.__dict__.items():
        if key in _STANDARD:
            continue
        if key in EVENT_EXTRAS and isinstance(value, str):
            event[key] = value
        elif key == "data" and isinstance(value, Mapping):
            data.update(_jsonable(value, 0))
        else:
            data[key] = _jsonable(value, 0)
    if record.exc_info and record.exc_info[1] is not None:
        event["kind"] = "error"
        data["exception"] = exception_data(record.exc_info[1])
    if record.stack_info:
        data["stack"] = record.stack_info
    return event


def _jsonable(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if depth < _MAX_DEPTH:
        if isinstance(value, Mapping):
            return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [_jsonable(v, depth + 1) for v in value]
    return str(value)
