"""Allocation in blocks of days that see each other: the week, not the day.

Rules bind across days: a late tour rules an officer out of the next morning's tour, a cancelled
rest day lengthens a run of working days, extra hours count towards the weekly average. So the
horizon is cut into blocks of consecutive days (Tuesday to Monday, so that a weekend and its bank
holiday stay together), and inside a block the days are decided one at a time, hardest first
(Carnival before the Saturday around it), each against the roster with every deployment already
decided applied. A day's allocation therefore counts exactly the officers who can lawfully work
each tour given its neighbours, and its named rostering follows at once against the same state:
nothing is assumed that the next stage has to find out.

Blocks run in two phases so that they can be solved in parallel: blocks of one phase are at least
`max_consecutive_work_days + 1` days apart (no rest rule reaches across that gap; see
`phase_blocks`), and the second phase sees every deployment of the first. The one rule that does
reach across the gap, the average weekly hours over a reference period, is re-checked when
phases are merged (`pipeline.enforce_weekly_hours`).

`plan_block(BlockTask) -> BlockResult` is a plain function over serialisable inputs: it runs in a
local process pool today and can run on any machine that holds the problem.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from planner.domain import PlanningProblem, Struct
from planner.plan import Assignment
from solver.allocation.model import DayResult
from solver.live import DayPlanner, TourDemands, apply, residual, take_back
from solver.release import ReleaseBroker
from solver.rostering import UnfilledUnits

# Unit numbers only need to be unique per event tour, role and source; each re-solve of a day
# starts a fresh range.
UNITS_PER_ROUND = 1_000_000


class BlockTask(Struct):
    days: list[dt.date]  # days with demand in this block
    fixed: list[Assignment]  # deployments decided elsewhere that the block must respect
    quiet_gap: float = 0.0
    release: bool = True  # let days release officers from a neighbouring day's duty (Duty release)


class BlockResult(Struct):
    days: list[DayResult]  # each day's first allocation (its LP statistics)
    assignments: list[Assignment]
    unfilled: list[UnfilledUnits]  # units still not formed after the day's re-solves
    resolves: int  # extra solves of a day's residual after named rostering fell short
    units_not_formed_first: int  # units the first allocation of a day asked for but naming could not form


def hardness(tours: TourDemands, problem: PlanningProblem) -> float:
    """How much is at stake on a day: officers demanded, weighted by the priority of their event."""
    weights = problem.policy.weights.uncovered
    roles = problem.policy.roles
    return sum(
        weights[event.priority] * roles[role].size * count
        for event, _tour, demands in tours
        for role, count in demands
    )


def run_block(
    problem: PlanningProblem,
    planner: DayPlanner,
    demand: dict[dt.date, TourDemands],
    task: BlockTask,
) -> BlockResult:
    """Decide the block's days hardest first on `planner`'s roster; the roster is restored after."""
    roster = planner.roster
    fixed = apply(roster, task.fixed)
    planner.applied = []
    broker = ReleaseBroker(problem, roster, {day: demand[day] for day in task.days}) if task.release else None
    results: list[DayResult] = []
    assignments: list[Assignment] = []
    on_day: dict[dt.date, list[Assignment]] = defaultdict(list)
    unfilled_all: list[UnfilledUnits] = []
    resolves = not_formed_first = 0
    try:
        for day in sorted(task.days, key=lambda d: (-hardness(demand[d], problem), d)):
            # Releases for earlier days may already have filled some of this day's posts.
            left = residual(demand[day], on_day[day])
            round_ = 0
            while left:
                result, named, unfilled = planner.plan(
                    day, left, task.quiet_gap, round_ * UNITS_PER_ROUND, broker
                )
                if round_ == 0:
                    results.append(result)
                    not_formed_first += sum(u.units for u in unfilled)
                assignments.extend(named)
                for a in named:
                    on_day[a.day].append(a)
                named = [a for a in named if a.day == day]
                # Named rostering forms units officer by officer; when a class's officers could
                # each work some of the day's tours but not all at once, a unit may not form.
                # The day is then solved again for what is left, against the roster as it is now.
                if not unfilled or not named:
                    unfilled_all.extend(unfilled)
                    break
                round_ += 1
                resolves += 1
                left = residual(left, named)
    finally:
        take_back(roster, planner.applied)
        take_back(roster, fixed)
        planner.applied = []
    return BlockResult(
        days=results,
        assignments=assignments,
        unfilled=unfilled_all,
        resolves=resolves,
        units_not_formed_first=not_formed_first,
    )


def phase_blocks(days: list[dt.date], gap_days: int) -> tuple[list[list[dt.date]], list[list[dt.date]]]:
    """Split demand days into Tuesday-to-Monday weeks, alternately into two phases.

    Two blocks of one phase are separated by a whole week of the other phase (at least
    `gap_days` days apart when the weeks are that long; longer weeks are used when the policy's
    rest-day spacing reaches further), so no rule on consecutive days or runs of working days
    links them."""
    if not days:
        return [], []
    length = max(7, gap_days - 1)
    first = days[0] - dt.timedelta(days=(days[0].weekday() - 1) % 7)  # the Tuesday on or before
    weeks: dict[int, list[dt.date]] = {}
    for day in days:
        weeks.setdefault((day - first).days // length, []).append(day)
    even = [weeks[k] for k in sorted(weeks) if k % 2 == 0]
    odd = [weeks[k] for k in sorted(weeks) if k % 2 == 1]
    return even, odd
