"""Plan jobs and results: the rules between the controllers and the tables."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import msgspec
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import Principal
from api.db.engine import Reader
from api.db.models import Job, PlanAssignment, PlanRecord, PlanShortfall
from api.db.repositories import page
from api.features.common import london, page_info, utc
from api.features.plans.officer_names import OfficerAsPlanned
from api.features.plans.schemas import Inputs, JobOut, JobPage, NamedAssignment, PlanRequest, ShortfallOut
from api.jobs import service as lifecycle
from api.problems import ProblemError

MAX_HORIZON_DAYS = 400


def job_links(job_id: str) -> dict[str, str]:
    base = f"/plans/{job_id}"
    return {
        "self": base,
        "summary": f"{base}/summary",
        "events": f"{base}/events",
        "units": f"{base}/units",
        "bcus": f"{base}/bcus",
        "shortfalls": f"{base}/shortfalls",
    }


def job_out(row: Any, plan: Any | None = None) -> JobOut:
    inputs = None
    if plan is not None:
        inputs = Inputs(
            input_hash=plan.input_hash,
            calendar_version=plan.calendar_version,
            officers_version=plan.officers_version,
            policy_version=plan.policy_version,
        )
    return JobOut(
        id=row.id,
        status=row.status,
        stage=row.stage,
        percent=row.percent,
        message=row.message,
        objective=row.objective,
        bound=row.bound,
        gap=row.gap,
        start=row.start,
        end=row.end,
        policy_version=row.policy_version,
        cancel_requested=row.cancel_requested,
        attempts=row.attempts,
        created_at=utc(row.created_at),
        started_at=utc(row.started_at),
        finished_at=utc(row.finished_at),
        heartbeat_at=utc(row.heartbeat_at),
        error=row.error,
        inputs=inputs,
        links=job_links(row.id) if row.status == "succeeded" else {"self": f"/plans/{row.id}"},
    )


JobKind = Literal["plan", "frontier"]


async def submit(conn: AsyncConnection, request: PlanRequest, key_id: str) -> JobOut:
    if request.end < request.start:
        raise ProblemError(422, "end is before start.")
    if (request.end - request.start).days + 1 > MAX_HORIZON_DAYS:
        raise ProblemError(422, f"a plan covers at most {MAX_HORIZON_DAYS} days.")
    if request.options.workers is not None and not 1 <= request.options.workers <= 64:
        raise ProblemError(422, "options.workers must be between 1 and 64.")
    job_id = await enqueue(
        conn, "plan", request.start, request.end, request.policy_version, request.options, key_id
    )
    return await get_job(conn, job_id)


async def enqueue(
    conn: AsyncConnection,
    kind: JobKind,
    start: dt.date,
    end: dt.date,
    policy_version: int | None,
    options: Any,
    key_id: str,
) -> str:
    """Queue a solve job (a plan or a frontier; `options` tells the worker how to run it) and return
    its id."""
    return await lifecycle.enqueue(conn, kind, start, end, policy_version, options, key_id)


async def load_job(conn: Reader, job_id: str) -> Any:
    row = (await conn.execute(select(Job).where(Job.id == job_id))).first()
    if row is None:
        raise ProblemError(404, f"No plan job {job_id!r}.")
    return row


async def get_job(conn: Reader, job_id: str) -> JobOut:
    row = await load_job(conn, job_id)
    plan = None
    if row.status == "succeeded":
        plan = (
            await conn.execute(
                select(
                    PlanRecord.input_hash,
                    PlanRecord.calendar_version,
                    PlanRecord.officers_version,
                    PlanRecord.policy_version,
                ).where(PlanRecord.job_id == job_id)
            )
        ).first()
    return job_out(row, plan)


async def cancel(conn: AsyncConnection, job_id: str, actor: Principal) -> JobOut:
    """A queued job is cancelled at once; a running one is flagged and its worker stops it (< 2 s).
    The submitter or a planner may cancel (api.jobs.service); the actor is recorded."""
    await lifecycle.cancel(conn, job_id, actor)
    return await get_job(conn, job_id)


async def load_plan(conn: Reader, job_id: str) -> Any:
    row = (
        await conn.execute(
            select(
                PlanRecord.job_id,
                PlanRecord.input_hash,
                PlanRecord.calendar_version,
                PlanRecord.officers_version,
                PlanRecord.policy_version,
                PlanRecord.start,
                PlanRecord.end,
                PlanRecord.method,
                PlanRecord.created_at,
                PlanRecord.assignments,
                PlanRecord.shortfalls,
                PlanRecord.solve_seconds,
                PlanRecord.summary,
                PlanRecord.stages,
                PlanRecord.quality,
            ).where(PlanRecord.job_id == job_id)
        )
    ).first()
    if row is None:
        job = await load_job(conn, job_id)
        raise ProblemError(409, f"The plan is not ready: the job is {job.status}.", kind="plan-not-ready")
    return row


def assignment_query(plan_id: str) -> Any:
    """A plan's assignment rows; names come from the plan's own snapshot (officer_names), never the
    officers table's current records."""
    a = PlanAssignment
    return select(
        a.service_number,
        a.event_id,
        a.tour_index,
        a.day,
        a.role,
        a.slot,
        a.unit_id,
        a.source,
        a.start,
        a.end,
        a.rest_day_cancelled,
    ).where(a.plan_id == plan_id)


def named(row: Any, officers: dict[str, OfficerAsPlanned]) -> NamedAssignment:
    """An assignment row with the officer's name as the plan has it (empty if unknown)."""
    officer = officers.get(row.service_number)
    return NamedAssignment(
        service_number=row.service_number,
        name=officer.name if officer else "",
        event_id=row.event_id,
        tour_index=row.tour_index,
        day=row.day,
        role=row.role,
        slot=row.slot,
        unit_id=row.unit_id,
        source=row.source,
        start=london(row.start),
        end=london(row.end),
        rest_day_cancelled=bool(row.rest_day_cancelled),
    )


def shortfall_out(row: Any) -> ShortfallOut:
    return ShortfallOut(
        event_id=row.event_id,
        tour_index=row.tour_index,
        day=row.day,
        role=row.role,
        required=row.required,
        filled=row.filled,
        officers_short=row.officers_short,
        reasons=list(msgspec.json.decode(row.reasons)),
    )


def shortfall_query(plan_id: str) -> Select[Any]:
    return select(PlanShortfall).where(PlanShortfall.plan_id == plan_id)


def day_bounds(query: Select[Any], column: Any, start: dt.date | None, end: dt.date | None) -> Select[Any]:
    if start:
        query = query.where(column >= start)
    if end:
        query = query.where(column <= end)
    return query


async def list_jobs(conn: Reader, status: str | None, limit: int, offset: int) -> JobPage:
    query = select(Job).where(Job.kind == "plan").order_by(Job.created_at.desc(), Job.id)
    if status:
        query = query.where(Job.status == status)
    rows, total = await page(conn, query, limit, offset)
    return JobPage(items=[job_out(r) for r in rows], page=page_info(total, limit, offset))
