"""Plans: submit a plan job (202 + job URL), poll it, cancel it, and read its results.

Analysts see aggregates only (summary, per-event coverage counts, per-unit and per-BCU days,
shortfalls); named assignments and rosters are for planners and schedulers. Thin: jobs live in
`services`, stored-plan reads in `results`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import Body, PathParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import allow, principal
from api.db.engine import Reader
from api.features.common import (
    EventIdPath,
    LimitParam,
    OffsetParam,
    csv_response,
    event_id,
    page_bounds,
    problem_responses,
)
from api.features.plans import results, services
from api.features.plans.schemas import (
    BcuDayPage,
    EventCoverage,
    EventKpiPage,
    JobOut,
    JobPage,
    JobStatus,
    PlanRequest,
    PlanResult,
    Roster,
    ShortfallPage,
    UnitDayPage,
)
from api.settings import Settings
from planner.domain import Priority

RUN = allow("planner", "scheduler")
READ = allow("planner", "scheduler", "analyst")
NAMED = allow("planner", "scheduler")

JobId = Annotated[str, PathParameter(description="The plan job's id (from POST /plans)")]
ServiceNumber = Annotated[str, PathParameter(description="Service number")]
FromDay = Annotated[dt.date | None, QueryParameter(name="from", description="First day (inclusive)")]
ToDay = Annotated[dt.date | None, QueryParameter(name="to", description="Last day (inclusive)")]
Borough = Annotated[str | None, QueryParameter(name="borough", description="ONS code")]
EventPriority = Annotated[Priority | None, QueryParameter(name="priority")]
ShortOnly = Annotated[bool, QueryParameter(name="short_only", description="Only tours left short")]
Unit = Annotated[str | None, QueryParameter(name="unit", description="Borough ONS code or central unit")]
Bcu = Annotated[str | None, QueryParameter(name="bcu", description="BCU code")]
Limit = Annotated[int | None, LimitParam]
Offset = Annotated[int | None, OffsetParam]
Conn = NamedDependency[AsyncConnection]
Read = NamedDependency[Reader]


def _csv(table: results.Table) -> Response[bytes]:
    return csv_response(table.header, table.rows, table.filename)


class PlanController(Controller):
    path = "/plans"
    tags = ["plans"]
    responses = problem_responses(400, 401, 403, 404)

    # ---------------------------------------------------------------- jobs

    @post(
        "/",
        operation_id="submitPlan",
        summary="Submit a plan job",
        guards=[RUN],
        status_code=202,
        responses=problem_responses(422),
    )
    async def submit(
        self,
        request: Request[Any, Any, Any],
        conn: Conn,
        data: Annotated[PlanRequest, Body(title="Plan request")],
    ) -> Response[JobOut]:
        """Queues a plan for the date range; answers 202 with the job and its URL in `Location`."""
        job = await services.submit(conn, data, principal(request).key_id)
        return Response(job, status_code=202, headers={"Location": f"/plans/{job.id}"})

    @get("/", operation_id="listPlans", summary="List plan jobs", guards=[READ])
    async def list_jobs(
        self,
        reader: Read,
        settings: NamedDependency[Settings],
        status: Annotated[JobStatus | None, QueryParameter(name="status")] = None,
        limit: Limit = None,
        offset: Offset = None,
    ) -> JobPage:
        """Plan jobs, newest first."""
        limit, offset = page_bounds(settings, limit, offset)
        return await services.list_jobs(reader, status, limit, offset)

    @get("/{job_id:str}", operation_id="getPlanJob", summary="Job status and progress", guards=[READ])
    async def get_job(self, reader: Read, job_id: JobId) -> JobOut:
        """Status, stage, percent, objective, bound and gap (while running, the stage's; once
        succeeded, the delivered plan's), and links to the results once done."""
        return await services.get_job(reader, job_id)

    @delete(
        "/{job_id:str}",
        operation_id="cancelPlanJob",
        summary="Cancel a plan job",
        guards=[RUN],
        status_code=202,
        responses=problem_responses(409),
    )
    async def cancel(self, request: Request[Any, Any, Any], conn: Conn, job_id: JobId) -> JobOut:
        """Cancels a queued job at once; a running job stops within 2 s (poll it to see `cancelled`).
        The key that submitted the job or a planner may cancel it (403 otherwise)."""
        return await services.cancel(conn, job_id, principal(request))

    # ---------------------------------------------------------------- results

    @get(
        "/{job_id:str}/summary",
        operation_id="getPlanSummary",
        summary="Plan summary and inputs",
        guards=[READ],
        responses=problem_responses(409),
    )
    async def summary(self, reader: Read, job_id: JobId) -> PlanResult:
        """Headline KPIs, the delivered plan's cost, lower bound and gap (`quality`), the solve's stage
        statistics, and the input versions and hash the plan came from."""
        return await results.summary(reader, job_id)

    @get(
        "/{job_id:str}/events",
        operation_id="listPlanEventCoverage",
        summary="Per-event coverage",
        guards=[READ],
        responses=problem_responses(409),
    )
    async def events(
        self,
        reader: Read,
        settings: NamedDependency[Settings],
        job_id: JobId,
        start: FromDay = None,
        end: ToDay = None,
        borough: Borough = None,
        priority: EventPriority = None,
        short_only: ShortOnly = False,
        limit: Limit = None,
        offset: Offset = None,
    ) -> EventKpiPage:
        """One row per event tour: officers demanded, covered and short, rest days called in, cost."""
        limit, offset = page_bounds(settings, limit, offset)
        f = results.EventFilter(start, end, borough, priority, short_only)
        return await results.event_page(reader, job_id, f, limit, offset)

    @get(
        "/{job_id:str}/events.csv",
        operation_id="exportPlanEventCoverage",
        summary="Per-event coverage (CSV)",
        guards=[READ],
        media_type="text/csv",
        responses=problem_responses(409),
    )
    async def events_csv(
        self,
        conn: Conn,
        job_id: JobId,
        start: FromDay = None,
        end: ToDay = None,
        borough: Borough = None,
        priority: EventPriority = None,
        short_only: ShortOnly = False,
    ) -> Response[bytes]:
        """The coverage table as CSV, one line per event tour."""
        f = results.EventFilter(start, end, borough, priority, short_only)
        return _csv(await results.event_table(conn, job_id, f))

    @get(
        "/{job_id:str}/events/{event_path:path}",
        operation_id="getPlanEventCoverage",
        summary="One event's coverage with named officers",
        guards=[NAMED],
        responses=problem_responses(409),
    )
    async def event_detail(
        self, request: Request[Any, Any, Any], reader: Read, job_id: JobId, event_path: EventIdPath
    ) -> EventCoverage:
        """Coverage per tour, every named assignment and every shortfall (with its reasons) for one event."""
        return await results.event_detail(reader, job_id, event_id(request, event_path))

    @get(
        "/{job_id:str}/assignments.csv",
        operation_id="exportPlanAssignments",
        summary="Every named assignment (CSV)",
        guards=[NAMED],
        media_type="text/csv",
        responses=problem_responses(409),
    )
    async def assignments_csv(
        self,
        conn: Conn,
        job_id: JobId,
        start: FromDay = None,
        end: ToDay = None,
        source: Annotated[
            str | None, QueryParameter(name="source", description="Borough or central unit")
        ] = None,
    ) -> Response[bytes]:
        """Who works where and when: one line per officer per event tour."""
        return _csv(await results.assignment_table(conn, job_id, start, end, source))

    @get(
        "/{job_id:str}/shortfalls",
        operation_id="listPlanShortfalls",
        summary="Uncovered demand and why",
        guards=[READ],
        responses=problem_responses(409),
    )
    async def shortfalls(
        self,
        reader: Read,
        settings: NamedDependency[Settings],
        job_id: JobId,
        start: FromDay = None,
        end: ToDay = None,
        limit: Limit = None,
        offset: Offset = None,
    ) -> ShortfallPage:
        """Every event tour role left short, with the limits that caused it."""
        limit, offset = page_bounds(settings, limit, offset)
        return await results.shortfall_page(reader, job_id, start, end, limit, offset)

    @get(
        "/{job_id:str}/shortfalls.csv",
        operation_id="exportPlanShortfalls",
        summary="Shortfalls (CSV)",
        guards=[READ],
        media_type="text/csv",
        responses=problem_responses(409),
    )
    async def shortfalls_csv(
        self, conn: Conn, job_id: JobId, start: FromDay = None, end: ToDay = None
    ) -> Response[bytes]:
        """The shortfall table as CSV; reasons are `;`-separated."""
        return _csv(await results.shortfall_table(conn, job_id, start, end))

    @get(
        "/{job_id:str}/units",
        operation_id="listPlanUnitDays",
        summary="Per borough/unit per day: abstraction, retained investigators vs floor, rest days, cost",
        guards=[READ],
        responses=problem_responses(409),
    )
    async def units(
        self,
        reader: Read,
        settings: NamedDependency[Settings],
        job_id: JobId,
        unit: Unit = None,
        bcu: Bcu = None,
        start: FromDay = None,
        end: ToDay = None,
        limit: Limit = None,
        offset: Offset = None,
    ) -> UnitDayPage:
        """One row per unit and event day (quiet days are omitted)."""
        limit, offset = page_bounds(settings, limit, offset)
        return await results.unit_page(reader, job_id, unit, bcu, start, end, limit, offset)

    @get(
        "/{job_id:str}/units.csv",
        operation_id="exportPlanUnitDays",
        summary="Per unit per day (CSV)",
        guards=[READ],
        media_type="text/csv",
        responses=problem_responses(409),
    )
    async def units_csv(
        self,
        conn: Conn,
        job_id: JobId,
        unit: Unit = None,
        bcu: Bcu = None,
        start: FromDay = None,
        end: ToDay = None,
    ) -> Response[bytes]:
        """The per-unit table as CSV."""
        return _csv(await results.unit_table(conn, job_id, unit, bcu, start, end))

    @get(
        "/{job_id:str}/bcus",
        operation_id="listPlanBcuDays",
        summary="Per BCU per day",
        guards=[READ],
        responses=problem_responses(409),
    )
    async def bcus(
        self,
        reader: Read,
        settings: NamedDependency[Settings],
        job_id: JobId,
        bcu: Bcu = None,
        start: FromDay = None,
        end: ToDay = None,
        limit: Limit = None,
        offset: Offset = None,
    ) -> BcuDayPage:
        """The per-unit figures summed over each BCU's boroughs."""
        limit, offset = page_bounds(settings, limit, offset)
        return await results.bcu_page(reader, job_id, bcu, start, end, limit, offset)

    @get(
        "/{job_id:str}/bcus.csv",
        operation_id="exportPlanBcuDays",
        summary="Per BCU per day (CSV)",
        guards=[READ],
        media_type="text/csv",
        responses=problem_responses(409),
    )
    async def bcus_csv(
        self, conn: Conn, job_id: JobId, bcu: Bcu = None, start: FromDay = None, end: ToDay = None
    ) -> Response[bytes]:
        """The per-BCU table as CSV."""
        return _csv(await results.bcu_table(conn, job_id, bcu, start, end))

    @get(
        "/{job_id:str}/officers/{service_number:str}",
        operation_id="getPlanOfficerRoster",
        summary="One officer's event duties in this plan",
        guards=[NAMED],
        responses=problem_responses(409),
    )
    async def roster(self, reader: Read, job_id: JobId, service_number: ServiceNumber) -> Roster:
        """The officer's event tours in date order (empty if the plan leaves them on core duty)."""
        return await results.roster(reader, job_id, service_number)

    @get(
        "/{job_id:str}/officers/{service_number:str}/roster.csv",
        operation_id="exportPlanOfficerRoster",
        summary="One officer's event duties (CSV)",
        guards=[NAMED],
        media_type="text/csv",
        responses=problem_responses(409),
    )
    async def roster_csv(self, conn: Conn, job_id: JobId, service_number: ServiceNumber) -> Response[bytes]:
        """The roster as CSV."""
        return _csv(await results.roster_table(conn, job_id, service_number))
