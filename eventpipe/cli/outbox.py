"""``eventpipe outbox-relay``: deliver the Postgres outbox table to Kafka."""

from __future__ import annotations

from typing import Any

import typer

from eventpipe.cli.failure import fail
from front_doors.clihelp import help_text

__all__ = ["register"]


def outbox_relay(
    once: bool = typer.Option(False, "--once", help="One run (drain the outbox), then exit."),
    ttl: float = typer.Option(
        None, help="Stop claiming new batches after this many seconds per run."
    ),
    batch_size: int = typer.Option(
        None, help="Rows per batch [EVENTPIPE_OUTBOX_BATCH_SIZE, LOG_EVENTS_PARTITION_QUANTITY]."
    ),
    table: str = typer.Option(None, help="Outbox table [EVENTPIPE_OUTBOX_TABLE]."),
    ensure_schema: bool = typer.Option(
        False, "--ensure-schema", help="Create the outbox table when missing, then run."
    ),
    print_schema: bool = typer.Option(
        False, "--print-schema", help="Print the table's DDL (for your migrations) and exit."
    ),
) -> None:
    """Deliver committed outbox rows to Kafka in batches, every few seconds, until stopped.

    Services write events with front_doors.outbox.write_event(conn, event) inside their own
    transactions; this relay publishes the committed ones (AWAITING → SENDING → DELIVERED),
    retries failed sends with back-off, and deletes delivered rows after
    OUTBOX_CLEAN_IN_MINUTES. Several relays may run at once. With --once the exit status is 1
    when rows were left undelivered. Settings: EVENTPIPE_OUTBOX_*, EVENTPIPE_POSTGRES_DSN,
    EVENTPIPE_KAFKA_*, EVENTPIPE_PRODUCER_* (see docs/outbox.md).
    """
    from eventpipe.logs import configure
    from front_doors.outbox.schema import ddl
    from front_doors.outbox.settings import OutboxSettings

    given: dict[str, Any] = {
        "outbox_run_ttl_seconds": ttl,
        "outbox_batch_size": batch_size,
        "outbox_table": table,
    }
    settings = OutboxSettings(**{k: v for k, v in given.items() if v is not None})
    if print_schema:
        typer.echo(ddl(settings.outbox_table), nl=False)
        return
    configure(settings, service="outbox-relay")
    raise typer.Exit(_run(settings, once=once, ensure=ensure_schema))


def _run(settings: Any, *, once: bool, ensure: bool) -> int:
    import psycopg

    from front_doors.outbox.run import run_relay, wait_for_postgres
    from front_doors.outbox.schema import ensure_schema
    from front_doors.startup import StartupFailed

    try:
        if ensure:
            wait_for_postgres(settings, settings.outbox_startup_timeout)
            with psycopg.connect(settings.postgres_dsn.get_secret_value()) as conn:
                ensure_schema(conn, settings.outbox_table)
        return run_relay(settings, once=once)
    except StartupFailed as exc:
        fail(str(exc), 2)
    except psycopg.errors.UndefinedTable:
        fail(
            f"table {settings.outbox_table} does not exist: run with --ensure-schema, "
            "or apply --print-schema's DDL",
            2,
        )
    except psycopg.Error as exc:  # the database failed mid-run: rows held are reclaimed later
        fail(f"PostgreSQL failed: {exc}", 1)


def register(app: typer.Typer) -> None:
    app.command("outbox-relay", help=help_text(outbox_relay.__doc__))(outbox_relay)
