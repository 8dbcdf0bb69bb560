"""ClickHouse storage: schema, migrations, row mapping and connections."""

from storage.migrations import MIGRATIONS, MigrationOptions, latest_version, migrate
from storage.rows import SELECT_COLUMNS, flatten_data, row_to_event, to_columns
from storage.schema import EVENT_COLUMNS, EVENTS_TABLE, INSERT_COLUMNS, events_table_ddl
from storage.version import Capabilities, ServerVersion

__all__ = [
    "EVENTS_TABLE",
    "EVENT_COLUMNS",
    "INSERT_COLUMNS",
    "MIGRATIONS",
    "SELECT_COLUMNS",
    "Capabilities",
    "MigrationOptions",
    "ServerVersion",
    "events_table_ddl",
    "flatten_data",
    "latest_version",
    "migrate",
    "row_to_event",
    "to_columns",
]
