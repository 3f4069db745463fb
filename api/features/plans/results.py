"""Reading a stored plan: the result pages and CSV tables the plan routes serve.

Every function first checks that the job has a stored plan (409 if it is still running or failed,
404 if there is no such job). Plans are immutable, so these are plain reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.db.engine import Reader
from api.db.models import PlanAssignment, PlanBcuDay, PlanEventKpi, PlanShortfall, PlanUnitDay
from api.db.repositories import page
from api.features.common import page_info, utc
from api.features.plans import services
from api.features.plans.officer_names import NAMES
from api.features.plans.schemas import (
    BcuDayPage,
    EventCoverage,
    EventKpiPage,
    Inputs,
    PlanQualityOut,
    PlanResult,
    Roster,
    ShortfallPage,
    StageOut,
    UnitDayPage,
)
from api.problems import ProblemError
from planner.evaluate import BcuDayKPI, EventKPI, PlanSummary, UnitDayKPI

_event_kpi = msgspec.json.Decoder(EventKPI)
_unit_kpi = msgspec.json.Decoder(UnitDayKPI)
_bcu_kpi = msgspec.json.Decoder(BcuDayKPI)
ASSIGNMENT_COLUMNS = (
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
SHORTFALL_COLUMNS = (
    "event_id",
    "tour_index",
    "day",
    "role",
    "required",
    "filled",
    "officers_short",
    "reasons",
)


@dataclass(frozen=True)
class Table:
    """A CSV export: header, rows and a file name."""

    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    filename: str


@dataclass(frozen=True)
class EventFilter:
    start: dt.date | None = None
    end: dt.date | None = None
    borough: str | None = None
    priority: str | None = None
    short_only: bool = False


def _fields(struct: type) -> tuple[str, ...]:
    return struct.__struct_fields__  # type: ignore[attr-defined, no-any-return]


def _rows_of(structs: list[Any], fields: Sequence[str]) -> list[list[Any]]:
    return [[getattr(s, f) for f in fields] for s in structs]


def _quality_out(stored: str | None) -> PlanQualityOut | None:
    """The stored planner.plan.PlanQuality as the API shows it (null for plans stored without one);
    fields the API does not show are left out, so the planner's record may grow."""
    if not stored:
        return None
    raw = msgspec.json.decode(stored)
    shown = _fields(PlanQualityOut)
    return msgspec.convert({k: v for k, v in raw.items() if k in shown}, PlanQualityOut)


async def summary(conn: Reader, job_id: str) -> PlanResult:
    row = await services.load_plan(conn, job_id)
    kpis = msgspec.json.decode(row.summary, type=PlanSummary) if row.summary not in ("", "{}") else None
    return PlanResult(
        job_id=row.job_id,
        start=row.start,
        end=row.end,
        method=row.method,
        created_at=utc(row.created_at),
        inputs=Inputs(
            input_hash=row.input_hash,
            calendar_version=row.calendar_version,
            officers_version=row.officers_version,
            policy_version=row.policy_version,
        ),
        assignments=row.assignments,
        shortfalls=row.shortfalls,
        solve_seconds=row.solve_seconds,
        summary=kpis,
        quality=_quality_out(row.quality),
        stages=msgspec.json.decode(row.stages, type=list[StageOut]),
    )


def _event_query(job_id: str, f: EventFilter) -> Any:
    query = (
        select(PlanEventKpi.data)
        .where(PlanEventKpi.plan_id == job_id)
        .order_by(PlanEventKpi.day, PlanEventKpi.event_id, PlanEventKpi.tour_index)
    )
    query = services.day_bounds(query, PlanEventKpi.day, f.start, f.end)
    if f.borough:
        query = query.where(PlanEventKpi.borough == f.borough)
    if f.priority:
        query = query.where(PlanEventKpi.priority == f.priority)
    if f.short_only:
        query = query.where(PlanEventKpi.short > 0)
    return query


async def event_page(conn: Reader, job_id: str, f: EventFilter, limit: int, offset: int) -> EventKpiPage:
    await services.load_plan(conn, job_id)
    rows, total = await page(conn, _event_query(job_id, f), limit, offset)
    return EventKpiPage(items=[_event_kpi.decode(r.data) for r in rows], page=page_info(total, limit, offset))


async def event_table(conn: AsyncConnection, job_id: str, f: EventFilter) -> Table:
    await services.load_plan(conn, job_id)
    rows = await conn.execute(_event_query(job_id, f))
    fields = _fields(EventKPI)
    return Table(
        fields, _rows_of([_event_kpi.decode(r.data) for r in rows], fields), f"plan-{job_id}-events.csv"
    )


async def event_detail(conn: Reader, job_id: str, event_id: str) -> EventCoverage:
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
    officers = await NAMES.of(conn, job_id)
    named = [services.named(r, officers) for r in assignments]
    if not tour_rows and not named:
        raise ProblemError(404, f"Event {event_id!r} is not in this plan.")
    return EventCoverage(
        event_id=event_id,
        tours=tour_rows,
        assignments=named,
        shortfalls=[services.shortfall_out(r) for r in shortfalls],
    )


