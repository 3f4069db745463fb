"""The solve of a whole planning horizon, down to named officers: `solve` is its table of contents.

1. Executor (solver/executor.py): where tasks run; the problem is sent once per worker.
2. Allocation (solver/phases.py, solver/blocks.py): Tuesday-to-Monday weeks in two phases, each
   week's days decided hardest first against the roster with every decided deployment applied,
   stage-1 allocation (solver/allocation) and named rostering (solver/rostering.py) together per
   day; weeks of one phase run as parallel tasks, weekly hours re-checked as phases merge.
3. Bound (solver/bound.py): a relaxation of the problem the delivered plan solves, per day over
   the published roster with every lawful change the solver may make; its tasks need nothing
   from the plan, so they fill workers left idle at the end of a phase and run alongside
   completion.
4. Completion (solver/completion.py): every shortfall checked again against the final roster
   over all sources with an exact unit-formation model; lawful cover at a price the policy
   accepts is taken.
5. Assembly (solver/assembly.py): the plan, its shortfalls with measured reasons; its quality
   (solver/quality.py): the delivered plan's cost by the one evaluator against the bound.
What remains uncovered is a shortfall with measured reasons, never an exception.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Future

import msgspec

from planner.domain import PlanningProblem
from planner.plan import Plan, Progress, StageStats
from planner.stages import Stage
from solver.allocation.model import QUIET_DAY_GAP
from solver.assembly import allocations_of, assemble
from solver.bound import Bound, BoundTasks, DayBound, combine
from solver.completion import Completion, complete, cover_context
from solver.executor import ExecutorFactory, SolveCancelled, default_executor
from solver.live import tours_by_day
from solver.phases import CancelCheck, Phases, ProgressCallback, cancel_all
from solver.quality import measure_quality

# Horizons longer than this many days skip the MIP on quiet days (solve_day's quiet_gap).
LONG_HORIZON_DAYS = 31


def solve(
    problem: PlanningProblem,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    workers: int | None = None,
    executor: ExecutorFactory = default_executor,
) -> Plan:
    """Plan every event tour in the problem's horizon down to named officers.

    `executor(problem, workers, demand_days)` gives where tasks run (solver/executor.py)."""
    report = progress or (lambda _p: None)
    should_stop = cancel or (lambda: False)
    workers = workers or max(1, min(2, os.cpu_count() or 1))
    demand = tours_by_day(problem)
    days = list(demand)
    quiet_gap = QUIET_DAY_GAP if (problem.end - problem.start).days + 1 > LONG_HORIZON_DAYS else 0.0
    phases = Phases(problem, demand, quiet_gap, report, should_stop)

    with executor(problem, workers, len(days)) as pool:
        bound_tasks = BoundTasks(days, workers)
        phases.run_first(pool, bound_tasks)
        allocated = phases.run_second(pool, bound_tasks)
        bound_tasks.submit_rest(pool)
        completion_started = time.perf_counter()
        report(Progress(stage=Stage.COMPLETION, done=0, total=1, message="re-checking every shortfall"))
        ctx = cover_context(problem, allocated.roster)
        completed = complete(problem, allocated.roster, demand, allocated.assignments, should_stop, ctx)
        completion = _completion_stats(completed, time.perf_counter() - completion_started)
        bound_started = time.perf_counter()
        bound = _collect_bound(bound_tasks.futures, report, should_stop)
        bound_wait = time.perf_counter() - bound_started

    plan = assemble(problem, demand, ctx, completed.assignments, [allocated.stats, completion])
    quality = measure_quality(problem, plan, bound, bound_wait)
    plan = msgspec.structs.replace(plan, quality=quality)
    plan.stages.append(quality.stage())
    report(
        Progress(
            stage=Stage.DONE,
            done=1,
            total=1,
            message="plan ready",
            objective=quality.objective,
            bound=quality.bound,
            gap=quality.gap,
        )
    )
    return plan


def _completion_stats(completed: Completion, seconds: float) -> StageStats:
    return StageStats(
        name=Stage.COMPLETION,
        status="DONE",
        seconds=seconds,
        details={
            "units_added": float(completed.units_added),
            "officers_added": float(completed.officers_added),
            "tours_checked": float(completed.tours_checked),
        },
    )


def _collect_bound(
    futures: list[Future[list[DayBound]]], report: ProgressCallback, should_stop: CancelCheck
) -> Bound:
    parts = []
    for n, future in enumerate(futures, start=1):
        if should_stop():
            cancel_all(futures)
            raise SolveCancelled
        parts.extend(future.result())
        report(Progress(stage=Stage.BOUND, done=n, total=len(futures), message="bounding the delivered plan"))
    return combine(parts)


__all__ = ["SolveCancelled", "allocations_of", "solve", "tours_by_day"]
