"""The solve of a whole planning horizon, down to named officers.

1. Blocks (solver/blocks.py): Tuesday-to-Monday weeks in two phases, each week's days decided
   hardest first against the roster with every decided deployment applied, allocation (stage 1,
   solver/allocation) and named rostering (stage 2, solver/rostering.py) together per day.
   Weeks of one phase run in parallel worker processes; the second phase sees the first.
2. Weekly hours across weeks are re-checked when the phases merge.
3. Completion (solver/completion.py): every shortfall is checked again against the final roster
   over all sources with an exact unit-formation model; lawful cover at a price the policy
   accepts is taken.
4. Bound (solver/bound.py): a relaxation of the problem the delivered plan solves, per day over
   the published roster with every lawful change the solver may make; the headline gap is the
   delivered plan's cost (by the one evaluator) against it.
What remains uncovered is a shortfall with measured reasons, never an exception.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np

from planner.domain import PlanningProblem
from planner.plan import Allocation, Assignment, Plan, Progress, StageStats
from planner.roster import IntArray, Roster, officer_classes
from planner.rules import event_tours
from solver.allocation.inputs import ClassKey, SupplyIndex
from solver.allocation.model import QUIET_DAY_GAP
from solver.blocks import BlockResult, BlockTask, phase_blocks, run_block
from solver.live import DayPlanner, TourDemands, apply, take_back

ProgressCallback = Callable[[Progress], None]
CancelCheck = Callable[[], bool]
# Horizons longer than this many days skip the MIP on quiet days (solve_day's quiet_gap).
LONG_HORIZON_DAYS = 31


class SolveCancelled(Exception):
    """The caller asked the solve to stop."""


def tours_by_day(problem: PlanningProblem) -> dict[dt.date, TourDemands]:
    out: dict[dt.date, TourDemands] = defaultdict(list)
    for event in problem.events:
        if event.status != "planned" or not event.demand:
            continue
        demands = [(d.role, d.count) for d in event.demand if d.count > 0]
        for tour in event_tours(event, problem.policy):
            if problem.start <= tour.day <= problem.end:
                out[tour.day].append((event, tour, list(demands)))
    return dict(sorted(out.items()))


# --------------------------------------------------------------------------- worker processes


@dataclass
class _WorkerState:
    """What a worker process holds for the problem it was started with."""

    problem: PlanningProblem
    class_keys: list[ClassKey]
    class_of: IntArray
    _planner: DayPlanner | None = None
    _demand: dict[dt.date, TourDemands] | None = None

    @property
    def planner(self) -> DayPlanner:
        """The published roster and its day planner, built on first use and restored after each task."""
        if self._planner is None:
            roster = Roster(self.problem)
            index = SupplyIndex(self.problem, self.class_keys, self.class_of)
            self._planner = DayPlanner(self.problem, roster, index)
        return self._planner

    @property
    def demand(self) -> dict[dt.date, TourDemands]:
        if self._demand is None:
            self._demand = tours_by_day(self.problem)
        return self._demand


_worker: _WorkerState | None = None


def _init_worker(problem_bytes: bytes) -> None:
    global _worker
    problem = msgspec.msgpack.decode(problem_bytes, type=PlanningProblem)
    keys, class_of = officer_classes(problem)
    _worker = _WorkerState(problem=problem, class_keys=keys, class_of=class_of)


def worker_state() -> _WorkerState:
    if _worker is None:
        raise RuntimeError("solver worker used before _init_worker")
    return _worker


def plan_block(task: BlockTask) -> BlockResult:
    """One block of days, allocated and named (runs in a worker)."""
    state = worker_state()
    return run_block(state.problem, state.planner, state.demand, task)


class InProcessExecutor(Executor):
    """Runs tasks in this process: for one worker or small problems, where starting processes
    would cost more than the solve."""

    def __init__(self, problem_bytes: bytes) -> None:
        _init_worker(problem_bytes)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future, as a pool would
            future.set_exception(exc)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        global _worker
        _worker = None


def _executor(problem_bytes: bytes, workers: int, days: int) -> Executor:
    if workers <= 1 or days < 14:
        return InProcessExecutor(problem_bytes)
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=mp.get_context("spawn"),
        initializer=_init_pool_worker,
        initargs=(problem_bytes,),
    )


def _init_pool_worker(problem_bytes: bytes) -> None:
    # HiGHS' MIP writes debugging lines straight to file descriptor 1; a worker reports only
    # through its pipe, so its standard output can go.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    _init_worker(problem_bytes)


# --------------------------------------------------------------------------- orchestration


def solve(
    problem: PlanningProblem,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    workers: int | None = None,
) -> Plan:
    """Plan every event tour in the problem's horizon down to named officers."""
    from solver.bound import plan_bound_days
    from solver.completion import complete, cover_context
    from solver.quality import assemble, measure_quality

    report = progress or (lambda _p: None)
    should_stop = cancel or (lambda: False)
    workers = workers or max(1, min(2, os.cpu_count() or 1))
    demand = tours_by_day(problem)
    days = list(demand)
    problem_bytes = msgspec.msgpack.encode(problem)
    quiet_gap = QUIET_DAY_GAP if _horizon_days(problem) > LONG_HORIZON_DAYS else 0.0
    wt = problem.policy.working_time
    first, second = phase_blocks(days, wt.max_consecutive_work_days + 1)
    stages: list[StageStats] = []

    started = time.perf_counter()
    with _executor(problem_bytes, workers, len(days)) as pool:
        # The bound's day models need nothing from the plan: they are queued behind the blocks
        # and fill the pool's idle moments.
        tracker = _BlockProgress(report, should_stop, len(first) + len(second), len(days))
        phase_one = tracker.run(pool, [BlockTask(days=b, fixed=[], quiet_gap=quiet_gap) for b in first])
        master = Roster(problem)
        decided = [a for r in phase_one for a in r.assignments]
        apply(master, decided)
        dropped = enforce_weekly_hours(problem, master, decided)
        reach = wt.max_consecutive_work_days + 1
        tasks = [
            BlockTask(days=b, fixed=_near(decided, b[0], b[-1], reach), quiet_gap=quiet_gap) for b in second
        ]
        bound_futures = plan_bound_days(pool, days)
        phase_two = tracker.run(pool, tasks)
        more = [a for r in phase_two for a in r.assignments]
        apply(master, more)
        decided += more
        dropped += enforce_weekly_hours(problem, master, decided)
        results = phase_one + phase_two
        stages.append(_allocation_stats(results, dropped, time.perf_counter() - started))

        completion_started = time.perf_counter()
        report(Progress(stage="completion", done=0, total=1, message="re-checking every shortfall"))
        ctx = cover_context(problem, master)
        completed = complete(problem, master, demand, decided, should_stop, ctx)
        decided = completed.assignments
        stages.append(
            StageStats(
                name="completion",
                status="DONE",
                seconds=time.perf_counter() - completion_started,
                details={
                    "units_added": float(completed.units_added),
                    "officers_added": float(completed.officers_added),
                    "tours_checked": float(completed.tours_checked),
                },
            )
        )
        bound_started = time.perf_counter()
        bound = _collect_bound(bound_futures, report, should_stop)
        bound_wait = time.perf_counter() - bound_started

    plan = assemble(problem, demand, ctx, decided, stages)
    quality = measure_quality(problem, plan, bound, bound_wait)
    plan = msgspec.structs.replace(plan, quality=quality)
    plan.stages.append(quality.stage())
    report(
        Progress(
            stage="done",
            done=1,
            total=1,
            message="plan ready",
            objective=quality.objective,
            bound=quality.bound,
            gap=quality.gap,
        )
    )
    return plan


