"""The trade-off frontier: sweep the investigation floor and plan each point independently.

Each point sets every borough's investigation floor to a share of its rostered investigators and
plans the horizon again, in its own process (points are independent, so they run in parallel).
A point reports what analysts argue about: share of demand covered, uncovered critical demand,
cancelled rest days and their cost, overtime, and the worst and mean projected delay in allocating
crimes to investigators.

Two levels of detail:

* ``"allocation"`` (the default): stage 1 only, the per-day allocation of officers from each
  source, as the LP optimum rounded and repaired to whole units (no MIP polishing: the stored
  plans' stage 1 is within about 0.2% of the LP bound on most days and the frontier compares
  points, not plans). Coverage, rest days, overtime and the investigators taken per borough are all
  decided there; named rostering only turns the counts into names (and its feedback loop rarely
  moves coverage by more than a few officers). This makes a point several times cheaper than a plan.
* ``"named"``: the full two-stage solve and the evaluator, exactly as a stored plan.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np

from planner.analysis.impact import ImpactSettings, InvestigatorDays, investigation_impact, project
from planner.domain import Floors, PlanningProblem, Policy, Struct
from planner.evaluate import evaluate
from planner.facts import on_duty_table
from planner.plan import Plan, Progress, StageStats
from planner.roster import Roster, officer_classes
from planner.rules import floor_retained
from planner.stages import Stage
from solver.allocation.inputs import DayInput, SupplyIndex, _floor_headroom, build_day_input
from solver.allocation.model import DayResult, solve_day
from solver.allocation.variables import REST_DAY
from solver.dask_executor import points_pool, shared_input
from solver.pipeline import SolveCancelled, solve, tours_by_day

DEFAULT_SHARES: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
MIP_SECONDS = 0.25  # per day, for the remainder MIP after rounding (plans use 1 s)


class FrontierPoint(Struct):
    investigation_floor: float  # share of rostered investigators kept on investigation
    detail: str  # "allocation" or "named"
    demand_officers: int
    covered_officers: int
    coverage_share: float
    uncovered_critical: int
    cancelled_rest_days: int
    rest_day_cost: float
    overtime_cost: float
    worst_delay: float  # days, worst borough-day
    mean_delay: float  # days, mean over boroughs of their mean delay
    worst_added_delay: float  # days the plan adds to the no-abstraction delay, worst borough-day
    mean_added_delay: float  # mean over boroughs of their mean added delay
    seconds: float
    solved_days: int = 0  # days whose stage 1 was solved for this point (others reuse a looser one)


class Frontier(Struct):
    points: list[FrontierPoint]
    wall_seconds: float
    processes: int


def with_investigation_floor(policy: Policy, share: float) -> Policy:
    """The policy with every borough's investigation floor set to `share` (other floors kept)."""

    def floors(f: Floors) -> Floors:
        return msgspec.structs.replace(f, investigation=share)

    return msgspec.structs.replace(
        policy,
        floors=floors(policy.floors),
        borough_floors={unit: floors(f) for unit, f in policy.borough_floors.items()},
    )


# --------------------------------------------------------------------------- one point


