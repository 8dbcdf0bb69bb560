"""``eventpipe lag`` and ``eventpipe dlq count|show|replay``."""

from __future__ import annotations

import signal
import sys
import unicodedata

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from eventpipe.ops.dlq import as_json, count_letters, read_letters
from eventpipe.ops.lag import consumer_groups, groups_reading, measure_lag
from eventpipe.ops.replay import replay_letters
from eventpipe.settings import AdminSettings
from eventpipe.startup import StartupFailed, naming_the_service, require_topics
from events.topics import dlq_topic

__all__ = ["register"]

console = Console()
err = Console(stderr=True)


def lag(
    group: list[str] = typer.Option(
        None, "--group", "-g", help="Groups to report (default: every group reading the topic)."
    ),
    topic: str = typer.Option(None, help="Topic (default: EVENTPIPE_TOPIC)."),
) -> None:
    """Consumer lag per partition and in total, for each consumer group of the topic."""
    settings = AdminSettings()
    conf = settings.librdkafka_security()
    name = topic or settings.topic
    interruptible()
    require_topics(settings, [name])
    with naming_the_service(kafka=settings):
        reading = groups_reading(conf, name)
        unknown = sorted(set(group or ()) - set(consumer_groups(conf)))
        if unknown:
            raise StartupFailed(
                f"consumer group {', '.join(unknown)} not known to Kafka; groups reading {name}: "
                + (", ".join(reading) or "none")
            )
        groups = group or reading
        if not groups:
            err.print(f"no consumer group has committed offsets for {name}")
            raise typer.Exit(1)
        reports = measure_lag(conf, name, groups)
    for report in reports:
        table = Table(
            "partition",
            "committed",
            "high-water",
            "lag",
            title=escape(visible(f"{report.group} on {name}")),  # any client names a group
        )
        for p in report.partitions:
            table.add_row(
                str(p.partition),
                "-" if p.committed is None else str(p.committed),
                str(p.high),
                str(p.lag),
            )
        table.add_row("total", "", "", f"[bold]{report.total}")
        console.print(table)


dlq = typer.Typer(
    help="Inspect and replay the dead-letter topic (<topic>.dlq).", no_args_is_help=True
)


@dlq.command("count")
def dlq_count(
    by_reason: bool = typer.Option(
        False, "--by-reason", help="Read every letter and count per reason code."
    ),
) -> None:
    """How many dead letters the topic holds now."""
    settings = AdminSettings()
    interruptible()
    require_topics(settings, [dlq_topic(settings.topic)])
    with naming_the_service(kafka=settings):
        counts = count_letters(
            settings.librdkafka_security(), dlq_topic(settings.topic), by_reason=by_reason
        )
    table = Table("reason", "letters")
    for key, value in sorted(counts.items(), key=lambda kv: (kv[0] != "total", kv[0])):
        table.add_row(escape(visible(key)), str(value))
    console.print(table)


@dlq.command("show")
def dlq_show(
    limit: int = typer.Option(20, min=1, help="Letters to show."),
    reason: str = typer.Option(None, help="Only this reason code (bad_json, invalid_field, ...)."),
    json_lines: bool = typer.Option(
        False, "--json", help="One JSON object per letter, for scripts."
    ),
) -> None:
    """Show dead letters, oldest first: why, where from, and the original line."""
    settings = AdminSettings()
    interruptible()
    require_topics(settings, [dlq_topic(settings.topic)])
    with naming_the_service(kafka=settings):
        letters = read_letters(
            settings.librdkafka_security(), dlq_topic(settings.topic), limit=limit, reason=reason
        )
    if json_lines:
        for letter in letters:
            sys.stdout.buffer.write(as_json(letter) + b"\n")
        return
    table = Table("offset", "reason", "field", "message", "source", "line")
    for letter in letters:
        raw = visible(letter.raw.decode(errors="replace"))
        cells = (
            f"{letter.partition}:{letter.offset}", letter.code, letter.field, letter.message,
            letter.source, raw if len(raw) <= 80 else raw[:77] + "...",
        )  # fmt: skip
        table.add_row(*(escape(visible(cell)) for cell in cells))  # user data: never markup
    console.print(table)


@dlq.command("replay")
def dlq_replay(
    reason: str = typer.Option(None, help="Only letters with this reason code."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Count what would be replayed; send nothing."
    ),
) -> None:
    """Publish dead letters back to the ingest topic (after a fix), each exactly once.

    Letters are re-validated by the workers like any record; ones still invalid come back
    to the dead-letter topic. Progress is saved (per --reason), so a second run replays only
    new letters, and a run for one reason leaves the others' letters for a later run.
    Raw lines of the access-log front door are not events and are left alone (counted).
    """
    settings = AdminSettings()
    # SIGTERM as Ctrl-C: the replay saves what Kafka acknowledged before it ends, or the
    # next run would send those letters again.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    require_topics(settings, [dlq_topic(settings.topic), settings.topic])
    with (
        naming_the_service(kafka=settings),
        Progress(
            TextColumn("replaying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
        ) as bar,
    ):
        task = bar.add_task("replay", total=None)
        counts = replay_letters(
            settings.librdkafka_security(), dlq_topic(settings.topic), settings.topic,
            reason=reason, dry_run=dry_run,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )  # fmt: skip
    verb = "would replay" if dry_run else "replayed"
    err.print(
        f"{verb} {counts['replayed']} letter(s) to {settings.topic}; skipped {counts['skipped']}"
    )
    if counts["replayed_before"]:
        err.print(f"left {counts['replayed_before']} letter(s) replayed before with --reason")
    if counts["log_lines"]:
        err.print(
            f"left {counts['log_lines']} raw access-log line(s): they are not events; "
            "`eventpipe dlq show` lists them, feed them to `eventpipe access-logs` again"
        )
    if counts["truncated"]:
        err.print(
            f"left {counts['truncated']} letter(s) holding only the start of a line too large "
            "for Kafka; the whole line is in the source topic at the offset the letter names"
        )


def visible(text: str) -> str:
    """``text`` with its control and format characters as escapes (``\\x1b``, ``\\u202e``).

    A letter holds whatever a producer sent: a terminal would act on its escape sequences
    (clear the screen, hide text, set the clipboard) and bidirectional overrides would
    reorder what the operator reads. rich escapes markup, not those.
    """
    return "".join(
        char.encode("unicode_escape").decode() if unicodedata.category(char) in _HIDDEN else char
        for char in text
    )


_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp"})


def interruptible() -> None:
    """Let Ctrl-C end a read-only (or idempotent) command at once.

    librdkafka's blocking calls (metadata, watermarks, consume) do not return to Python
    for up to their timeout, so Python's own SIGINT handling would wait that long; these
    commands change nothing, or only what their next run completes, so the default action
    (end the process) is safe.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def register(app: typer.Typer) -> None:
    app.command("lag")(lag)
    app.add_typer(dlq, name="dlq")
