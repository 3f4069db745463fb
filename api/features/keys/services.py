"""Key management: keys are stored as an id plus a SHA-256 of the secret; revocation is a timestamp."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import KeyCache, insert_key_statement
from api.db.engine import utcnow
from api.db.models import ApiKey
from api.features.common import utc
from api.features.keys.schemas import KeyCreate, KeyCreated, KeyOut
from api.problems import ProblemError


def key_out(row: Any) -> KeyOut:
    return KeyOut(
        id=row.id,
        role=row.role,
        label=row.label,
        created_at=utc(row.created_at),
        revoked_at=utc(row.revoked_at),
    )


async def create(conn: AsyncConnection, data: KeyCreate) -> KeyCreated:
    if len(data.label) > 200:
        raise ProblemError(400, "label may be at most 200 characters.")
    full, key_id, stmt = insert_key_statement(data.role, data.label)
    await conn.execute(stmt)
    await conn.commit()
    row = (await conn.execute(select(ApiKey).where(ApiKey.id == key_id))).one()
    return KeyCreated(id=key_id, role=row.role, label=row.label, created_at=utc(row.created_at), key=full)


async def list_keys(conn: AsyncConnection) -> list[KeyOut]:
    rows = await conn.execute(select(ApiKey).order_by(ApiKey.created_at.desc()))
    return [key_out(r) for r in rows]


async def revoke(conn: AsyncConnection, key_id: str, *, caller_key_id: str, cache: KeyCache) -> KeyOut:
    if key_id == caller_key_id:
        raise ProblemError(409, "An admin key cannot revoke itself.")
    await conn.execute(
        update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
    await conn.commit()
    row = (await conn.execute(select(ApiKey).where(ApiKey.id == key_id))).first()
    if row is None:
        raise ProblemError(404, f"No key {key_id!r}.")
    cache.forget(key_id)
    return key_out(row)
