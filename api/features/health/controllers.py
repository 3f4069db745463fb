"""Liveness and readiness, and the service's front door: the routes (with /schema and /dashboard)
that need no key."""

from __future__ import annotations

import logging

from litestar import Controller, get
from litestar.datastructures import State
from sqlalchemy import text

from api.features.common import Schema, problem_responses
from api.problems import ProblemError

log = logging.getLogger("api")


class Health(Schema):
    status: str
    database: str


class Index(Schema):
    """Where to go from the service's root URL."""

    service: str
    dashboard: str  # the analysts' dashboard (paste a key)
    api_docs: str  # interactive API documentation
    openapi: str  # the OpenAPI document
    health: str


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get(
        "/",
        operation_id="getHealth",
        summary="Service and database health",
        exclude_from_auth=True,
        responses=problem_responses(503),
    )
    async def health(self, state: State) -> Health:
        """Answers 200 when the service can reach its database, 503 when it cannot."""
        try:
            async with state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure to reach it is "not ready"
            log.warning("health check: database unreachable: %s", exc)
            raise ProblemError(503, "The database cannot be reached.") from None
        return Health(status="ok", database=state.settings.db.dialect)


class IndexController(Controller):
    path = "/"
    tags = ["health"]

    @get("/", operation_id="getIndex", summary="Where to start", exclude_from_auth=True)
    async def index(self) -> Index:
        """Points at the dashboard, the API documentation and the health check."""
        return Index(
            service="Met event deployment planner",
            dashboard="/dashboard",
            api_docs="/schema",
            openapi="/schema/openapi.json",
            health="/health",
        )
