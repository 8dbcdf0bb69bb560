"""The one table of ClickHouse server errors the API answers, and its 241 split."""

from __future__ import annotations

import pytest

from query_api.clickhouse_errors import ERRORS, api_error
from query_api.errors import QueryTooLarge, StoreUnavailable

# As the servers word them: 18.16 (and up to about 23.x), then the current engine.
_QUERY_MEMORY = [
    "DB::Exception: Memory limit (for query) exceeded: would use 4.00 KiB, maximum: 1000.00 B",
    "DB::Exception: Query memory limit exceeded: would use 5.11 MiB, maximum: 1000.00 B",
]
_SHARED_MEMORY = [
    "DB::Exception: Memory limit (total) exceeded: would use 9.31 GiB, maximum: 9.00 GiB",
    "DB::Exception: Memory limit (for user) exceeded: would use 2.00 GiB, maximum: 2.00 GiB",
    "DB::Exception: (total) memory limit exceeded: would use 9.31 GiB, maximum: 9.00 GiB",
]


@pytest.mark.parametrize(
    ("code", "name"),
    [(202, "TOO_MANY_SIMULTANEOUS_QUERIES"), (203, "NO_FREE_CONNECTION"), (209, "SOCKET_TIMEOUT"),
     (210, "NETWORK_ERROR"), (159, "TIMEOUT_EXCEEDED"), (160, "TOO_SLOW"), (201, "QUOTA_EXPIRED"),
     (439, "CANNOT_SCHEDULE_TASK")],
)  # fmt: skip
def test_a_busy_or_slow_server_is_a_503_with_retry_after(code: int, name: str) -> None:
    error = api_error(code, f"DB::Exception: {name.lower()}")
    assert isinstance(error, StoreUnavailable)
    assert (error.status, error.body()["error"]) == (503, "store_unavailable")
    assert name in error.message and "retry later" in error.message
    assert error.headers() == {"Retry-After": "5"}


@pytest.mark.parametrize("message", _SHARED_MEMORY)
def test_the_servers_or_users_memory_running_out_is_busy(message: str) -> None:
    error = api_error(241, message)
    assert isinstance(error, StoreUnavailable) and "MEMORY_LIMIT_EXCEEDED" in error.message


@pytest.mark.parametrize("message", _QUERY_MEMORY)
def test_the_reads_own_memory_limit_is_a_400_naming_it(message: str) -> None:
    error = api_error(241, message)
    assert isinstance(error, QueryTooLarge)
    assert (error.status, error.body()["error"]) == (400, "query_too_large")
    assert "MEMORY_LIMIT_EXCEEDED" in error.message and error.headers() is None


@pytest.mark.parametrize("code", [158, 307, 396])
def test_row_and_byte_limits_are_too_large(code: int) -> None:
    assert isinstance(api_error(code, "DB::Exception: Limit for rows exceeded"), QueryTooLarge)


def test_other_server_errors_stay_bugs_and_no_message_leaks() -> None:
    assert api_error(62, "DB::Exception: Syntax error") is None  # our SQL: a 500
    for code, known in ERRORS.items():
        error = api_error(code, "DB::Exception: SELECT secret FROM t")
        assert error is not None and "secret" not in error.message, known.name


@pytest.mark.parametrize(
    "message",
    [
        # 18.16, then the current engine
        "DB::Exception: Syntax error: failed at position 261684: '\\'\\'. Max query size exceeded.",
        "DB::Exception: Max query size exceeded (can be increased with the `max_query_size` "
        "setting): Syntax error: failed at position 8 ('aaaa'",
    ],
)
def test_a_read_longer_than_max_query_size_is_too_large(message: str) -> None:
    # Long filter values make SQL past the server's max_query_size: that was a 500.
    error = api_error(62, message)
    assert isinstance(error, QueryTooLarge) and "max_query_size" in error.message
    assert "position" not in error.message
