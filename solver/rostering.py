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
from typing import TYPE_CHECKING

import numpy as np

from planner.domain import PlanningProblem, RoleSpec, Struct
from planner.plan import Assignment
from planner.roster import ON, RESTING, IntArray, Roster
from solver.allocation.model import PostCount
from solver.allocation.variables import on_duty, release_side

if TYPE_CHECKING:
    from solver.release import ReleaseBroker


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
    release: ReleaseBroker | None = None,
) -> RosterResult:
    """Fill `requests` (all from one source) with officers among roster `rows` (whose classes are
    `class_of_rows`), updating `roster` as officers are assigned. Posts counted on officers
    released from a neighbouring day's duty are filled through `release`, which deploys them
    there first (those deployments are returned with the rest)."""
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
        released: dict[int, Assignment] = {}  # officer row -> their deployment the day before/after
        for post in sorted(request.posts, key=lambda p: (p.slot, p.status)):
            pool = members.get(post.cls)
            if pool is None:
                continue
            wanted = ON if on_duty(post.status) else RESTING
            pool = pool[roster.status[pool, d] == wanted]
            if taken:
                pool = pool[~np.isin(pool, list(taken))]
            side = release_side(post.status)
            if side is not None and release is not None:
                chosen, moved = _released(roster, release, pool, post.count, d, start, end, side)
                released.update(zip(chosen.tolist(), moved, strict=True))
            else:
                prefer = release.frees(d, start, end) if release is not None else None
                chosen = roster.pick(pool, post.count, d, start, end, prefer)
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
            assignments.extend(
                deploy_unit(
                    roster,
                    _unit_rows(picked_by_slot, spec, k),
                    event_id=request.event_id,
                    tour_index=request.tour_index,
                    day=request.day,
                    role=request.role,
                    unit_id=unit_id,
                    source=request.source,
                    start=request.start,
                    end=request.end,
                )
            )
        if released:
            # A release is lawful only together with the tour it frees the officer for.
            formed = {
                row for k in range(complete) for rows in _unit_rows(picked_by_slot, spec, k) for row in rows
            }
            for row, moved_to in released.items():
                if row in formed:
                    assignments.append(moved_to)
                elif release is not None:
                    release.undo(moved_to)
    return RosterResult(source=source, assignments=assignments, unfilled=unfilled)


def deploy_unit(
    roster: Roster,
    rows_by_slot: list[list[int]],
    *,
    event_id: str,
    tour_index: int,
    day: dt.date,
    role: str,
    unit_id: str,
    source: str,
    start: dt.datetime,
    end: dt.datetime,
) -> list[Assignment]:
    """Put one unit's officers (roster rows per slot) on the tour and return their assignments,
    each flagged when it cancels a rest day."""
    d = roster.day_index(day)
    minutes = roster.minutes(start, end)
    out = []
    for slot_index, rows in enumerate(rows_by_slot):
        array = np.asarray(rows, dtype=np.int64)
        resting = (roster.status[array, d] == RESTING).tolist()
        roster.assign(array, d, *minutes)
        for row, on_rest in zip(rows, resting, strict=True):
            out.append(
                Assignment(
                    service_number=roster.officers[row].service_number,
                    event_id=event_id,
                    tour_index=tour_index,
                    day=day,
                    role=role,
                    slot=slot_index,
                    unit_id=unit_id,
                    source=source,
                    start=start,
                    end=end,
                    rest_day_cancelled=bool(on_rest),
                )
            )
    return out


def _unit_rows(picked_by_slot: dict[int, list[int]], spec: RoleSpec, k: int) -> list[list[int]]:
    return [picked_by_slot[i][k * slot.count : (k + 1) * slot.count] for i, slot in enumerate(spec.slots)]


def _released(
    roster: Roster,
    release: ReleaseBroker,
    pool: IntArray,
    count: int,
    d: int,
    start: int,
    end: int,
    side: str,
) -> tuple[IntArray, list[Assignment]]:
    """Up to `count` officers of `pool` for a tour that needs their neighbouring duty replaced:
    each is deployed to an open post on that day first, and kept only if the tour is then lawful."""
    chosen: list[int] = []
    moved: list[Assignment] = []
    order = pool[np.argsort(roster.abstractions[pool], kind="stable")]
    candidates = order[release.masks(order, d, start, end)[0 if side == "before" else 1]]
    for row in candidates.tolist():
        if len(chosen) >= count:
            break
        single = np.asarray([row], dtype=np.int64)
        placed = release.release(row, d, start, end, side)
        if placed is None:
            continue
        if roster.eligible(single, d, start, end)[0]:
            chosen.append(row)
            moved.append(placed)
        else:
            release.undo(placed)
    return np.asarray(chosen, dtype=np.int64), moved
