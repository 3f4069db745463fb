"""A valid lower bound on the cost of the delivered plan's problem.

The delivered plan is scored by `planner.evaluate`: uncovered demand by priority, rest-day and
overtime pay, travel and the daily fairness term, all of them sums over days. So a lower bound on
every day's part, summed, bounds the whole. A day's part is bounded by the LP relaxation of that
day's allocation model built as a relaxation of everything any plan the solver may deliver could
do on that day:

- every source (borough or central unit) is a candidate for every event tour (the LP is solved
  with nearby sources and the others are priced against its duals: see `day_bound`);
- officers are counted against the published roster (no event deployed); where the published
  duty the day before (after) leaves too little rest, the officer still counts if some event
  tour that day ends (starts) early (late) enough to replace the duty, as "released" supply whose
  total per rank is capped by all the posts of that rank at those neighbouring tours (the same
  "Duty release" family the allocation uses, with nothing yet taken); rest-day spacing is counted
  on the published roster (a deployment replaces a duty and never adds a rest day, so runs only
  grow); average weekly hours are not counted;
- floors are counted with nothing yet taken; on-duty pay at the day's longest rostered tour.

Whole units, the link between days and the hours cap are all relaxed, so the sum is a bound, not
an estimate. `BoundTasks` runs the days as tasks on the solve's executor.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from planner.domain import Organisation, PlanningProblem, Slot, Struct
from planner.roster import NONE, ON_LEAVE, BoolArray, IntArray, Roster
from solver.allocation.families import duty_release
from solver.allocation.inputs import DayInput, Release, SupplyIndex, build_day_input
from solver.allocation.model import build, class_fits
from solver.allocation.variables import STATUSES, AllocationVariables, on_duty, release_side
from solver.live import TourDemands, tours_by_day

if TYPE_CHECKING:
    from solver.executor import SolveExecutor, WorkerContext

# Small tasks fill idle workers closely; each task's set-up is a fraction of one day's LP.
DAYS_PER_TASK = 4
log = logging.getLogger("solver.bound")
# A day LP takes well under a second alone; the limit is for a machine loaded by other work.
BOUND_LP_SECONDS = 120.0
MAX_PRICING_ROUNDS = 3
# GLOP's dual simplex without its presolve: on the day models (sparse, small integer
# coefficients) 3-8x faster than the defaults, whose presolve costs more than it saves. The
# bound needs only the optimum and optimal duals; the plan's LP keeps the defaults, whose vertex
# (where optima tie) the plans were tuned on.
GLOP_BOUND = "use_dual_simplex:true use_preprocessing:false"
PRICING_TOLERANCE = 0.005


class DayBound(Struct):
    day: dt.date
    bound: float
    seconds: float
    rounds: int = 1  # LP solves (pricing rounds)


class Bound(Struct):
    total: float
    days: list[DayBound]
    solve_seconds: float  # summed over days (they run in parallel)


class _Relaxation:
    """Who could work a tour in some plan the solver may deliver, and how many officers the days
    either side could take off their published duty: see the module docstring."""

    def __init__(self, roster: Roster, problem: PlanningProblem, demand: dict[dt.date, TourDemands]) -> None:
        self.roster = roster
        self._base_cache: dict[tuple[int, int], BoolArray] = {}
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
        # The bound always asks about every officer, window after window: keep the day's answer.
        key = (d, len(rows))
        cached = self._base_cache.get(key)
        if cached is None:
            r = self.roster
            cached = np.asarray((r.status[rows, d] != ON_LEAVE) & r.spacing_ok(rows, d), dtype=np.bool_)
            self._base_cache = {key: cached}
        return cached

    def _can_before(self, d: int, start: int) -> bool:
        return any(e <= start - self.roster.rest_minutes for _s, e, _a in self.tours.get(d - 1, ()))

    def _can_after(self, d: int, end: int) -> bool:
        return any(s >= end + self.roster.rest_minutes for s, _e, _a in self.tours.get(d + 1, ()))

    def eligible(self, rows: IntArray, d: int, start: int, end: int) -> BoolArray:
        before, after = self._rest(rows, d, start, end)
        return np.asarray(self._base(rows, d) & before & after, dtype=np.bool_)

    def masks(
        self, rows: IntArray, d: int, start: int, end: int, spacing: BoolArray | None = None
    ) -> tuple[BoolArray, BoolArray]:
        before, after = self._rest(rows, d, start, end)
        base = self._base(rows, d) if spacing is None else (self.roster.status[rows, d] != ON_LEAVE) & spacing
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


def bound_days(context: WorkerContext, days: list[dt.date]) -> list[DayBound]:
    """The LP bound of each day (a task: the worker's planner holds the published roster)."""
    problem, demand = context.problem, context.demand
    planner = context.planner
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
            bound_costs=True,
            release=relaxation.release(roster.day_index(day)),
        )
        day_input.release_cost = 0.0  # not pay: the evaluator never charges it
        value, rounds = day_bound(problem, day_input)
        out.append(DayBound(day=day, bound=value, seconds=time.perf_counter() - started, rounds=rounds))
    return out


