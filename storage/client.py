"""Connections to ClickHouse over the native protocol (clickhouse-driver).

clickhouse-driver is synchronous: async callers run these in an executor thread
(:mod:`stream_processors.sink`, :mod:`query_api.repository`), never on the event loop.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from clickhouse_driver import Client
from clickhouse_driver.errors import Error as ClickHouseError
from clickhouse_driver.errors import ServerException

from eventpipe.config import ClickHouseConnection
from events.errors import SinkUnavailable
from storage.native import InsertClient
from storage.version import Capabilities

__all__ = ["capabilities", "connect", "unavailable_on_failure", "wait_until_ready"]


def connect(
    settings: ClickHouseConnection, *, timeout: float | None = None, **extra_settings: Any
) -> Client:
    """A new client (connects lazily, on first query). Not thread-safe: one per thread.

    An :class:`~storage.native.InsertClient`: columnar inserts take its fast encoders.

    ``timeout`` replaces ``clickhouse_timeout`` (waiting for a reply) for this client.
    """
    url = urlsplit(settings.clickhouse_url)
    if url.scheme not in {"clickhouse", "clickhouses"}:
        raise ValueError(f"clickhouse_url must be clickhouse://...; got {url.scheme}://")
    password = settings.clickhouse_password.get_secret_value() or unquote(url.password or "")
    return InsertClient(
        host=url.hostname or "127.0.0.1",
        port=url.port or (9440 if url.scheme == "clickhouses" else 9000),
        user=unquote(url.username or "default"),
        password=password,
        database=url.path.lstrip("/") or "default",
        secure=url.scheme == "clickhouses",
        connect_timeout=settings.clickhouse_connect_timeout,
        send_receive_timeout=settings.clickhouse_timeout if timeout is None else timeout,
        sync_request_timeout=settings.clickhouse_timeout if timeout is None else timeout,
        settings={"use_client_time_zone": False, **extra_settings},
        client_name="eventpipe",
    )


def capabilities(client: Client) -> Capabilities:
    """What the connected server supports, from ``SELECT version()``."""
    (version,) = client.execute("SELECT version()")[0]
    return Capabilities.for_version(str(version))


#: Server errors no wait can mend: an unknown user, a wrong or missing password, a refused
#: login. Waiting out the start-up timeout on them would only delay the operator's fix.
_REFUSED_LOGIN: Final = frozenset({192, 193, 194, 516})
_SHORTEST_WAIT: Final = 0.5  # seconds an attempt may wait for a reply, at the very least


def wait_until_ready(settings: ClickHouseConnection, timeout: float) -> Capabilities:
    """Poll until the server answers, at most ``timeout`` seconds; then its capabilities.

    Blocking. Each attempt is a short-lived client that waits for a reply no longer than
    the time left: a port that accepts connections but never answers (the HTTP port given
    as the native one) would otherwise hold the first attempt for ``clickhouse_timeout``.
    Raises the last connection error when the time is up, and a refused login at once.
    """
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        left = max(deadline - time.monotonic(), _SHORTEST_WAIT)
        probe = connect(settings, timeout=min(settings.clickhouse_timeout, left))
        try:
            return capabilities(probe)
        except Exception as exc:
            if isinstance(exc, ServerException) and exc.code in _REFUSED_LOGIN:
                raise
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        finally:
            probe.disconnect()


@contextmanager
def unavailable_on_failure(client: Client, what: str) -> Iterator[None]:
    """A failed call on ``client`` becomes :class:`SinkUnavailable` (the caller retries),
    after the connection is dropped: its state is unknown, so the next call starts clean."""
    try:
        yield
    except (ClickHouseError, OSError, EOFError) as exc:
        client.disconnect()
        raise SinkUnavailable(f"{what} failed: {exc}") from exc
