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

import multiprocessing as mp
import os
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor

import msgspec
import numpy as np

from planner.analysis.impact import ImpactSettings, InvestigatorDays, investigation_impact, project
from planner.domain import Floors, PlanningProblem, Policy, Struct
from planner.evaluate import evaluate
from planner.facts import on_duty_table
from planner.plan import Plan, Progress, StageStats
from planner.roster import Roster, officer_classes
from planner.rules import floor_retained
from solver.allocation.inputs import SupplyIndex, build_day_input
from solver.allocation.model import solve_day
from solver.allocation.variables import REST_DAY
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
    """Plan every floor share in its own process, at most `processes` at a time."""
    if detail not in ("allocation", "named"):
        raise ValueError(f"unknown frontier detail {detail!r}")
    report = progress or (lambda _p: None)
    should_stop = cancel or (lambda: False)
    processes = max(1, min(len(shares), processes or os.cpu_count() or 1))
    started = time.perf_counter()
    problem_bytes = msgspec.msgpack.encode(problem)
    impact_bytes = msgspec.msgpack.encode(impact or ImpactSettings())
    points: list[FrontierPoint] = []
    if processes == 1:
        for share in shares:
            if should_stop():
                raise SolveCancelled
            points.append(_run_point(problem_bytes, share, detail, impact_bytes))
            _report(report, len(points), len(shares))
    else:
        pool = ProcessPoolExecutor(max_workers=processes, mp_context=mp.get_context("spawn"))
        try:
            futures: list[Future[FrontierPoint]] = [
                pool.submit(_run_point, problem_bytes, share, detail, impact_bytes) for share in shares
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


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel queued points and end running ones now: a point can take minutes."""
    for future_process in list(getattr(pool, "_processes", {}).values()):
        future_process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _report(report: Callable[[Progress], None], done: int, total: int) -> None:
    report(
        Progress(stage="allocation", done=done, total=total, message=f"frontier: {done} of {total} points")
    )


def frontier_plan(result: Frontier) -> Plan:
    """A frontier as a Plan record for the durable job store: no assignments, one stage per point.

    The job machinery stores Plans; a frontier result travels as the stages' details, so every job
    guarantee (progress, cancel, crash recovery, exactly one result) applies unchanged."""
    stages = [
        StageStats(
            name="frontier",
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
            name="frontier-total",
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
    named = any(s.name == "frontier-total" and s.details.get("named") for s in stages)
    out = []
    for s in stages:
        if s.name != "frontier":
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