def day_bound(
    problem: PlanningProblem, day: DayInput, max_rounds: int = MAX_PRICING_ROUNDS
) -> tuple[float, int]:
    """The day's LP bound over every source, by pricing instead of building every source's columns.

    The LP is solved with each tour's nearby candidate sources; every other source's unit
    columns are then priced against its duals (a unit from source s at tour t, role r has
    reduced cost -y(demand) + sum over slots of count x the cheapest post's reduced cost).
    Sources with a negative price are added and the LP solved again, a few rounds; the bound
    returned is the Lagrangian value at the last duals - the LP objective plus every remaining
    negative price times the units it could send - which is a valid lower bound on the LP over
    all sources whether or not pricing has converged."""
    org = problem.organisation
    rounds = 0
    while True:
        rounds += 1
        v = build(day)
        lp = v.model.solve(relax=True, solver="glop", time_limit=BOUND_LP_SECONDS, parameters=GLOP_BOUND)
        if lp.status != "OPTIMAL" or lp.objective is None or lp.duals is None:
            # Feasible by design, so only a time limit on a loaded machine gets here; the duals of
            # an unfinished solve need not be dual feasible, so they bound nothing. Every cost is
            # non-negative: 0 is still a valid bound for the day, and the plan is not lost for it.
            log.warning("bound LP for %s returned %s; the day is bounded by 0", day.day, lp.status)
            return 0.0, rounds
        prices = _price_omitted(day, v, lp.duals, org)
        negative = [(t, role, source, rc, most) for t, role, source, rc, most in prices if rc < -1e-9]
        correction = sum(rc * most for _t, _role, _s, rc, most in negative)
        # Another round costs a solve; it is not worth it for a correction this small.
        settled = -correction <= PRICING_TOLERANCE * abs(float(lp.objective)) + 1.0
        if not negative or settled or rounds >= max_rounds:
            # Every cost is non-negative, so 0 bounds the day too.
            return max(0.0, float(lp.objective) + correction), rounds
        for t, _role, source, _rc, _most in negative:
            day.tours[t].travel[source] = org.travel(source, day.tours[t].borough)


