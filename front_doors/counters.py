"""Counters of a front door: read in-process (tests, summaries) and served to Prometheus.

Each :class:`Counters` owns its registry, so several front doors (or tests) in one process
never collide. Hot paths add per chunk of lines, not per line: a Prometheus ``inc`` takes
a lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest, start_http_server

__all__ = ["Counters", "MetricsServer"]


class MetricsServer:
    """A running ``/metrics`` endpoint; :meth:`close` stops it."""

    def __init__(self, server: Any, thread: Any) -> None:
        self._server = server
        self._thread = thread

    def close(self) -> None:
        """Stop serving and release the port. Blocking (briefly)."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class Counters:
    """Named counts ``<prefix>_<name>_total``; ``descriptions`` maps name → help text."""

    def __init__(self, prefix: str, descriptions: Mapping[str, str]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._values = dict.fromkeys(descriptions, 0)
        self._prometheus = {
            name: Counter(f"{prefix}_{name}", text, registry=self.registry)
            for name, text in descriptions.items()
        }

    def add(self, name: str, amount: int = 1) -> None:
        """Add to a counter (from the thread that owns this front door's loop)."""
        if amount:
            self._values[name] += amount
            self._prometheus[name].inc(amount)

    def __getitem__(self, name: str) -> int:
        return self._values[name]

    def snapshot(self) -> dict[str, int]:
        """Every counter's value now."""
        return dict(self._values)

    def render(self) -> bytes:
        """The Prometheus text format of every counter."""
        return generate_latest(self.registry)

    def serve(self, port: int, host: str = "0.0.0.0") -> MetricsServer:  # noqa: S104 - a port for scrapers
        """Serve ``/metrics`` on ``host:port`` in a daemon thread. Raises ``OSError``."""
        server, thread = start_http_server(port, addr=host, registry=self.registry)
        return MetricsServer(server, thread)
