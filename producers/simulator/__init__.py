"""Simulated services: the demo and the load generator (``eventpipe simulate``).

* :mod:`.catalogue` — what each service says, weighted (built in: payments, orders, users);
* :mod:`.generate` — a seeded pool of events drawn from the catalogues;
* :mod:`.pacing` — a steady rate, or random bursts with pauses;
* :mod:`.run` — :func:`run_simulation`, which ties them to an :class:`~producers.EventProducer`.
"""

from producers.simulator.catalogue import BUILT_IN, Endpoint, Line, Service, generic, service
from producers.simulator.generate import EventPool, make_event
from producers.simulator.pacing import Bursts, Schedule, Steady
from producers.simulator.run import SimulationProgress, SimulationSummary, run_simulation

__all__ = [
    "BUILT_IN",
    "Bursts",
    "Endpoint",
    "EventPool",
    "Line",
    "Schedule",
    "Service",
    "SimulationProgress",
    "SimulationSummary",
    "Steady",
    "generic",
    "make_event",
    "run_simulation",
    "service",
]