def allocation_point(
    problem: PlanningProblem, impact: ImpactSettings | None = None, cancel: Callable[[], bool] | None = None
) -> FrontierPoint:
    """Stage 1 for every day, with the figures a frontier point reports."""
    started = time.perf_counter()
    should_stop = cancel or (lambda: False)
    keys, class_of = officer_classes(problem)
    index = SupplyIndex(problem, keys, class_of)
    roster = Roster(problem)
    roles = problem.policy.roles
    boroughs = [b.code for b in problem.organisation.boroughs]
    n_days = (problem.end - problem.start).days + 1
    taken = np.zeros((len(boroughs), n_days), dtype=np.int64)
    row_of = {code: i for i, code in enumerate(boroughs)}
    demand = covered = critical = rest_days = 0
    rest_cost = overtime = 0.0
    for day, tours in tours_by_day(problem).items():
        if should_stop():
            raise SolveCancelled
        day_input = build_day_input(problem, roster, index, day, tours)
        result = solve_day(day_input, mip_time_limit=MIP_SECONDS)
        by_tour = {(t.event_id, t.tour_index): t for t in day_input.tours}
        got: dict[tuple[str, int, str], int] = defaultdict(int)
        for alloc in result.allocations:
            got[(alloc.event_id, alloc.tour_index, alloc.role)] += alloc.units
            demand_row = by_tour[(alloc.event_id, alloc.tour_index)]
            for post in alloc.posts:
                source, duty_role, rank, _ = keys[post.cls]
                if post.status == REST_DAY:
                    rest_days += post.count
                    rest_cost += post.count * demand_row.rest_cost
                else:
                    overtime += post.count * demand_row.on_cost[rank]
                    if duty_role == "investigation" and source in row_of:
                        taken[row_of[source], (day - problem.start).days] += post.count
        for event, tour, wanted in tours:
            for role, required in wanted:
                size = roles[role].size
                filled = min(required, got[(event.external_id, tour.index, role)])
                demand += required * size
                covered += filled * size
                if event.priority == "critical":
                    critical += (required - filled) * size
    delay = project(
        problem.organisation, _investigators(problem, boroughs, taken), impact or ImpactSettings()
    )
    return FrontierPoint(
        investigation_floor=problem.policy.floors.investigation,
        detail="allocation",
        demand_officers=demand,
        covered_officers=covered,
        coverage_share=covered / demand if demand else 1.0,
        uncovered_critical=critical,
        cancelled_rest_days=rest_days,
        rest_day_cost=round(rest_cost, 2),
        overtime_cost=round(overtime, 2),
        worst_delay=delay.worst_delay,
        mean_delay=delay.mean_delay,
        worst_added_delay=delay.worst_added_delay,
        mean_added_delay=delay.mean_added_delay,
        seconds=round(time.perf_counter() - started, 2),
    )


# --------------------------------------------------------------------------- all points, day by day


@dataclass
class _Totals:
    """One point's figures summed over some days, and investigators taken per borough and day."""

    demand: int = 0
    covered: int = 0
    critical: int = 0
    rest_days: int = 0
    rest_cost: float = 0.0
    overtime: float = 0.0
    taken: dict[dt.date, list[int]] = field(default_factory=dict)
    solves: int = 0


def _day_figures(
    totals: _Totals,
    result: DayResult,
    day_input: DayInput,
    tours: list[Any],
    keys: list[Any],
    roles: dict[str, Any],
    row_of: dict[str, int],
) -> None:
    by_tour = {(t.event_id, t.tour_index): t for t in day_input.tours}
    got: dict[tuple[str, int, str], int] = defaultdict(int)
    taken = [0] * len(row_of)
    for alloc in result.allocations:
        got[(alloc.event_id, alloc.tour_index, alloc.role)] += alloc.units
        demand_row = by_tour[(alloc.event_id, alloc.tour_index)]
        for post in alloc.posts:
            source, duty_role, rank, _ = keys[post.cls]
            if post.status == REST_DAY:
                totals.rest_days += post.count
                totals.rest_cost += post.count * demand_row.rest_cost
            else:
                totals.overtime += post.count * demand_row.on_cost[rank]
                if duty_role == "investigation" and source in row_of:
                    taken[row_of[source]] += post.count
    totals.taken[result.day] = taken
    for event, tour, wanted in tours:
        for role, required in wanted:
            size = roles[role].size
            filled = min(required, got[(event.external_id, tour.index, role)])
            totals.demand += required * size
            totals.covered += filled * size
            if event.priority == "critical":
                totals.critical += (required - filled) * size


def _fits_floor(taken: list[int], boroughs: list[str], headroom: dict[str, int]) -> bool:
    """Whether a day's plan keeps within these investigation floors (missing key: no floor)."""
    return all(n <= headroom.get(f"{code}|investigation", n) for code, n in zip(boroughs, taken, strict=True))


