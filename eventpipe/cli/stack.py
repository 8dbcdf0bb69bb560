"""``eventpipe stack up|down``: the whole pipeline on this host (what ``make run`` runs)."""

from __future__ import annotations

import typer
from rich.console import Console

__all__ = ["register"]

stack = typer.Typer(
    help="Run the whole pipeline locally: services, workers, API, collector, simulator."
)
console = Console(stderr=True, soft_wrap=True)  # URLs and tokens stay on one line


@stack.command("up")
def up(
    workers: int = typer.Option(None, help="Workers [EVENTPIPE_STACK_WORKERS, default 2]."),
    rate: float = typer.Option(
        None, help="Simulated events/s, 0 for none [EVENTPIPE_STACK_SIMULATE_RATE]."
    ),
) -> None:
    """Start everything, print where it is, run until Ctrl-C, then stop everything."""
    from eventpipe.stack import StackSettings, run_up

    overrides: dict[str, object] = {}
    if workers is not None:
        overrides["stack_workers"] = workers
    if rate is not None:
        overrides["stack_simulate_rate"] = rate
    raise typer.Exit(run_up(StackSettings(**overrides), console))  # type: ignore[arg-type]


@stack.command("down")
def down() -> None:
    """Stop a stack left running (and the local services)."""
    from eventpipe.stack import StackSettings, run_down

    run_down(StackSettings(), console.print)


def register(app: typer.Typer) -> None:
    app.add_typer(stack, name="stack")
