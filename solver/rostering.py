"""Stage 2, named rostering: turn one source's stage-1 counts into named officers.

For each day in order and each requested unit, the source's officers of the allocated class are
drawn least-abstracted first among those who can lawfully work the tour (leave, one tour a day,
11 hours' rest, rest-day spacing, average weekly hours: see planner.roster). Within a class all
officers are interchangeable for the day, so this draw minimises the spread of abstraction
between officers. A serial or PSU is only deployed whole, from one source; units that cannot be
completed are returned so stage 1 can re-plan them elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np

from planner.domain import PlanningProblem, Struct
from planner.plan import Assignment
from planner.roster import ON, RESTING, IntArray, Roster
from solver.allocation.model import PostCount
from solver.allocation.variables import ON_DUTY


class UnitRequest(Struct):
    day: dt.date
    event_id: str
    tour_index: int
    role: str
    source: str
    units: int
    posts: list[PostCount]
    start: dt.datetime
    end: dt.datetime


class UnfilledUnits(Struct):
    day: dt.date
    event_id: str
    tour_index: int
    role: str
    source: str
    units: int  # units that could not be formed


class RosterResult(Struct):
    source: str
    assignments: list[Assignment]
    unfilled: list[UnfilledUnits]


def roster_requests(
    problem: PlanningProblem,
    roster: Roster,
    rows: IntArray,
    class_of_rows: IntArray,
    requests: list[UnitRequest],
    unit_number_start: int = 0,
) -> RosterResult:
    """Fill `requests` (all from one source) with officers among roster `rows` (whose classes are
    `class_of_rows`), updating `roster` as officers are assigned."""
    roles = problem.policy.roles
    assignments: list[Assignment] = []
    unfilled: list[UnfilledUnits] = []
    members: dict[int, IntArray] = {int(c): rows[class_of_rows == c] for c in np.unique(class_of_rows)}
    source = requests[0].source if requests else ""
    serial = unit_number_start
    for request in sorted(requests, key=lambda r: (r.day, r.start, r.event_id, r.role)):
        d = roster.day_index(request.day)
        start, end = roster.minutes(request.start, request.end)
        spec = roles[request.role]
        picked_by_slot: dict[int, list[int]] = defaultdict(list)
        taken: set[int] = set()
        for post in sorted(request.posts, key=lambda p: (p.slot, p.status)):
            pool = members.get(post.cls)
            if pool is None:
                continue
            wanted = ON if post.status == ON_DUTY else RESTING
            pool = pool[roster.status[pool, d] == wanted]
            if taken:
                pool = pool[~np.isin(pool, list(taken))]
            chosen = roster.pick(pool, post.count, d, start, end)
            picked_by_slot[post.slot].extend(chosen.tolist())
            taken.update(chosen.tolist())
        complete = min(
            request.units,
            *(len(picked_by_slot[i]) // slot.count for i, slot in enumerate(spec.slots)),
        )
        if complete < request.units:
            unfilled.append(
                UnfilledUnits(
                    day=request.day,
                    event_id=request.event_id,
                    tour_index=request.tour_index,
                    role=request.role,
                    source=request.source,
                    units=request.units - complete,
                )
            )
        for k in range(complete):
            unit_id = f"{request.event_id}/{request.tour_index}/{request.role}/{request.source}/{serial}"
            serial += 1
            for slot_index, slot in enumerate(spec.slots):
                chosen_rows = picked_by_slot[slot_index][k * slot.count : (k + 1) * slot.count]
                chosen_array = np.asarray(chosen_rows, dtype=np.int64)
                rest_flags = roster.status[chosen_array, d] == RESTING
                roster.assign(chosen_array, d, start, end)
                for row, on_rest in zip(chosen_rows, rest_flags.tolist(), strict=True):
                    assignments.append(
                        Assignment(
                            service_number=roster.officers[row].service_number,
                            event_id=request.event_id,
                            tour_index=request.tour_index,
                            day=request.day,
                            role=request.role,
                            slot=slot_index,
                            unit_id=unit_id,
                            source=request.source,
                            start=request.start,
                            end=request.end,
                            rest_day_cancelled=bool(on_rest),
                        )
                    )
    return RosterResult(source=source, assignments=assignments, unfilled=unfilled)
