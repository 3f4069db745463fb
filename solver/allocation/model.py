"""Stage 1, allocation: which source sends how many units of each role to each event tour of a day.

The LP relaxation (GLOP) gives the bound; when its optimum is already integral it is the plan,
otherwise a MIP (HiGHS) finds the integer plan.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict

import numpy as np

from planner.domain import Slot, Struct
from solver.allocation.families import (
    demand_cover,
    duty_floors,
    duty_release,
    fairness,
    officer_supply,
    unit_composition,
)
from solver.allocation.inputs import ClassSupply, DayInput
from solver.allocation.rounding import round_and_repair
from solver.allocation.variables import (
    ON_DUTY,
    REST_DAY,
    STATUSES,
    AllocationVariables,
    PostKey,
    UnitKey,
    on_duty,
    release_side,
)
from solver.linear import Solution

INTEGRALITY_TOLERANCE = 1e-6
# The repaired rounding is kept without a MIP when it is within this relative gap of the LP
# bound. Long horizons also skip it on quiet days within `quiet_gap` paid-hour equivalents of
# the bound (see solve_day): there a MIP costs more time than the few hours it could save, and
# the horizon's gap, dominated by its big days, is reported all the same.
MIP_WORTHWHILE_GAP = 0.002
QUIET_DAY_GAP = 200.0
# Above this absolute gap (paid-hour equivalents: two critical officers uncovered) the full MIP
# is worth its seconds.
FULL_MIP_ABSOLUTE_GAP = 20000.0
FULL_MIP_SECONDS = 10.0
# GLOP always finishes a day LP (a few seconds at most alone); the limit only guards against a
# hang. A short one failed whole plans on a 2-core machine loaded by other work.
LP_SECONDS = 300.0


class PostCount(Struct):
    slot: int
    cls: int  # global class id
    status: str  # "on" or "rest"
    count: int


class UnitAllocation(Struct):
    event_id: str
    tour_index: int
    role: str
    source: str
    units: int
    posts: list[PostCount]


class RoleShortfall(Struct):
    event_id: str
    tour_index: int
    role: str
    required: int
    filled: int


class DayResult(Struct):
    day: dt.date
    status: str
    objective: float
    bound: float
    lp_integral: bool
    method: str  # "lp" (integral LP optimum), "rounding" (rounded and repaired) or "mip"
    seconds: float
    variables: int
    rows: int
    allocations: list[UnitAllocation]
    shortfalls: list[RoleShortfall]
    family_duals: dict[str, float]  # sum of |dual| per constraint family: what binds today


def class_fits(supply: ClassSupply, slot: Slot) -> bool:
    return supply.rank in slot.ranks and all(s in supply.skills for s in slot.skills)


def _post_cost(day: DayInput, tour: int, supply: ClassSupply, status: str) -> float:
    demand = day.tours[tour]
    travel = demand.travel[supply.source] * day.travel_weight
    extra = day.release_cost if release_side(status) else 0.0
    if on_duty(status):
        return demand.on_cost[supply.rank] + travel + extra
    return demand.rest_cost + travel + extra


def add_variables(day: DayInput) -> AllocationVariables:
    """Units per (tour, role, source), shortfall per (tour, role) and posts per class and status.

    Posts are only created where the class fits the slot, the source is a candidate for the
    event, and someone in the class could work the tour's hours: variables that cannot matter
    are left out."""
    v = AllocationVariables()
    by_source: dict[str, list[int]] = defaultdict(list)
    for index, supply in enumerate(day.classes):
        by_source[supply.source].append(index)
    fitting: dict[tuple[str, Slot], list[int]] = {}
    for t, tour in enumerate(day.tours):
        for role, demand in tour.demands:
            spec = day.roles[role]
            weight = day.uncovered_weight[tour.priority] * spec.size
            v.shortfall[(t, role)] = v.model.add_var(0.0, float(demand), weight, integer=False)
            for source in tour.travel:
                options = _slot_options(day, source, by_source, fitting, spec.slots, tour.window)
                most = min(
                    sum(n for _, _, n in opts) // slot.count
                    for slot, opts in zip(spec.slots, options, strict=True)
                )
                if most <= 0:
                    continue
                unit = UnitKey(tour=t, role=role, source=source)
                v.units[unit] = v.model.add_var(0.0, float(min(demand, most)), 0.0)
                for slot_index, opts in enumerate(options):
                    for cls, status, available in opts:
                        cost = _post_cost(day, t, day.classes[cls], status)
                        v.posts[PostKey(unit=unit, slot=slot_index, cls=cls, status=status)] = (
                            v.model.add_var(0.0, float(available), cost)
                        )
    return v


def _slot_options(
    day: DayInput,
    source: str,
    by_source: dict[str, list[int]],
    fitting: dict[tuple[str, Slot], list[int]],
    slots: tuple[Slot, ...],
    window: int,
) -> list[list[tuple[int, str, int]]]:
    """Per slot: (class, status, officers who could work this window) for the source's fitting classes."""
    out = []
    for slot in slots:
        classes = fitting.get((source, slot))
        if classes is None:
            classes = fitting[(source, slot)] = [
                c for c in by_source[source] if class_fits(day.classes[c], slot)
            ]
        opts = []
        for cls in classes:
            supply = day.classes[cls]
            if supply.on_by_window[window] > 0:
                opts.append((cls, ON_DUTY, supply.on_by_window[window]))
            if supply.rest_by_window[window] > 0:
                opts.append((cls, REST_DAY, supply.rest_by_window[window]))
            for status in STATUSES[2:]:
                n = supply.count(status, window)
                if n > 0 and duty_release.capacity(day, status, supply.rank, window) > 0:
                    opts.append((cls, status, n))
        out.append(opts)
    return out


