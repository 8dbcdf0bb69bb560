from __future__ import annotations

import json

from events.jsonschema import SCHEMA_PATH, event_json_schema, render


def test_checked_in_schema_matches_the_model() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render(), (
        "events/schema/event.schema.json drifted from the model: "
        "run `python -m events.jsonschema` and commit the result"
    )


def test_schema_states_the_contract() -> None:
    schema = event_json_schema()
    assert schema["required"] == ["component"]
    props = schema["properties"]
    assert props["component"]["pattern"] == "^[a-z0-9][a-z0-9_.-]{0,63}$"
    assert "WARN" in props["severity"]["anyOf"][0]["enum"]
    assert {"type": "integer", "minimum": 0, "description": "epoch milliseconds"} in props[
        "timestamp"
    ]["anyOf"]
    json.dumps(schema)  # serialisable
