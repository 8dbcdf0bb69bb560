"""ClickHouse server versions and the features each one has.

Features are switched on by the *detected* version (``SELECT version()``), never by guess.
Thresholds are the first release where the feature is usable without experimental
settings; where unsure we chose the later release, so a feature may stay off on a server
that has it, but is never used on one that lacks it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["Capabilities", "ServerVersion"]

_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True, order=True)
class ServerVersion:
    major: int
    minor: int
    patch: int = 0

    @classmethod
    def parse(cls, text: str) -> ServerVersion:
        match = _VERSION.match(text.strip())
        if match is None:
            raise ValueError(f"not a ClickHouse version: {text!r}")
        major, minor, patch = match.groups()
        return cls(int(major), int(minor), int(patch or 0))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


_V = ServerVersion
#: feature → first version where we use it.
THRESHOLDS: Final = {
    "datetime64": _V(20, 1),  # DateTime64(3, tz), fromUnixTimestamp64Milli
    "low_cardinality": _V(20, 1),  # LowCardinality(String) without experimental settings
    "codecs": _V(20, 1),  # column CODEC(...)
    "ttl": _V(20, 1),  # table TTL, ALTER TABLE ... MODIFY TTL
    # ALTER TABLE ... REMOVE TTL: its server test (01493_alter_remove_properties) is of
    # 20.10; not sure of the release, so the year after
    "remove_ttl": _V(21, 1),
    "skip_indexes": _V(20, 1),  # INDEX ... TYPE bloom_filter, not experimental
    "insert_dedup_token": _V(22, 2),  # insert_deduplication_token on plain MergeTree
    "final_is_cheap": _V(22, 6),  # parallel FINAL with do_not_merge_across_partitions
    "ilike": _V(20, 6),  # ILIKE operator
    "partitions_per_insert_limit": _V(20, 1),  # max_partitions_per_insert_block (default 100)
}


@dataclass(frozen=True)
class Capabilities:
    """What the connected server can do; pure data, derived from its version."""

    version: ServerVersion
    datetime64: bool
    low_cardinality: bool
    codecs: bool
    ttl: bool
    remove_ttl: bool
    skip_indexes: bool
    insert_dedup_token: bool
    final_is_cheap: bool
    ilike: bool
    partitions_per_insert_limit: bool

    @classmethod
    def for_version(cls, version: ServerVersion | str) -> Capabilities:
        if isinstance(version, str):
            version = ServerVersion.parse(version)
        flags = {name: version >= first for name, first in THRESHOLDS.items()}
        return cls(version=version, **flags)
