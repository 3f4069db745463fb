"""Analysis request and response shapes. Responses reuse the planner's analysis Structs where they fit."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from msgspec import Meta

from api.features.common import Schema
from api.features.events.schemas import EventId, RoleCode
from api.features.plans.schemas import JobOut, PolicyVersionNumber, SolverWorkers
from api.imports import MAX_DEMAND_COUNT
from planner.analysis.explain import TourExplanation
from planner.evaluate import EventKPI, PlanSummary
from solver.frontier import FrontierPoint


class WhatIfDemand(Schema):
    role: RoleCode
    count: Annotated[int, Meta(ge=0, le=MAX_DEMAND_COUNT)]  # 0: the event no longer needs the role


class WhatIfRequest(Schema):
    """Exactly one change: an event's new demand, or one borough's investigation floor (a share)."""

    event_id: EventId | None = None
    demand: list[WhatIfDemand] | None = None
    borough: Annotated[str, Meta(min_length=1, max_length=16)] | None = None
    investigation_floor: Annotated[float, Meta(ge=0, le=1)] | None = None


class FrontierRequest(Schema):
    start: dt.date
    end: dt.date  # inclusive
    policy_version: PolicyVersionNumber | None = None
    detail: Literal["allocation", "named"] = "allocation"  # stage 1 only, or the full two-stage solve
    workers: SolverWorkers | None = None  # parallel point processes (default: the worker's setting)


class FrontierOut(Schema):
    job: JobOut
    points: list[FrontierPoint]


class FrontierPage(Schema):
    items: list[FrontierOut]


class DaySeries(Schema):
    """The year at a glance: one value per day in `days` for every list."""

    days: list[dt.date]
    tours: list[int]
    demand_officers: list[int]
    covered_officers: list[int]
    short_officers: list[int]
    abstracted: list[int]  # borough and central officers on events (on duty)
    rest_day_called: list[int]
    investigators_abstracted: list[int]


class ShortEvent(Schema):
    event_id: str
    name: str
    borough: str
    priority: str
    first_day: dt.date
    demand_officers: int
    short: int


class Overview(Schema):
    plan_id: str
    start: dt.date
    end: dt.date
    method: str
    summary: PlanSummary
    daily: DaySeries
    short_events: list[ShortEvent]  # worst first
    boroughs: dict[str, str]  # code -> name
    bcus: dict[str, str]


class Heatmap(Schema):
    """Per borough (rows) and ISO week (columns, by Monday): a share in [0, 1] or null (no data)."""

    metric: Literal["abstraction", "retained"]
    weeks: list[dt.date]
    boroughs: list[str]
    names: list[str]
    values: list[list[float | None]]


class AssignmentOut(Schema):
    """One officer on one event tour; service number and name are withheld from analysts."""

    event_id: str
    tour_index: int
    day: dt.date
    role: str
    unit_id: str
    source: str
    start: dt.datetime
    end: dt.datetime
    rest_day_cancelled: bool
    service_number: str | None = None
    name: str | None = None


class EventDrillDown(Schema):
    event_id: str
    name: str
    borough: str
    priority: str
    tours: list[EventKPI]
    explanations: list[TourExplanation]
    assignments: list[AssignmentOut]
    names_hidden: bool


class ExplanationPage(Schema):
    total: int
    items: list[TourExplanation]