def _price_omitted(
    day: DayInput, v: AllocationVariables, duals: npt.NDArray[np.float64], org: Organisation
) -> list[tuple[int, str, str, float, int]]:
    """Reduced cost of one more unit from each source not yet a candidate, per tour and role, with
    the most units that source could send (its supply for the scarcest slot, at most the demand)."""
    rows = v.rows

    def y(key: tuple[object, ...]) -> float:
        row = rows.get(key)
        return float(duals[row]) if row is not None else 0.0

    by_source: dict[str, list[int]] = defaultdict(list)
    for i, supply in enumerate(day.classes):
        by_source[supply.source].append(i)
    # Dual value each (class, status, window) post would pay, with its status options.
    options: dict[tuple[int, int], list[tuple[str, float]]] = {}

    def class_options(cls: int, window: int) -> list[tuple[str, float]]:
        key = (cls, window)
        cached = options.get(key)
        if cached is None:
            supply = day.classes[cls]
            cached = []
            for status in STATUSES:
                if supply.count(status, window) <= 0:
                    continue
                side = release_side(status)
                if side is not None and duty_release.capacity(day, status, supply.rank, window) <= 0:
                    continue
                paid = y(("supply", cls, status, window)) + y(("total", cls, status)) + y(("usable", cls))
                if on_duty(status):
                    paid += y(("floor", f"{supply.source}|{supply.duty_role}")) + 1000.0 * y(
                        ("fair", supply.source)
                    )
                if side is not None:
                    paid += y(("release", side, supply.rank, window)) + y(
                        ("release_total", side, supply.rank)
                    )
                cached.append((status, paid))
            options[key] = cached
        return cached

    # Per (source, slot, window): the cheapest dual-adjusted post of the source's fitting classes,
    # kept apart by what a tour adds to it (on-duty pay by rank, or the rest-day cost), and the
    # officers available. A tour then needs only its own costs and travel.
    cheapest: dict[tuple[str, int, int], tuple[dict[str, float], float, int]] = {}

    def slot_offer(source: str, slot: Slot, window: int) -> tuple[dict[str, float], float, int]:
        key = (source, id(slot), window)
        offer = cheapest.get(key)
        if offer is None:
            on_by_rank: dict[str, float] = {}
            rest = float("inf")
            available = 0
            for cls in by_source[source]:
                supply = day.classes[cls]
                if not class_fits(supply, slot):
                    continue
                for status, paid in class_options(cls, window):
                    available += supply.count(status, window)
                    extra = (day.release_cost if release_side(status) else 0.0) - paid
                    if on_duty(status):
                        on_by_rank[supply.rank] = min(on_by_rank.get(supply.rank, float("inf")), extra)
                    else:
                        rest = min(rest, extra)
            offer = cheapest[key] = (on_by_rank, rest, available)
        return offer

    out = []
    sources = org.unit_codes()
    for t, tour in enumerate(day.tours):
        for role, demand in tour.demands:
            spec = day.roles[role]
            y_demand = y(("demand", t, role))
            for source in sources:
                if source in tour.travel or source not in by_source:
                    continue
                travel = org.travel(source, tour.borough) * day.travel_weight
                unit_rc = -y_demand
                most = demand
                for slot in spec.slots:
                    on_by_rank, rest, available = slot_offer(source, slot, tour.window)
                    best = min([tour.rest_cost + rest, *(tour.on_cost[r] + v for r, v in on_by_rank.items())])
                    if best == float("inf"):
                        break
                    unit_rc += slot.count * (best + travel)
                    most = min(most, available // slot.count)
                else:
                    if most > 0:
                        out.append((t, role, source, unit_rc, most))
    return out


class BoundTasks:
    """The bound's day tasks: they need nothing from the plan, so they are handed to the executor
    whenever a worker would otherwise wait (the tail of a phase of weeks) and the rest once the
    weeks are decided, to run alongside completion."""

    def __init__(self, days: list[dt.date], workers: int) -> None:
        self.chunks = deque(days[i : i + DAYS_PER_TASK] for i in range(0, len(days), DAYS_PER_TASK))
        self.workers = workers
        self.futures: list[Future[list[DayBound]]] = []

    def fill(self, pool: SolveExecutor, busy: int) -> None:
        """Submit tasks until `workers` are busy (`busy` of them with other work)."""
        busy += sum(not f.done() for f in self.futures)
        while self.chunks and busy < self.workers:
            self.futures.append(pool.submit(bound_days, self.chunks.popleft()))
            busy += 1

    def submit_rest(self, pool: SolveExecutor) -> None:
        while self.chunks:
            self.futures.append(pool.submit(bound_days, self.chunks.popleft()))


def combine(parts: list[DayBound]) -> Bound:
    parts = sorted(parts, key=lambda p: p.day)
    return Bound(total=sum(p.bound for p in parts), days=parts, solve_seconds=sum(p.seconds for p in parts))


def plan_bound(problem: PlanningProblem) -> Bound:
    """The bound on its own, in this thread (for tests and small instances)."""
    from solver.executor import InProcess

    with InProcess(problem) as pool:
        tasks = BoundTasks(list(tours_by_day(problem)), workers=1)
        tasks.submit_rest(pool)
        return combine([b for f in tasks.futures for b in f.result()])


__all__ = ["Bound", "BoundTasks", "DayBound", "SupplyIndex", "combine", "plan_bound"]
