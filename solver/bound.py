"""A valid lower bound on the cost of the delivered plan's problem.

The delivered plan is scored by `planner.evaluate`: uncovered demand by priority, rest-day and
overtime pay, travel and the daily fairness term, all of them sums over days. So a lower bound on
every day's part, summed, bounds the whole. A day's part is bounded by the LP relaxation of that
day's allocation model built as a relaxation of everything any plan the solver may deliver could
do on that day:

- every source (borough or central unit) is a candidate for every event tour;
- officers are counted against the published roster (no event deployed); where the published
  duty the day before (after) leaves too little rest, the officer still counts if some event
  tour that day ends (starts) early (late) enough to replace the duty, as "released" supply whose
  total per rank is capped by all the posts of that rank at those neighbouring tours (the same
  "Duty release" family the allocation uses, with nothing yet taken); rest-day spacing is counted
  on the published roster (a deployment replaces a duty and never adds a rest day, so runs only
  grow); average weekly hours are not counted;
- floors are counted with nothing yet taken; on-duty pay at the day's longest rostered tour.

Whole units, the link between days and the hours cap are all relaxed, so the sum is a bound, not
an estimate. `plan_bound_days` runs the days as tasks in the solve's worker pool.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import Executor, Future

import numpy as np

from planner.domain import PlanningProblem, Struct
from planner.roster import NONE, ON_LEAVE, BoolArray, IntArray, Roster
from solver.allocation.inputs import Release, SupplyIndex, build_day_input
from solver.allocation.model import build
from solver.live import TourDemands

DAYS_PER_TASK = 8


class DayBound(Struct):
    day: dt.date
    bound: float
    seconds: float


class Bound(Struct):
    total: float
    days: list[DayBound]
    solve_seconds: float  # summed over days (they run in parallel)


class _Relaxation:
    """Who could work a tour in some plan the solver may deliver, and how many officers the days
    either side could take off their published duty: see the module docstring."""

    def __init__(self, roster: Roster, problem: PlanningProblem, demand: dict[dt.date, TourDemands]) -> None:
        self.roster = roster
        roles = problem.policy.roles
        # Per day index: (start, end, {rank: officers that tour's slots admit of that rank}).
        self.tours: dict[int, list[tuple[int, int, dict[str, int]]]] = {}
        for day, tours in demand.items():
            entries = []
            for _event, tour, demands in tours:
                start, end = roster.tour_minutes(tour)
                admits: dict[str, int] = {}
                for role, count in demands:
                    for slot in roles[role].slots:
                        for rank in slot.ranks:
                            admits[rank] = admits.get(rank, 0) + slot.count * count
                entries.append((start, end, admits))
            self.tours[roster.day_index(day)] = entries

    def _rest(self, rows: IntArray, d: int, start: int, end: int) -> tuple[BoolArray, BoolArray]:
        r = self.roster
        prev_end = r.end[rows, d - 1] if d > 0 else np.full(len(rows), NONE)
        before = (prev_end < 0) | (start - prev_end >= r.rest_minutes)
        after = np.ones(len(rows), dtype=np.bool_)
        if d + 1 < r.n_days:
            next_start = r.start[rows, d + 1]
            after = (next_start < 0) | (next_start - end >= r.rest_minutes)
        return before, after

    def _base(self, rows: IntArray, d: int) -> BoolArray:
        r = self.roster
        return np.asarray((r.status[rows, d] != ON_LEAVE) & r.spacing_ok(rows, d), dtype=np.bool_)

    def _can_before(self, d: int, start: int) -> bool:
        return any(e <= start - self.roster.rest_minutes for _s, e, _a in self.tours.get(d - 1, ()))

    def _can_after(self, d: int, end: int) -> bool:
        return any(s >= end + self.roster.rest_minutes for s, _e, _a in self.tours.get(d + 1, ()))

    def eligible(self, rows: IntArray, d: int, start: int, end: int) -> BoolArray:
        before, after = self._rest(rows, d, start, end)
        return np.asarray(self._base(rows, d) & before & after, dtype=np.bool_)

    def masks(self, rows: IntArray, d: int, start: int, end: int) -> tuple[BoolArray, BoolArray]:
        before, after = self._rest(rows, d, start, end)
        base = self._base(rows, d)
        can_before, can_after = self._can_before(d, start), self._can_after(d, end)
        # An officer held on both sides is counted once, against the day before's capacity.
        released_before = base & ~before & can_before & (after | can_after)
        released_after = base & ~after & can_after & before
        return np.asarray(released_before, dtype=np.bool_), np.asarray(released_after, dtype=np.bool_)

    def release(self, d: int) -> Callable[[list[tuple[int, int]]], Release]:
        rest = self.roster.rest_minutes

        def make(windows: list[tuple[int, int]]) -> Release:
            capacity: dict[str, list[int]] = {}
            for side, other in (("before", d - 1), ("after", d + 1)):
                per_rank: dict[str, list[int]] = {}
                for w, (start, end) in enumerate(windows):
                    for s, e, admits in self.tours.get(other, ()):
                        if (side == "before" and e <= start - rest) or (side == "after" and s >= end + rest):
                            for rank, n in admits.items():
                                per_rank.setdefault(rank, [0] * len(windows))[w] += n
                for rank, caps in per_rank.items():
                    capacity[f"{side}|{rank}"] = caps
            return Release(capacity=capacity, masks=self.masks)

        return make


def bound_days(days: list[dt.date]) -> list[DayBound]:
    """The LP bound of each day (runs in a solver worker holding the published roster)."""
    import time

    from solver.pipeline import worker_state

    state = worker_state()
    problem, demand = state.problem, state.demand
    planner = state.planner
    roster, index = planner.roster, planner.index
    relaxation = _Relaxation(roster, problem, demand)
    out = []
    for day in days:
        started = time.perf_counter()
        day_input = build_day_input(
            problem,
            roster,
            index,
            day,
            demand[day],
            eligible=relaxation.eligible,
            all_sources=True,
            release=relaxation.release(roster.day_index(day)),
        )
        v = build(day_input)
        lp = v.model.solve(relax=True, solver="glop")
        if lp.objective is None:
            raise RuntimeError(f"bound LP for {day} returned {lp.status}")  # always feasible by design
        out.append(DayBound(day=day, bound=float(lp.objective), seconds=time.perf_counter() - started))
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
