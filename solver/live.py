"""The roster as a plan under construction changes it: deployments applied, taken back, and named.

Every stage that decides deployments (blocks of days, the final completion) works on one `Roster`
with the plan's assignments applied, so that each decision is checked against the duties that
were really decided around it, never against the published roster alone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from planner.domain import Event, PlanningProblem, Tour
from planner.plan import Assignment
from planner.roster import IntArray, Roster
from planner.rules import event_tours
from solver.allocation.inputs import SupplyIndex, build_day_input
from solver.allocation.model import DayResult, UnitAllocation, solve_day
from solver.rostering import UnfilledUnits, UnitRequest, roster_requests

if TYPE_CHECKING:
    from solver.release import ReleaseBroker

TourDemands = list[tuple[Event, Tour, list[tuple[str, int]]]]


def tours_by_day(problem: PlanningProblem) -> dict[dt.date, TourDemands]:
    """Every planned event tour in the horizon with its demand (role, units), by day."""
    out: dict[dt.date, TourDemands] = defaultdict(list)
    for event in problem.events:
        if event.status != "planned" or not event.demand:
            continue
        demands = [(d.role, d.count) for d in event.demand if d.count > 0]
        for tour in event_tours(event, problem.policy):
            if problem.start <= tour.day <= problem.end:
                out[tour.day].append((event, tour, list(demands)))
    return dict(sorted(out.items()))


def apply(roster: Roster, assignments: Iterable[Assignment]) -> list[tuple[int, IntArray]]:
    """Put `assignments` on the roster; returns (day index, rows) groups so they can be taken back."""
    by_tour: dict[tuple[int, dt.datetime, dt.datetime], list[int]] = defaultdict(list)
    for a in assignments:
        by_tour[(roster.day_index(a.day), a.start, a.end)].append(roster.index[a.service_number])
    applied = []
    for (d, start, end), rows in by_tour.items():
        array = np.asarray(rows, dtype=np.int64)
        roster.assign(array, d, *roster.minutes(start, end))
        applied.append((d, array))
    return applied


def take_back(roster: Roster, applied: Iterable[tuple[int, IntArray]]) -> None:
    """Undo `apply`: the officers return to their published duty on those days."""
    for d, rows in applied:
        roster.unassign(rows, d)


class DayPlanner:
    """Allocates and names one day's demand against the roster as it stands, then applies it."""

    def __init__(self, problem: PlanningProblem, roster: Roster, index: SupplyIndex) -> None:
        self.problem = problem
        self.roster = roster
        self.index = index
        units = np.asarray([o.unit for o in roster.officers])
        self.rows_of_unit = {str(u): np.flatnonzero(units == u) for u in np.unique(units)}
        self.applied: list[tuple[int, IntArray]] = []

    def plan(
        self,
        day: dt.date,
        tours: TourDemands,
        quiet_gap: float,
        unit_number_start: int,
        release: ReleaseBroker | None = None,
    ) -> tuple[DayResult, list[Assignment], list[UnfilledUnits]]:
        d = self.roster.day_index(day)
        day_input = build_day_input(
            self.problem,
            self.roster,
            self.index,
            day,
            tours,
            release=release.factory(d) if release is not None else None,
        )
        result = solve_day(day_input, quiet_gap=quiet_gap)
        times = {(e.external_id, t.index): t for e, t, _ in tours}
        assignments, unfilled = self.name(day, result.allocations, times, unit_number_start, release)
        return result, assignments, unfilled

    def name(
        self,
        day: dt.date,
        allocations: list[UnitAllocation],
        times: dict[tuple[str, int], Tour],
        unit_number_start: int,
        release: ReleaseBroker | None = None,
    ) -> tuple[list[Assignment], list[UnfilledUnits]]:
        """Named officers for stage-1 counts, source by source; the roster is updated as they go."""
        by_source: dict[str, list[UnitRequest]] = defaultdict(list)
        for alloc in allocations:
            tour = times[(alloc.event_id, alloc.tour_index)]
            by_source[alloc.source].append(
                UnitRequest(
                    day=day,
                    event_id=alloc.event_id,
                    tour_index=alloc.tour_index,
                    role=alloc.role,
                    source=alloc.source,
                    units=alloc.units,
                    posts=alloc.posts,
                    start=tour.start,
                    end=tour.end,
                )
            )
        assignments: list[Assignment] = []
        unfilled: list[UnfilledUnits] = []
        for source, requests in by_source.items():
            rows = self.rows_of_unit[source]
            filled = roster_requests(
                self.problem,
                self.roster,
                rows,
                self.index.class_of[rows],
                requests,
                unit_number_start,
                release,
            )
            by_day: dict[dt.date, list[str]] = defaultdict(list)
            for a in filled.assignments:
                by_day[a.day].append(a.service_number)
            for when, numbers in by_day.items():
                self.applied.append((self.roster.day_index(when), self.roster.rows_of(numbers)))
            assignments.extend(filled.assignments)
            unfilled.extend(filled.unfilled)
        if release is not None:
            release.note([a for a in assignments if a.day == day])
        return assignments, unfilled


def units_deployed(assignments: Iterable[Assignment]) -> dict[tuple[str, int, str], int]:
    """Whole units deployed per (event, tour index, role): distinct unit ids, as the evaluator counts."""
    units: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    for a in assignments:
        units[(a.event_id, a.tour_index, a.role)].add(a.unit_id)
    return {key: len(ids) for key, ids in units.items()}


def residual(tours: TourDemands, assignments: Iterable[Assignment]) -> TourDemands:
    """What is left of the tours' demand once `assignments` are deployed (whole units count)."""
    units = units_deployed(assignments)
    out: TourDemands = []
    for event, tour, demands in tours:
        left = [(role, n - units.get((event.external_id, tour.index, role), 0)) for role, n in demands]
        left = [(role, n) for role, n in left if n > 0]
        if left:
            out.append((event, tour, left))
    return out
