"""Start-up helpers shared by the front doors: bounded waits for dependencies, stop signals.

Entry points wait (bounded) for what they need before building anything, so a front door
started together with the services does not crash-loop, and one started against a wrong
address says so plainly instead of hanging.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from eventpipe.startup import StartupFailed, wait_for_topic  # shared by every entry point

__all__ = ["StartupFailed", "stop_on_signals", "wait_for_topic"]

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_on_signals(loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> Iterator[None]:
    """Call ``stop()`` on SIGINT/SIGTERM while the block runs (main thread only)."""
    for sig in _STOP_SIGNALS:
        loop.add_signal_handler(sig, stop)
    try:
        yield
    finally:
        for sig in _STOP_SIGNALS:
            loop.remove_signal_handler(sig)
