"""Structured logging for every eventpipe process (structlog over the standard library).

``configure(settings)`` is called once by each entry point, first thing. Library loggers
(faust, aiokafka, uvicorn, ...) go through the same renderer, so a process writes one
format: JSON objects, one per line (``log_format=json``), or aligned text for people.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from structlog.processors import ExceptionRenderer
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict

from eventpipe.config import LogSettings
from eventpipe.kafka import LIBRDKAFKA_LOGGER

__all__ = ["configure", "get_logger"]

_LIBRARIES = (
    "faust", "mode", "aiokafka", "uvicorn", "kafka", "clickhouse_driver", LIBRDKAFKA_LOGGER,
)  # fmt: skip


def _brief_library_warnings(_logger: Any, _method: str, event: EventDict) -> EventDict:
    """A library's warning carries its exception as one ``error`` field, not a traceback.

    clickhouse_driver, for one, warns with the whole traceback on every failed connection
    attempt; the retry that follows and our own error say what matters. Errors keep theirs.
    """
    record = event.get("_record")
    exc_info = event.get("exc_info")
    if (
        isinstance(record, logging.LogRecord)
        and record.levelno < logging.ERROR
        and isinstance(exc_info, tuple)
        and exc_info[1] is not None
    ):
        del event["exc_info"]
        event["error"] = f"{type(exc_info[1]).__name__}: {exc_info[1]}"
    return event


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure(settings: LogSettings, *, service: str) -> None:
    """Route structlog and stdlib logging to stderr in the chosen format. Idempotent."""
    # Tracebacks without the frames' local variables (structlog shows them by default):
    # a frame may hold a password, a token, or a librdkafka configuration with one.
    renderer: Any
    if settings.log_format == "json":
        renderer = structlog.processors.JSONRenderer()
        exc = [ExceptionRenderer(ExceptionDictTransformer(show_locals=False))]
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(),
            exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False),
        )
        exc = []
    structlog.configure(
        processors=[
            *_SHARED,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, _brief_library_warnings],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *exc,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for name in _LIBRARIES:
        logging.getLogger(name).setLevel(settings.log_library_level)
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str) -> Any:
    return structlog.stdlib.get_logger(name)
