"""Events: bulk calendar import (CSV, JSON, iCalendar) upserting by external id; single create, update
and cancel (a cancelled event stays in history); list and filter."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import Body, PathParameter, QueryParameter, RawBody
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import allow
from api.db.engine import utcnow
from api.db.models import EventRow
from api.db.repositories import EVENT_FIELDS, bump_dataset, event_values, page
from api.features.common import (
    LimitParam,
    OffsetParam,
    PageInfo,
    Schema,
    page_bounds,
    page_info,
    problem_responses,
)
from api.features.imports_common import ImportReport, import_context, run_import
from api.imports import _check_event, parse_events_csv, parse_events_ics, parse_events_json
from api.openapi import raw_body_operation
from api.problems import ProblemError, RowError
from api.settings import Settings
from planner.domain import Event, EventKind, EventStatus, FootballGrade, Priority, RoleDemand

WRITE = allow("planner", "scheduler")
READ = allow("planner", "scheduler", "analyst")

CSV_EXAMPLE = (
    "external_id,name,kind,borough,start,end,priority,demand,grade,venue,notified,status\n"
    "FA-2027-0412,Arsenal v Spurs,football,E09000019,2027-04-12T16:30,2027-04-12T18:30,high,"
    "serial_l2:6;bronze:2;silver:1,C-IR,Emirates Stadium,2027-02-01,planned\n"
)
ICS_NOTE = (
    "VEVENT fields: UID (external id), SUMMARY, DTSTART/DTEND (or DURATION; zoned times are converted to "
    "London local time), CATEGORIES (event kind), LOCATION (venue), PRIORITY (1-2 critical, 3-4 high, 5-6 "
    "normal, 7-9 low) or X-MET-PRIORITY, STATUS:CANCELLED, and X-MET-BOROUGH (ONS code or name), "
    "X-MET-DEMAND (`role:count;...`), X-MET-GRADE, X-MET-NOTIFIED (date)."
)


class DemandIn(Schema):
    role: str
    count: int


class EventFields(Schema):
    name: str
    kind: EventKind
    borough: str
    start: dt.datetime
    end: dt.datetime
    priority: Priority = "normal"
    demand: list[DemandIn] = []
    grade: FootballGrade | None = None
    venue: str = ""
    notified: dt.date | None = None
    status: EventStatus = "planned"


class EventCreate(EventFields, kw_only=True):
    external_id: str


class EventOut(EventCreate, kw_only=True):
    created_at: dt.datetime
    updated_at: dt.datetime


class EventPage(Schema):
    items: list[EventOut]
    page: PageInfo


_pairs = msgspec.json.Decoder(list[tuple[str, int]])


def _event_out(row: EventRow) -> EventOut:
    """Straight from the row (the list path builds 100 of these per page)."""
    return EventOut(
        external_id=row.external_id,
        name=row.name,
        kind=row.kind,  # type: ignore[arg-type]
        borough=row.borough,
        start=row.start,
        end=row.end,
        priority=row.priority,  # type: ignore[arg-type]
        demand=[DemandIn(role=r, count=c) for r, c in _pairs.decode(row.demand)],
        grade=row.grade,  # type: ignore[arg-type]
        venue=row.venue,
        notified=row.notified,
        status=row.status,  # type: ignore[arg-type]
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _to_event(external_id: str, data: EventFields) -> Event:
    fields = msgspec.structs.asdict(data)
    fields.pop("external_id", None)
    fields["demand"] = tuple(RoleDemand(role=d.role, count=d.count) for d in data.demand)
    return Event(external_id=external_id, **fields)


async def _checked(conn: NamedDependency[AsyncConnection], event: Event) -> Event:
    ctx = await import_context(conn)
    if event.start.tzinfo is not None or event.end.tzinfo is not None:
        raise ProblemError(422, "start and end are London local times without an offset.")
    problems = _check_event(event, ctx)
    if problems:
        raise ProblemError(
            422,
            "The event is not valid.",
            kind="invalid-event",
            errors=[RowError(line=1, reason=r, key=event.external_id, field=f) for f, r in problems],
        )
    return event


async def _load(conn: NamedDependency[AsyncConnection], external_id: str) -> EventRow:
    row = (await conn.execute(select(EventRow).where(EventRow.external_id == external_id))).first()
    if row is None:
        raise ProblemError(404, f"No event {external_id!r}.")
    return row  # type: ignore[return-value]


IdParam = PathParameter(description="The event's external id (as in the calendar it came from)")


class EventController(Controller):
    path = "/events"
    tags = ["events"]
    responses = problem_responses(400, 401, 403)

    async def _import(self, conn: NamedDependency[AsyncConnection], data: bytes, parse) -> ImportReport:  # type: ignore[no-untyped-def]
        return await run_import(
            conn, data, parse, event_values, EventRow.__table__, "external_id", EVENT_FIELDS, "calendar"
        )

    @post(
        "/import/csv",
        operation_id="importEventsCsv",
        summary="Import a calendar from CSV",
        guards=[WRITE],
        status_code=200,
        responses=problem_responses(413, 422),
        operation_class=raw_body_operation("text/csv", f"Header row required:\n\n```\n{CSV_EXAMPLE}```"),
    )
    async def import_csv(self, conn: NamedDependency[AsyncConnection], body: RawBody) -> ImportReport:
        """Upserts by external id; re-importing the same file changes nothing. Any bad row rejects the
        whole file with 422 listing every bad row."""
        return await self._import(conn, body, parse_events_csv)

    @post(
        "/import/json",
        operation_id="importEventsJson",
        summary="Import a calendar from JSON",
        guards=[WRITE],
        status_code=200,
        responses=problem_responses(413, 422),
        operation_class=raw_body_operation("application/json", "A JSON array of planner Event objects."),
    )
    async def import_json(self, conn: NamedDependency[AsyncConnection], body: RawBody) -> ImportReport:
        """Upserts by external id; all or nothing, like the CSV import."""
        return await self._import(conn, body, parse_events_json)

    @post(
        "/import/ics",
        operation_id="importEventsIcs",
        summary="Import a calendar from iCalendar",
        guards=[WRITE],
        status_code=200,
        responses=problem_responses(413, 422),
        operation_class=raw_body_operation("text/calendar", ICS_NOTE),
    )
    async def import_ics(self, conn: NamedDependency[AsyncConnection], body: RawBody) -> ImportReport:
        """Upserts each VEVENT by UID; all or nothing, like the CSV import."""
        return await self._import(conn, body, parse_events_ics)

    @get("/", operation_id="listEvents", summary="List events", guards=[READ])
    async def list_events(
        self,
        conn: NamedDependency[AsyncConnection],
        settings: NamedDependency[Settings],
        start: Annotated[
            dt.date | None, QueryParameter(name="from", description="Events ending on or after")
        ] = None,
        end: Annotated[
            dt.date | None, QueryParameter(name="to", description="Events starting on or before")
        ] = None,
        borough: Annotated[str | None, QueryParameter(name="borough", description="ONS code")] = None,
        kind: Annotated[EventKind | None, QueryParameter(name="kind")] = None,
        priority: Annotated[Priority | None, QueryParameter(name="priority")] = None,
        status: Annotated[EventStatus | None, QueryParameter(name="status")] = None,
        limit: Annotated[int | None, LimitParam] = None,
        offset: Annotated[int | None, OffsetParam] = None,
    ) -> EventPage:
        """Events ordered by start time, filtered by date range, borough, kind, priority and status."""
        limit, offset = page_bounds(settings, limit, offset)
        query = select(EventRow).order_by(EventRow.start, EventRow.external_id)
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
        return EventPage(items=[_event_out(r) for r in rows], page=page_info(total, limit, offset))

    @post(
        "/",
        operation_id="createEvent",
        summary="Create one event",
        guards=[WRITE],
        status_code=201,
        responses=problem_responses(409, 422),
    )
    async def create_event(
        self, conn: NamedDependency[AsyncConnection], data: Annotated[EventCreate, Body(title="Event")]
    ) -> EventOut:
        """Adds a (typically short-notice) event. 409 if the external id exists."""
        event = await _checked(conn, _to_event(data.external_id, data))
        await conn.rollback()
        async with conn.begin():
            if (
                await conn.execute(
                    select(EventRow.external_id).where(EventRow.external_id == event.external_id)
                )
            ).first():
                raise ProblemError(409, f"Event {event.external_id!r} exists; use PUT to change it.")
            now = utcnow()
            await conn.execute(insert(EventRow).values(**event_values(event), created_at=now, updated_at=now))
            await bump_dataset(conn, "calendar")
        return _event_out(await _load(conn, event.external_id))

    @get(
        "/{external_id:str}",
        operation_id="getEvent",
        summary="Read one event",
        guards=[READ],
        responses=problem_responses(404),
    )
    async def get_event(
        self, conn: NamedDependency[AsyncConnection], external_id: Annotated[str, IdParam]
    ) -> EventOut:
        """One event, cancelled or not."""
        return _event_out(await _load(conn, external_id))

    @put(
        "/{external_id:str}",
        operation_id="updateEvent",
        summary="Replace one event",
        guards=[WRITE],
        responses=problem_responses(404, 422),
    )
    async def update_event(
        self,
        conn: NamedDependency[AsyncConnection],
        external_id: Annotated[str, IdParam],
        data: Annotated[EventFields, Body(title="Event fields")],
    ) -> EventOut:
        """Replaces the event's fields; the calendar version moves on only if something changed."""
        event = await _checked(conn, _to_event(external_id, data))
        await conn.rollback()
        async with conn.begin():
            row = await _load(conn, external_id)
            values = event_values(event)
            if tuple(getattr(row, f) for f in EVENT_FIELDS) != tuple(values[f] for f in EVENT_FIELDS):
                await conn.execute(
                    update(EventRow)
                    .where(EventRow.external_id == external_id)
                    .values(**values, updated_at=utcnow())
                )
                await bump_dataset(conn, "calendar")
        return _event_out(await _load(conn, external_id))

    @delete(
        "/{external_id:str}",
        operation_id="cancelEvent",
        summary="Cancel one event",
        guards=[WRITE],
        status_code=200,
        responses=problem_responses(404),
    )
    async def cancel_event(
        self, conn: NamedDependency[AsyncConnection], external_id: Annotated[str, IdParam]
    ) -> EventOut:
        """Marks the event cancelled (it stays in history and in earlier plans); idempotent."""
        async with conn.begin():
            row = await _load(conn, external_id)
            if row.status != "cancelled":
                await conn.execute(
                    update(EventRow)
                    .where(EventRow.external_id == external_id)
                    .values(status="cancelled", updated_at=utcnow())
                )
                await bump_dataset(conn, "calendar")
        return _event_out(await _load(conn, external_id))
