"""Analysis of stored plans: one in-memory context per plan, computed once, sliced per request.

Everything an analysis endpoint needs (the exact problem the plan was solved from, the plan, its
evaluation, every shortfall's explanation, the per-rule analysis and the default investigation
impact) is computed by the job that made the plan (api.jobs.analysis; a plan stored before that: on its
first request, in a thread), decoded on the first request and kept in a small LRU cache.
Later requests only slice and encode, which keeps the full-year endpoints well under 300 ms.
Concurrent first requests for one plan share one computation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.db.models import Job, PlanRecord, ProblemSnapshot
from api.features.analysis.schemas import (
    AssignmentOut,
    DaySeries,
    EventDrillDown,
    FrontierOut,
    FrontierRequest,
    Heatmap,
    Overview,
    ShortEvent,
    WhatIfRequest,
)
from api.features.common import london
from api.features.plans import services as plans
from api.jobs import decompress
from api.jobs.analysis import PlanAnalysis, analyse, decode_gently
from api.problems import ProblemError
from planner.analysis.compare import Comparison, compare
from planner.analysis.explain import RuleImpact, TourExplanation
from planner.analysis.impact import Impact, ImpactSettings, InvestigatorDays, project
from planner.domain import PlanningProblem, RoleDemand
from planner.evaluate import Evaluation
from planner.plan import Plan, StageStats
from solver.frontier import points_of
from solver.whatif import Change, WhatIfResult, what_if

CACHE_PLANS = 3
MAX_HORIZON_DAYS = 400


@dataclass
class PlanContext:
    plan_id: str
    method: str
    problem: PlanningProblem
    plan: Plan
    evaluation: Evaluation
    investigators: InvestigatorDays
    explanations: list[TourExplanation]
    rules: list[RuleImpact]
    impact: Impact  # with the default settings
    encoded: dict[Any, bytes] = field(default_factory=dict)  # response bodies already encoded
    lock: threading.Lock = field(default_factory=threading.Lock)


def build_context(
    plan_id: str, method: str, problem_blob: bytes, plan_blob: bytes, analysis_blob: bytes | None
) -> PlanContext:
    """Everything the analysis endpoints read, from the stored problem, plan and analysis (blocking).

    The job that made the plan analysed it (api.jobs.analysis); a plan stored before that is
    analysed here. Decoded gently: a full year decoded in one call would hold the GIL, and so this
    process's event loop, for seconds."""
    problem = decode_gently(decompress(problem_blob), PlanningProblem)
    plan = decode_gently(decompress(plan_blob), Plan)
    analysis = (
        decode_gently(decompress(analysis_blob), PlanAnalysis) if analysis_blob else analyse(problem, plan)
    )
    return PlanContext(
        plan_id=plan_id,
        method=method,
        problem=problem,
        plan=plan,
        evaluation=analysis.evaluation,
        investigators=analysis.investigators,
        explanations=analysis.explanations,
        rules=analysis.rules,
        impact=analysis.impact,
    )


