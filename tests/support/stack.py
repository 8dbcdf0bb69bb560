"""Running the ``make run`` stack in a test's own process."""

from __future__ import annotations

import io
import signal

from rich.console import Console

from eventpipe.stack import StackSettings, run_up


def run_stack(settings: StackSettings) -> tuple[int, str]:
    """``run_up(settings)``: its exit status and what it printed. The signal handlers it
    installs (Ctrl-C stops the stack) are put back afterwards."""
    out = io.StringIO()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return run_up(settings, Console(file=out, width=300)), out.getvalue()
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
