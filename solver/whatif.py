"""What-if without storing: change one event's demand or one borough's investigation floor, re-plan
only the days that change can affect, and compare with the plan as it stands.

Stage 1 is per day, so a change touches only some days: an event's demand its own tours' days, a
borough's floor the days on which that borough gave investigators to events (raising the floor
binds there) or some demand went uncovered (lowering it may help there). Those days are re-planned
in runs of consecutive days with the ordinary two-stage solve; the rest of the plan is kept as it
is. Both versions are scored by the evaluator over the same span, so the deltas are like for like.

Named rostering of a re-planned run sees only that run's assignments: rest between tours and
rest-day spacing against kept assignments just outside the run are not re-checked here (a stored
plan made from the same change would be).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict

import msgspec

from planner.analysis.compare import Comparison, compare
from planner.domain import PlanningProblem, Record, RoleDemand, Struct
from planner.evaluate import PlanSummary, evaluate
from planner.plan import Plan
from planner.rules import event_tours
from solver.pipeline import solve

MAX_DAYS = 31


class Change(Record, frozen=True):
    """Exactly one of: a new demand for one event, or a new investigation floor for one borough."""

    event_id: str | None = None
    demand: tuple[RoleDemand, ...] | None = None
    borough: str | None = None
    investigation_floor: float | None = None


class WhatIfResult(Struct):
    change: Change
    days: list[dt.date]  # the days re-planned
    span: tuple[dt.date, dt.date]  # the days both versions are scored over
    before: PlanSummary
    after: PlanSummary
    comparison: Comparison
    seconds: float


def apply_change(problem: PlanningProblem, change: Change) -> PlanningProblem:
    """The problem with the change made (raises ValueError if the change is not one valid change)."""
    if (change.event_id is None) == (change.borough is None):
        raise ValueError("give either event_id with demand, or borough with investigation_floor")
    if change.event_id is not None:
        if change.demand is None:
            raise ValueError("an event change needs its new demand")
        unknown = [d.role for d in change.demand if d.role not in problem.policy.roles]
        if unknown:
            raise ValueError(f"unknown roles: {', '.join(unknown)}")
        events = tuple(
            msgspec.structs.replace(e, demand=change.demand) if e.external_id == change.event_id else e
            for e in problem.events
        )
        if events == problem.events and not any(e.external_id == change.event_id for e in events):
            raise ValueError(f"no event {change.event_id!r} in the problem")
        return msgspec.structs.replace(problem, events=events)
    share = change.investigation_floor
    if share is None or not 0.0 <= share <= 1.0:
        raise ValueError("investigation_floor must be a share between 0 and 1")
    if change.borough not in {b.code for b in problem.organisation.boroughs}:
        raise ValueError(f"no borough {change.borough!r}")
    policy = problem.policy
    floors = msgspec.structs.replace(policy.floors_for(change.borough), investigation=share)
    policy = msgspec.structs.replace(policy, borough_floors={**policy.borough_floors, change.borough: floors})
    return msgspec.structs.replace(problem, policy=policy)


def affected_days(
    problem: PlanningProblem, plan: Plan, change: Change, limit: int = MAX_DAYS
) -> list[dt.date]:
    """The days the change can move, at most `limit` of them (the most affected first)."""
    if change.event_id is not None:
        event = next((e for e in problem.events if e.external_id == change.event_id), None)
        if event is None:
            raise ValueError(f"no event {change.event_id!r} in the problem")
        days = [t.day for t in event_tours(event, problem.policy) if problem.start <= t.day <= problem.end]
        return sorted(days)[:limit]
    weight: dict[dt.date, float] = defaultdict(float)
    officers = {o.service_number: o for o in problem.officers}
    for a in plan.assignments:
        o = officers.get(a.service_number)
        if o is not None and o.unit == change.borough and o.duty_role == "investigation":
            weight[a.day] += 1.0
    for s in plan.shortfalls:
        weight[s.day] += 0.001 * s.officers_short  # after any day the borough's investigators were used
    ranked = sorted(weight, key=lambda d: (-weight[d], d))[:limit]
    return sorted(ranked)


def _runs(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    runs: list[tuple[dt.date, dt.date]] = []
    for day in sorted(days):
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def solve_days(problem: PlanningProblem, days: list[dt.date], workers: int = 1) -> Plan:
    """Plan only these days (each run of consecutive days as its own horizon) and merge the plans."""
    out = Plan(method="sub-horizon")
    for start, end in _runs(days):
        part = solve(msgspec.structs.replace(problem, start=start, end=end), workers=workers)
        out.allocations.extend(part.allocations)
        out.assignments.extend(part.assignments)
        out.shortfalls.extend(part.shortfalls)
        out.stages.extend(part.stages)
    return out


def _within(plan: Plan, first: dt.date, last: dt.date, days: set[dt.date] | None = None) -> Plan:
    """The plan's records on days in [first, last] (and, if given, not in `days`)."""

    def keep(day: dt.date) -> bool:
        return first <= day <= last and (days is None or day not in days)

    return Plan(
        allocations=[a for a in plan.allocations if keep(a.day)],
        assignments=[a for a in plan.assignments if keep(a.day)],
        shortfalls=[s for s in plan.shortfalls if keep(s.day)],
        method=plan.method,
    )


def what_if(problem: PlanningProblem, plan: Plan, change: Change, workers: int = 1) -> WhatIfResult:
    """Re-plan the days a change affects and compare with the current plan over the same span."""
    started = time.perf_counter()
    changed = apply_change(problem, change)
    days = affected_days(problem, plan, change)
    if not days:
        raise ValueError("the change affects no day of the plan's horizon")
    first, last = days[0], days[-1]
    resolved = solve_days(changed, days, workers=workers)
    kept = _within(plan, first, last, set(days))
    after_plan = Plan(
        allocations=kept.allocations + resolved.allocations,
        assignments=kept.assignments + resolved.assignments,
        shortfalls=kept.shortfalls + resolved.shortfalls,
    )
    before = evaluate(msgspec.structs.replace(problem, start=first, end=last), _within(plan, first, last))
    after = evaluate(msgspec.structs.replace(changed, start=first, end=last), after_plan)
    return WhatIfResult(
        change=change,
        days=days,
        span=(first, last),
        before=before.summary,
        after=after.summary,
        comparison=compare(problem.organisation, before, after),
        seconds=round(time.perf_counter() - started, 3),
    )
