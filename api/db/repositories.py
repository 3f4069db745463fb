"""Database I/O for the API (async). Services hold the rules; this module only reads and writes rows.

Rows <-> planner.domain conversions live here too, so that the rest of the API speaks domain types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from api.db.compat import decode_lenient
from api.db.engine import Reader, utcnow
from api.db.models import DatasetVersion, EventRow, OfficerRow, PolicyVersion
from planner.domain import DateRange, Event, Officer, Policy, RoleDemand

_json = msgspec.json.Encoder()


def dumps(value: Any) -> str:
    return _json.encode(value).decode()


# --------------------------------------------------------------------------- conversions


def officer_values(o: Officer) -> dict[str, Any]:
    return {
        "service_number": o.service_number,
        "name": o.name,
        "unit": o.unit,
        "rank": o.rank,
        "duty_role": o.duty_role,
        "skills": dumps(list(o.skills)),
        "shift_pattern": o.shift_pattern,
        "pattern_offset": o.pattern_offset,
        "leave": dumps([[r.start.isoformat(), r.end.isoformat()] for r in o.leave]),
    }


OFFICER_FIELDS = tuple(officer_values(Officer(service_number="", unit="", rank="PC", duty_role="central")))


def officer_from_row(row: Any) -> Officer:
    return Officer(
        service_number=row.service_number,
        name=row.name,
        unit=row.unit,
        rank=row.rank,
        duty_role=row.duty_role,
        skills=tuple(msgspec.json.decode(row.skills)),
        shift_pattern=row.shift_pattern,
        pattern_offset=row.pattern_offset,
        leave=tuple(
            DateRange(start=dt.date.fromisoformat(a), end=dt.date.fromisoformat(b))
            for a, b in msgspec.json.decode(row.leave)
        ),
    )


def event_values(e: Event) -> dict[str, Any]:
    return {
        "external_id": e.external_id,
        "name": e.name,
        "kind": e.kind,
        "borough": e.borough,
        "start": e.start,
        "end": e.end,
        "priority": e.priority,
        "demand": dumps([[d.role, d.count] for d in e.demand]),
        "grade": e.grade,
        "venue": e.venue,
        "notified": e.notified,
        "status": e.status,
    }


EVENT_FIELDS = tuple(
    event_values(
        Event(
            external_id="",
            name="",
            kind="other",
            borough="",
            start=dt.datetime(2000, 1, 1),
            end=dt.datetime(2000, 1, 1),
        )
    )
)


def event_from_row(row: Any) -> Event:
    return Event(
        external_id=row.external_id,
        name=row.name,
        kind=row.kind,
        borough=row.borough,
        start=row.start,
        end=row.end,
        priority=row.priority,
        demand=tuple(RoleDemand(role=r, count=c) for r, c in msgspec.json.decode(row.demand)),
        grade=row.grade,
        venue=row.venue,
        notified=row.notified,
        status=row.status,
    )


# --------------------------------------------------------------------------- versions


async def dataset_versions(conn: AsyncConnection) -> dict[str, int]:
    rows = await conn.execute(select(DatasetVersion.name, DatasetVersion.version))
    return {name: version for name, version in rows}


async def lock_dataset(conn: AsyncConnection, name: str) -> None:
    """Serialise the writers of one dataset: the first statement of a write transaction that reads
    rows before deciding what to write (an import's "unchanged", an event's "exists").

    Without it two imports of the same ids each read the rows before the other commits, and a row one
    of them found unchanged keeps the other's value: a state no serial order gives. SQLite: BEGIN
    IMMEDIATE takes the write lock before the first read (Python's sqlite3 module would begin only at
    the first write, leaving the reads outside the transaction). PostgreSQL: the dataset's version
    row FOR UPDATE; every later statement of the transaction (READ COMMITTED) then sees every writer
    that held the lock before."""
    if conn.dialect.name == "sqlite":
        await conn.exec_driver_sql("BEGIN IMMEDIATE")
        return
    await conn.execute(select(DatasetVersion.version).where(DatasetVersion.name == name).with_for_update())


async def bump_dataset(conn: AsyncConnection, name: str) -> int:
    await conn.execute(
        update(DatasetVersion)
        .where(DatasetVersion.name == name)
        .values(version=DatasetVersion.version + 1, updated_at=utcnow())
    )
    return int(
        (await conn.execute(select(DatasetVersion.version).where(DatasetVersion.name == name))).scalar_one()
    )


# --------------------------------------------------------------------------- upserts


class UpsertCounts(msgspec.Struct):
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


async def upsert_rows(
    conn: AsyncConnection,
    table: Any,
    key: str,
    fields: Sequence[str],
    rows: list[dict[str, Any]],
    *,
    chunk: int = 2000,
) -> UpsertCounts:
    """Insert new keys, update changed ones, leave identical rows alone (so re-imports change nothing)."""
    columns = [table.c[f] for f in fields]
    counts = UpsertCounts()
    key_col = table.c[key]
    keys = [r[key] for r in rows]
    existing: dict[str, tuple[Any, ...]] = {}
    for start in range(0, len(keys), 20_000):
        part = keys[start : start + 20_000]
        result = await conn.execute(select(*columns).where(key_col.in_(part)))
        for values in result:
            existing[values[fields.index(key)]] = tuple(values)
    now = utcnow()
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for row in rows:
        current = existing.get(row[key])
        if current is None:
            new.append(row)
        elif current != tuple(row[f] for f in fields):
            changed.append(row)
        else:
            counts.unchanged += 1
    stamp = {"updated_at": now}
    if "created_at" in table.c:
        stamp["created_at"] = now
    for start in range(0, len(new), chunk):
        await conn.execute(insert(table), [{**r, **stamp} for r in new[start : start + chunk]])
    if changed:
        others = [f for f in fields if f != key]
        stmt = (
            update(table)
            .where(key_col == bindparam("_key"))
            .values({f: bindparam(f) for f in others} | {"updated_at": now})
        )
        for start in range(0, len(changed), chunk):
            await conn.execute(
                stmt, [{"_key": r[key], **{f: r[f] for f in others}} for r in changed[start : start + chunk]]
            )
    counts.inserted, counts.updated = len(new), len(changed)
    return counts


# --------------------------------------------------------------------------- queries


async def page(conn: Reader, query: Select[Any], limit: int, offset: int) -> tuple[list[Any], int]:
    """One page of `query` and the number of rows matching it, in one statement: the total rides on
    each row as an uncorrelated scalar subquery (evaluated once by SQLite and PostgreSQL), which saves
    a round trip per list request. A page past the end has no row to carry it, so only then is the
    count asked for on its own."""
    count = _count(query)
    rows = list(
        await conn.execute(
            query.add_columns(count.scalar_subquery().label("page_total")).limit(limit).offset(offset)
        )
    )
    if rows:
        return rows, int(rows[0].page_total)
    return rows, 0 if offset == 0 else int((await conn.execute(count)).scalar_one())


async def keyset_page(
    conn: Reader, query: Select[Any], key: Any, after: str, limit: int
) -> tuple[list[Any], bool]:
    """The `limit` rows of `query` (ordered by `key`) after `after`, and whether more follow. No total:
    counting every matching row on each page would undo what keyset paging is for (a cost that does
    not grow with the table), and the caller has the total from the first page."""
    rows = list(await conn.execute(query.where(key > after).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def _count(query: Select[Any]) -> Select[Any]:
    return select(func.count()).select_from(query.order_by(None).subquery())


async def policy_version(conn: Reader, version: int | None) -> tuple[int, Policy, Any] | None:
    query = select(PolicyVersion)
    query = (
        query.where(PolicyVersion.version == version)
        if version is not None
        else query.order_by(PolicyVersion.version.desc())
    )
    row = (await conn.execute(query.limit(1))).first()
    if row is None:
        return None
    return row.version, decode_lenient(row.body, Policy), row


OFFICER_COLUMNS = [OfficerRow.__table__.c[f] for f in OFFICER_FIELDS]
EVENT_COLUMNS = [EventRow.__table__.c[f] for f in EVENT_FIELDS]