def sweep_days(
    problem: PlanningProblem,
    shares: tuple[float, ...],
    days: list[dt.date],
    should_stop: Callable[[], bool] = lambda: False,
) -> list[_Totals]:
    """Stage 1 of every share on these days, loosest floor first.

    A tighter floor only removes plans, so where the looser share's plan already keeps within the
    tighter floor it is that share's plan too (it was the best of a larger set): only days where
    it takes more investigators than the tighter floor allows are solved again. The day's supply is
    built once; only the investigation floor headroom differs between shares."""
    order = sorted(range(len(shares)), key=lambda i: shares[i])
    keys, class_of = officer_classes(problem)
    roster = Roster(problem)
    rows = np.arange(len(problem.officers))
    policies = {i: with_investigation_floor(problem.policy, shares[i]) for i in order}
    indexes = {
        i: SupplyIndex(msgspec.structs.replace(problem, policy=policies[i]), keys, class_of) for i in order
    }
    base_index = SupplyIndex(problem, keys, class_of)
    boroughs = [b.code for b in problem.organisation.boroughs]
    row_of = {code: i for i, code in enumerate(boroughs)}
    roles = problem.policy.roles
    demand = tours_by_day(problem)
    totals = [_Totals() for _ in shares]
    for day in days:
        if should_stop():
            raise SolveCancelled
        tours = demand.get(day, [])
        if not tours:
            continue
        base = build_day_input(problem, roster, base_index, day, tours)
        d = roster.day_index(day)
        result: DayResult | None = None
        last = _Totals()
        for i in order:
            day_input = msgspec.structs.replace(base, floors=_floor_headroom(indexes[i], roster, rows, d))
            if result is None or not _fits_floor(last.taken[day], boroughs, day_input.floors):
                result = solve_day(day_input, mip_time_limit=MIP_SECONDS)
                totals[i].solves += 1
            last = _Totals()
            _day_figures(last, result, day_input, tours, keys, roles, row_of)
            _add(totals[i], last)
    return totals


def _add(into: _Totals, part: _Totals) -> None:
    into.demand += part.demand
    into.covered += part.covered
    into.critical += part.critical
    into.rest_days += part.rest_days
    into.rest_cost += part.rest_cost
    into.overtime += part.overtime
    into.taken.update(part.taken)
    into.solves += part.solves


def _sweep_worker(problem_bytes: bytes, shares: tuple[float, ...], days: list[dt.date]) -> bytes:
    problem = msgspec.msgpack.decode(problem_bytes, type=PlanningProblem)
    return pickle.dumps(sweep_days(problem, shares, days))


