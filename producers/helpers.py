"""``log`` / ``error`` / ``event`` / ``access`` on top of ``emit``, for both producers.

``R`` is what ``emit`` returns: the event id for :class:`~producers.EventProducer`, a
coroutine resolving to it for :class:`~producers.AsyncEventProducer` — so the same helpers
read ``producer.log(...)`` in threads and ``await producer.log(...)`` in coroutines.
:meth:`EventHelpers.bind` fixes the component (and any default fields) once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from events.model import Event
from producers.shapes import access_event, business_event, error_event, log_event

__all__ = ["BoundEmitter", "EventHelpers"]

R = TypeVar("R")
EventInput = Mapping[str, Any] | Event


class EventHelpers(Generic[R]):
    """Mixin: the shaped helpers. Subclasses implement :meth:`emit`."""

    def emit(self, event: EventInput) -> R:
        raise NotImplementedError

    def log(self, component: str, message: str, severity: str = "INFO", **fields: Any) -> R:
        """A log line (kind ``log``)."""
        return self.emit(log_event(component, message, severity, fields))

    def error(
        self,
        component: str,
        message: str,
        exc: BaseException | None = None,
        severity: str = "ERROR",
        **fields: Any,
    ) -> R:
        """An error (kind ``error``); ``exc`` adds its type, message and traceback to data."""
        return self.emit(error_event(component, message, severity, exc, fields))

    def event(self, component: str, message: str, severity: str = "INFO", **fields: Any) -> R:
        """A business or audit event (kind ``event``)."""
        return self.emit(business_event(component, message, severity, fields))

    def access(
        self,
        component: str,
        method: str,
        path: str,
        status: int,
        message: str | None = None,
        **fields: Any,
    ) -> R:
        """An HTTP request (kind ``access``); ``ip``, ``bytes``, ``duration_ms`` and
        ``user_agent`` among ``fields`` go into ``http``."""
        return self.emit(access_event(component, method, path, status, message, fields))

    def bind(self, component: str, **defaults: Any) -> BoundEmitter[R]:
        """The helpers with ``component`` and default fields fixed: ``api.error("boom")``."""
        return BoundEmitter(self.emit, component, defaults)


class BoundEmitter(Generic[R]):
    """The helpers of one component; explicit keyword fields override the defaults. A bound
    ``severity`` is the default of :meth:`log` and :meth:`event` (:meth:`error` stays
    ``ERROR`` unless given one)."""

    def __init__(
        self, emit: Callable[[EventInput], R], component: str, defaults: dict[str, Any]
    ) -> None:
        self._emit = emit
        self.component = component
        self.defaults = defaults

    def emit(self, event: Mapping[str, Any]) -> R:
        """Emit a whole event given as a mapping; component and defaults fill the gaps."""
        return self._emit({**self.defaults, "component": self.component, **event})

    def log(self, message: str, severity: str | None = None, **fields: Any) -> R:
        severity = self._severity(severity)
        return self._emit(log_event(self.component, message, severity, self._with(fields)))

    def error(
        self,
        message: str,
        exc: BaseException | None = None,
        severity: str = "ERROR",
        **fields: Any,
    ) -> R:
        fields = self._with(fields)
        return self._emit(error_event(self.component, message, severity, exc, fields))

    def event(self, message: str, severity: str | None = None, **fields: Any) -> R:
        severity = self._severity(severity)
        return self._emit(business_event(self.component, message, severity, self._with(fields)))

    def access(
        self, method: str, path: str, status: int, message: str | None = None, **fields: Any
    ) -> R:
        fields = self._with(fields)
        return self._emit(access_event(self.component, method, path, status, message, fields))

    def bind(self, **defaults: Any) -> BoundEmitter[R]:
        """A further bound emitter with more defaults."""
        return BoundEmitter(self._emit, self.component, {**self.defaults, **defaults})

    def _severity(self, given: str | None) -> str:
        # A bound severity is the default of log() and event(); error() stays ERROR.
        return given if given is not None else self.defaults.get("severity", "INFO")

    def _with(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {**self.defaults, **fields} if self.defaults else fields