async def assignment_table(
    conn: AsyncConnection, job_id: str, start: dt.date | None, end: dt.date | None, source: str | None
) -> Table:
    await services.load_plan(conn, job_id)
    query = services.day_bounds(services.assignment_query(job_id), PlanAssignment.day, start, end)
    if source:
        query = query.where(PlanAssignment.source == source)
    rows = await conn.execute(
        query.order_by(
            PlanAssignment.day, PlanAssignment.event_id, PlanAssignment.unit_id, PlanAssignment.slot
        )
    )
    officers = await NAMES.of(conn, job_id)
    assignments = [services.named(r, officers) for r in rows]
    return Table(
        ASSIGNMENT_COLUMNS, _rows_of(assignments, ASSIGNMENT_COLUMNS), f"plan-{job_id}-assignments.csv"
    )


def _shortfall_query(job_id: str, start: dt.date | None, end: dt.date | None) -> Any:
    query = services.shortfall_query(job_id).order_by(
        PlanShortfall.day, PlanShortfall.event_id, PlanShortfall.tour_index, PlanShortfall.role
    )
    return services.day_bounds(query, PlanShortfall.day, start, end)


async def shortfall_page(
    conn: Reader, job_id: str, start: dt.date | None, end: dt.date | None, limit: int, offset: int
) -> ShortfallPage:
    await services.load_plan(conn, job_id)
    rows, total = await page(conn, _shortfall_query(job_id, start, end), limit, offset)
    return ShortfallPage(
        items=[services.shortfall_out(r) for r in rows], page=page_info(total, limit, offset)
    )


async def shortfall_table(
    conn: AsyncConnection, job_id: str, start: dt.date | None, end: dt.date | None
) -> Table:
    await services.load_plan(conn, job_id)
    rows = [services.shortfall_out(r) for r in await conn.execute(_shortfall_query(job_id, start, end))]
    return Table(
        SHORTFALL_COLUMNS,
        ([*(getattr(s, f) for f in SHORTFALL_COLUMNS[:-1]), "; ".join(s.reasons)] for s in rows),
        f"plan-{job_id}-shortfalls.csv",
    )


def _unit_query(
    job_id: str, unit: str | None, bcu: str | None, start: dt.date | None, end: dt.date | None
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


async def unit_page(
    conn: Reader,
    job_id: str,
    unit: str | None,
    bcu: str | None,
    start: dt.date | None,
    end: dt.date | None,
    limit: int,
    offset: int,
) -> UnitDayPage:
    await services.load_plan(conn, job_id)
    rows, total = await page(conn, _unit_query(job_id, unit, bcu, start, end), limit, offset)
    return UnitDayPage(items=[_unit_kpi.decode(r.data) for r in rows], page=page_info(total, limit, offset))


async def unit_table(
    conn: AsyncConnection,
    job_id: str,
    unit: str | None,
    bcu: str | None,
    start: dt.date | None,
    end: dt.date | None,
) -> Table:
    await services.load_plan(conn, job_id)
    rows = await conn.execute(_unit_query(job_id, unit, bcu, start, end))
    fields = _fields(UnitDayKPI)
    return Table(
        fields, _rows_of([_unit_kpi.decode(r.data) for r in rows], fields), f"plan-{job_id}-units.csv"
    )


def _bcu_query(job_id: str, bcu: str | None, start: dt.date | None, end: dt.date | None) -> Any:
    query = (
        select(PlanBcuDay.data).where(PlanBcuDay.plan_id == job_id).order_by(PlanBcuDay.day, PlanBcuDay.bcu)
    )
    if bcu:
        query = query.where(PlanBcuDay.bcu == bcu)
    return services.day_bounds(query, PlanBcuDay.day, start, end)


async def bcu_page(
    conn: Reader,
    job_id: str,
    bcu: str | None,
    start: dt.date | None,
    end: dt.date | None,
    limit: int,
    offset: int,
) -> BcuDayPage:
    await services.load_plan(conn, job_id)
    rows, total = await page(conn, _bcu_query(job_id, bcu, start, end), limit, offset)
    return BcuDayPage(items=[_bcu_kpi.decode(r.data) for r in rows], page=page_info(total, limit, offset))


async def bcu_table(
    conn: AsyncConnection, job_id: str, bcu: str | None, start: dt.date | None, end: dt.date | None
) -> Table:
    await services.load_plan(conn, job_id)
    rows = await conn.execute(_bcu_query(job_id, bcu, start, end))
    fields = _fields(BcuDayKPI)
    return Table(fields, _rows_of([_bcu_kpi.decode(r.data) for r in rows], fields), f"plan-{job_id}-bcus.csv")


async def roster(conn: Reader, job_id: str, service_number: str) -> Roster:
    """The officer as the plan has them (its snapshot), not as the officers table has them now."""
    await services.load_plan(conn, job_id)
    officers = await NAMES.of(conn, job_id)
    officer = officers.get(service_number)
    rows = await conn.execute(
        services.assignment_query(job_id)
        .where(PlanAssignment.service_number == service_number)
        .order_by(PlanAssignment.start)
    )
    assignments = [services.named(r, officers) for r in rows]
    if officer is None and not assignments:
        raise ProblemError(404, f"No officer {service_number!r} in this plan.")
    return Roster(
        service_number=service_number,
        name=officer.name if officer else "",
        unit=officer.unit if officer else assignments[0].source,
        assignments=assignments,
    )


async def roster_table(conn: AsyncConnection, job_id: str, service_number: str) -> Table:
    found = await roster(conn, job_id, service_number)
    return Table(
        ASSIGNMENT_COLUMNS,
        _rows_of(found.assignments, ASSIGNMENT_COLUMNS),
        f"plan-{job_id}-officer-{service_number}.csv",
    )
