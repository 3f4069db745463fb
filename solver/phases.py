"""Allocation of the whole horizon: weeks of days in two phases on the solve's executor.

Weeks of one phase are a whole week apart (solver/blocks.py, `phase_blocks`), so they run as
independent tasks; the second phase's weeks see every deployment of the first near them. The one
rule that reaches across a week, the average weekly hours over a reference period, is re-checked
when each phase is merged into the horizon's roster (`enforce_weekly_hours`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import Any

import numpy as np

from planner.domain import PlanningProblem
from planner.plan import Assignment, Progress, StageStats
from planner.roster import Roster
from planner.stages import Stage
from solver.blocks import BlockResult, BlockTask, hardness, phase_blocks, plan_block
from solver.bound import BoundTasks
from solver.executor import SolveCancelled, SolveExecutor
from solver.live import TourDemands, apply, take_back

ProgressCallback = Callable[[Progress], None]
CancelCheck = Callable[[], bool]
# How often a wait for blocks looks at the caller's cancel flag.
CANCEL_POLL_SECONDS = 0.5


@dataclass
class Allocated:
    """The horizon after both phases: every deployment, applied to `roster`."""

    roster: Roster
    assignments: list[Assignment]
    stats: StageStats


class Phases:
    """The two phases of weeks for one horizon; `second` may start once `first` is merged."""

    def __init__(
        self,
        problem: PlanningProblem,
        demand: dict[dt.date, TourDemands],
        quiet_gap: float,
        report: ProgressCallback,
        should_stop: CancelCheck,
    ) -> None:
        self.problem = problem
        self.quiet_gap = quiet_gap
        wt = problem.policy.working_time
        self.reach = wt.max_consecutive_work_days + 1
        days = list(demand)
        self.first, self.second = phase_blocks(days, self.reach)
        # A week's work grows with what is at stake on its days (Carnival's week takes longest).
        self.work = {day: hardness(tours, problem) for day, tours in demand.items()}
        self.started = time.perf_counter()
        self.tracker = _BlockProgress(
            report, should_stop, len(self.first) + len(self.second), len(days), self.work
        )
        self.roster = Roster(problem)
        self.assignments: list[Assignment] = []
        self.results: list[BlockResult] = []
        self.dropped = 0

    def run_first(self, pool: SolveExecutor, filler: BoundTasks) -> None:
        self._merge(self.tracker.run(pool, [self._task(b) for b in self.first], filler))

    def run_second(self, pool: SolveExecutor, filler: BoundTasks) -> Allocated:
        self._merge(self.tracker.run(pool, [self._task(b) for b in self.second], filler))
        stats = allocation_stats(self.results, self.dropped, time.perf_counter() - self.started)
        return Allocated(roster=self.roster, assignments=self.assignments, stats=stats)

    def _task(self, days: list[dt.date]) -> BlockTask:
        fixed = _near(self.assignments, days[0], days[-1], self.reach) if self.assignments else []
        return BlockTask(days=days, fixed=fixed, quiet_gap=self.quiet_gap)

    def _merge(self, results: list[BlockResult]) -> None:
        more = [a for r in results for a in r.assignments]
        apply(self.roster, more)
        self.assignments += more
        self.results += results
        self.dropped += enforce_weekly_hours(self.problem, self.roster, self.assignments)


class _BlockProgress:
    def __init__(
        self,
        report: ProgressCallback,
        should_stop: CancelCheck,
        blocks: int,
        days: int,
        work: dict[dt.date, float],
    ) -> None:
        self.report, self.should_stop = report, should_stop
        self.work = work
        self.blocks, self.days = blocks, days
        self.done_blocks = self.done_days = 0

    def run(self, pool: SolveExecutor, tasks: list[BlockTask], filler: BoundTasks) -> list[BlockResult]:
        """The tasks' results in order; while fewer blocks than workers are left, idle workers
        take `filler`'s tasks."""
        # Hardest blocks first so that one worker is not left with Carnival's week at the end.
        order = sorted(range(len(tasks)), key=lambda i: -sum(self.work[d] for d in tasks[i].days))
        futures = {pool.submit(plan_block, tasks[i]): i for i in order}
        pending = set(futures)
        out: dict[int, BlockResult] = {}
        while pending:
            filler.fill(pool, busy=len(pending))
            done, pending = wait(pending, timeout=CANCEL_POLL_SECONDS, return_when=FIRST_COMPLETED)
            if self.should_stop():
                cancel_all([*futures, *filler.futures])
                raise SolveCancelled
            for future in done:
                i = futures[future]
                out[i] = future.result()
                self.done_blocks += 1
                self.done_days += len(tasks[i].days)
                self.report(
                    Progress(
                        stage=Stage.ALLOCATION,
                        done=self.done_days,
                        total=self.days,
                        message=f"planned {self.done_blocks} of {self.blocks} weeks ({self.done_days} days)",
                    )
                )
        return [out[i] for i in range(len(tasks))]


def cancel_all(futures: Any) -> None:
    future: Future[Any]
    for future in futures:
        future.cancel()


def _near(assignments: list[Assignment], first: dt.date, last: dt.date, reach: int) -> list[Assignment]:
    lo, hi = first - dt.timedelta(days=reach), last + dt.timedelta(days=reach)
    return [a for a in assignments if lo <= a.day <= hi]


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


def allocation_stats(results: list[BlockResult], dropped: int, seconds: float) -> StageStats:
    days = [d for r in results for d in r.days]
    objective = sum(r.objective for r in days)
    bound = sum(r.bound for r in days)
    return StageStats(
        name=Stage.ALLOCATION,
        status="OPTIMAL" if all(r.status == "OPTIMAL" for r in days) else "FEASIBLE",
        seconds=seconds,
        objective=objective,
        bound=bound,
        gap=max(0.0, objective - bound) / max(abs(objective), 1e-9),
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


__all__ = ["Allocated", "CancelCheck", "Phases", "ProgressCallback", "enforce_weekly_hours"]
