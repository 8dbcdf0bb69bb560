from __future__ import annotations

from pathlib import Path

import pytest
from clickhouse_driver import Client
from pydantic import ValidationError

from query_api.settings import ApiSettings


def test_environment_variables_configure_the_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTPIPE_API_PORT", "9100")
    monkeypatch.setenv("EVENTPIPE_API_TOKENS_FILE", "/etc/eventpipe/tokens")
    monkeypatch.setenv("EVENTPIPE_API_TOKENS", "a=*")
    monkeypatch.setenv("EVENTPIPE_API_ALLOW_ANONYMOUS", "false")
    monkeypatch.setenv("EVENTPIPE_CLICKHOUSE_DATABASE", "events_db")
    settings = ApiSettings()
    assert settings.api_port == 9100
    assert settings.api_tokens_file == Path("/etc/eventpipe/tokens")
    assert settings.api_tokens is not None and settings.api_tokens.get_secret_value() == "a=*"
    assert "a=*" not in repr(settings)
    assert settings.api_allow_anonymous is False
    assert settings.clickhouse_database == "events_db"


def test_safe_defaults_and_bounds() -> None:
    settings = ApiSettings()
    assert (settings.api_host, settings.api_allow_anonymous, settings.api_tokens) == (
        "127.0.0.1",
        False,
        None,
    )
    with pytest.raises(ValidationError):
        ApiSettings(api_port=0)
    with pytest.raises(ValidationError):
        ApiSettings(api_clickhouse_threads=0)


def test_clickhouse_settings_for_every_read(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ApiSettings().api_clickhouse_settings == {}
    monkeypatch.setenv("EVENTPIPE_API_CLICKHOUSE_SETTINGS", '{"max_memory_usage": 4000000000}')
    assert ApiSettings().api_clickhouse_settings == {"max_memory_usage": 4_000_000_000}
    for bad in ({"max memory": 1}, {"x'; DROP": 1}, {"max_execution_time": 5}):
        with pytest.raises(ValidationError):
            ApiSettings(api_clickhouse_settings=bad)


@pytest.mark.parametrize("name", Client.available_client_settings)
def test_a_setting_clickhouse_driver_reads_itself_is_refused_naming_it(name: str) -> None:
    # The driver pops these out of the settings it sends: they never reached ClickHouse.
    # They were refused at start as "no such setting" on 18.16 (a traceback for
    # insert_block_size "lots"), and input_format_null_as_default, a server setting too,
    # was taken on current servers and silently dropped by the driver.
    with pytest.raises(ValidationError, match=f"{name}: read by clickhouse-driver"):
        ApiSettings(api_clickhouse_settings={name: "lots", "max_memory_usage": 1})


def test_a_limit_that_would_answer_partial_results_is_refused() -> None:
    # The store sends every overflow mode as `throw`: a `break` here was silently a
    # partial answer (and would now be silently ignored).
    for bad in ({"read_overflow_mode": "break"}, {"group_by_overflow_mode": "any"}):
        with pytest.raises(ValidationError, match="answers part of the events"):
            ApiSettings(api_clickhouse_settings={"max_rows_to_read": 10, **bad})
    ok = {"max_rows_to_read": 10, "read_overflow_mode": "throw"}
    assert ApiSettings(api_clickhouse_settings=ok).api_clickhouse_settings == ok
