"""Stand-ins for Faust's stream and events: just the attributes the batcher reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass
class FakeMessage:
    topic: str
    partition: int
    offset: int
    value: bytes | None
    timestamp: float = 1_700_000_000.123


@dataclass
class FakeEvent:
    message: FakeMessage


@dataclass
class FakeStream:
    acked: list[FakeEvent] = field(default_factory=list)

    async def ack(self, event: FakeEvent) -> bool:
        self.acked.append(event)
        return True


def line(**fields: Any) -> bytes:
    base: dict[str, Any] = {"component": "payments", "message": "hello"}
    return orjson.dumps(base | fields)


def record(*lines: bytes) -> bytes:
    return b"\n".join(lines)


def events(
    topic: str, partition: int, values: list[bytes | None], start: int = 0
) -> list[FakeEvent]:
    return [FakeEvent(FakeMessage(topic, partition, start + i, v)) for i, v in enumerate(values)]
