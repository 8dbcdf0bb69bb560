"""The local stack behind ``make run``: ``eventpipe stack up`` / ``eventpipe stack down``."""

from __future__ import annotations

import signal
from collections.abc import Callable

from rich.console import Console
from rich.markup import escape

from eventpipe.admin import apply_migrations, create_pipeline_topics, partitions_note
from eventpipe.settings import AdminSettings
from eventpipe.stack.runner import Child, Stack
from eventpipe.stack.settings import StackSettings
from storage.retention import RetentionReport, retention_line

__all__ = ["StackSettings", "run_down", "run_up"]


def run_up(settings: StackSettings, console: Console) -> int:
    """Run the whole pipeline until Ctrl-C/SIGTERM; return the exit code. Blocking."""
    stack = Stack(settings, lambda line: console.print(escape(line)))
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stack.stop.set())
    children: list[Child] = []
    started: list[str] = []
    try:
        stack.check_ports()
        started = stack.services_up()
        env = stack.service_env()
        admin = AdminSettings(
            kafka_bootstrap=env["EVENTPIPE_KAFKA_BOOTSTRAP"],
            clickhouse_url=env["EVENTPIPE_CLICKHOUSE_URL"],
        )
        created = ", ".join(create_pipeline_topics(admin)) or "none (all exist)"
        retention: list[RetentionReport] = []
        version, applied = apply_migrations(admin, on_retention=retention.append)
        migrated = ", ".join(map(str, applied)) or "none (up to date)"
        console.print(f"topics created: {created}; ClickHouse {version}, migrations: {migrated}")
        note = partitions_note(admin)
        if note is not None:
            console.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)
        for report in retention:
            console.print(escape(retention_line(report, version)), highlight=False)
        tokens = stack.tokens()
        children = stack.children(env)
        stack.pids.mkdir(parents=True, exist_ok=True)
        for child in children:
            child.start(stack.pids)
        stack.wait_ready(children)
        _banner(console, settings, tokens, stack)
        return stack.supervise(children)
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        return 1
    finally:
        stack.stop_children(children)
        stack.services_down(started)


def run_down(settings: StackSettings, say: Callable[[str], None]) -> None:
    Stack(settings, say).down()


def _banner(console: Console, s: StackSettings, tokens: dict[str, str], stack: Stack) -> None:
    api = f"http://127.0.0.1:{s.stack_api_port}"
    collector = f"http://127.0.0.1:{s.stack_collector_port}"
    workers = " ".join(f":{s.stack_worker_web_port + i}/metrics" for i in range(s.stack_workers))
    auth = f"-H 'Authorization: Bearer {tokens['read']}'"
    lines = [
        "[bold green]eventpipe is running[/bold green]",
        f"  read API     {api}/v1/events   (OpenAPI docs: {api}/docs)",
        f"  read token   {tokens['read']}",
        f"  try          curl -s {auth} '{api}/v1/events?limit=5'",
        f"               curl -s {auth} '{api}/v1/stats'",
        f"  collector    {collector}/v1/events   (ingest token: {tokens['ingest']})",
        f"  metrics      {api}/metrics  {collector}/metrics  workers {workers}",
        f"  simulator    {s.stack_simulate_rate:g} events/s"
        if s.stack_simulate_rate
        else "  simulator    off",
        f"  logs         {stack.home / 'logs'}",
        "  Ctrl-C stops everything ([bold]make stop[/bold] cleans up a stack left running).",
    ]
    console.print(
        "\n".join(escape(line) if "[bold" not in line else line for line in lines if line)
    )
