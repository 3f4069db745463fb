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
from solver.allocation.families import demand_cover, duty_floors, fairness, officer_supply, unit_composition
from solver.allocation.inputs import ClassSupply, DayInput
from solver.allocation.variables import ON_DUTY, REST_DAY, AllocationVariables, PostKey, UnitKey
from solver.linear import Solution

INTEGRALITY_TOLERANCE = 1e-6


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
    seconds: float
    variables: int
    rows: int
    allocations: list[UnitAllocation]
    shortfalls: list[RoleShortfall]
    family_duals: dict[str, float]  # sum of |dual| per constraint family: what binds today


def _fits(supply: ClassSupply, slot: Slot) -> bool:
    return supply.rank in slot.ranks and all(s in supply.skills for s in slot.skills)


def _post_cost(day: DayInput, tour: int, supply: ClassSupply, status: str) -> float:
    demand = day.tours[tour]
    travel = demand.travel[supply.source] * day.travel_weight
    if status == ON_DUTY:
        return demand.on_cost[supply.rank] + travel
    return demand.rest_cost + travel


def add_variables(day: DayInput) -> AllocationVariables:
    """Units per (tour, role, source), shortfall per (tour, role) and posts per class and status.

    Posts are only created where the class fits the slot, the source is a candidate for the
    event, and someone in the class could work the tour's hours: variables that cannot matter
    are left out."""
    v = AllocationVariables()
    by_source: dict[str, list[int]] = defaultdict(list)
    for index, supply in enumerate(day.classes):
        by_source[supply.source].append(index)
    for t, tour in enumerate(day.tours):
        for role, demand in tour.demands:
            spec = day.roles[role]
            weight = day.uncovered_weight[tour.priority] * spec.size
            v.shortfall[(t, role)] = v.model.add_var(0.0, float(demand), weight, integer=False)
            for source in tour.travel:
                options = _slot_options(day, by_source[source], spec.slots, tour.window)
                most = min(sum(n for _, _, n in opts) // slot.count for slot, opts in zip(spec.slots, options, strict=True))
                if most <= 0:
                    continue
                unit = UnitKey(tour=t, role=role, source=source)
                v.units[unit] = v.model.add_var(0.0, float(min(demand, most)), 0.0)
                for slot_index, opts in enumerate(options):
                    for cls, status, available in opts:
                        cost = _post_cost(day, t, day.classes[cls], status)
                        v.posts[PostKey(unit=unit, slot=slot_index, cls=cls, status=status)] = v.model.add_var(
                            0.0, float(available), cost
                        )
    return v


def _slot_options(
    day: DayInput, classes: list[int], slots: tuple[Slot, ...], window: int
) -> list[list[tuple[int, str, int]]]:
    out = []
    for slot in slots:
        opts = []
        for cls in classes:
            supply = day.classes[cls]
            if not _fits(supply, slot):
                continue
            if supply.on_by_window[window] > 0:
                opts.append((cls, ON_DUTY, supply.on_by_window[window]))
            if supply.rest_by_window[window] > 0:
                opts.append((cls, REST_DAY, supply.rest_by_window[window]))
        out.append(opts)
    return out


def build(day: DayInput) -> AllocationVariables:
    """The day's model, family by family: this list is the model's table of contents."""
    v = add_variables(day)
    demand_cover.add(day, v)
    unit_composition.add(day, v)
    officer_supply.add(day, v)
    duty_floors.add(day, v)
    fairness.add(day, v)
    return v


def solve_day(day: DayInput, *, mip_time_limit: float = 5.0) -> DayResult:
    started = time.perf_counter()
    v = build(day)
    lp = v.model.solve(relax=True, solver="glop")
    if lp.values is None or lp.objective is None:
        raise RuntimeError(f"stage-1 LP for {day.day} returned {lp.status}")  # always feasible by design
    integral_vars = np.asarray(v.model.integer)
    fractional = np.abs(lp.values - np.round(lp.values))[integral_vars]
    lp_integral = bool(fractional.size == 0 or fractional.max() <= INTEGRALITY_TOLERANCE)
    best: Solution = lp
    if not lp_integral:
        # HiGHS finds its own start quickly; passing a hint through model_builder crashes it.
        mip = v.model.solve(relax=False, solver="highs", time_limit=mip_time_limit)
        if mip.values is None:
            raise RuntimeError(f"stage-1 MIP for {day.day} found no solution: {mip.status}")
        best = mip
    assert best.values is not None and best.objective is not None
    return DayResult(
        day=day.day,
        status="OPTIMAL" if lp_integral else best.status,
        objective=best.objective,
        bound=lp.objective,
        lp_integral=lp_integral,
        seconds=time.perf_counter() - started,
        variables=v.model.num_vars,
        rows=v.model.num_rows,
        allocations=_allocations(day, v, best.values),
        shortfalls=_shortfalls(day, v, best.values),
        family_duals=_family_duals(v, lp),
    )


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
                    event_id=tour.event_id, tour_index=tour.tour_index, role=role,
                    required=required, filled=required - short,
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