class _BlockProgress:
    def __init__(self, report: ProgressCallback, should_stop: CancelCheck, blocks: int, days: int) -> None:
        self.report, self.should_stop = report, should_stop
        self.blocks, self.days = blocks, days
        self.done_blocks = self.done_days = 0

    def run(self, pool: Executor, tasks: list[BlockTask]) -> list[BlockResult]:
        # Busiest blocks first so that one worker is not left with Carnival's week at the end.
        order = sorted(range(len(tasks)), key=lambda i: -len(tasks[i].days))
        futures = {i: pool.submit(plan_block, tasks[i]) for i in order}
        out: dict[int, BlockResult] = {}
        for i in order:
            if self.should_stop():
                for f in futures.values():
                    f.cancel()
                raise SolveCancelled
            out[i] = futures[i].result()
            self.done_blocks += 1
            self.done_days += len(tasks[i].days)
            self.report(
                Progress(
                    stage="allocation",
                    done=self.done_days,
                    total=self.days,
                    message=f"planned {self.done_blocks} of {self.blocks} weeks ({self.done_days} days)",
                )
            )
        return [out[i] for i in range(len(tasks))]


def _collect_bound(futures: list[Future[Any]], report: ProgressCallback, should_stop: CancelCheck) -> Any:
    from solver.bound import combine

    parts = []
    for n, future in enumerate(futures, start=1):
        if should_stop():
            for f in futures:
                f.cancel()
            raise SolveCancelled
        parts.extend(future.result())
        report(Progress(stage="bound", done=n, total=len(futures), message="bounding the delivered plan"))
    return combine(parts)


