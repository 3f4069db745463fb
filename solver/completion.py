"""Completion: no coverable shortfall survives.

Before a plan is stored, every event tour and role still short is measured again against the
final roster over every source (planner.cover: each working-time rule with the plan applied, the
floors, and an exact max-flow count of the whole units each source could still form). Where a
source can lawfully form a unit at a price the policy accepts (its cost is below the cost of
leaving the unit uncovered), the plan takes it, cheapest source first. Shortfalls are taken in
priority order, most valuable first. A deployment can also free an officer for the day before or
after (the tour replaces a duty that left too little rest), so passes repeat until one adds
nothing: every pass but the last adds a unit, so this ends, with no round cap and no distance
cut-off.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

from planner.cover import CoverContext, SourceCover, measure, pick_units
from planner.domain import Event, PlanningProblem, Struct, Tour
from planner.plan import Assignment
from planner.roster import Roster
from solver.executor import SolveCancelled
from solver.live import TourDemands, units_deployed
from solver.rostering import deploy_unit


class Completion(Struct):
    assignments: list[Assignment]
    units_added: int
    officers_added: int
    tours_checked: int


def cover_context(problem: PlanningProblem, roster: Roster) -> CoverContext:
    """Officer facts for measuring cover on `roster` (build once: completion and the plan's
    shortfall reasons measure on the same final roster)."""
    return CoverContext(problem, roster)


def short_roles(
    problem: PlanningProblem, demand: dict[dt.date, TourDemands], assignments: list[Assignment]
) -> list[tuple[Event, Tour, str, int]]:
    """(event, tour, role, units short), most valuable shortfall first."""
    units = units_deployed(assignments)
    weights, roles = problem.policy.weights.uncovered, problem.policy.roles
    out = []
    for tours in demand.values():
        for event, tour, demands in tours:
            for role, required in demands:
                short = required - units.get((event.external_id, tour.index, role), 0)
                if short > 0:
                    out.append((event, tour, role, short))
    out.sort(key=lambda x: (-weights[x[0].priority] * roles[x[2]].size, x[1].day, x[0].external_id, x[2]))
    return out


# Sources measured at a time by the cover search (nearest first).
SOURCES_PER_MEASURE = 6


def _price(source: SourceCover) -> float:
    """Expected cost of one unit: rest days it needs, then travel."""
    units = max(1, source.units_formable)
    return source.rest_day_cost / units + source.minutes / 1000.0


def complete(
    problem: PlanningProblem,
    roster: Roster,
    demand: dict[dt.date, TourDemands],
    assignments: list[Assignment],
    should_stop: Callable[[], bool] = lambda: False,
    ctx: CoverContext | None = None,
) -> Completion:
    """Take every lawful cover left for the plan's shortfalls; `roster` has the plan applied
    (`ctx`, if given, measures on that roster)."""
    ctx = ctx or CoverContext(problem, roster)
    out = list(assignments)
    added_units = added_officers = checked = 0
    serial: dict[tuple[str, int, str], int] = defaultdict(int)
    while True:
        added_this_pass = 0
        shortfalls = short_roles(problem, demand, out)
        checked += len(shortfalls)
        for event, tour, role, short in shortfalls:
            if should_stop():
                raise SolveCancelled
            key = (event.external_id, tour.index, role)
            while short > 0:
                formed = _cover_once(ctx, problem, roster, event, tour, role, short, serial[key])
                if not formed:
                    break
                units = len({a.unit_id for a in formed})
                serial[key] += units
                out.extend(formed)
                added_units += units
                added_this_pass += units
                added_officers += len(formed)
                short -= units
        if added_this_pass == 0:
            break
    return Completion(
        assignments=out, units_added=added_units, officers_added=added_officers, tours_checked=checked
    )


def _cover_once(
    ctx: CoverContext,
    problem: PlanningProblem,
    roster: Roster,
    event: Event,
    tour: Tour,
    role: str,
    short: int,
    serial: int,
) -> list[Assignment]:
    """Deploy the units the cheapest able source can lawfully form now (none if no source can).

    Sources are measured nearest first, a few at a time: a source's price is at least its travel
    term, so once a measured candidate is cheaper than the travel term of every source not yet
    measured, it is the cheapest of all and the rest need not be measured. The order tried is the
    same as measuring every source and sorting by price."""
    org = problem.organisation
    codes = sorted(org.unit_codes(), key=lambda code: (org.travel(code, event.borough), code))
    headroom = ctx.headroom(roster.day_index(tour.day))
    candidates: list[SourceCover] = []
    tried: set[str] = set()
    for first in range(0, len(codes), SOURCES_PER_MEASURE):
        chunk = codes[first : first + SOURCES_PER_MEASURE]
        cover = measure(ctx, event, tour, role, short, sources=chunk, headroom=headroom)
        candidates += [
            s for s in cover.sources if s.units_formable > 0 and s.unit_cost < cover.uncovered_weight
        ]
        rest = codes[first + SOURCES_PER_MEASURE :]
        cutoff = org.travel(rest[0], event.borough) / 1000.0 if rest else float("inf")
        for best in sorted(candidates, key=_price):
            if _price(best) >= cutoff:
                break
            if best.source in tried:
                continue
            tried.add(best.source)
            units = pick_units(ctx, event, tour, role, best.source, min(short, best.units_formable))
            if units:
                return _deploy(problem, roster, event, tour, role, best.source, units, serial)
    return []


def _deploy(
    problem: PlanningProblem,
    roster: Roster,
    event: Event,
    tour: Tour,
    role: str,
    source: str,
    units: list[list[list[int]]],
    serial: int,
) -> list[Assignment]:
    out = []
    for k, slots in enumerate(units):
        out.extend(
            deploy_unit(
                roster,
                slots,
                event_id=event.external_id,
                tour_index=tour.index,
                day=tour.day,
                role=role,
                unit_id=f"{event.external_id}/{tour.index}/{role}/{source}/c{serial + k}",
                source=source,
                start=tour.start,
                end=tour.end,
            )
        )
    return out