def build(day: DayInput) -> AllocationVariables:
    """The day's model, family by family: this list is the model's table of contents."""
    v = add_variables(day)
    demand_cover.add(day, v)
    unit_composition.add(day, v)
    officer_supply.add(day, v)
    duty_floors.add(day, v)
    duty_release.add(day, v)
    fairness.add(day, v)
    return v


def solve_day(
    day: DayInput,
    *,
    mip_time_limit: float = 1.0,
    quiet_gap: float = 0.0,
    full_mip_seconds: float = FULL_MIP_SECONDS,
) -> DayResult:
    started = time.perf_counter()
    v = build(day)
    lp = v.model.solve(relax=True, solver="glop", time_limit=LP_SECONDS)
    if lp.values is None or lp.objective is None:
        raise RuntimeError(f"stage-1 LP for {day.day} returned {lp.status}")  # always feasible by design
    integral_vars = np.asarray(v.model.integer)
    fractional = np.abs(lp.values - np.round(lp.values))[integral_vars]
    lp_integral = bool(fractional.size == 0 or fractional.max() <= INTEGRALITY_TOLERANCE)
    best: Solution = lp
    method = "lp"
    if not lp_integral:
        best, method = _integer_solution(day, v, lp, mip_time_limit, quiet_gap, full_mip_seconds)
    assert best.values is not None and best.objective is not None
    return DayResult(
        day=day.day,
        status="OPTIMAL" if lp_integral or best.status == "OPTIMAL" else "FEASIBLE",
        method=method,
        objective=best.objective,
        bound=best.bound if best.bound is not None else lp.objective,
        lp_integral=lp_integral,
        seconds=time.perf_counter() - started,
        variables=v.model.num_vars,
        rows=v.model.num_rows,
        allocations=_allocations(day, v, best.values),
        shortfalls=_shortfalls(day, v, best.values),
        family_duals=_family_duals(v, lp),
    )


