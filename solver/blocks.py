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
phases are merged (`phases.enforce_weekly_hours`).

`plan_block(context, BlockTask) -> BlockResult` is a task over serialisable input: it runs on
whichever worker of the solve's executor holds the problem (solver/executor.py).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from planner.domain import PlanningProblem, Struct
from planner.plan import Assignment
from solver.allocation.model import DayResult
from solver.live import DayPlanner, TourDemands, apply, residual, take_back
from solver.release import ReleaseBroker
from solver.rostering import UnfilledUnits

if TYPE_CHECKING:
    from solver.executor import WorkerContext

# Unit numbers only need to be unique per event tour, role and source; each re-solve of a day
# starts a fresh range.
UNITS_PER_ROUND = 1_000_000
REDECIDE_PASSES = 4


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
    redecided: int = 0  # short days decided again, with a gain, once their neighbours were decided


def hardness(tours: TourDemands, problem: PlanningProblem) -> float:
    """How much is at stake on a day: officers demanded, weighted by the priority of their event."""
    weights = problem.policy.weights.uncovered
    roles = problem.policy.roles
    return sum(
        weights[event.priority] * roles[role].size * count
        for event, _tour, demands in tours
        for role, count in demands
    )


@dataclass
class _Block:
    """A block being decided: the roster state lives in the planner, the plan in `on_day`."""

    problem: PlanningProblem
    planner: DayPlanner
    demand: dict[dt.date, TourDemands]
    quiet_gap: float
    broker: ReleaseBroker | None
    on_day: dict[dt.date, list[Assignment]] = field(default_factory=lambda: defaultdict(list))
    results: dict[dt.date, DayResult] = field(default_factory=dict)
    unfilled: dict[dt.date, list[UnfilledUnits]] = field(default_factory=dict)
    rounds: int = 0  # day solves so far: each numbers its units from a fresh range
    resolves: int = 0
    not_formed_first: int = 0

    def decide(self, day: dt.date, left: TourDemands) -> list[Assignment]:
        """Allocate and name `left` on `day`, solving the day's residual again while named
        rostering falls short; returns every deployment made (releases on other days too)."""
        made: list[Assignment] = []
        first = True
        unfilled: list[UnfilledUnits] = []
        while left:
            result, named, unfilled = self.planner.plan(
                day, left, self.quiet_gap, self.rounds * UNITS_PER_ROUND, self.broker
            )
            self.rounds += 1
            if first:
                self.results.setdefault(day, result)
                self.not_formed_first += sum(u.units for u in unfilled)
                first = False
            made.extend(named)
            today = [a for a in named if a.day == day]
            # Named rostering forms units officer by officer; when a class's officers could each
            # work some of the day's tours but not all at once, a unit may not form. The day is
            # then solved again for what is left, against the roster as it is now.
            if not unfilled or not today:
                break
            self.resolves += 1
            left = residual(left, today)
        self.unfilled[day] = unfilled
        for a in made:
            self.on_day[a.day].append(a)
        return made

    def covered(self, assignments: list[Assignment]) -> float:
        weights = self.problem.policy.weights.uncovered
        priority = {e.external_id: e.priority for tours in self.demand.values() for e, _t, _r in tours}
        return sum(weights[priority[a.event_id]] for a in assignments if a.event_id in priority)

    def remove(self, assignments: list[Assignment]) -> None:
        roster = self.planner.roster
        by_day: dict[dt.date, list[str]] = defaultdict(list)
        for a in assignments:
            by_day[a.day].append(a.service_number)
        for day, numbers in by_day.items():
            roster.unassign(roster.rows_of(numbers), roster.day_index(day))
            gone = {id(a) for a in assignments if a.day == day}
            self.on_day[day] = [a for a in self.on_day[day] if id(a) not in gone]
        if self.broker is not None:
            self.broker.reopen(assignments)

    def restore(self, assignments: list[Assignment]) -> None:
        self.planner.applied.extend(apply(self.planner.roster, assignments))
        for a in assignments:
            self.on_day[a.day].append(a)
        if self.broker is not None:
            self.broker.note(assignments)

    def redecide(self, day: dt.date) -> bool:
        """Take the day back (all but the units its neighbours' deployments now depend on) and
        decide it again against the roster its neighbours left; keep whichever covers more."""
        roster = self.planner.roster
        old = list(self.on_day[day])
        if not old:
            return False
        self.remove(old)
        rows = roster.rows_of([a.service_number for a in old])
        held = roster.rest_conflicts(rows, roster.day_index(day))
        pinned_units = {a.unit_id for a, conflict in zip(old, held.tolist(), strict=True) if conflict}
        pinned = [a for a in old if a.unit_id in pinned_units]
        self.restore(pinned)
        made = self.decide(day, residual(self.demand[day], pinned))
        gained = self.covered(pinned) + self.covered(made) - self.covered(old)
        if gained > 1e-9:
            return True
        self.remove(pinned + made)
        self.restore(old)
        return False


def plan_block(context: WorkerContext, task: BlockTask) -> BlockResult:
    """One block of days, allocated and named, on a worker holding the problem."""
    return run_block(context.problem, context.planner, context.demand, task)


def run_block(
    problem: PlanningProblem,
    planner: DayPlanner,
    demand: dict[dt.date, TourDemands],
    task: BlockTask,
) -> BlockResult:
    """Decide the block's days hardest first on `planner`'s roster; the roster is restored after.

    Days still short once their neighbours are decided are then decided again against the roster
    those neighbours left (a Sunday decided before Monday cannot count the officers Monday's
    deployments free for it), until a pass gains nothing."""
    roster = planner.roster
    fixed = apply(roster, task.fixed)
    planner.applied = []
    broker = ReleaseBroker(problem, roster, {day: demand[day] for day in task.days}) if task.release else None
    block = _Block(problem, planner, demand, task.quiet_gap, broker)
    order = sorted(task.days, key=lambda d: (-hardness(demand[d], problem), d))
    redecided = 0
    try:
        for day in order:
            # Releases for earlier days may already have filled some of this day's posts.
            block.decide(day, residual(demand[day], block.on_day[day]))
        for _ in range(REDECIDE_PASSES):
            short = [day for day in order if residual(demand[day], block.on_day[day])]
            gains = [block.redecide(day) for day in short if len(task.days) > 1]
            redecided += sum(gains)
            if not any(gains):
                break
        assignments = [a for day in sorted(block.on_day) for a in block.on_day[day]]
    finally:
        take_back(roster, planner.applied)
        take_back(roster, fixed)
        planner.applied = []
    return BlockResult(
        days=[block.results[d] for d in sorted(block.results)],
        assignments=assignments,
        unfilled=[u for d in sorted(block.unfilled) for u in block.unfilled[d]],
        resolves=block.resolves,
        units_not_formed_first=block.not_formed_first,
        redecided=redecided,
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
