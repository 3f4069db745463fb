"""Shared import flow: parse off the event loop, then upsert in one transaction (all or nothing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio.to_thread
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.db.repositories import bump_dataset, dataset_versions, lock_dataset, policy_version, upsert_rows
from api.features.common import Schema
from api.imports import ImportContext
from planner.reference import london

ANALYZE_AFTER_ROWS = 1000


class ImportReport(Schema):
    received: int
    inserted: int
    updated: int
    unchanged: int
    version: int  # the dataset's version after the import (unchanged if nothing changed)


async def import_context(conn: AsyncConnection) -> ImportContext:
    found = await policy_version(conn, None)
    assert found is not None, "the database has no policy (migrations seed one)"
    return ImportContext.build(london(), found[1])


async def run_import(
    conn: AsyncConnection,
    data: bytes,
    parse: Callable[[bytes, ImportContext], list[Any]],
    to_values: Callable[[Any], dict[str, Any]],
    table: Any,
    key: str,
    fields: tuple[str, ...],
    dataset: str,
) -> ImportReport:
    ctx = await import_context(conn)
    await conn.rollback()  # release the read snapshot while parsing (SQLite writers wait on readers)
    items = await anyio.to_thread.run_sync(parse, data, ctx)
    rows = [to_values(i) for i in items]
    async with conn.begin():
        await lock_dataset(conn, dataset)  # imports of one dataset run one after another (serializable)
        counts = await upsert_rows(conn, table, key, fields, rows)
        if counts.inserted or counts.updated:
            version = await bump_dataset(conn, dataset)
        else:
            version = (await dataset_versions(conn))[dataset]
    if conn.dialect.name == "postgresql" and counts.inserted + counts.updated >= ANALYZE_AFTER_ROWS:
        # fresh planner statistics after a bulk load, or PostgreSQL sorts instead of using the indexes
        await conn.execute(text(f"ANALYZE {table.name}"))
        await conn.commit()
    return ImportReport(
        received=len(rows),
        inserted=counts.inserted,
        updated=counts.updated,
        unchanged=counts.unchanged,
        version=version,
    )
