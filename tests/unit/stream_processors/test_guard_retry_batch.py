from __future__ import annotations

import time

import pytest

from events.errors import InvalidRatioExceeded, RetryableError
from stream_processors.batch import PendingBatch
from stream_processors.guard import InvalidRatioGuard
from stream_processors.retry import Backoff, GaveUp, retry_until_done


def test_guard_trips_only_past_the_bound_over_a_full_window() -> None:
    guard = InvalidRatioGuard(0.5, 100)
    guard.observe(10, 40)  # 80% invalid, but the window is not full yet
    guard.observe(30, 10)
    with pytest.raises(InvalidRatioExceeded, match="of the last"):
        guard.observe(0, 20)  # 70 of 110


def test_guard_window_slides() -> None:
    guard = InvalidRatioGuard(0.5, 100)
    guard.observe(0, 90)
    for _ in range(20):
        guard.observe(100, 0)  # good traffic pushes the bad step out of the window


def test_guard_can_be_disabled() -> None:
    InvalidRatioGuard(1.0, 100).observe(0, 10_000)


def test_backoff_is_capped_and_jittered() -> None:
    backoff = Backoff(initial=0.1, maximum=1.0)
    delays = [backoff.delay(n) for n in range(1, 10)]
    assert all(0.05 <= d <= 1.0 for d in delays)
    assert max(delays[6:]) <= 1.0


async def test_retry_until_done_retries_retryable_errors() -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise RetryableError("down")
        return "ok"

    seen: list[int] = []
    result = await retry_until_done(
        flaky, Backoff(0.001, 0.002), on_retry=lambda n, _e, _d: seen.append(n)
    )
    assert (result, calls, seen) == ("ok", 3, [1, 2])


async def test_retry_until_done_lets_bugs_through() -> None:
    async def broken() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await retry_until_done(broken, Backoff(0.001), on_retry=lambda *_: None)


async def test_retry_gives_up_at_the_deadline() -> None:
    async def down() -> None:
        raise RetryableError("down")

    limit = time.monotonic() + 0.05
    with pytest.raises(GaveUp):
        await retry_until_done(
            down, Backoff(0.01, 0.02), on_retry=lambda *_: None, deadline=lambda: limit
        )


def test_dedup_token_names_the_offset_ranges() -> None:
    batch = PendingBatch()
    for partition, offset in [(1, 10), (0, 5), (1, 11), (1, 12), (0, 6)]:
        batch.cover(("t", partition), offset)
    assert batch.dedup_token("g") == "g|t:0:5-7,t:1:10-13"
    assert batch.marks == {("t", 0): 7, ("t", 1): 13}
