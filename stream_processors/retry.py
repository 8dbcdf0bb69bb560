"""Capped exponential back-off with jitter, for writes that must not be dropped."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from events.errors import RetryableError

__all__ = ["Backoff", "GaveUp", "retry_until_done"]

T = TypeVar("T")


class GaveUp(Exception):
    """The deadline passed before the operation succeeded (only at shutdown)."""


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.2
    maximum: float = 30.0
    factor: float = 2.0

    def delay(self, attempt: int) -> float:
        """Full-jitter delay before retry number ``attempt`` (1-based)."""
        ceiling = min(self.maximum, self.initial * self.factor ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


async def retry_until_done(
    operation: Callable[[], Awaitable[T]],
    backoff: Backoff,
    *,
    on_retry: Callable[[int, BaseException, float], None],
    deadline: Callable[[], float | None] = lambda: None,
) -> T:
    """Await ``operation`` until it succeeds, sleeping ``backoff`` between attempts.

    Only :class:`RetryableError` is retried — anything else is a bug and propagates. Retries
    forever unless ``deadline()`` returns a monotonic time that has passed, then raises
    :class:`GaveUp`. The sleep is where back-pressure happens: the caller pulls nothing
    from Kafka meanwhile.
    """
    attempt = 0
    while True:
        try:
            return await operation()
        except RetryableError as exc:
            attempt += 1
            delay = backoff.delay(attempt)
            limit = deadline()
            if limit is not None and time.monotonic() + delay > limit:
                raise GaveUp(str(exc)) from exc
            on_retry(attempt, exc, delay)
            await asyncio.sleep(delay)