def _near(assignments: list[Assignment], first: dt.date, last: dt.date, reach: int) -> list[Assignment]:
    lo, hi = first - dt.timedelta(days=reach), last + dt.timedelta(days=reach)
    return [a for a in assignments if lo <= a.day <= hi]


def _horizon_days(problem: PlanningProblem) -> int:
    return (problem.end - problem.start).days + 1


def enforce_weekly_hours(problem: PlanningProblem, roster: Roster, assignments: list[Assignment]) -> int:
    """Weeks of one phase are planned in parallel and each sees only its own hours: where two of
    them together take an officer past the average-weekly-hours cap, whole units are taken back
    (lowest priority, latest first) until the cap holds. Returns the units taken back; the
    completion stage may re-cover them lawfully. Removes them from `assignments` in place."""
    over = np.argwhere(roster.window_hours > roster.window_cap[None, :] + 1e-6)
    if len(over) == 0:
        return 0
    weights = problem.policy.weights.uncovered
    priority = {e.external_id: weights[e.priority] for e in problem.events}
    units: dict[str, list[Assignment]] = defaultdict(list)
    by_officer: dict[str, list[Assignment]] = defaultdict(list)
    for a in assignments:
        units[a.unit_id].append(a)
        by_officer[a.service_number].append(a)
    dropped: set[str] = set()
    for row, window in over.tolist():
        officer = roster.officers[row].service_number
        mine = [a for a in by_officer[officer] if roster.window_of_day[roster.day_index(a.day)] == window]
        for a in sorted(mine, key=lambda a: (priority[a.event_id], -a.day.toordinal())):
            if roster.window_hours[row, window] <= roster.window_cap[window] + 1e-6:
                break
            if a.unit_id in dropped:
                continue
            dropped.add(a.unit_id)
            members = units[a.unit_id]
            take_back(
                roster, [(roster.day_index(a.day), roster.rows_of([m.service_number for m in members]))]
            )
    if dropped:
        assignments[:] = [a for a in assignments if a.unit_id not in dropped]
    return len(dropped)


def _allocation_stats(results: list[BlockResult], dropped: int, seconds: float) -> StageStats:
    days = [d for r in results for d in r.days]
    objective = sum(r.objective for r in days)
    bound = sum(r.bound for r in days)
    return StageStats(
        name="allocation",
        status="OPTIMAL" if all(r.status == "OPTIMAL" for r in days) else "FEASIBLE",
        seconds=seconds,
        objective=objective,
        bound=bound,
        gap=_gap(objective, bound),
        details={
            "days": float(len(days)),
            "blocks": float(len(results)),
            "lp_integral_days": float(sum(r.lp_integral for r in days)),
            "variables": float(sum(r.variables for r in days)),
            "rows": float(sum(r.rows for r in days)),
            "solve_seconds_sum": sum(r.seconds for r in days),
            "day_resolves": float(sum(r.resolves for r in results)),
            "days_redecided": float(sum(r.redecided for r in results)),
            "units_not_formed_first": float(sum(r.units_not_formed_first for r in results)),
            "units_not_formed": float(sum(u.units for r in results for u in r.unfilled)),
            "units_taken_back_weekly_hours": float(dropped),
        },
    )


def _gap(objective: float, bound: float) -> float:
    return max(0.0, objective - bound) / max(abs(objective), 1e-9)


def allocations_of(assignments: list[Assignment], day_of: dict[tuple[str, int], dt.date]) -> list[Allocation]:
    """Stage-1 style counts (units per event tour, role and source) of named assignments."""
    units_deployed: dict[tuple[str, int, str, str], set[str]] = defaultdict(set)
    rest_officers: dict[tuple[str, int, str, str], int] = defaultdict(int)
    for a in assignments:
        key = (a.event_id, a.tour_index, a.role, a.source)
        units_deployed[key].add(a.unit_id)
        rest_officers[key] += a.rest_day_cancelled
    return [
        Allocation(
            event_id=eid,
            tour_index=ti,
            day=day_of[(eid, ti)],
            role=role,
            source=source,
            count=len(ids),
            rest_day_officers=rest_officers[(eid, ti, role, source)],
        )
        for (eid, ti, role, source), ids in sorted(units_deployed.items())
    ]


__all__ = ["SolveCancelled", "allocations_of", "solve", "tours_by_day"]
