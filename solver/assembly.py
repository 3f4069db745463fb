"""Assembly of the delivered plan: its deployments, the stage-1 style counts, and every shortfall
with its measured reasons.

Reasons are measurements on the tour against the final roster (planner.cover), never labels: how
many suitable officers the sources hold, how many each working-time rule and each floor holds
back, and whether any source could still form a whole unit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from planner.cover import CoverContext, TourCover, measure
from planner.domain import PlanningProblem
from planner.plan import Allocation, Assignment, Plan, Shortfall, StageStats
from solver.completion import short_roles
from solver.live import TourDemands, units_deployed


def reasons(cover: TourCover, label: str) -> tuple[str, ...]:
    """Measured reasons for a shortfall, in words with their counts."""
    out = [
        f"{cover.suitable} officers in {len(cover.sources)} sources hold the rank and skills for a {label}"
    ]
    for rule, n in sorted(cover.held_back().items(), key=lambda kv: -kv[1]):
        out.append(f"{rule}: rules out {n}")
    lawful_on = sum(s.lawful_on_duty for s in cover.sources)
    lawful_rest = sum(s.lawful_rest_day for s in cover.sources)
    out.append(f"could lawfully work the tour: {lawful_on} on duty, {lawful_rest} on a rest day")
    for rule, n in sorted(cover.held_by_floors().items(), key=lambda kv: -kv[1]):
        out.append(f"{rule}: keeps {n} of those on duty on core duty")
    scarcest = min(cover.slot_lawful.items(), key=lambda kv: kv[1], default=None)
    if scarcest is not None:
        out.append(f"fewest for one slot: {scarcest[1]} lawful officers for the {scarcest[0]} slot")
    formable = max((s.units_formable for s in cover.sources), default=0)
    if cover.coverable_units:
        # Completion takes all such cover; a plan built elsewhere may not have.
        out.append(f"{cover.coverable_units} more unit(s) could still be formed lawfully")
    elif formable:
        out.append(f"{formable} more unit(s) could be formed lawfully but cost more than the shortfall")
    else:
        out.append("no source can lawfully form another whole unit")
    return tuple(out)


def assemble(
    problem: PlanningProblem,
    demand: dict[dt.date, TourDemands],
    ctx: CoverContext,
    assignments: list[Assignment],
    stages: list[StageStats],
) -> Plan:
    """The plan of `assignments`, its shortfalls measured with `ctx` on the final roster."""
    day_of = {(e.external_id, t.index): day for day, tours in demand.items() for e, t, _ in tours}
    shortfalls = shortfalls_of(problem, demand, ctx, assignments)
    return Plan(
        allocations=allocations_of(assignments, day_of),
        assignments=sorted(assignments, key=lambda a: (a.day, a.event_id, a.tour_index, a.unit_id, a.slot)),
        shortfalls=shortfalls,
        stages=stages,
    )


def shortfalls_of(
    problem: PlanningProblem,
    demand: dict[dt.date, TourDemands],
    ctx: CoverContext,
    assignments: list[Assignment],
) -> list[Shortfall]:
    """The demand `assignments` leave uncovered, each with reasons measured with `ctx`."""
    roles = problem.policy.roles
    filled = units_deployed(assignments)
    out = []
    for event, tour, role, short in short_roles(problem, demand, assignments):
        spec = roles[role]
        cover = measure(ctx, event, tour, role, short)
        got = filled.get((event.external_id, tour.index, role), 0)
        out.append(
            Shortfall(
                event_id=event.external_id,
                tour_index=tour.index,
                day=tour.day,
                role=role,
                required=got + short,
                filled=got,
                officers_short=short * spec.size,
                reasons=reasons(cover, spec.label),
            )
        )
    out.sort(key=lambda s: (s.day, s.event_id, s.tour_index, s.role))
    return out


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


__all__ = ["allocations_of", "assemble", "reasons", "shortfalls_of"]
