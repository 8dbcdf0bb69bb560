"""The JSON Schema of the event, generated from the model and checked in.

``python -m events.jsonschema`` rewrites ``events/schema/event.schema.json``; a unit test
fails when the checked-in file drifts from the model. Non-Python producers validate against
this file. Two rules it cannot express are enforced by the model only: ``message`` is
required unless ``kind`` is ``access``, where ``http`` is required; severity is
case-insensitive (the schema lists the normal forms and aliases).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from events.model import SEVERITIES, SEVERITY_ALIASES, Event

__all__ = ["SCHEMA_PATH", "event_json_schema", "render"]

SCHEMA_PATH = Path(__file__).parent / "schema" / "event.schema.json"


def event_json_schema() -> dict[str, Any]:
    """The event's JSON Schema (draft 2020-12), as validated on the wire."""
    schema = Event.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://eventpipe.dev/schema/event.schema.json"
    severity = schema["properties"]["severity"]
    severity["anyOf"] = [
        {"type": "string", "enum": [*SEVERITIES, *SEVERITY_ALIASES]},
        {"type": "null"},
    ]
    severity["description"] += " Matched case-insensitively."
    return schema


def render() -> str:
    return json.dumps(event_json_schema(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    SCHEMA_PATH.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {SCHEMA_PATH}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
