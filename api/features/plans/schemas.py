"""Plan requests, job status and result shapes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from api.features.common import PageInfo, Schema
from planner.evaluate import BcuDayKPI, EventKPI, PlanSummary, UnitDayKPI

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


# Policy versions are 32-bit integers in the database.
PolicyVersionNumber = Annotated[int, Meta(ge=1, le=2**31 - 1)]
SolverWorkers = Annotated[int, Meta(ge=1, le=64)]  # solver processes for one job


class PlanOptions(Schema):
    workers: SolverWorkers | None = None  # default: PLANNER_SOLVER_WORKERS or the solver's


class PlanRequest(Schema):
    start: dt.date
    end: dt.date  # inclusive
    policy_version: PolicyVersionNumber | None = None  # default: the latest version when the job starts
    options: PlanOptions = msgspec.field(default_factory=PlanOptions)


class Inputs(Schema):
    """What a plan was made from: enough to trace any figure back to the data."""

    input_hash: str  # sha256 of the exact PlanningProblem solved (stored in problem_snapshots)
    calendar_version: int
    officers_version: int
    policy_version: int


class JobOut(Schema):
    id: str
    status: JobStatus
    stage: str
    percent: float
    message: str
    # While running, the current stage's figures; once succeeded, the delivered plan's cost, lower
    # bound and gap (the same as the plan summary's `quality`) when the solver gave them.
    objective: float | None
    bound: float | None
    gap: float | None
    start: dt.date
    end: dt.date
    policy_version: int | None
    cancel_requested: bool
    attempts: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    error: str | None
    inputs: Inputs | None = None
    links: dict[str, str] = {}


class JobPage(Schema):
    items: list[JobOut]
    page: PageInfo


class StageOut(Schema):
    name: str
    status: str
    seconds: float
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    details: dict[str, float | None] = {}


class PlanQualityOut(Schema):
    """How good the delivered plan is: its cost by the evaluator against a valid lower bound on the
    cost of any plan for the same problem. Stage statistics (`stages`) are the solve's own."""

    objective: float  # the evaluator's plan_cost of the delivered plan
    bound: float  # no plan the solver could deliver costs less
    gap: float  # (objective - bound) / objective
    method: str  # which relaxation gave the bound
    bound_seconds: float = 0.0  # wall time spent waiting for the bound after the plan was ready
    bound_solve_seconds: float = 0.0  # the bound's models, summed


class PlanResult(Schema):
    job_id: str
    start: dt.date
    end: dt.date
    method: str
    created_at: dt.datetime
    inputs: Inputs
    assignments: int
    shortfalls: int
    solve_seconds: float
    summary: PlanSummary | None
    quality: PlanQualityOut | None  # null for plans stored before plans carried it, or without a bound
    stages: list[StageOut]  # stage statistics of the solve


class EventKpiPage(Schema):
    items: list[EventKPI]
    page: PageInfo


class UnitDayPage(Schema):
    items: list[UnitDayKPI]
    page: PageInfo


class BcuDayPage(Schema):
    items: list[BcuDayKPI]
    page: PageInfo


class ShortfallOut(Schema):
    event_id: str
    tour_index: int
    day: dt.date
    role: str
    required: int
    filled: int
    officers_short: int
    reasons: list[str]


class ShortfallPage(Schema):
    items: list[ShortfallOut]
    page: PageInfo


class NamedAssignment(Schema):
    service_number: str
    name: str  # as the plan has it (its input snapshot), whatever the officer record says now
    event_id: str
    tour_index: int
    day: dt.date
    role: str
    slot: int
    unit_id: str
    source: str
    start: dt.datetime
    end: dt.datetime
    rest_day_cancelled: bool


class EventCoverage(Schema):
    event_id: str
    tours: list[EventKPI]
    assignments: list[NamedAssignment]
    shortfalls: list[ShortfallOut]


class Roster(Schema):
    service_number: str
    name: str
    unit: str
    assignments: list[NamedAssignment]
