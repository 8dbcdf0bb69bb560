"""The invalid-ratio guard: a bad deploy upstream, not bad luck, stops the worker."""

from __future__ import annotations

from collections import deque

from events.errors import InvalidRatioExceeded

__all__ = ["InvalidRatioGuard"]


class InvalidRatioGuard:
    """Tracks valid/invalid counts over the last ``window`` events (in batch-sized steps).

    :meth:`observe` raises :class:`InvalidRatioExceeded` once the window is full and the
    invalid share is above ``max_ratio``. ``max_ratio >= 1`` disables the guard.
    """

    def __init__(self, max_ratio: float, window: int) -> None:
        self._max = max_ratio
        self._window = window
        self._steps: deque[tuple[int, int]] = deque()
        self._total = 0
        self._invalid = 0

    def observe(self, valid: int, invalid: int) -> None:
        if self._max >= 1 or valid + invalid == 0:
            return
        self._steps.append((valid + invalid, invalid))
        self._total += valid + invalid
        self._invalid += invalid
        while self._steps and self._total - self._steps[0][0] >= self._window:
            total, bad = self._steps.popleft()
            self._total -= total
            self._invalid -= bad
        if self._total >= self._window and self._invalid / self._total > self._max:
            raise InvalidRatioExceeded(
                f"{self._invalid} of the last {self._total} events were invalid "
                f"({self._invalid / self._total:.0%} > {self._max:.0%}): stopping; "
                "fix the producer, then replay the dead letters"
            )