class ContextCache:
    """The last few plans' contexts; one computation per plan however many ask at once."""

    def __init__(self, size: int = CACHE_PLANS) -> None:
        self.size = size
        self._items: OrderedDict[str, PlanContext] = OrderedDict()
        self._pending: dict[str, asyncio.Future[PlanContext]] = {}

    async def get(self, conn: AsyncConnection, plan_id: str) -> PlanContext:
        found = self._items.get(plan_id)
        if found is not None:
            self._items.move_to_end(plan_id)
            return found
        pending = self._pending.get(plan_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[PlanContext] = asyncio.get_running_loop().create_future()
        self._pending[plan_id] = future
        try:
            context = await self._load(conn, plan_id)
            future.set_result(context)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: a failed load is reported to this caller
            raise
        finally:
            del self._pending[plan_id]
        self._items[plan_id] = context
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return context

    async def _load(self, conn: AsyncConnection, plan_id: str) -> PlanContext:
        record = await plans.load_plan(conn, plan_id)  # 404 / 409 as the plan endpoints answer
        row = (
            await conn.execute(
                select(PlanRecord.plan_blob, PlanRecord.analysis, ProblemSnapshot.blob)
                .join(ProblemSnapshot, ProblemSnapshot.hash == PlanRecord.input_hash)
                .where(PlanRecord.job_id == plan_id)
            )
        ).one()
        await conn.rollback()  # do not hold a read transaction open through the computation
        if record.method == "frontier":
            raise ProblemError(
                409, "This job is a frontier, not a plan: read it at /analysis/frontiers/{id}."
            )
        return await anyio.to_thread.run_sync(
            build_context, plan_id, record.method, row.blob, row.plan_blob, row.analysis
        )

    def has(self, plan_id: str) -> bool:
        return plan_id in self._items

    def clear(self) -> None:
        self._items.clear()


CACHE = ContextCache()


async def warm_newest_plan(engine: AsyncEngine) -> str | None:
    """Build the newest finished plan's analysis before anyone asks for it.

    The first analysis request for a full-year plan costs seconds (evaluation, explanations,
    impact); doing it as soon as the plan is stored keeps the dashboard's first load fast."""
    async with engine.connect() as conn:
        newest = (
            await conn.execute(
                select(PlanRecord.job_id)
                .where(PlanRecord.method != "frontier")
                .order_by(PlanRecord.created_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        await conn.rollback()
        if newest is None or CACHE.has(newest):
            return None
        await CACHE.get(conn, newest)
        return newest


def msgspec_encode(value: Any) -> bytes:
    return msgspec.json.encode(value)


def encoded(context: PlanContext, key: Any, make: Any) -> bytes:
    """A response body computed and encoded once per plan and key."""
    body = context.encoded.get(key)
    if body is None:
        body = context.encoded[key] = msgspec.json.encode(make())
    return body


# --------------------------------------------------------------------------- year at a glance


def overview(context: PlanContext, short_events: int = 200) -> Overview:
    problem, evaluation = context.problem, context.evaluation
    days = [problem.start + dt.timedelta(days=i) for i in range((problem.end - problem.start).days + 1)]
    col = {d: i for i, d in enumerate(days)}
    n = len(days)
    tours, demand, covered, short = [0] * n, [0] * n, [0] * n, [0] * n
    for e in evaluation.events:
        i = col.get(e.day)
        if i is not None:
            tours[i] += 1
            demand[i] += e.demand_officers
            covered[i] += e.covered_officers
            short[i] += e.short
    abstracted, called, investigators = [0] * n, [0] * n, [0] * n
    for u in evaluation.units:
        i = col.get(u.day)
        if i is not None:
            abstracted[i] += u.abstracted
            called[i] += u.rest_day_called
            investigators[i] += u.investigators_abstracted
    return Overview(
        plan_id=context.plan_id,
        start=problem.start,
        end=problem.end,
        method=context.method,
        summary=evaluation.summary,
        daily=DaySeries(
            days=days,
            tours=tours,
            demand_officers=demand,
            covered_officers=covered,
            short_officers=short,
            abstracted=abstracted,
            rest_day_called=called,
            investigators_abstracted=investigators,
        ),
        short_events=_short_events(evaluation)[:short_events],
        boroughs={b.code: b.name for b in problem.organisation.boroughs},
        bcus={b.code: b.name for b in problem.organisation.bcus},
    )


def _short_events(evaluation: Evaluation) -> list[ShortEvent]:
    by_event: dict[str, ShortEvent] = {}
    for e in evaluation.events:
        row = by_event.get(e.event_id)
        if row is None:
            row = by_event[e.event_id] = ShortEvent(
                event_id=e.event_id,
                name=e.name,
                borough=e.borough,
                priority=e.priority,
                first_day=e.day,
                demand_officers=0,
                short=0,
            )
        row.first_day = min(row.first_day, e.day)
        row.demand_officers += e.demand_officers
        row.short += e.short
    return sorted(
        (r for r in by_event.values() if r.short > 0), key=lambda r: (-r.short, r.first_day, r.event_id)
    )


# --------------------------------------------------------------------------- borough x week


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def heatmap(context: PlanContext, metric: str) -> Heatmap:
    """Abstraction: officers on events / on duty. Retained: investigators retained / rostered."""
    problem = context.problem
    weeks = sorted(
        {_monday(problem.start + dt.timedelta(days=i)) for i in range((problem.end - problem.start).days + 1)}
    )
    wcol = {w: i for i, w in enumerate(weeks)}
    boroughs = [b.code for b in problem.organisation.boroughs]
    row = {code: i for i, code in enumerate(boroughs)}
    num = [[0.0] * len(weeks) for _ in boroughs]
    den = [[0.0] * len(weeks) for _ in boroughs]
    if metric == "abstraction":
        for u in context.evaluation.units:
            r = row.get(u.unit)
            if r is not None:
                c = wcol[_monday(u.day)]
                num[r][c] += u.abstracted
                den[r][c] += u.on_duty
    else:
        inv = context.investigators
        for code, on_row, ab_row in zip(inv.boroughs, inv.on_duty, inv.abstracted, strict=True):
            r = row[code]
            for d, (on, ab) in enumerate(zip(on_row, ab_row, strict=True)):
                c = wcol[_monday(inv.first + dt.timedelta(days=d))]
                num[r][c] += on - ab
                den[r][c] += on
    values = [
        [round(n / d, 4) if d else None for n, d in zip(nr, dr, strict=True)]
        for nr, dr in zip(num, den, strict=True)
    ]
    names = {b.code: b.name for b in problem.organisation.boroughs}
    return Heatmap(
        metric=metric,  # type: ignore[arg-type]
        weeks=weeks,
        boroughs=boroughs,
        names=[names[c] for c in boroughs],
        values=values,
    )


# --------------------------------------------------------------------------- impact, explanations


def impact(context: PlanContext, settings: ImpactSettings | None) -> Impact:
    if settings is None or settings == ImpactSettings():
        return context.impact
    return project(context.problem.organisation, context.investigators, settings)


def impact_settings(
    share: float | None, rate: float | None, threshold: float | None, crime: list[str] | None
) -> ImpactSettings | None:
    """Query parameters to settings; `crime` items read `<borough code>:<crimes a year>`."""
    if share is None and rate is None and threshold is None and not crime:
        return None
    base = ImpactSettings()
    overrides: dict[str, float] = {}
    for item in crime or []:
        code, _, value = item.partition(":")
        try:
            overrides[code] = float(value)
        except ValueError:
            raise ProblemError(400, f"crime={item!r}: expected <borough code>:<crimes a year>.") from None
        if overrides[code] < 0:
            raise ProblemError(400, f"crime={item!r}: crimes a year cannot be negative.")
    return msgspec.structs.replace(
        base,
        share_needing_investigator=base.share_needing_investigator if share is None else share,
        crimes_per_investigator_day=base.crimes_per_investigator_day if rate is None else rate,
        delay_threshold_days=base.delay_threshold_days if threshold is None else threshold,
        yearly_crime=overrides,
    )


def without_series(result: Impact) -> Impact:
    """The impact with per-day lists dropped: per-area summaries and the named breaches only."""
    empty: dict[str, list[Any]] = {
        name: []
        for name in (
            "investigators_on_duty",
            "investigators_abstracted",
            "investigators_retained",
            "investigation_floor",
            "backlog_plan",
            "backlog_baseline",
            "delay_plan",
            "delay_baseline",
        )
    }
    return msgspec.structs.replace(
        result,
        days=[],
        boroughs=[msgspec.structs.replace(s, **empty) for s in result.boroughs],
        bcus=[msgspec.structs.replace(s, **empty) for s in result.bcus],
    )


def drill_down(context: PlanContext, event_id: str, show_names: bool) -> EventDrillDown:
    tours = [e for e in context.evaluation.events if e.event_id == event_id]
    event = next((e for e in context.problem.events if e.external_id == event_id), None)
    if event is None or not tours:
        raise ProblemError(404, f"Event {event_id!r} is not in this plan.")
    officers = {o.service_number: o for o in context.problem.officers} if show_names else {}
    assignments = []
    for a in sorted(
        (a for a in context.plan.assignments if a.event_id == event_id),
        key=lambda a: (a.tour_index, a.unit_id, a.slot, a.service_number),
    ):
        officer = officers.get(a.service_number)
        assignments.append(
            AssignmentOut(
                event_id=a.event_id,
                tour_index=a.tour_index,
                day=a.day,
                role=a.role,
                unit_id=a.unit_id,
                source=a.source,
                start=london(a.start),
                end=london(a.end),
                rest_day_cancelled=a.rest_day_cancelled,
                service_number=a.service_number if show_names else None,
                name=(officer.name if officer else "") if show_names else None,
            )
        )
    return EventDrillDown(
        event_id=event_id,
        name=event.name,
        borough=event.borough,
        priority=event.priority,
        tours=tours,
        explanations=[x for x in context.explanations if x.event_id == event_id],
        assignments=assignments,
        names_hidden=not show_names,
    )


def comparison(a: PlanContext, b: PlanContext) -> Comparison:
    return compare(a.problem.organisation, a.evaluation, b.evaluation)


async def run_what_if(context: PlanContext, request: WhatIfRequest) -> WhatIfResult:
    change = Change(
        event_id=request.event_id,
        demand=tuple(RoleDemand(role=d.role, count=d.count) for d in request.demand)
        if request.demand is not None
        else None,
        borough=request.borough,
        investigation_floor=request.investigation_floor,
    )
    if any(d.count < 0 for d in change.demand or ()):
        raise ProblemError(422, "demand counts cannot be negative.")
    try:
        return await anyio.to_thread.run_sync(what_if, context.problem, context.plan, change)
    except ValueError as exc:
        raise ProblemError(422, str(exc)) from None


# --------------------------------------------------------------------------- frontier jobs


async def submit_frontier(conn: AsyncConnection, request: FrontierRequest, key_id: str) -> FrontierOut:
    if request.end < request.start:
        raise ProblemError(422, "end is before start.")
    if (request.end - request.start).days + 1 > MAX_HORIZON_DAYS:
        raise ProblemError(422, f"a frontier covers at most {MAX_HORIZON_DAYS} days.")
    if request.workers is not None and not 1 <= request.workers <= 64:
        raise ProblemError(422, "workers must be between 1 and 64.")
    options: dict[str, Any] = {"kind": "frontier" if request.detail == "allocation" else "frontier-named"}
    if request.workers is not None:
        options["workers"] = request.workers
    job_id = await plans.enqueue(
        conn, "frontier", request.start, request.end, request.policy_version, options, key_id
    )
    return await get_frontier(conn, job_id)


async def get_frontier(conn: AsyncConnection, job_id: str) -> FrontierOut:
    row = await plans.load_job(conn, job_id)
    if row.kind != "frontier":
        raise ProblemError(404, f"No frontier job {job_id!r}.")
    job = await plans.get_job(conn, job_id)
    job.links = {"self": f"/analysis/frontiers/{job_id}"}
    points = []
    if row.status == "succeeded":
        stages = (
            await conn.execute(select(PlanRecord.stages).where(PlanRecord.job_id == job_id))
        ).scalar_one()
        points = points_of(msgspec.json.decode(stages, type=list[StageStats]))
    return FrontierOut(job=job, points=points)


async def list_frontiers(conn: AsyncConnection, limit: int) -> list[FrontierOut]:
    rows = await conn.execute(
        select(Job.id).where(Job.kind == "frontier").order_by(Job.created_at.desc()).limit(limit)
    )
    return [await get_frontier(conn, job_id) for job_id in rows.scalars()]
