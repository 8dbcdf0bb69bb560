"""How every ``eventpipe`` command ends on an error: one line on stderr, then an exit
status (2: a setting or an option; 1: a failure)."""

from __future__ import annotations

import sys
from typing import NoReturn

__all__ = ["fail"]


def fail(message: str, status: int) -> NoReturn:
    """Print ``eventpipe: <message>`` on one line (a driver's message may span lines, and
    a terminal would wrap a long one anyway) and exit with ``status``."""
    print(f"eventpipe: {' '.join(message.split())}", file=sys.stderr)
    raise SystemExit(status)