def _integer_solution(
    day: DayInput,
    v: AllocationVariables,
    lp: Solution,
    time_limit: float,
    quiet_gap: float,
    full_mip_seconds: float,
) -> tuple[Solution, str]:
    """An integer plan near the LP optimum, and the best bound known for the day.

    1. Round the LP down and repair it unit by unit (rounding.py): fast, always feasible.
    2. Fix the units the LP already planned whole (the unit and all its posts) and let a MIP
       decide only the fractional remainder: small, fast, and feasible because fixing whole
       units leaves every row satisfiable.
    3. Where the day's gap is still large in absolute terms (uncovered critical demand: a
       Carnival day), solve the full MIP for a better plan and a proven bound stronger than the
       LP's. Busy days with only cost at stake (a hard Saturday) stop at step 2: their full
       models are large and HiGHS rarely finds a plan in the time, for a few hundred hours."""
    assert lp.values is not None and lp.objective is not None
    model = v.model
    repaired = round_and_repair(day, v, lp.values)
    best = Solution(
        status="FEASIBLE",
        values=repaired,
        objective=float(np.dot(model.cost, repaired)),
        bound=lp.objective,
        duals=None,
    )
    method = "rounding"
    absolute_gap = _objective(best) - lp.objective
    if _gap(_objective(best), lp.objective) <= MIP_WORTHWHILE_GAP or absolute_gap <= quiet_gap:
        return best, method
    if time_limit <= 0:
        return best, method
    bound = lp.objective  # the restricted MIP's own bound says nothing about the full model
    fixed = _solve_fixing_whole_units(v, lp.values, time_limit)
    if fixed.values is not None and _objective(fixed) < _objective(best) - 1e-6:
        best, method = fixed, "mip"
    if full_mip_seconds > 0 and _objective(best) - lp.objective > FULL_MIP_ABSOLUTE_GAP:
        full = model.solve(relax=False, solver="highs", time_limit=full_mip_seconds)
        if full.bound is not None and full.values is not None:
            bound = max(bound, min(full.bound, _objective(full)))
        if full.values is not None and _objective(full) < _objective(best) - 1e-6:
            best, method = full, "mip"
    status = "OPTIMAL" if _objective(best) - bound <= 1e-6 * max(1.0, abs(bound)) else "FEASIBLE"
    return Solution(
        status=status, values=best.values, objective=best.objective, bound=bound, duals=None
    ), method


def _objective(solution: Solution) -> float:
    return float("inf") if solution.objective is None else solution.objective


def _solve_fixing_whole_units(v: AllocationVariables, values: np.ndarray, time_limit: float) -> Solution:
    model = v.model
    lower, upper = list(model.lower), list(model.upper)
    whole = np.abs(values - np.round(values)) <= INTEGRALITY_TOLERANCE
    posts_of: dict[UnitKey, list[int]] = defaultdict(list)
    for key, var in v.posts.items():
        posts_of[key.unit].append(var)
    for unit, var in v.units.items():
        columns = [var, *posts_of[unit]]
        if whole[columns].all():
            for j in columns:
                model.lower[j] = model.upper[j] = float(round(values[j]))
    try:
        return model.solve(relax=False, solver="highs", time_limit=time_limit)
    finally:
        model.lower, model.upper = lower, upper


def _gap(objective: float, bound: float) -> float:
    return max(0.0, objective - bound) / max(abs(objective), 1.0)


def _allocations(day: DayInput, v: AllocationVariables, values: np.ndarray) -> list[UnitAllocation]:
    posts: dict[UnitKey, list[PostCount]] = defaultdict(list)
    for key, var in v.posts.items():
        count = int(round(values[var]))
        if count > 0:
            cls = day.classes[key.cls].cls
            posts[key.unit].append(PostCount(slot=key.slot, cls=cls, status=key.status, count=count))
    out = []
    for unit, var in v.units.items():
        units = int(round(values[var]))
        if units > 0:
            tour = day.tours[unit.tour]
            out.append(
                UnitAllocation(
                    event_id=tour.event_id,
                    tour_index=tour.tour_index,
                    role=unit.role,
                    source=unit.source,
                    units=units,
                    posts=posts[unit],
                )
            )
    return out


def _shortfalls(day: DayInput, v: AllocationVariables, values: np.ndarray) -> list[RoleShortfall]:
    out = []
    for (t, role), var in v.shortfall.items():
        short = int(round(values[var]))
        if short > 0:
            tour = day.tours[t]
            required = dict(tour.demands)[role]
            out.append(
                RoleShortfall(
                    event_id=tour.event_id,
                    tour_index=tour.tour_index,
                    role=role,
                    required=required,
                    filled=required - short,
                )
            )
    return out


def _family_duals(v: AllocationVariables, lp: Solution) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    if lp.duals is not None:
        for family, dual in zip(v.model.row_family, lp.duals.tolist(), strict=True):
            if abs(dual) > 1e-9:
                out[family] += abs(dual)
    return dict(out)
