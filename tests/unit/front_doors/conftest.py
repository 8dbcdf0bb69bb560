"""Front doors over the in-memory twins: no services needed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from events.codec import decode, iter_lines
from events.model import Event
from front_doors.collector import CollectorSettings, WriteTokens, create_app
from producers import AsyncEventProducer, MemoryKafka

TOPIC = "unit.events"
TOKENS = "pay-token=payments;shop-token=orders,payments;root-token=*"


def events_in(kafka: MemoryKafka, topic: str = TOPIC) -> list[Event]:
    """Every event delivered to ``topic`` on the twin, decoded by the contract."""
    return [decode(line) for value in kafka.values(topic) for _, line in iter_lines(value)]


@pytest.fixture
def kafka() -> MemoryKafka:
    return MemoryKafka()


@pytest.fixture
async def collector(kafka: MemoryKafka) -> AsyncIterator[httpx.AsyncClient]:
    """The collector app over the twin, its lifespan running, and a client for it."""
    async with _collector(kafka) as client:
        yield client


@asynccontextmanager
async def _collector(kafka: MemoryKafka, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = CollectorSettings(topic=TOPIC, **overrides)
    producer = AsyncEventProducer(settings, kafka=kafka)
    app = create_app(settings, producer=producer, tokens=WriteTokens.parse(TOKENS))
    transport = httpx.ASGITransport(app=app)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://collector") as client,
        ):
            yield client
    finally:
        await producer.close(5)


@pytest.fixture
def make_collector(kafka: MemoryKafka) -> Any:
    """``async with make_collector(collector_max_events=2) as client``: other settings."""
    return lambda **overrides: _collector(kafka, **overrides)


def auth(token: str = "root-token") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def wait_until(condition: Any, what: str, timeout: float = 30.0) -> None:  # noqa: ASYNC109
    """Poll ``condition()`` until true; fail naming ``what`` after ``timeout`` seconds.

    A bound on waiting for an outcome, not an assertion about speed.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)
