"""The ``eventpipe`` command: one console script, one sub-command per job.

Every module in this package that defines ``register(app)`` adds its commands; there is no
central list to edit when a service gains a command.

A command that fails for a reason an operator can fix — a wrong setting, a service that is
not reachable, a topic that does not exist — ends with one line on stderr naming the
problem and a non-zero exit status (2 for settings, 1 otherwise), never a traceback.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer
from clickhouse_driver.errors import Error as ClickHouseError
from confluent_kafka import KafkaException
from pydantic import ValidationError
from pydantic_settings import SettingsError

from eventpipe.cli.failure import fail
from eventpipe.config import InvalidSetting, settings_problem, unparsed_setting
from eventpipe.startup import one_line
from events.errors import FatalError

__all__ = ["EXIT_FAILED", "EXIT_SETTINGS", "app", "main"]

EXIT_FAILED = 1
EXIT_SETTINGS = 2

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
    try:
        app()
    except ValidationError as exc:
        fail(settings_problem(exc), EXIT_SETTINGS)
    except SettingsError as exc:  # a JSON-valued variable that is not JSON
        fail(unparsed_setting(exc), EXIT_SETTINGS)
    except InvalidSetting as exc:
        fail(f"invalid setting {exc}", EXIT_SETTINGS)
    except FatalError as exc:  # StartupFailed and the like: the message says it all
        fail(str(exc), EXIT_FAILED)
    except KafkaException as exc:
        fail(f"Kafka: {exc.args[0].str() if exc.args else exc}", EXIT_FAILED)
    except ClickHouseError as exc:
        fail(f"ClickHouse: {one_line(exc)}", EXIT_FAILED)
    except TimeoutError as exc:
        fail(f"timed out: {exc}", EXIT_FAILED)
