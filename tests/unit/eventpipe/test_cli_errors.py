"""A wrong setting or option ends the ``eventpipe`` command with one line naming it."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from eventpipe.cli import EXIT_SETTINGS, main
from eventpipe.config import (
    BaseServiceSettings,
    ClickHouseConnection,
    KafkaConnection,
    settings_problem,
)
from eventpipe.logs import configure
from eventpipe.settings import AdminSettings
from eventpipe.stack.settings import StackSettings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    for name in list(__import__("os").environ):
        if name.startswith("EVENTPIPE_"):
            monkeypatch.delenv(name)


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["eventpipe", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    code = exit_.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


@pytest.mark.parametrize(
    ("variable", "value", "command"),
    [
        ("EVENTPIPE_TOPIC", "bad/topic", ["dlq", "count"]),
        ("EVENTPIPE_KAFKA_SECURITY_PROTOCOL", "PLAIN_TEXT", ["lag"]),
        ("EVENTPIPE_TOPIC_PARTITIONS", "-1", ["topics", "create"]),
        ("EVENTPIPE_TOPIC_PARTITIONS", "", ["topics", "create"]),
        ("EVENTPIPE_LOG_LEVEL", "verbose", ["migrate"]),
        ("EVENTPIPE_CLICKHOUSE_URL", "http://127.0.0.1:18123", ["migrate"]),
        ("EVENTPIPE_STARTUP_TIMEOUT", "inf", ["rollup"]),
        ("EVENTPIPE_STACK_WORKERS", "0", ["stack", "up"]),
        ("EVENTPIPE_WORKER_BATCH_MAX_ROWS", "lots", ["worker"]),
        # access-logs printed the field (kafka_bootstrap: ...), not the variable
        ("EVENTPIPE_KAFKA_BOOTSTRAP", "a b", ["access-logs", "--component", "web"]),
        ("EVENTPIPE_ACCESS_PORT", "70000", ["access-logs", "--component", "web"]),
        # a JSON setting that is not JSON was a SettingsError traceback, whatever the command
        ("EVENTPIPE_API_CLICKHOUSE_SETTINGS", "{max_threads: 2}", ["api"]),
        ("EVENTPIPE_PRODUCER_LIBRDKAFKA", '{"sasl.password": "hunter2"', ["simulate"]),
        ("EVENTPIPE_PRODUCER_LIBRDKAFKA", "acks=all", ["collector"]),
    ],
)
def test_a_wrong_setting_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    command: list[str],
) -> None:
    monkeypatch.setenv(variable, value)
    code, err = run(monkeypatch, capsys, *command)
    assert code == EXIT_SETTINGS
    assert "Traceback" not in err
    assert err.startswith(f"eventpipe: invalid setting {variable}: "), err
    assert len(err.strip().splitlines()) == 1
    assert "hunter2" not in err


@pytest.mark.parametrize(
    ("args", "variable"),
    [
        (["api", "--port", "0"], "EVENTPIPE_API_PORT"),  # was ignored (falsy): default port
        (["api", "--port", "70000"], "EVENTPIPE_API_PORT"),  # was an OverflowError in uvicorn
        (["api", "--workers", "0"], "EVENTPIPE_API_WORKERS"),  # was ignored: 1 worker
        (["worker", "--web-port", "99999"], "EVENTPIPE_WORKER_WEB_PORT"),
        (["stack", "up", "--rate", "-1"], "EVENTPIPE_STACK_SIMULATE_RATE"),
        (["access-logs", "--component", "web", "--port", "70000"], "EVENTPIPE_ACCESS_PORT"),
    ],
)
def test_an_option_out_of_range_is_refused_like_its_variable(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    variable: str,
) -> None:
    import query_api.server

    monkeypatch.setattr(query_api.server, "serve", lambda *a, **k: pytest.fail("served"))
    code, err = run(monkeypatch, capsys, *args)
    assert code == EXIT_SETTINGS
    assert err.startswith(f"eventpipe: invalid setting {variable}: "), err


def test_access_logs_without_a_component_says_how_to_name_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(monkeypatch, capsys, "access-logs")
    assert code == EXIT_SETTINGS
    assert err == (
        "eventpipe: name the component: --component web (or EVENTPIPE_ACCESS_COMPONENT)\n"
    )


def test_a_wrong_legacy_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The error named only EVENTPIPE_OUTBOX_BATCH_SIZE, a variable the operator never set.
    monkeypatch.setenv("LOG_EVENTS_PARTITION_QUANTITY", "0")
    code, err = run(monkeypatch, capsys, "outbox-relay", "--print-schema")
    assert code == EXIT_SETTINGS
    assert err.startswith(
        "eventpipe: invalid setting EVENTPIPE_OUTBOX_BATCH_SIZE / LOG_EVENTS_PARTITION_QUANTITY: "
    ), err


def test_secret_values_are_never_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTPIPE_CLICKHOUSE_URL", "http://user:hunter2@host:8123/")
    with pytest.raises(ValidationError) as exc:
        ClickHouseConnection()
    text = settings_problem(exc.value)
    assert "EVENTPIPE_CLICKHOUSE_URL" in text and "hunter2" not in text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:18123",
        "127.0.0.1:19000",
        "clickhouse://default@127.0.0.1:99999/default",
        "clickhouse:///default",
    ],
)
def test_a_clickhouse_url_that_cannot_connect_is_refused_at_load(url: str) -> None:
    with pytest.raises(ValidationError, match="clickhouse_url"):
        ClickHouseConnection(clickhouse_url=url)


def test_good_clickhouse_urls_load() -> None:
    for url in ("clickhouse://default@127.0.0.1:19000/default", "clickhouses://u:p@ch.example/"):
        assert ClickHouseConnection(clickhouse_url=url).clickhouse_url == url


@pytest.mark.parametrize("bootstrap", ["", " ", "a:9092,,b:9092", "a:9092, b :9092", "a:70000"])
def test_a_malformed_bootstrap_is_refused_at_load(bootstrap: str) -> None:
    with pytest.raises(ValidationError, match="kafka_bootstrap"):
        KafkaConnection(kafka_bootstrap=bootstrap)


def test_bootstrap_lists_are_kept() -> None:
    conf = KafkaConnection(kafka_bootstrap="a:9092, b:9093,SSL://c:9094").librdkafka_security()
    assert conf["bootstrap.servers"] == "a:9092,b:9093,SSL://c:9094"


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_timeouts_are_finite(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    for variable, cls in (
        ("EVENTPIPE_STARTUP_TIMEOUT", AdminSettings),
        ("EVENTPIPE_CLICKHOUSE_TIMEOUT", AdminSettings),
        ("EVENTPIPE_STACK_READY_TIMEOUT", StackSettings),
    ):
        monkeypatch.setenv(variable, value)
        with pytest.raises(ValidationError):
            cls()
        monkeypatch.delenv(variable)


def test_a_library_warning_logs_its_exception_in_one_field(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure(AdminSettings(), service="test")
    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except OSError:
        logging.getLogger("clickhouse_driver.connection").warning("Failed", exc_info=True)
    line = capsys.readouterr().err.strip()
    assert "Traceback" not in line and "exception" not in line
    assert '"error": "ConnectionRefusedError: [Errno 111] Connection refused"' in line


def _settings_classes() -> list[type[BaseServiceSettings]]:
    """Every settings class of every service (the classes in their ``settings`` modules)."""
    import importlib
    import pkgutil

    import eventpipe
    import front_doors
    import producers
    import query_api
    import stream_processors

    for package in (eventpipe, front_doors, producers, query_api, stream_processors):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if module.name.endswith("settings"):
                importlib.import_module(module.name)
    seen: list[type[BaseServiceSettings]] = []
    todo = list(BaseServiceSettings.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.append(cls)
            todo.extend(cls.__subclasses__())
    return seen


def _float_knobs() -> list[tuple[type[BaseServiceSettings], str]]:
    return sorted(
        {
            (cls, name)
            for cls in _settings_classes()
            for name, field in cls.model_fields.items()
            if field.annotation in (float, float | None)
        },
        key=lambda pair: (pair[0].__name__, pair[1]),
    )


def test_every_float_knob_of_every_service_is_finite(monkeypatch: pytest.MonkeyPatch) -> None:
    knobs = _float_knobs()
    assert len(knobs) > 30  # the walk found the services' settings
    for cls, name in knobs:
        monkeypatch.setenv(f"EVENTPIPE_{name.upper()}", "inf")
        with pytest.raises(ValidationError, match="finite number"):
            cls()
        monkeypatch.delenv(f"EVENTPIPE_{name.upper()}")


@pytest.mark.parametrize(
    ("command", "variable", "value", "expected"),
    [
        (["api"], "EVENTPIPE_API_TOKENS_FILE", "/nonexistent/tokens", "cannot read"),
        (["api"], "EVENTPIPE_API_TOKENS", "no-scope", "entry 1: expected TOKEN="),
        (["api"], "EVENTPIPE_API_TOKENS_FILE", "{bad_file}", "entry 2: not component names"),
        (["collector"], "EVENTPIPE_COLLECTOR_TOKENS_FILE", "/nonexistent/tokens", "cannot read"),
        (["collector"], "EVENTPIPE_COLLECTOR_TOKENS", "t=Bad Name", "not component names"),
    ],
)
def test_unusable_tokens_are_refused_before_serving(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: list[str],
    variable: str,
    value: str,
    expected: str,
) -> None:
    # The server started anyway (the API after waiting for ClickHouse), then its lifespan
    # failed reading the tokens: a FileNotFoundError/ValueError traceback in a JSON log
    # line, exit status 3.
    import front_doors.collector.server
    import query_api.server

    bad_file = tmp_path / "tokens"
    bad_file.write_text("ok=payments\nsecret-token=Payments!\n")
    monkeypatch.setattr(query_api.server, "serve", lambda *a, **k: pytest.fail("served"))
    monkeypatch.setattr(
        front_doors.collector.server, "serve", lambda *a, **k: pytest.fail("served")
    )
    monkeypatch.setenv(variable, value.format(bad_file=bad_file))
    code, err = run(monkeypatch, capsys, *command)
    assert code == EXIT_SETTINGS
    assert err.startswith(f"eventpipe: invalid setting {variable}: "), err
    assert expected in err and len(err.strip().splitlines()) == 1, err
    assert "secret-token" not in err


def test_an_unknown_benchmark_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # It was a KeyError traceback from bench.harness.
    import eventpipe.cli.bench

    monkeypatch.setattr(eventpipe.cli.bench, "run_benchmarks", lambda *a, **k: pytest.fail("ran"))
    code, err = run(monkeypatch, capsys, "bench", "--name", "ingest_e2e_2w", "--name", "nosuch")
    assert code == EXIT_SETTINGS
    assert err.startswith("eventpipe: unknown benchmark nosuch; known: "), err
    assert "ingest_e2e_2w" in err and len(err.strip().splitlines()) == 1, err
