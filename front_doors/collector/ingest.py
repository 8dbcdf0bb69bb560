"""Items of one request → Kafka, and the answer: accepted ids, rejected items, failures.

The steps, in order:

1. **scope** — every component named in the request must be one the token may write;
   otherwise the whole request is refused (:class:`Forbidden`) and nothing is sent;
2. **publish** — each object goes to :class:`~producers.AsyncEventProducer`, which
   validates it (an invalid one raises ``InvalidEvent`` and is rejected with its reason,
   nothing sent) and packs it with its neighbours into records per component;
3. **wait** — the answer is given only when Kafka acknowledged every accepted event.
   Events Kafka did not take (down, queue full) are reported by index as ``failed``: the
   caller sends those again — with the ``event_id`` a failed delivery names, as Kafka
   may have stored that record after all. Accepted ids are in request order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from events.errors import InvalidEvent
from events.model import COMPONENT_PATTERN
from front_doors.collector.compat import Legacy
from front_doors.collector.errors import BadRequest, Unavailable
from front_doors.collector.parse import Item
from front_doors.collector.tokens import Scope
from producers import AsyncEventProducer, ProducerError

__all__ = ["Failed", "Outcome", "Rejection", "ingest"]

_COMPONENT: Final = re.compile(COMPONENT_PATTERN)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Item ``index`` is not an event: the contract's reason code, field and message."""

    index: int
    code: str
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class Failed:
    """Item ``index`` was valid but Kafka did not acknowledge it: send it again. With an
    ``event_id`` (the record timed out or was refused, so Kafka may have stored it after
    all), send it again with that id: reads then show one copy, not two."""

    index: int
    message: str
    event_id: str | None = None


@dataclass(slots=True)
class Outcome:
    """What became of each item of a request."""

    ids: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {
            "accepted": len(self.ids),
            "ids": self.ids,
            "rejected": [_as_dict(r) for r in self.rejected],
            **({"failed": [_as_dict(f) for f in self.failed]} if self.failed else {}),
        }

    def raise_for_status(self) -> None:
        """Raise :class:`Unavailable` when Kafka failed part of the request (the caller
        sends the failed items again), :class:`BadRequest` when no item was valid."""
        if self.failed:
            raise Unavailable(
                f"Kafka did not acknowledge {len(self.failed)} event(s); send the failed "
                "items again (the accepted ones are stored)",
                **self.body(),
            )
        if not self.ids:
            raise BadRequest(_none_valid(self.rejected), code="invalid_events", **self.body())


async def ingest(
    producer: AsyncEventProducer,
    items: Sequence[Item],
    scope: Scope,
    legacy: Legacy | None = None,
) -> Outcome:
    """Publish ``items`` and wait for Kafka; see the module docstring.

    Returns when every item is settled (acknowledged, rejected or failed); the caller
    answers with :meth:`Outcome.raise_for_status`. ``legacy`` maps a replaced service's
    payloads onto the contract first. Raises :class:`Forbidden` (nothing sent).
    """
    events = [_to_event(item, legacy) for item in items]
    if scope.components is not None:
        scope.check(_components(events))
    valid = [e for e in events if not isinstance(e, InvalidEvent)]
    published = iter(await producer.emit_each(valid))
    results = [e if isinstance(e, InvalidEvent) else next(published) for e in events]
    return _classify(results, legacy)


def _to_event(item: Item, legacy: Legacy | None) -> Item:
    if legacy is None or isinstance(item, InvalidEvent):
        return item
    return legacy.to_event(item)


def _components(events: Sequence[Item]) -> set[str]:
    # Only well-formed names: a malformed one is rejected item by item, with its reason.
    # fullmatch, not match: the pattern's `$` would let a trailing newline through.
    found = set()
    for event in events:
        if isinstance(event, dict):
            component = event.get("component")
            if isinstance(component, str) and _COMPONENT.fullmatch(component):
                found.add(component)
    return found


def _classify(results: Sequence[str | BaseException], legacy: Legacy | None) -> Outcome:
    outcome = Outcome()
    for index, result in enumerate(results):
        if isinstance(result, str):
            outcome.ids.append(result)
        elif isinstance(result, InvalidEvent):
            reason = legacy.their_reason(result) if legacy else result
            outcome.rejected.append(Rejection(index, reason.code, reason.field, reason.message))
        elif isinstance(result, ProducerError):  # DeliveryFailed, QueueFull, ProducerClosed, ...
            outcome.failed.append(Failed(index, str(result), getattr(result, "event_id", None)))
        else:
            raise result  # a bug: let the app's handler log it
    return outcome


def _none_valid(rejected: Sequence[Rejection]) -> str:
    if len(rejected) == 1:
        first = rejected[0]
        where = f"{first.field}: " if first.field else ""
        return f"not a valid event: {where}{first.message}"
    return f"none of the {len(rejected)} events is valid; see rejected"


def _as_dict(value: Rejection | Failed) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__slots__}
