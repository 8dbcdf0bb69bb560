"""The worker's roll-up timer: :func:`storage.rollup.refresh` every few minutes, off the loop.

A failed refresh (ClickHouse down, say) is logged and retried at the next tick: roll-ups
only make ``/v1/stats`` cheaper, readers never need them to be current.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from clickhouse_driver import Client

from eventpipe.config import ClickHouseConnection
from eventpipe.logs import get_logger
from storage.client import connect
from storage.rollup import RefreshReport, refresh

__all__ = ["RollupRefresher"]

log = get_logger(__name__)


class RollupRefresher:
    """Runs :func:`storage.rollup.refresh` in its own thread with its own client."""

    def __init__(self, settings: ClickHouseConnection) -> None:
        self._settings = settings
        self._client: Client | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eventpipe-rollup")
        self._running = False

    def _refresh(self) -> RefreshReport:
        if self._client is None:
            self._client = connect(self._settings)
        return refresh(
            self._client, self._settings.clickhouse_database, now_ms=int(time.time() * 1000)
        )

    async def tick(self) -> None:
        """One refresh; skipped while the previous one still runs."""
        if self._running:
            return
        self._running = True
        try:
            report = await asyncio.get_running_loop().run_in_executor(self._executor, self._refresh)
        except Exception as exc:  # logged; the next tick retries
            log.warning("roll-up refresh failed", error=str(exc))
        else:
            if report.rolled_up or report.removed:
                log.info(
                    "rolled up settled days",
                    parts=list(report.rolled_up),
                    removed=list(report.removed),
                )
        finally:
            self._running = False

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        if self._client is not None:
            self._client.disconnect()
