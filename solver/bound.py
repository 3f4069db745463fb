"""A valid lower bound on the cost of the delivered plan's problem.

The delivered plan is scored by `planner.evaluate`: uncovered demand by priority, rest-day and
overtime pay, travel and the daily fairness term, all of them sums over days. So a lower bound on
every day's part, summed, bounds the whole. A day's part is bounded by the LP relaxation of that
day's allocation model built as a relaxation of everything any plan the solver may deliver could
do on that day:

- every source (borough or central unit) is a candidate for every event tour;
- officers are counted against the published roster (no event deployed), with the rules relaxed
  where another day's decision could lift them: rest before a tour holds if the published duty
  the day before leaves 11 hours, or if some event tour the day before ends early enough (the
  officer could be deployed there instead of their duty); likewise rest after, with the next
  day's event tours; rest-day spacing is counted on the published roster (a deployment replaces a
  duty and never adds a rest day, so runs only grow); average weekly hours are not counted;
- floors are counted with nothing yet taken; on-duty pay at the day's longest rostered tour.

Whole units, the link between days and the hours cap are all relaxed, so the sum is a bound, not
an estimate. `plan_bound_days` runs the days as tasks in the solve's worker pool.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Executor, Future

import numpy as np

from planner.domain import PlanningProblem, Struct
from planner.roster import NONE, ON_LEAVE, BoolArray, IntArray, Roster
from solver.allocation.inputs import SupplyIndex, build_day_input
from solver.allocation.model import build

DAYS_PER_TASK = 8


class DayBound(Struct):
    day: dt.date
    bound: float
    seconds: float


class Bound(Struct):
    total: float
    days: list[DayBound]
    solve_seconds: float  # summed over days (they run in parallel)


def relaxed_eligibility(roster: Roster, event_windows: dict[int, list[tuple[int, int]]]):  # type: ignore[no-untyped-def]
    """Who could work a tour in some plan: see the module docstring."""

    def eligible(rows: IntArray, d: int, start: int, end: int) -> BoolArray:
        ok = roster.status[rows, d] != ON_LEAVE
        prev_end = roster.end[rows, d - 1] if d > 0 else np.full(len(rows), NONE)
        before = (prev_end < 0) | (start - prev_end >= roster.rest_minutes)
        if any(e <= start - roster.rest_minutes for _s, e in event_windows.get(d - 1, ())):
            before[:] = True
        after = np.ones(len(rows), dtype=np.bool_)
        if d + 1 < roster.n_days:
            next_start = roster.start[rows, d + 1]
            after = (next_start < 0) | (next_start - end >= roster.rest_minutes)
            if any(s >= end + roster.rest_minutes for s, _e in event_windows.get(d + 1, ())):
                after[:] = True
        return np.asarray(ok & before & after & roster.spacing_ok(rows, d), dtype=np.bool_)

    return eligible


def bound_days(days: list[dt.date]) -> list[DayBound]:
    """The LP bound of each day (runs in a solver worker holding the published roster)."""
    import time

    from solver.pipeline import worker_state

    state = worker_state()
    problem, demand = state.problem, state.demand
    planner = state.planner
    roster, index = planner.roster, planner.index
    windows = _event_windows(roster, demand)
    eligible = relaxed_eligibility(roster, windows)
    out = []
    for day in days:
        started = time.perf_counter()
        day_input = build_day_input(
            problem, roster, index, day, demand[day], eligible=eligible, all_sources=True
        )
        v = build(day_input)
        lp = v.model.solve(relax=True, solver="glop")
        if lp.objective is None:
            raise RuntimeError(f"bound LP for {day} returned {lp.status}")  # always feasible by design
        out.append(DayBound(day=day, bound=float(lp.objective), seconds=time.perf_counter() - started))
    return out


def _event_windows(roster: Roster, demand: dict[dt.date, list]) -> dict[int, list[tuple[int, int]]]:  # type: ignore[type-arg]
    out: dict[int, list[tuple[int, int]]] = {}
    for day, tours in demand.items():
        out[roster.day_index(day)] = sorted({roster.tour_minutes(t) for _e, t, _r in tours})
    return out


def plan_bound_days(pool: Executor, days: list[dt.date]) -> list[Future[list[DayBound]]]:
    return [pool.submit(bound_days, days[i : i + DAYS_PER_TASK]) for i in range(0, len(days), DAYS_PER_TASK)]


def combine(parts: list[DayBound]) -> Bound:
    parts = sorted(parts, key=lambda p: p.day)
    return Bound(total=sum(p.bound for p in parts), days=parts, solve_seconds=sum(p.seconds for p in parts))


def plan_bound(problem: PlanningProblem) -> Bound:
    """The bound on its own, in this process (for tests and small instances)."""
    import msgspec

    from solver.pipeline import InProcessExecutor, tours_by_day

    with InProcessExecutor(msgspec.msgpack.encode(problem)) as pool:
        futures = plan_bound_days(pool, list(tours_by_day(problem)))
        return combine([b for f in futures for b in f.result()])


__all__ = ["Bound", "DayBound", "SupplyIndex", "combine", "plan_bound", "plan_bound_days"]
