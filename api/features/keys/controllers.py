"""API key management (admin only). A new key's secret is shown once and never stored.
Thin: the rules live in services."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import Body, PathParameter
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import allow, principal
from api.features.common import problem_responses
from api.features.keys import services
from api.features.keys.schemas import KeyCreate, KeyCreated, KeyOut


class KeyController(Controller):
    path = "/keys"
    tags = ["keys"]
    guards = [allow("admin")]
    responses = problem_responses(400, 401, 403)

    @post("/", operation_id="createKey", summary="Create an API key", status_code=201)
    async def create(
        self,
        conn: NamedDependency[AsyncConnection],
        data: Annotated[KeyCreate, Body(title="New key")],
    ) -> KeyCreated:
        """Creates a key with one role. The response carries the key itself; it cannot be read again."""
        return await services.create(conn, data)

    @get("/", operation_id="listKeys", summary="List API keys (without secrets)")
    async def list_keys(self, conn: NamedDependency[AsyncConnection]) -> list[KeyOut]:
        """Every key ever issued, newest first, revoked ones included."""
        return await services.list_keys(conn)

    @delete(
        "/{key_id:str}",
        operation_id="revokeKey",
        summary="Revoke an API key",
        status_code=200,
        responses=problem_responses(404, 409),  # 409: an admin key cannot revoke itself
    )
    async def revoke(
        self,
        request: Request[Any, Any, Any],
        state: State,
        conn: NamedDependency[AsyncConnection],
        key_id: Annotated[str, PathParameter(description="The key's public id")],
    ) -> KeyOut:
        """Revokes a key; it stops working within PLANNER_KEY_CACHE_SECONDS (immediately on this process)."""
        return await services.revoke(
            conn, key_id, caller_key_id=principal(request).key_id, cache=state.key_cache
        )
