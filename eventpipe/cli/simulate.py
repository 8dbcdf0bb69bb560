"""``eventpipe simulate``: simulated services publishing events (demo and load generator)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from eventpipe.logs import configure, get_logger
from eventpipe.startup import StartupFailed, wait_for_topic
from producers.errors import ProducerError
from producers.settings import SimulatorSettings
from producers.simulator.run import SimulationProgress, SimulationSummary, run_simulation

__all__ = ["register"]


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # rich's default exits with status 1; the simulation goes on without output instead
        # (its exit status still says whether everything was delivered).
        self.quiet = True
        _silence_stderr()


console = _Console(stderr=True)
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # finish cleanly: close, deliver, summarise
_LOG_EVERY = 10.0  # seconds between progress lines with --quiet
_OPTIONS = {  # settings field → the option that sets it, to name it in errors
    "simulate_rate": "--rate",
    "simulate_duration": "--duration",
    "simulate_count": "--count",
    "simulate_services": "--services",
    "simulate_seed": "--seed",
    "simulate_bursts": "--bursts",
    "topic": "--topic",
}


def simulate(
    rate: float = typer.Option(None, help="Target events/s, all services together."),
    duration: float = typer.Option(None, help="Stop after this many seconds."),
    count: int = typer.Option(None, help="Stop after this many events."),
    services: str = typer.Option(None, help="Comma-separated services (payments,orders,users)."),
    seed: int = typer.Option(None, help="Seed: the same seed, the same events."),
    bursts: bool = typer.Option(None, "--bursts/--steady", help="Random bursts and pauses."),
    topic: str = typer.Option(None, help="Ingest topic."),
    wait: float = typer.Option(30.0, help="Seconds to wait for Kafka and the topic."),
    quiet: bool = typer.Option(False, help="No progress bar: a log line every 10 s."),
) -> None:
    """Simulate services emitting events until the count or duration is reached (or Ctrl-C).

    Every option also comes from the environment (EVENTPIPE_SIMULATE_RATE, ...).
    """
    given: dict[str, Any] = {
        "simulate_rate": rate,
        "simulate_duration": duration,
        "simulate_count": count,
        "simulate_services": services,
        "simulate_seed": seed,
        "simulate_bursts": bursts,
        "topic": topic,
    }
    settings = _settings(given)
    configure(settings, service="simulator")
    _wait_for_topic(settings, wait)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, _stopper(stop)) for sig in _STOP_SIGNALS}
    try:
        summary = _logging_progress(settings, stop) if quiet else _with_progress(settings, stop)
    except ProducerError as exc:  # the producer failed for good: no summary to print
        _say(f"[red]simulation failed: {exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _say(lambda: _print_summary(settings, summary))
    if summary.error is not None:
        _say(f"[red]stopped early: {summary.error}[/red]")
    if summary.producer.failed or summary.error is not None:
        raise typer.Exit(1)


def _stopper(stop: threading.Event) -> Callable[[int, Any], None]:
    """The signal handler of a run: the first signal ends it cleanly (close, deliver,
    summarise); a second one quits at once, as an impatient operator means — closing
    waits for Kafka up to the delivery timeout when the broker is gone."""

    def on_signal(_signum: int, _frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    return on_signal


def _settings(given: dict[str, Any]) -> SimulatorSettings:
    """The settings, or a one-line error per bad option (or variable) and exit status 2."""
    try:
        settings = SimulatorSettings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            _say(f"[red]{_named(field, given)}: {error['msg']}[/red]")
        raise typer.Exit(2) from None
    return settings


def _named(field: str, given: dict[str, Any]) -> str:
    """The option that set ``field``, else its environment variable."""
    return _OPTIONS[field] if given.get(field) is not None else f"EVENTPIPE_{field.upper()}"


def _say(what: str | Callable[[], None]) -> None:
    """Print to the terminal, or do nothing once it has gone (a closed pipe): the run goes
    on and its exit status still says whether everything was delivered."""
    with _output_may_be_gone():
        if isinstance(what, str):
            console.print(what)
        else:
            what()


@contextmanager
def _output_may_be_gone() -> Iterator[None]:
    try:
        yield
    except (OSError, ValueError) as exc:  # a closed pipe, a closed descriptor, a hang-up
        if isinstance(exc, ValueError) and not sys.stderr.closed:
            raise  # not "I/O operation on closed file"
        console.quiet = True
        _silence_stderr()


def _silence_stderr() -> None:
    """Further writes (logs, the interpreter's last flush) go nowhere instead of failing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stderr.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


def _wait_for_topic(settings: SimulatorSettings, wait: float) -> None:
    try:
        wait_for_topic(settings, wait)
    except StartupFailed as exc:  # one line, as every eventpipe command ends: not wrapped
        line = f"eventpipe: {exc}"
        _say(lambda: console.print(line, style="red", soft_wrap=True, markup=False))
        raise typer.Exit(2) from None


def _logging_progress(settings: SimulatorSettings, stop: threading.Event) -> SimulationSummary:
    # No terminal (a service, a stack child): a log line now and then instead of a bar.
    log = get_logger("simulator")

    def show(update: SimulationProgress) -> None:
        log.info(
            "simulating",
            emitted=update.emitted,
            rate=round(update.rate),
            phase=update.phase,
            elapsed=round(update.elapsed, 1),
        )

    return run_simulation(settings, on_progress=show, stop=stop, report_every=_LOG_EVERY)


def _with_progress(settings: SimulatorSettings, stop: threading.Event) -> SimulationSummary:
    total: float | None = settings.simulate_count or settings.simulate_duration
    columns: list[Any] = [
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[phase]:<11}"),
        BarColumn(),
        TextColumn("{task.fields[emitted]:>12,} events"),
        TextColumn("[cyan]{task.fields[rate]:>10,.0f} events/s"),
        TimeElapsedColumn(),
    ]
    progress = Progress(*columns, console=console, transient=False)
    task = progress.add_task("simulate", total=total, phase="starting", emitted=0, rate=0.0)

    def show(update: SimulationProgress) -> None:
        _show(progress, task, settings, update)

    with _output_may_be_gone():
        progress.start()
    try:
        return run_simulation(settings, on_progress=show, stop=stop)
    finally:
        with _output_may_be_gone():
            progress.stop()  # prints the bar's last state: the terminal may be gone by now


def _show(
    progress: Progress, task: TaskID, settings: SimulatorSettings, update: SimulationProgress
) -> None:
    done = update.emitted if settings.simulate_count else update.elapsed
    progress.update(
        task, completed=done, phase=update.phase, emitted=update.emitted, rate=update.rate
    )


def _print_summary(settings: SimulatorSettings, summary: SimulationSummary) -> None:
    stats = summary.producer
    table = Table(title=f"simulated {', '.join(settings.simulate_services)} → {settings.topic}")
    table.add_column("what")
    table.add_column("events", justify="right")
    for heading, counts in (
        ("service", summary.by_service),
        ("kind", summary.by_kind),
        ("severity", summary.by_severity),
    ):
        for key, value in sorted(counts.items()):
            table.add_row(f"{heading} {key}", f"{value:,}")
    table.add_section()
    table.add_row("emitted", f"{summary.emitted:,} in {summary.seconds:.1f} s")
    table.add_row("achieved rate", f"{summary.rate:,.0f} events/s")
    table.add_row("delivered / failed", f"{stats.delivered:,} / {stats.failed:,}")
    table.add_row("Kafka records", f"{stats.records:,}")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
