"""Plans: submit a plan job (202 + job URL), poll it, cancel it, and read its results.

Analysts see aggregates only (summary, per-event coverage counts, per-unit and per-BCU days,
shortfalls); named assignments and rosters are for planners and schedulers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import Body, PathParameter, QueryParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import allow, principal
from api.db.models import (
    Job,
    OfficerRow,
    PlanAssignment,
    PlanBcuDay,
    PlanEventKpi,
    PlanShortfall,
    PlanUnitDay,
)
from api.db.repositories import page
from api.features.common import (
    LimitParam,
    OffsetParam,
    csv_response,
    page_bounds,
    page_info,
    problem_responses,
)
from api.features.plans import services
from api.features.plans.schemas import (
    BcuDayPage,
    EventCoverage,
    EventKpiPage,
    Inputs,
    JobOut,
    JobPage,
    JobStatus,
    PlanRequest,
    PlanResult,
    Roster,
    ShortfallPage,
    StageOut,
    UnitDayPage,
)
from api.problems import ProblemError
from api.settings import Settings
from planner.domain import Priority
from planner.evaluate import BcuDayKPI, EventKPI, PlanSummary, UnitDayKPI

RUN = allow("planner", "scheduler")
READ = allow("planner", "scheduler", "analyst")
NAMED = allow("planner", "scheduler")

JobId = Annotated[str, PathParameter(description="The plan job's id (from POST /plans)")]
FromDay = Annotated[dt.date | None, QueryParameter(name="from", description="First day (inclusive)")]
ToDay = Annotated[dt.date | None, QueryParameter(name="to", description="Last day (inclusive)")]
Limit = Annotated[int | None, LimitParam]
Offset = Annotated[int | None, OffsetParam]

_event_kpi = msgspec.json.Decoder(EventKPI)
_unit_kpi = msgspec.json.Decoder(UnitDayKPI)
_bcu_kpi = msgspec.json.Decoder(BcuDayKPI)
CSV_EXPORT = {200: None}


def _fields(struct: type) -> tuple[str, ...]:
    return struct.__struct_fields__  # type: ignore[attr-defined, no-any-return]


def _rows_of(structs: list[Any], fields: tuple[str, ...]) -> list[list[Any]]:
    return [[getattr(s, f) for f in fields] for s in structs]


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
        conn: NamedDependency[AsyncConnection],
        data: Annotated[PlanRequest, Body(title="Plan request")],
    ) -> Response[JobOut]:
        """Queues a plan for the date range; answers 202 with the job and its URL in `Location`."""
        job = await services.submit(conn, data, principal(request).key_id)
        return Response(job, status_code=202, headers={"Location": f"/plans/{job.id}"})

    @get("/", operation_id="listPlans", summary="List plan jobs", guards=[READ])
    async def list_jobs(
        self,
        conn: NamedDependency[AsyncConnection],
        settings: NamedDependency[Settings],
        status: Annotated[JobStatus | None, QueryParameter(name="status")] = None,
        limit: Limit = None,
        offset: Offset = None,
    ) -> JobPage:
        """Plan jobs, newest first."""
        limit, offset = page_bounds(settings, limit, offset)
        query = select(Job).order_by(Job.created_at.desc(), Job.id)
        if status:
            query = query.where(Job.status == status)
        rows, total = await page(conn, query, limit, offset)
        return JobPage(items=[services.job_out(r) for r in rows], page=page_info(total, limit, offset))

    @get("/{job_id:str}", operation_id="getPlanJob", summary="Job status and progress", guards=[READ])
    async def get_job(self, conn: NamedDependency[AsyncConnection], job_id: JobId) -> JobOut:
        """Status, stage, percent, best objective, bound and gap; links to the results once done."""
        return await services.get_job(conn, job_id)

    @delete(
        "/{job_id:str}",
        operation_id="cancelPlanJob",
        summary="Cancel a plan job",
        guards=[RUN],
        status_code=202,
        responses=problem_responses(409),
    )
    async def cancel(self, conn: NamedDependency[AsyncConnection], job_id: JobId) -> JobOut:
        """Cancels a queued job at once; a running job stops within 2 s (poll it to see `cancelled`)."""
        return await services.cancel(conn, job_id)

    # ---------------------------------------------------------------- results

    @get(
        "/{job_id:str}/summary",
        operation_id="getPlanSummary",
        summary="Plan summary and inputs",
        guards=[READ],
        responses=problem_responses(409),
    )
    async def summary(self, conn: NamedDependency[AsyncConnection], job_id: JobId) -> PlanResult:
        """Headline KPIs, solve stages, and the input versions and hash the plan came from."""
        row = await services.load_plan(conn, job_id)
        summary = (
            msgspec.json.decode(row.summary, type=PlanSummary) if row.summary not in ("", "{}") else None
        )
        return PlanResult(
            job_id=row.job_id,
            start=row.start,
            end=row.end,
            method=row.method,
            created_at=row.created_at,
            inputs=Inputs(
                input_hash=row.input_hash,
                calendar_version=row.calendar_version,
                officers_version=row.officers_version,
                policy_version=row.policy_version,
            ),
            assignments=row.assignments,
            shortfalls=row.shortfalls,
            solve_seconds=row.solve_seconds,
            summary=summary,
            stages=msgspec.json.decode(row.stages, type=list[StageOut]),
        )

    def _event_query(
        self,
        job_id: str,
        start: dt.date | None,
        end: dt.date | None,
        borough: str | None,
        priority: str | None,
        short_only: bool,
    ) -> Any:
        query = (
            select(PlanEventKpi.data)
            .where(PlanEventKpi.plan_id == job_id)
            .order_by(PlanEventKpi.day, PlanEventKpi.event_id, PlanEventKpi.tour_index)
        )
        query = services.day_bounds(query, PlanEventKpi.day, start, end)
        if borough:
            query = query.where(PlanEventKpi.borough == borough)
        if priority:
            query = query.where(PlanEventKpi.priority == priority)
        if short_only:
            query = query.where(PlanEventKpi.short > 0)
        return query

    @get(
        "/{job_id:str}/events",
        operation_id="listPlanEventCoverage",
        summary="Per-event coverage",
        guards=[READ],
        responses=problem_responses(409),
    )
    async def events(
        self,
        conn: NamedDependency[AsyncConnection],
        settings: NamedDependency[Settings],
        job_id: JobId,
        start: FromDay = None,
        end: ToDay = None,
        borough: Annotated[str | None, QueryParameter(name="borough")] = None,
        priority: Annotated[Priority | None, QueryParameter(name="priority")] = None,
        short_only: Annotated[
            bool, QueryParameter(name="short_only", description="Only tours left short")
        ] = False,
        limit: Limit = None,
        offset: Offset = None,
    ) -> EventKpiPage:
        """One row per event tour: officers demanded, covered and short, rest days called in, cost."""
        await services.load_plan(conn, job_id)
        limit, offset = page_bounds(settings, limit, offset)
        rows, total = await page(
            conn, self._event_query(job_id, start, end, borough, priority, short_only), limit, offset
        )
        return EventKpiPage(
            items=[_event_kpi.decode(r.data) for r in rows], page=page_info(total, limit, offset)
        )

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
        conn: NamedDependency[AsyncConnection],
        job_id: JobId,
        start: FromDay = None,
        end: ToDay = None,
        borough: Annotated[str | None, QueryParameter(name="borough")] = None,
        priority: Annotated[Priority | None, QueryParameter(name="priority")] = None,
        short_only: Annotated[bool, QueryParameter(name="short_only")] = False,
    ) -> Response[bytes]:
        """The coverage table as CSV, one line per event tour."""
        await services.load_plan(conn, job_id)
        rows = await conn.execute(self._event_query(job_id, start, end, borough, priority, short_only))
        fields = _fields(EventKPI)
        return csv_response(
            fields, _rows_of([_event_kpi.decode(r.data) for r in rows], fields), f"plan-{job_id}-events.csv"
        )

    @get(
        "/{job_id:str}/events/{event_id:str}",
        operation_id="getPlanEventCoverage",
        summary="One event's coverage with named officers",
        guards=[NAMED],
        responses=problem_responses(409),
    )
    async def event_detail(
        self,
        conn: NamedDependency[AsyncConnection],
        job_id: JobId,
        event_id: Annotated[str, PathParameter(description="External id")],
    ) -> EventCoverage:
        """Coverage per tour, every named assignment and every shortfall (with its reasons) for one event."""
        await services.load_plan(conn, job_id)
        tours = await conn.execute(
            select(PlanEventKpi.data)
            .where(PlanEventKpi.plan_id == job_id, PlanEventKpi.event_id == event_id)
            .order_by(PlanEventKpi.tour_index)
        )
        assignments = await conn.execute(
            services.assignment_query(job_id)
            .where(PlanAssignment.event_id == event_id)
            .order_by(
                PlanAssignment.tour_index,
                PlanAssignment.unit_id,
                PlanAssignment.slot,
                PlanAssignment.service_number,
            )
        )
        shortfalls = await conn.execute(
            services.shortfall_query(job_id)
            .where(PlanShortfall.event_id == event_id)
            .order_by(PlanShortfall.tour_index, PlanShortfall.role)
        )
        tour_rows = [_event_kpi.decode(r.data) for r in tours]
        named = [services.named(r) for r in assignments]
        if not tour_rows and not named:
            raise ProblemError(404, f"Event {event_id!r} is not in this plan.")
        return EventCoverage(
            event_id=event_id,
            tours=tour_rows,
            assignments=named,
            shortfalls=[services.shortfall_out(r) for r in shortfalls],
        )

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
        conn: NamedDependency[AsyncConnection],
        job_id: JobId,
        start: FromDay = None,
        end: ToDay = None,
        source: Annotated[
            str | None, QueryParameter(name="source", description="Borough or central unit")
        ] = None,
    ) -> Response[bytes]:
        """Who works where and when: one line per officer per event tour."""
        await services.load_plan(conn, job_id)
        query = services.day_bounds(services.assignment_query(job_id), PlanAssignment.day, start, end)
        if source:
            query = query.where(PlanAssignment.source == source)
        rows = await conn.execute(
            query.order_by(
                PlanAssignment.day, PlanAssignment.event_id, PlanAssignment.unit_id, PlanAssignment.slot
            )
        )
        header = (
            "service_number",
            "name",
            "event_id",
            "tour_index",
            "day",
            "role",
            "slot",
            "unit_id",
            "source",
            "start",
            "end",
            "rest_day_cancelled",
        )
        return csv_response(header, (tuple(r) for r in rows), f"plan-{job_id}-assignments.csv")

    def _shortfalls(self, job_id: str, start: dt.date | None, end: dt.date | None) -> Any:
        query = services.shortfall_query(job_id).order_by(
            PlanShortfall.day, PlanShortfall.event_id, PlanShortfall.tour_index, PlanShortfall.role
        )
        return services.day_bounds(query, PlanShortfall.day, start, end)

    @get(
        "/{job_id:str}/shortfalls",
        operation_id="listPlanShortfalls",
        summary="Uncovered demand and why",
        guards=[READ],
        responses=problem_responses(409),
    )
    async def shortfalls(
        self,
        conn: NamedDependency[AsyncConnection],
        settings: NamedDependency[Settings],
        job_id: JobId,
        start: FromDay = None,
        end: ToDay = None,
        limit: Limit = None,
        offset: Offset = None,
    ) -> ShortfallPage:
        """Every event tour role left short, with the limits that caused it."""
        await services.load_plan(conn, job_id)
        limit, offset = page_bounds(settings, limit, offset)
        rows, total = await page(conn, self._shortfalls(job_id, start, end), limit, offset)
        return ShortfallPage(
            items=[services.shortfall_out(r) for r in rows], page=page_info(total, limit, offset)
        )

    @get(
        "/{job_id:str}/shortfalls.csv",
        operation_id="exportPlanShortfalls",
        summary="Shortfalls (CSV)",
        guards=[READ],
        media_type="text/csv",
        responses=problem_responses(409),
    )
    async def shortfalls_csv(
        self, conn: NamedDependency[AsyncConnection], job_id: JobId, start: FromDay = None, end: ToDay = None
    ) -> Response[bytes]:
        """The shortfall table as CSV; reasons are `;`-separated."""
        await services.load_plan(conn, job_id)
        rows = [services.shortfall_out(r) for r in await conn.execute(self._shortfalls(job_id, start, end))]
        fields = ("event_id", "tour_index", "day", "role", "required", "filled", "officers_short", "reasons")
        return csv_response(
            fields,
            ([*(getattr(s, f) for f in fields[:-1]), "; ".join(s.reasons)] for s in rows),
            f"plan-{job_id}-shortfalls.csv",
        )

    def _units(
        self, job_id: str, unit: str | None, bcu: str | None, start: dt.date | None, end: dt.date | None
    ) -> Any:
        query = (
            select(PlanUnitDay.data)
            .where(PlanUnitDay.plan_id == job_id)
            .order_by(PlanUnitDay.day, PlanUnitDay.unit)
        )
        if unit:
            query = query.where(PlanUnitDay.unit == unit)
        if bcu:
            query = query.where(PlanUnitDay.data.contains(f'"bcu":"{bcu}"'))
        return services.day_bounds(query, PlanUnitDay.day, start, end)

    @get(
        "/{job_id:str}/units",
        operation_id="listPlanUnitDays",
        summary="Per borough/unit per day: abstraction, retained investigators vs floor, rest days, cost",
        guards=[READ],
        responses=problem_responses(409),
    )
    async def units(
        self,
        conn: NamedDependency[AsyncConnection],
        settings: NamedDependency[Settings],
        job_id: JobId,
        unit: Annotated[
            str | None, QueryParameter(name="unit", description="Borough ONS code or central unit")
        ] = None,
        bcu: Annotated[str | None, QueryParameter(name="bcu", description="Boroughs of this BCU")] = None,
        start: FromDay = None,
        end: ToDay = None,
        limit: Limit = None,
        offset: Offset = None,
    ) -> UnitDayPage:
        """One row per unit and event day (quiet days are omitted)."""
        await services.load_plan(conn, job_id)
        limit, offset = page_bounds(settings, limit, offset)
        rows, total = await page(conn, self._units(job_id, unit, bcu, start, end), limit, offset)
        return UnitDayPage(
            items=[_unit_kpi.decode(r.data) for r in rows], page=page_info(total, limit, offset)
        )

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
        conn: NamedDependency[AsyncConnection],
        job_id: JobId,
        unit: Annotated[str | None, QueryParameter(name="unit")] = None,
        bcu: Annotated[str | None, QueryParameter(name="bcu")] = None,
        start: FromDay = None,
        end: ToDay = None,
    ) -> Response[bytes]:
        """The per-unit table as CSV."""
        await services.load_plan(conn, job_id)
        rows = await conn.execute(self._units(job_id, unit, bcu, start, end))
        fields = _fields(UnitDayKPI)
        return csv_response(
            fields, _rows_of([_unit_kpi.decode(r.data) for r in rows], fields), f"plan-{job_id}-units.csv"
        )

    def _bcus(self, job_id: str, bcu: str | None, start: dt.date | None, end: dt.date | None) -> Any:
        query = (
            select(PlanBcuDay.data)
            .where(PlanBcuDay.plan_id == job_id)
            .order_by(PlanBcuDay.day, PlanBcuDay.bcu)
        )
        if bcu:
            query = query.where(PlanBcuDay.bcu == bcu)
        return services.day_bounds(query, PlanBcuDay.day, start, end)

    @get(
        "/{job_id:str}/bcus",
        operation_id="listPlanBcuDays",
        summary="Per BCU per day",
        guards=[READ],
        responses=problem_responses(409),
    )
    async def bcus(
        self,
        conn: NamedDependency[AsyncConnection],
        settings: NamedDependency[Settings],
        job_id: JobId,
        bcu: Annotated[str | None, QueryParameter(name="bcu")] = None,
        start: FromDay = None,
        end: ToDay = None,
        limit: Limit = None,
        offset: Offset = None,
    ) -> BcuDayPage:
        """The per-unit figures summed over each BCU's boroughs."""
        await services.load_plan(conn, job_id)
        limit, offset = page_bounds(settings, limit, offset)
        rows, total = await page(conn, self._bcus(job_id, bcu, start, end), limit, offset)
        return BcuDayPage(items=[_bcu_kpi.decode(r.data) for r in rows], page=page_info(total, limit, offset))

    @get(
        "/{job_id:str}/bcus.csv",
        operation_id="exportPlanBcuDays",
        summary="Per BCU per day (CSV)",
        guards=[READ],
        media_type="text/csv",
        responses=problem_responses(409),
    )
    async def bcus_csv(
        self,
        conn: NamedDependency[AsyncConnection],
        job_id: JobId,
        bcu: Annotated[str | None, QueryParameter(name="bcu")] = None,
        start: FromDay = None,
        end: ToDay = None,
    ) -> Response[bytes]:
        """The per-BCU table as CSV."""
        await services.load_plan(conn, job_id)
        rows = await conn.execute(self._bcus(job_id, bcu, start, end))
        fields = _fields(BcuDayKPI)
        return csv_response(
            fields, _rows_of([_bcu_kpi.decode(r.data) for r in rows], fields), f"plan-{job_id}-bcus.csv"
        )

    async def _roster(
        self, conn: NamedDependency[AsyncConnection], job_id: str, service_number: str
    ) -> Roster:
        await services.load_plan(conn, job_id)
        officer = (
            await conn.execute(
                select(OfficerRow.name, OfficerRow.unit).where(OfficerRow.service_number == service_number)
            )
        ).first()
        rows = await conn.execute(
            services.assignment_query(job_id)
            .where(PlanAssignment.service_number == service_number)
            .order_by(PlanAssignment.start)
        )
        assignments = [services.named(r) for r in rows]
        if officer is None and not assignments:
            raise ProblemError(404, f"No officer {service_number!r}.")
        return Roster(
            service_number=service_number,
            name=officer.name if officer else "",
            unit=officer.unit if officer else assignments[0].source,
            assignments=assignments,
        )

    @get(
        "/{job_id:str}/officers/{service_number:str}",
        operation_id="getPlanOfficerRoster",
        summary="One officer's event duties in this plan",
        guards=[NAMED],
        responses=problem_responses(409),
    )
    async def roster(
        self,
        conn: NamedDependency[AsyncConnection],
        job_id: JobId,
        service_number: Annotated[str, PathParameter(description="Service number")],
    ) -> Roster:
        """The officer's event tours in date order (empty if the plan leaves them on core duty)."""
        return await self._roster(conn, job_id, service_number)

    @get(
        "/{job_id:str}/officers/{service_number:str}/roster.csv",
        operation_id="exportPlanOfficerRoster",
        summary="One officer's event duties (CSV)",
        guards=[NAMED],
        media_type="text/csv",
        responses=problem_responses(409),
    )
    async def roster_csv(
        self,
        conn: NamedDependency[AsyncConnection],
        job_id: JobId,
        service_number: Annotated[str, PathParameter(description="Service number")],
    ) -> Response[bytes]:
        """The roster as CSV."""
        roster = await self._roster(conn, job_id, service_number)
        fields = (
            "service_number",
            "name",
            "event_id",
            "tour_index",
            "day",
            "role",
            "slot",
            "unit_id",
            "source",
            "start",
            "end",
            "rest_day_cancelled",
        )
        return csv_response(
            fields, _rows_of(roster.assignments, fields), f"plan-{job_id}-officer-{service_number}.csv"
        )
