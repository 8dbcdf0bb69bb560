"""Settings of the read API (``eventpipe api``): ``EVENTPIPE_API_*`` plus ClickHouse and logs.

Tokens come from ``api_tokens_file`` and/or ``api_tokens`` (see :mod:`query_api.auth` for
the format). With neither, every data request is refused (401) unless
``api_allow_anonymous`` is set, which grants anonymous callers every component — meant for a
laptop, never for a shared deployment.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from clickhouse_driver import Client
from pydantic import Field, SecretStr, field_validator

from eventpipe.config import ClickHouseConnection, LogSettings

__all__ = ["ApiSettings"]

_SETTING_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,127}")
#: Settings the installed clickhouse-driver takes out of ``settings`` and applies itself
#: (how it decodes strings, numpy results, ...): never sent to ClickHouse, so never a limit.
_DRIVER_SETTINGS: Final = frozenset(Client.available_client_settings)


class ApiSettings(ClickHouseConnection, LogSettings):
    api_host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port the API listens on.")
    api_workers: int = Field(
        default=1, ge=1, le=64, description="uvicorn worker processes (one event loop each)."
    )
    api_tokens_file: Path | None = Field(
        default=None, description="File of bearer tokens: one `TOKEN=component,...|*` a line."
    )
    api_tokens: SecretStr | None = Field(
        default=None, description="Bearer tokens inline, `TOKEN=scope` entries separated by `;`."
    )
    api_allow_anonymous: bool = Field(
        default=False,
        description="Let requests without a token read every component (development only).",
    )
    api_clickhouse_threads: int = Field(
        default=4, ge=1, le=64, description="Threads (one ClickHouse connection each) per worker."
    )
    api_query_timeout: float = Field(
        default=30.0, gt=0, description="Seconds ClickHouse may spend on one read (then 503)."
    )
    api_clickhouse_settings: dict[str, int | float | str] = Field(
        default={},
        description="ClickHouse settings sent with every read, as JSON, e.g. "
        '`{"max_memory_usage": 4000000000, "max_concurrent_queries_for_user": 20}`; '
        "a read past such a limit is a 400 or 503 (docs/api.md). Empty: the server's.",
    )
    api_startup_timeout: float = Field(
        default=30.0, gt=0, description="Seconds to wait for ClickHouse when starting."
    )
    api_max_query_length: int = Field(
        default=4096, ge=16, description="Longest accepted `q`, in characters."
    )
    api_max_buckets: int = Field(
        default=10_000,
        ge=1,
        description="Most values one timeseries response may hold: buckets x groups.",
    )
    api_root_path: str = Field(
        default="", description="Path prefix when served behind a proxy (ASGI root_path)."
    )

    @field_validator("api_clickhouse_settings")
    @classmethod
    def _setting_names(cls, value: dict[str, int | float | str]) -> dict[str, int | float | str]:
        bad = sorted(name for name in value if not _SETTING_NAME.fullmatch(name))
        if bad:
            raise ValueError(f"not ClickHouse setting names: {', '.join(bad)}")
        driver = sorted(set(value) & _DRIVER_SETTINGS)
        if driver:
            raise ValueError(
                f"{', '.join(driver)}: read by clickhouse-driver itself, never sent to "
                "ClickHouse (not a setting of the reads)"
            )
        partial = sorted(
            name for name in value if name.endswith("_overflow_mode") and value[name] != "throw"
        )
        if partial:
            raise ValueError(
                f"{', '.join(partial)}: a limit that does not throw answers part of the events "
                "as if it were all of them; every read sends throw"
            )
        if "max_execution_time" in value:
            raise ValueError("set max_execution_time with EVENTPIPE_API_QUERY_TIMEOUT")
        return value
