"""API key management (admin only). A new key's secret is shown once and never stored."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import Body, PathParameter
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import Role, allow, insert_key_statement, principal
from api.db.engine import utcnow
from api.db.models import ApiKey
from api.features.common import Schema, problem_responses
from api.problems import ProblemError


class KeyCreate(Schema):
    role: Role
    label: str = ""


class KeyOut(Schema):
    id: str
    role: Role
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class KeyCreated(KeyOut, kw_only=True):
    key: str  # the full secret key: shown only in this response


class KeyController(Controller):
    path = "/keys"
    tags = ["keys"]
    guards = [allow("admin")]
    responses = problem_responses(400, 401, 403)

    @post("/", operation_id="createKey", summary="Create an API key", status_code=201)
    async def create(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[AsyncConnection],
        data: Annotated[KeyCreate, Body(title="New key")],
    ) -> KeyCreated:
        """Creates a key with one role. The response carries the key itself; it cannot be read again."""
        if len(data.label) > 200:
            raise ProblemError(400, "label may be at most 200 characters.")
        full, key_id, stmt = insert_key_statement(data.role, data.label)
        await conn.execute(stmt)
        await conn.commit()
        row = (await conn.execute(select(ApiKey).where(ApiKey.id == key_id))).one()
        _ = principal(request)
        return KeyCreated(id=key_id, role=row.role, label=row.label, created_at=row.created_at, key=full)

    @get("/", operation_id="listKeys", summary="List API keys (without secrets)")
    async def list_keys(self, conn: NamedDependency[AsyncConnection]) -> list[KeyOut]:
        """Every key ever issued, newest first, revoked ones included."""
        rows = await conn.execute(select(ApiKey).order_by(ApiKey.created_at.desc()))
        return [
            KeyOut(id=r.id, role=r.role, label=r.label, created_at=r.created_at, revoked_at=r.revoked_at)
            for r in rows
        ]

    @delete(
        "/{key_id:str}",
        operation_id="revokeKey",
        summary="Revoke an API key",
        status_code=200,
        responses=problem_responses(404),
    )
    async def revoke(
        self,
        request: Request[Any, Any, Any],
        state: State,
        conn: NamedDependency[AsyncConnection],
        key_id: Annotated[str, PathParameter(description="The key's public id")],
    ) -> KeyOut:
        """Revokes a key; it stops working within PLANNER_KEY_CACHE_SECONDS (immediately on this process)."""
        if key_id == principal(request).key_id:
            raise ProblemError(409, "An admin key cannot revoke itself.")
        result = await conn.execute(
            update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow())
        )
        await conn.commit()
        row = (await conn.execute(select(ApiKey).where(ApiKey.id == key_id))).first()
        if row is None:
            raise ProblemError(404, f"No key {key_id!r}.")
        _ = result
        state.key_cache.forget(key_id)
        return KeyOut(
            id=row.id, role=row.role, label=row.label, created_at=row.created_at, revoked_at=row.revoked_at
        )
