"""Events: bulk calendar import (CSV, JSON, iCalendar) upserting by external id; single create, update
and cancel (a cancelled event stays in history); list and filter. Thin: the rules live in services."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import Body, QueryParameter, RawBody
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import allow
from api.db.engine import Reader
from api.features.common import (
    EventIdPath,
    LimitParam,
    OffsetParam,
    event_id,
    page_bounds,
    problem_responses,
)
from api.features.events import services
from api.features.events.schemas import EventCreate, EventFields, EventOut, EventPage
from api.features.imports_common import ImportReport
from api.imports import parse_events_csv, parse_events_ics, parse_events_json
from api.openapi import raw_body_operation
from api.settings import Settings
from planner.domain import EventKind, EventStatus, Priority

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


class EventController(Controller):
    path = "/events"
    tags = ["events"]
    responses = problem_responses(400, 401, 403)

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
        return await services.import_calendar(conn, body, parse_events_csv)

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
        return await services.import_calendar(conn, body, parse_events_json)

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
        return await services.import_calendar(conn, body, parse_events_ics)

    @get("/", operation_id="listEvents", summary="List events", guards=[READ])
    async def list_events(
        self,
        reader: NamedDependency[Reader],
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
        return await services.list_events(
            reader,
            start=start,
            end=end,
            borough=borough,
            kind=kind,
            priority=priority,
            status=status,
            limit=limit,
            offset=offset,
        )

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
        return await services.create(conn, data.external_id, data)

    @get(
        "/{external_id:path}",
        operation_id="getEvent",
        summary="Read one event",
        guards=[READ],
        responses=problem_responses(404),
    )
    async def get_event(
        self, request: Request[Any, Any, Any], reader: NamedDependency[Reader], external_id: EventIdPath
    ) -> EventOut:
        """One event, cancelled or not."""
        return services.event_out(await services.load(reader, event_id(request, external_id)))

    @put(
        "/{external_id:path}",
        operation_id="updateEvent",
        summary="Replace one event",
        guards=[WRITE],
        responses=problem_responses(404, 422),
    )
    async def update_event(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[AsyncConnection],
        external_id: EventIdPath,
        data: Annotated[EventFields, Body(title="Event fields")],
    ) -> EventOut:
        """Replaces the event's fields; the calendar version moves on only if something changed."""
        return await services.replace(conn, event_id(request, external_id), data)

    @delete(
        "/{external_id:path}",
        operation_id="cancelEvent",
        summary="Cancel one event",
        guards=[WRITE],
        status_code=200,
        responses=problem_responses(404),
    )
    async def cancel_event(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[AsyncConnection],
        external_id: EventIdPath,
    ) -> EventOut:
        """Marks the event cancelled (it stays in history and in earlier plans); idempotent."""
        return await services.cancel(conn, event_id(request, external_id))
