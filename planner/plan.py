"""Plan types: what a solve (or the greedy baseline) returns. Serialisable, framework-free."""

from __future__ import annotations

import datetime as dt

import msgspec

from planner.domain import Record, Struct


class Allocation(Record, frozen=True):
    """Stage 1: `count` units of `role` from `source` to one event tour."""

    event_id: str
    tour_index: int
    day: dt.date
    role: str
    source: str  # borough ONS code or central unit code
    count: int
    rest_day_officers: int = 0  # officers in these units called in from a rest day


class Assignment(Record, frozen=True):
    """Stage 2: one named officer working one event tour."""

    service_number: str
    event_id: str
    tour_index: int
    day: dt.date
    role: str
    slot: int  # index into the role's slots
    unit_id: str  # serial/PSU (or single post) this officer belongs to
    source: str
    start: dt.datetime
    end: dt.datetime
    rest_day_cancelled: bool = False


class Shortfall(Record, frozen=True):
    """Demand left uncovered, in officers, with the limits that caused it."""

    event_id: str
    tour_index: int
    day: dt.date
    role: str
    required: int  # units demanded
    filled: int  # units covered
    officers_short: int
    reasons: tuple[str, ...] = ()


class StageStats(Struct):
    name: str
    status: str
    seconds: float
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    details: dict[str, float] = msgspec.field(default_factory=dict)


class PlanQuality(Struct):
    """How good the delivered plan is: its cost by the evaluator against a valid lower bound on the
    cost of any plan for the same problem (solver/bound.py says which relaxation)."""

    objective: float  # planner.evaluate's plan_cost of the delivered plan
    bound: float  # no lawful plan the solver could deliver costs less
    gap: float  # (objective - bound) / objective
    bound_seconds: float = 0.0  # wall time spent waiting for the bound after the plan was ready
    bound_solve_seconds: float = 0.0  # the bound's day models, summed (they run in parallel)
    method: str = ""

    def stage(self) -> StageStats:
        return StageStats(
            name="plan",
            status="DONE",
            seconds=self.bound_seconds,
            objective=self.objective,
            bound=self.bound,
            gap=self.gap,
            details={"bound_solve_seconds": self.bound_solve_seconds},
        )


class Plan(Struct):
    allocations: list[Allocation] = msgspec.field(default_factory=list)
    assignments: list[Assignment] = msgspec.field(default_factory=list)
    shortfalls: list[Shortfall] = msgspec.field(default_factory=list)
    stages: list[StageStats] = msgspec.field(default_factory=list)
    method: str = "two-stage"
    quality: PlanQuality | None = None  # the delivered plan's cost, bound and gap


class Progress(Struct):
    """A progress report from a long solve, for a CLI bar or an API job's fields."""

    stage: str  # "allocation", "rostering", "done"
    done: int
    total: int
    message: str = ""
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 100.0
