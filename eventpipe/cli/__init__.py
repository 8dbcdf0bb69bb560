"""The ``eventpipe`` command: one console script, one sub-command per job.

Every module in this package that defines ``register(app)`` adds its commands; there is no
central list to edit when a service gains a command.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

__all__ = ["app", "main"]

app = typer.Typer(
    name="eventpipe",
    help="Event and log pipeline: Kafka in, Faust agents into ClickHouse, a read API out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in pkgutil.iter_modules(__path__):
    _mod = importlib.import_module(f"{__name__}.{_module.name}")
    if hasattr(_mod, "register"):
        _mod.register(app)


def main() -> None:
    app()
