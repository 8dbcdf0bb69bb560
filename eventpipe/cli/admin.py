"""``eventpipe services``, ``migrate``, ``topics`` and ``config-docs``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from eventpipe.admin import (
    apply_migrations,
    create_pipeline_topics,
    partitions_note,
    refresh_rollups,
)
from eventpipe.kafka import describe_topics
from eventpipe.logs import configure
from eventpipe.settings import AdminSettings
from eventpipe.startup import StartupFailed, naming_the_service
from storage.retention import RetentionReport, retention_line

__all__ = ["register"]

_ROOT = Path(__file__).resolve().parents[2]
_SERVICES = _ROOT / "deploy" / "local" / "services.sh"
console = Console(stderr=True)


def _services(action: str) -> None:
    if not _SERVICES.exists():
        console.print(f"[red]{_SERVICES} not found: `services` needs a source checkout[/red]")
        raise typer.Exit(2)
    raise typer.Exit(subprocess.call(["bash", str(_SERVICES), action]))


services = typer.Typer(help="Start/stop Kafka, ClickHouse and PostgreSQL locally (no Docker).")


@services.command("up")
def services_up() -> None:
    """Start the backing services that are not running yet (idempotent)."""
    _services("up")


@services.command("down")
def services_down() -> None:
    """Stop the backing services started by `services up`."""
    _services("down")


@services.command("status")
def services_status() -> None:
    """Say which backing services run, and where."""
    _services("status")


topics = typer.Typer(help="Create or describe the pipeline's Kafka topics.")


@topics.command("create")
def topics_create() -> None:
    """Create the ingest topic and its dead-letter topic when missing (idempotent)."""
    from eventpipe.cli.ops import interruptible

    settings = AdminSettings()
    interruptible()  # idempotent: ending it anywhere is safe, and the next run completes it
    with naming_the_service(kafka=settings):
        created = create_pipeline_topics(settings)
        note = partitions_note(settings)
    console.print(f"created: {', '.join(created) if created else 'nothing (all exist)'}")
    if note is not None:
        console.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)


@topics.command("describe")
def topics_describe(
    names: list[str] = typer.Argument(None, help="Topics to describe; all when omitted."),
) -> None:
    """Partition and replica counts of the topics."""
    from eventpipe.cli.ops import interruptible

    settings = AdminSettings()
    interruptible()
    with naming_the_service(kafka=settings):
        found = describe_topics(settings.librdkafka_security(), names or None)
    missing = sorted(set(names or ()) - {topic.name for topic in found})
    if missing:
        raise StartupFailed(
            f"topic {', '.join(missing)} does not exist on Kafka at {settings.kafka_bootstrap}"
        )
    table = Table("topic", "partitions", "replication")
    for topic in found:
        table.add_row(topic.name, str(topic.partitions), str(topic.replication))
    Console().print(table)


def migrate() -> None:
    """Apply pending ClickHouse migrations and align the events TTL with
    EVENTPIPE_RETENTION_DAYS (idempotent); print what was done."""
    settings = AdminSettings()
    configure(settings, service="migrate")
    retention: list[RetentionReport] = []
    with naming_the_service(clickhouse=settings):
        version, applied = apply_migrations(
            settings,
            on_apply=lambda m: console.print(f"applying {m.version:04d} {m.name}"),
            on_retention=retention.append,
        )
    summary = ", ".join(map(str, applied)) if applied else "none (up to date)"
    console.print(
        f"ClickHouse {version}: database {settings.clickhouse_database}, applied {summary}"
    )
    for report in retention:
        console.print(escape(retention_line(report, version)), highlight=False)


def rollup() -> None:
    """Roll up settled, ended days for /v1/stats now (workers do it every minute)."""
    settings = AdminSettings()
    configure(settings, service="rollup")
    with naming_the_service(clickhouse=settings):
        report = refresh_rollups(settings)
    rolled = ", ".join(report.rolled_up) or "nothing new"
    console.print(f"rolled up: {rolled}; removed rows of {len(report.removed)} merged part(s)")


def config_docs() -> None:
    """Regenerate docs/configuration.md from the settings models."""
    from eventpipe.config_docs import write

    console.print(f"wrote {write()}")


def register(app: typer.Typer) -> None:
    app.command("config-docs")(config_docs)
    app.add_typer(services, name="services")
    app.add_typer(topics, name="topics")
    app.command("migrate")(migrate)
    app.command("rollup")(rollup)
