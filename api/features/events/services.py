"""Event rules: validation against the organisation and policy, upserts, and the calendar version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import msgspec
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from api.db.engine import Reader, utcnow
from api.db.models import EventRow
from api.db.repositories import EVENT_FIELDS, bump_dataset, event_values, lock_dataset, page
from api.features.common import london, page_info, utc
from api.features.events.schemas import DemandIn, EventFields, EventOut, EventPage
from api.features.imports_common import ImportReport, import_context, run_import
from api.imports import ImportContext, _check_event, parse_datetime
from api.problems import ProblemError, RowError
from planner.domain import Event, RoleDemand

_pairs = msgspec.json.Decoder(list[tuple[str, int]])


# The columns event_out reads, in the order it unpacks them: by position, as SQLAlchemy's access to
# a row's fields by name costs three times as much (a list page converts 100 rows).
OUT_COLUMNS = tuple(
    EventRow.__table__.c[name]
    for name in (
        "external_id",
        "name",
        "kind",
        "borough",
        "start",
        "end",
        "priority",
        "demand",
        "grade",
        "venue",
        "notified",
        "status",
        "created_at",
        "updated_at",
    )
)


def event_out(row: Any) -> EventOut:
    """From a row of `OUT_COLUMNS` (and possibly more columns after them)."""
    (
        external_id,
        name,
        kind,
        borough,
        start,
        end,
        priority,
        demand,
        grade,
        venue,
        notified,
        status,
        created_at,
        updated_at,
    ) = row[: len(OUT_COLUMNS)]
    return EventOut(
        external_id=external_id,
        name=name,
        kind=kind,
        borough=borough,
        start=london(start),
        end=london(end),
        priority=priority,
        demand=[DemandIn(role=r, count=c) for r, c in _pairs.decode(demand)],
        grade=grade,
        venue=venue,
        notified=notified,
        status=status,
        created_at=utc(created_at),
        updated_at=utc(updated_at),
    )


def to_event(external_id: str, data: EventFields) -> Event:
    fields = msgspec.structs.asdict(data)
    fields.pop("external_id", None)
    fields["demand"] = tuple(RoleDemand(role=d.role, count=d.count) for d in data.demand)
    # an offset is converted to London local time, as the imports do
    fields["start"], fields["end"] = parse_datetime(data.start), parse_datetime(data.end)
    return Event(external_id=external_id, **fields)


async def import_calendar(
    conn: AsyncConnection, body: bytes, parse: Callable[[bytes, ImportContext], list[Event]]
) -> ImportReport:
    return await run_import(
        conn, body, parse, event_values, EventRow.__table__, "external_id", EVENT_FIELDS, "calendar"
    )


async def checked(conn: AsyncConnection, event: Event) -> Event:
    ctx = await import_context(conn)
    await conn.rollback()
    problems = _check_event(event, ctx)
    if problems:
        raise ProblemError(
            422,
            "The event is not valid.",
            kind="invalid-event",
            errors=[RowError(line=1, reason=r, key=event.external_id, field=f) for f, r in problems],
        )
    return event


async def load(conn: Reader, external_id: str) -> Any:
    row = (await conn.execute(select(*OUT_COLUMNS).where(EventRow.external_id == external_id))).first()
    if row is None:
        raise ProblemError(404, f"No event {external_id!r}.")
    return row


async def list_events(
    conn: Reader,
    *,
    start: dt.date | None,
    end: dt.date | None,
    borough: str | None,
    kind: str | None,
    priority: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> EventPage:
    query = select(*OUT_COLUMNS).order_by(EventRow.start, EventRow.external_id)
    if start:
        query = query.where(EventRow.end >= dt.datetime.combine(start, dt.time()))
    if end:
        query = query.where(EventRow.start < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
    if borough:
        query = query.where(EventRow.borough == borough)
    if kind:
        query = query.where(EventRow.kind == kind)
    if priority:
        query = query.where(EventRow.priority == priority)
    if status:
        query = query.where(EventRow.status == status)
    rows, total = await page(conn, query, limit, offset)
    return EventPage(items=[event_out(r) for r in rows], page=page_info(total, limit, offset))


async def create(conn: AsyncConnection, external_id: str, data: EventFields) -> EventOut:
    event = await checked(conn, to_event(external_id, data))
    async with conn.begin():
        await lock_dataset(conn, "calendar")
        found = await conn.execute(select(EventRow.external_id).where(EventRow.external_id == external_id))
        if found.first():
            raise ProblemError(409, f"Event {external_id!r} exists; use PUT to change it.")
        now = utcnow()
        await conn.execute(insert(EventRow).values(**event_values(event), created_at=now, updated_at=now))
        await bump_dataset(conn, "calendar")
    return event_out(await load(conn, external_id))


async def replace(conn: AsyncConnection, external_id: str, data: EventFields) -> EventOut:
    """The calendar version moves on only if something changed."""
    event = await checked(conn, to_event(external_id, data))
    async with conn.begin():
        await lock_dataset(conn, "calendar")
        row = await load(conn, external_id)
        values = event_values(event)
        if tuple(getattr(row, f) for f in EVENT_FIELDS) != tuple(values[f] for f in EVENT_FIELDS):
            await conn.execute(
                update(EventRow)
                .where(EventRow.external_id == external_id)
                .values(**values, updated_at=utcnow())
            )
            await bump_dataset(conn, "calendar")
    return event_out(await load(conn, external_id))


async def cancel(conn: AsyncConnection, external_id: str) -> EventOut:
    """Marks the event cancelled; it stays in history and in earlier plans. Idempotent."""
    async with conn.begin():
        await lock_dataset(conn, "calendar")
        row = await load(conn, external_id)
        if row.status != "cancelled":
            await conn.execute(
                update(EventRow)
                .where(EventRow.external_id == external_id)
                .values(status="cancelled", updated_at=utcnow())
            )
            await bump_dataset(conn, "calendar")
    return event_out(await load(conn, external_id))
