"""Which ClickHouse server errors the API answers, and how: the one table of them. Pure.

A server error in :data:`ERRORS` becomes an :class:`~query_api.errors.ApiError`:

* ``busy`` — the server is overloaded or out of a shared resource (too many queries, no
  free connection, its own or the user's memory): **503** ``store_unavailable`` with
  ``Retry-After``; the same request may succeed later;
* ``slow`` — the read ran past ``api_query_timeout``: **503** as well (the time a read
  takes depends on the load too);
* ``too_large`` — the read passed a limit on one query (its memory, rows or bytes read,
  set on the server or in ``api_clickhouse_settings``): **400** ``query_too_large``;
  asking again gets the same answer, a narrower request may not.

A syntax error (62) is one too, except the server's "Max query size exceeded": our SQL
repeats each bound value, so long filter values can make a read longer than
``max_query_size`` (256 KiB by default); that read is **400** ``query_too_large`` as well.

Any other server error is a bug of ours (or a misconfiguration) and stays a 500. The
client-side failures of clickhouse-driver (no connection, socket timeout) are not server
errors; :mod:`query_api.store` answers them 503 too. docs/api.md lists this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from query_api.errors import ApiError, QueryTooLarge, StoreUnavailable

__all__ = ["ERRORS", "Answer", "Known", "api_error"]

Answer = Literal["busy", "slow", "too_large"]


@dataclass(frozen=True)
class Known:
    """A ClickHouse error code the API answers: its name there, and the answer."""

    name: str
    answer: Answer


_MEMORY_LIMIT_EXCEEDED: Final = 241
_SYNTAX_ERROR: Final = 62

#: ClickHouse error code → answer (codes from ClickHouse's ``src/Common/ErrorCodes.cpp``).
ERRORS: Final[dict[int, Known]] = {
    158: Known("TOO_MANY_ROWS", "too_large"),  # max_rows_to_read, max_rows_to_group_by, ...
    159: Known("TIMEOUT_EXCEEDED", "slow"),  # max_execution_time (api_query_timeout)
    160: Known("TOO_SLOW", "slow"),  # estimated to pass max_execution_time
    167: Known("TOO_DEEP_AST", "too_large"),
    168: Known("TOO_BIG_AST", "too_large"),
    173: Known("CANNOT_ALLOCATE_MEMORY", "busy"),
    191: Known("SET_SIZE_LIMIT_EXCEEDED", "too_large"),
    201: Known("QUOTA_EXPIRED", "busy"),  # the API's ClickHouse user spent its quota
    202: Known("TOO_MANY_SIMULTANEOUS_QUERIES", "busy"),
    203: Known("NO_FREE_CONNECTION", "busy"),
    209: Known("SOCKET_TIMEOUT", "busy"),  # the server's own connections (replicas, shards)
    210: Known("NETWORK_ERROR", "busy"),
    # The server's or the user's total; the query's own limit is too_large (_own_limit).
    _MEMORY_LIMIT_EXCEEDED: Known("MEMORY_LIMIT_EXCEEDED", "busy"),
    279: Known("ALL_CONNECTION_TRIES_FAILED", "busy"),
    307: Known("TOO_MANY_BYTES", "too_large"),
    394: Known("QUERY_WAS_CANCELLED", "busy"),  # KILL QUERY, or the server shutting down
    396: Known("TOO_MANY_ROWS_OR_BYTES", "too_large"),  # max_result_rows, max_result_bytes
    439: Known("CANNOT_SCHEDULE_TASK", "busy"),  # no free thread (current servers)
}


def _own_limit(message: str) -> bool:
    """Whether a MEMORY_LIMIT_EXCEEDED message is about the query's own limit.

    ClickHouse names the tracker before "exceeded": "Memory limit (for query)" up to
    about 23.x, "Query memory limit" since; "(total)" and "user" are shared limits.
    """
    tracker = message.partition("exceeded")[0]
    return "query" in tracker.lower()


def _answer(known: Known, code: int, message: str) -> Answer:
    if code == _MEMORY_LIMIT_EXCEEDED and _own_limit(message):
        return "too_large"
    return known.answer


def api_error(code: int, message: str) -> ApiError | None:
    """What the API answers for ClickHouse server error ``code`` with ``message``;
    ``None`` for a code not in :data:`ERRORS` (a 500). The message is not repeated to
    the client: it may quote the SQL."""
    if code == _SYNTAX_ERROR and "max query size exceeded" in message.lower():
        return QueryTooLarge(
            "this read is longer than ClickHouse's max_query_size: "
            "use fewer or shorter filter values"
        )
    known = ERRORS.get(code)
    if known is None:
        return None
    answer = _answer(known, code, message)
    if answer == "too_large":
        return QueryTooLarge(
            f"this read passed a ClickHouse limit ({known.name}): "
            "narrow the time range or the filters"
        )
    if answer == "slow":
        return StoreUnavailable(
            f"ClickHouse did not finish the read in time ({known.name}): retry later"
        )
    return StoreUnavailable(f"ClickHouse is busy ({known.name}): retry later")
