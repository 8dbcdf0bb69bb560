"""HTTP routes: three lines of intent each (filter in, repository call, response out)."""

from query_api.routes.events import router as events_router
from query_api.routes.health import router as health_router
from query_api.routes.stats import router as stats_router

__all__ = ["events_router", "health_router", "stats_router"]
