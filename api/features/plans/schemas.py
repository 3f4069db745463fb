"""Plan requests, job status and result shapes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from api.features.common import PageInfo, Schema
from planner.evaluate import BcuDayKPI, EventKPI, PlanSummary, UnitDayKPI

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class PlanOptions(Schema):
    workers: int | None = None  # solver worker processes (default: PLANNER_SOLVER_WORKERS or the solver's)


class PlanRequest(Schema):
    start: dt.date
    end: dt.date  # inclusive
    policy_version: int | None = None  # default: the latest version when the job starts
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
    stages: list[StageOut]


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
    name: str  # from the officer record (empty if the officer has since been removed)
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
