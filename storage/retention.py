"""The ``events`` table's TTL kept in line with ``retention_days`` on every migrate.

CREATE TABLE sets the TTL once; a later change of the setting is applied here, with
``ALTER TABLE ... MODIFY TTL`` or, for 0, ``REMOVE TTL``. Only when the table's TTL differs:
a changed TTL makes the server rewrite the stored parts (a background mutation), which is
no thing to do on every deploy. Servers without table TTL (18.16) keep every event whatever
the setting; servers that have TTL but not ``REMOVE TTL`` cannot go back to keeping all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from storage.schema import EVENTS_TABLE, quote_identifier, ttl_clause
from storage.version import THRESHOLDS, Capabilities

if TYPE_CHECKING:  # storage.migrations imports this module
    from storage.migrations import Executor

__all__ = [
    "OTHER_TTL",
    "RetentionAction",
    "RetentionReport",
    "align_retention",
    "retention_line",
    "table_retention_days",
]

#: ``kept``: the TTL already matched; ``set``/``removed``: changed now; ``not_enforced``:
#: the server has no TTL; ``not_removable``: the server cannot remove the TTL it has.
RetentionAction = Literal["kept", "set", "removed", "not_enforced", "not_removable"]
#: A table TTL not of the form :func:`storage.schema.ttl_clause` writes (set by hand).
OTHER_TTL: Final = -1
_TTL: Final = re.compile(r"\bTTL\b(.*?)(?:\bSETTINGS\b|$)")
# How servers print our TTL back: `+ toIntervalDay(30)`; older ones, `+ INTERVAL 30 DAY`.
_OUR_TTL: Final = re.compile(
    r"^\s*toDateTime\(intDiv\(ts_ms, 1000\), 'UTC'\) \+ "
    r"(?:toIntervalDay\((\d+)\)|INTERVAL (\d+) DAY)(?: DELETE)?\s*$"
)


@dataclass(frozen=True)
class RetentionReport:
    """What :func:`align_retention` found and did. ``days`` is the setting (0: keep all);
    ``table_days`` the table's TTL before (0: none, :data:`OTHER_TTL`: not ours)."""

    action: RetentionAction
    days: int
    table_days: int


def table_retention_days(engine_full: str) -> int:
    """The days of our TTL in a table's ``system.tables.engine_full``; 0 without a TTL,
    :data:`OTHER_TTL` for a TTL of another form."""
    ttl = _TTL.search(engine_full)
    if ttl is None:
        return 0
    ours = _OUR_TTL.match(ttl.group(1))
    return int(ours.group(1) or ours.group(2)) if ours else OTHER_TTL


def align_retention(
    executor: Executor, caps: Capabilities, database: str, days: int
) -> RetentionReport:
    """Bring the ``events`` table's TTL to ``days`` (0: none) where the server can.

    Blocking; changes nothing when the TTL matches. Raises whatever the executor raises.
    """
    if not caps.ttl:
        return RetentionReport("not_enforced" if days else "kept", days, 0)
    table = f"{quote_identifier(database)}.{EVENTS_TABLE}"
    (engine_full,) = executor.execute(
        f"SELECT engine_full FROM system.tables WHERE database = '{database}' "
        f"AND name = '{EVENTS_TABLE}'"
    )[0]
    have = table_retention_days(str(engine_full))
    if have == days:
        return RetentionReport("kept", days, have)
    if days:
        executor.execute(f"ALTER TABLE {table} MODIFY {ttl_clause(days)}")
        return RetentionReport("set", days, have)
    if not caps.remove_ttl:
        return RetentionReport("not_removable", days, have)
    executor.execute(f"ALTER TABLE {table} REMOVE TTL")
    return RetentionReport("removed", days, have)


def retention_line(report: RetentionReport, version: str) -> str:
    """One line for people on what ``migrate`` did to the events table's TTL."""
    days, was = report.days, _ttl_text(report.table_days)
    if report.action == "not_enforced":
        return (
            f"warning: EVENTPIPE_RETENTION_DAYS={days} is not enforced: ClickHouse {version} "
            f"has no table TTL ({THRESHOLDS['ttl']} and later have); every event is kept"
        )
    if report.action == "not_removable":
        return (
            f"warning: EVENTPIPE_RETENTION_DAYS=0 is not applied: ClickHouse {version} cannot "
            f"remove a TTL ({THRESHOLDS['remove_ttl']} and later can); the table keeps {was}"
        )
    if report.action == "set":
        return (
            f"retention: TTL set to {days} days (was {was}); the server applies it to the "
            "stored events in the background"
        )
    if report.action == "removed":
        return f"retention: TTL removed (was {was}); every event is kept from now on"
    return f"retention: {was} (unchanged)" if days else "retention: none, every event is kept"


def _ttl_text(days: int) -> str:
    if days == OTHER_TTL:
        return "a TTL of its own"
    return f"a TTL of {days} days" if days else "no TTL"
