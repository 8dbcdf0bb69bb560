"""Logged tracebacks name the frames, never the values of their variables (secrets)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from pydantic import SecretStr

from eventpipe.config import KafkaConnection
from eventpipe.logs import configure, get_logger
from eventpipe.settings import AdminSettings


def _connect(conf: dict[str, Any]) -> None:
    raise RuntimeError("the broker refused the connection")


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_a_logged_traceback_shows_no_local_values(
    capsys: pytest.CaptureFixture[str], log_format: str
) -> None:
    # structlog's tracebacks show every frame's local variables by default: the librdkafka
    # configuration in a caller's frame put the SASL password in the log.
    configure(AdminSettings(log_format=log_format), service="test")  # type: ignore[arg-type]
    password = secrets.token_hex(12)  # not in this source, which tracebacks may quote
    settings = KafkaConnection(kafka_sasl_password=SecretStr(password))
    try:
        _connect(settings.librdkafka_security())
    except RuntimeError:
        get_logger("test").exception("could not connect")
    err = capsys.readouterr().err
    assert "the broker refused the connection" in err and "_connect" in err
    assert password not in err
