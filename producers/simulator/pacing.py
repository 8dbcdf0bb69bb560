"""When the simulator emits: a steady target rate, or random bursts separated by pauses.

A schedule answers one question — how many events should have been emitted ``elapsed``
seconds after the start — and the simulator catches up with that number every tick. Bursts
are drawn from their own seeded generator, so a seed fixes the shape of the load as well.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from typing import Final, Protocol

__all__ = ["Bursts", "Schedule", "Steady"]

_BURST_FACTOR: Final = (2.0, 10.0)  # a burst runs at rate * U(2, 10) ...
_BURST_SECONDS: Final = (1.0, 5.0)  # ... for U(1, 5) s
_PAUSE_FACTOR: Final = (0.0, 0.1)  # a pause trickles at rate * U(0, 0.1) ...
_PAUSE_SECONDS: Final = (0.5, 3.0)  # ... for U(0.5, 3) s


class Schedule(Protocol):
    def due(self, elapsed: float) -> float:
        """Events that should have been emitted ``elapsed`` seconds after the start."""

    def phase(self, elapsed: float) -> str:
        """What the load is doing now, for people ("steady", "burst x4.2", "pause")."""


class Steady:
    """``rate`` events per second."""

    def __init__(self, rate: float) -> None:
        self.rate = rate

    def due(self, elapsed: float) -> float:
        return self.rate * elapsed

    def phase(self, elapsed: float) -> str:
        return "steady"


@dataclass(frozen=True)
class _Phase:
    start: float
    end: float
    rate: float
    label: str
    due_at_start: float


class Bursts:
    """Alternating bursts and pauses around a base ``rate``; phases drawn as time goes."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self._rng = random.Random(f"bursts:{seed}")
        self._phases: list[_Phase] = []
        self._starts: list[float] = []

    def due(self, elapsed: float) -> float:
        phase = self._at(elapsed)
        return phase.due_at_start + phase.rate * (elapsed - phase.start)

    def phase(self, elapsed: float) -> str:
        return self._at(elapsed).label

    def _at(self, elapsed: float) -> _Phase:
        while not self._phases or self._phases[-1].end <= elapsed:
            phase = self._next_phase()
            self._phases.append(phase)
            self._starts.append(phase.start)
        return self._phases[max(0, bisect.bisect_right(self._starts, elapsed) - 1)]

    def _next_phase(self) -> _Phase:
        last = self._phases[-1] if self._phases else None
        start = last.end if last else 0.0
        due = last.due_at_start + last.rate * (last.end - last.start) if last else 0.0
        bursting = last is None or last.label == "pause"
        factor = self._rng.uniform(*(_BURST_FACTOR if bursting else _PAUSE_FACTOR))
        seconds = self._rng.uniform(*(_BURST_SECONDS if bursting else _PAUSE_SECONDS))
        label = f"burst x{factor:.1f}" if bursting else "pause"
        return _Phase(start, start + seconds, self.rate * factor, label, due)
