"""Liveness and readiness: the only route (with /schema) that needs no key."""

from __future__ import annotations

from litestar import Controller, get
from litestar.datastructures import State
from sqlalchemy import text

from api.features.common import Schema


class Health(Schema):
    status: str
    database: str


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/", operation_id="getHealth", summary="Service and database health", exclude_from_auth=True)
    async def health(self, state: State) -> Health:
        """Answers 200 when the service can reach its database."""
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return Health(status="ok", database=state.settings.db.dialect)
