from __future__ import annotations

from eventpipe.config_docs import DOC_PATH, SERVICES, _load, render


def test_every_listed_settings_class_exists() -> None:
    missing = [path for path, _, _ in SERVICES if _load(path) is None]
    assert missing == []


def test_configuration_reference_matches_the_models() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render(), (
        "docs/configuration.md drifted from the settings models: run `eventpipe config-docs`"
    )


def test_reference_names_every_variable() -> None:
    text = render()
    for needle in (
        "`EVENTPIPE_WORKER_BATCH_MAX_ROWS`",
        "`EVENTPIPE_CLICKHOUSE_URL`",
        "`EVENTPIPE_TOPIC`",
    ):
        assert needle in text


def test_every_variable_of_every_service_is_in_the_reference() -> None:
    # EVENTPIPE_STACK_* (what `make run` reads) were in no reference at all.
    from eventpipe.config_docs import _env_names
    from tests.unit.eventpipe.test_cli_errors import _settings_classes

    text = render()
    missing = sorted(
        {
            f"{cls.__name__}.{name}"
            for cls in _settings_classes()
            for name, field in cls.model_fields.items()
            if _env_names(cls, name, field) not in text
        }
    )
    assert missing == []