def allocation_points(
    problem: PlanningProblem,
    shares: tuple[float, ...] = DEFAULT_SHARES,
    *,
    processes: int = 1,
    impact: ImpactSettings | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[FrontierPoint]:
    """Every share's stage-1 point, the days dealt out across processes (each sweeps all shares)."""
    started = time.perf_counter()
    should_stop = cancel or (lambda: False)
    days = list(tours_by_day(problem))
    processes = max(1, min(processes, len(days) or 1))
    if processes == 1:
        parts = [sweep_days(problem, shares, days, should_stop)]
    else:
        pool = points_pool(processes)
        try:
            problem_bytes = shared_input(pool, msgspec.msgpack.encode(problem))
            # interleaved days: the heavy summer and December weekends are shared out evenly
            futures = [
                pool.submit(_sweep_worker, problem_bytes, shares, days[k::processes])
                for k in range(processes)
            ]
            for future in futures:
                while not future.done():
                    if should_stop():
                        _stop(pool)
                        raise SolveCancelled
                    time.sleep(0.1)
            parts = [pickle.loads(f.result()) for f in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    boroughs = [b.code for b in problem.organisation.boroughs]
    n_days = (problem.end - problem.start).days + 1
    points = []
    for i, share in enumerate(shares):
        total = _Totals()
        for part in parts:
            _add(total, part[i])
        taken = np.zeros((len(boroughs), n_days), dtype=np.int64)
        for day, row in total.taken.items():
            taken[:, (day - problem.start).days] = row
        scoped = msgspec.structs.replace(problem, policy=with_investigation_floor(problem.policy, share))
        delay = project(
            problem.organisation, _investigators(scoped, boroughs, taken), impact or ImpactSettings()
        )
        points.append(
            FrontierPoint(
                investigation_floor=share,
                detail="allocation",
                demand_officers=total.demand,
                covered_officers=total.covered,
                coverage_share=total.covered / total.demand if total.demand else 1.0,
                uncovered_critical=total.critical,
                cancelled_rest_days=total.rest_days,
                rest_day_cost=round(total.rest_cost, 2),
                overtime_cost=round(total.overtime, 2),
                worst_delay=delay.worst_delay,
                mean_delay=delay.mean_delay,
                worst_added_delay=delay.worst_added_delay,
                mean_added_delay=delay.mean_added_delay,
                seconds=round(time.perf_counter() - started, 2),
                solved_days=total.solves,
            )
        )
    return points


def _investigators(problem: PlanningProblem, boroughs: list[str], taken: np.ndarray) -> InvestigatorDays:
    table = on_duty_table(problem, problem.start, problem.end)
    on = [table.on_duty[table.rows[(code, "investigation")]] for code in boroughs]
    return InvestigatorDays(
        first=problem.start,
        boroughs=boroughs,
        on_duty=[[int(x) for x in row] for row in on],
        abstracted=[[int(x) for x in row] for row in taken],
        floor=[
            [floor_retained(int(x), problem.policy.floors_for(code).investigation) for x in row]
            for code, row in zip(boroughs, on, strict=True)
        ],
    )


def named_point(problem: PlanningProblem, impact: ImpactSettings | None = None) -> FrontierPoint:
    """The full two-stage plan of one point, scored by the evaluator."""
    started = time.perf_counter()
    plan = solve(problem, workers=1)
    s = evaluate(problem, plan).summary
    delay = investigation_impact(problem, plan, impact)
    return FrontierPoint(
        investigation_floor=problem.policy.floors.investigation,
        detail="named",
        demand_officers=s.demand_officers,
        covered_officers=s.covered_officers,
        coverage_share=s.coverage_share,
        uncovered_critical=s.uncovered_critical,
        cancelled_rest_days=s.cancelled_rest_days,
        rest_day_cost=round(s.rest_day_cost, 2),
        overtime_cost=round(s.overtime_cost, 2),
        worst_delay=delay.worst_delay,
        mean_delay=delay.mean_delay,
        worst_added_delay=delay.worst_added_delay,
        mean_added_delay=delay.mean_added_delay,
        seconds=round(time.perf_counter() - started, 2),
    )


def _run_point(problem_bytes: bytes, share: float, detail: str, impact_bytes: bytes) -> FrontierPoint:
    """One point in a worker process."""
    problem = msgspec.msgpack.decode(problem_bytes, type=PlanningProblem)
    impact = msgspec.msgpack.decode(impact_bytes, type=ImpactSettings)
    problem = msgspec.structs.replace(problem, policy=with_investigation_floor(problem.policy, share))
    if detail == "named":
        return named_point(problem, impact)
    return allocation_point(problem, impact)


# --------------------------------------------------------------------------- the sweep


def frontier(
    problem: PlanningProblem,
    shares: tuple[float, ...] = DEFAULT_SHARES,
    *,
    detail: str = "allocation",
    processes: int | None = None,
    impact: ImpactSettings | None = None,
    progress: Callable[[Progress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Frontier:
    """Plan every floor share: stage 1 in one day-by-day sweep over all shares with the days shared
    out across `processes` ("allocation"), or each share's full plan in its own process ("named")."""
    if detail not in ("allocation", "named"):
        raise ValueError(f"unknown frontier detail {detail!r}")
    report = progress or (lambda _p: None)
    should_stop = cancel or (lambda: False)
    processes = max(1, min(len(shares), processes or os.cpu_count() or 1))
    started = time.perf_counter()
    problem_bytes = msgspec.msgpack.encode(problem)
    impact_bytes = msgspec.msgpack.encode(impact or ImpactSettings())
    points: list[FrontierPoint] = []
    if detail == "allocation":
        # all shares in one sweep of the days, the days split across processes
        points = allocation_points(problem, shares, processes=processes, impact=impact, cancel=should_stop)
        _report(report, len(shares), len(shares))
    elif processes == 1:
        for share in shares:
            if should_stop():
                raise SolveCancelled
            points.append(_run_point(problem_bytes, share, detail, impact_bytes))
            _report(report, len(points), len(shares))
    else:
        pool = points_pool(processes)
        try:
            shared = shared_input(pool, problem_bytes)
            futures: list[Future[FrontierPoint]] = [
                pool.submit(_run_point, shared, floor, detail, impact_bytes) for floor in shares
            ]
            for future in futures:
                while not future.done():
                    if should_stop():
                        _stop(pool)
                        raise SolveCancelled
                    time.sleep(0.1)
                points.append(future.result())
                _report(report, len(points), len(shares))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return Frontier(points=points, wall_seconds=round(time.perf_counter() - started, 2), processes=processes)


def _stop(pool: Executor) -> None:
    """Cancel queued points and end running ones now: a point can take minutes."""
    for future_process in list(getattr(pool, "_processes", {}).values()):
        future_process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _report(report: Callable[[Progress], None], done: int, total: int) -> None:
    report(
        Progress(
            stage=Stage.ALLOCATION, done=done, total=total, message=f"frontier: {done} of {total} points"
        )
    )


def frontier_plan(result: Frontier) -> Plan:
    """A frontier as a Plan record for the durable job store: no assignments, one stage per point.

    The job machinery stores Plans; a frontier result travels as the stages' details, so every job
    guarantee (progress, cancel, crash recovery, exactly one result) applies unchanged."""
    stages = [
        StageStats(
            name=Stage.FRONTIER,
            status="DONE",
            seconds=p.seconds,
            details={
                name: float(getattr(p, name))
                for name in FrontierPoint.__struct_fields__
                if name not in ("detail", "seconds")
            },
        )
        for p in result.points
    ]
    stages.append(
        StageStats(
            name=Stage.FRONTIER_TOTAL,
            status="DONE",
            seconds=result.wall_seconds,
            details={
                "processes": float(result.processes),
                "named": float(result.points[0].detail == "named") if result.points else 0.0,
            },
        )
    )
    return Plan(stages=stages, method="frontier")


def points_of(stages: list[StageStats]) -> list[FrontierPoint]:
    """Frontier points back from a stored frontier Plan's stages."""
    named = any(s.name == Stage.FRONTIER_TOTAL and s.details.get("named") for s in stages)
    out = []
    for s in stages:
        if s.name != Stage.FRONTIER:
            continue
        d = s.details
        out.append(
            FrontierPoint(
                investigation_floor=d["investigation_floor"],
                detail="named" if named else "allocation",
                demand_officers=int(d["demand_officers"]),
                covered_officers=int(d["covered_officers"]),
                coverage_share=d["coverage_share"],
                uncovered_critical=int(d["uncovered_critical"]),
                cancelled_rest_days=int(d["cancelled_rest_days"]),
                rest_day_cost=d["rest_day_cost"],
                overtime_cost=d["overtime_cost"],
                worst_delay=d["worst_delay"],
                mean_delay=d["mean_delay"],
                worst_added_delay=d.get("worst_added_delay", 0.0),
                mean_added_delay=d.get("mean_added_delay", 0.0),
                solved_days=int(d.get("solved_days", 0)),
                seconds=s.seconds,
            )
        )
    return out


def solve_frontier(
    problem: PlanningProblem,
    *,
    progress: Callable[[Progress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    workers: int | None = None,
) -> Plan:
    """Entry point for a durable frontier job (the worker calls it like `solver.solve`)."""
    return frontier_plan(frontier(problem, processes=workers, progress=progress, cancel=cancel))


def solve_frontier_named(
    problem: PlanningProblem,
    *,
    progress: Callable[[Progress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    workers: int | None = None,
) -> Plan:
    """As `solve_frontier`, with the full two-stage solve at every point."""
    result = frontier(problem, detail="named", processes=workers, progress=progress, cancel=cancel)
    return frontier_plan(result)


__all__ = [
    "DEFAULT_SHARES",
    "Frontier",
    "FrontierPoint",
    "frontier",
    "solve_frontier",
    "with_investigation_floor",
]
