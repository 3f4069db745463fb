"""Releasing officers from a neighbouring day's duty, inside one block of days.

The block keeps a ledger of the single-officer posts (constable, sergeant, inspector: posts that
need a rank and no skill) its days still need. When a day's allocation counts on an officer whose
published duty the day before ends too late (or the day after starts too early) for a tour, named
rostering first deploys that officer to a compatible open post on the neighbouring day, which
replaces the duty, and then to the tour. `Release` (solver/allocation/inputs.py) tells the day's
model who could be released and how many each neighbouring day can absorb; the "Duty release"
family limits the model to that.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from planner.domain import Event, PlanningProblem, Tour
from planner.plan import Assignment
from planner.roster import ON, BoolArray, IntArray, Roster
from solver.allocation.inputs import Release
from solver.allocation.variables import RELEASED_AFTER, RELEASED_BEFORE
from solver.live import TourDemands, units_deployed


@dataclass
class Opening:
    event: Event
    tour: Tour
    role: str
    ranks: tuple[str, ...]
    start: int  # roster minutes
    end: int
    remaining: int


class ReleaseBroker:
    def __init__(self, problem: PlanningProblem, roster: Roster, demand: dict[dt.date, TourDemands]) -> None:
        self.problem = problem
        self.roster = roster
        roles = problem.policy.roles
        single = {
            name: spec.slots[0].ranks
            for name, spec in roles.items()
            if spec.size == 1 and not spec.slots[0].skills
        }
        self.openings: dict[int, list[Opening]] = defaultdict(list)
        self._by_key: dict[tuple[str, int, str], Opening] = {}
        for day, tours in demand.items():
            d = roster.day_index(day)
            for event, tour, demands in tours:
                start, end = roster.tour_minutes(tour)
                for role, count in demands:
                    if role in single and count > 0:
                        opening = Opening(event, tour, role, single[role], start, end, count)
                        self.openings[d].append(opening)
                        self._by_key[(event.external_id, tour.index, role)] = opening
        self.ranks = np.asarray([o.rank for o in roster.officers])
        self._issued = 0
        # Windows of critical tours per day index, and the officers each tour window would free.
        self.critical: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for day, tours in demand.items():
            for event, tour, _demands in tours:
                if event.priority == "critical":
                    self.critical[roster.day_index(day)].append(roster.tour_minutes(tour))
        self._frees: dict[tuple[int, int, int], BoolArray | None] = {}

    def note(self, assignments: list[Assignment]) -> None:
        """Posts filled by named rostering are no longer open."""
        self._count(assignments, -1)

    def _count(self, assignments: list[Assignment], sign: int) -> None:
        for key, units in units_deployed(assignments).items():
            opening = self._by_key.get(key)
            if opening is not None:
                opening.remaining = max(0, opening.remaining + sign * units)

    def frees(self, d: int, start: int, end: int) -> BoolArray | None:
        """Officers whose duty on day d keeps them from a critical tour the day before or after,
        and whom a tour [start, end) instead of that duty would free for it. Named rostering picks
        them first, so that the harder neighbour, decided again, can count them."""
        key = (d, start, end)
        if key in self._frees:
            return self._frees[key]
        r = self.roster
        rest = r.rest_minutes
        later = [s for s, _e in self.critical.get(d + 1, ()) if s >= end + rest]
        earlier = [e for _s, e in self.critical.get(d - 1, ()) if e <= start - rest]
        out: BoolArray | None = None
        if later or earlier:
            on = (r.status[:, d] == ON) & ~r.on_event[:, d]
            mask = np.zeros(len(r.officers), dtype=np.bool_)
            if later:
                mask |= r.end[:, d] > min(later) - rest
            if earlier:
                mask |= (r.start[:, d] >= 0) & (r.start[:, d] < max(earlier) + rest)
            out = mask & on
        self._frees[key] = out
        return out

    def reopen(self, assignments: list[Assignment]) -> None:
        """Posts whose deployments were taken back are open again."""
        self._count(assignments, +1)

    def _compatible(self, d: int, side: str, start: int, end: int) -> list[Opening]:
        rest = self.roster.rest_minutes
        if side == RELEASED_BEFORE:
            return [o for o in self.openings.get(d - 1, ()) if o.remaining > 0 and o.end <= start - rest]
        return [o for o in self.openings.get(d + 1, ()) if o.remaining > 0 and o.start >= end + rest]

    def factory(self, d: int) -> Callable[[list[tuple[int, int]]], Release]:
        def make(windows: list[tuple[int, int]]) -> Release:
            capacity: dict[str, list[int]] = {}
            for side in (RELEASED_BEFORE, RELEASED_AFTER):
                per_rank: dict[str, list[int]] = defaultdict(lambda: [0] * len(windows))
                for w, (start, end) in enumerate(windows):
                    for o in self._compatible(d, side, start, end):
                        for rank in o.ranks:
                            per_rank[rank][w] += o.remaining
                for rank, caps in per_rank.items():
                    capacity[f"{side}|{rank}"] = caps
            return Release(capacity=capacity, masks=self.masks)

        return make

    def masks(
        self, rows: IntArray, d: int, start: int, end: int, spacing: BoolArray | None = None
    ) -> tuple[BoolArray, BoolArray]:
        """Officers who could work [start, end) on day d only if their duty the day before
        (after), an ordinary rostered duty, were replaced."""
        r = self.roster
        out = []
        for side, other in ((RELEASED_BEFORE, d - 1), (RELEASED_AFTER, d + 1)):
            if not 0 <= other < r.n_days or not self._compatible(d, side, start, end):
                out.append(np.zeros(len(rows), dtype=np.bool_))
                continue
            movable = (r.status[rows, other] == ON) & ~r.on_event[rows, other]
            ok = r.eligible(
                rows,
                d,
                start,
                end,
                spacing_ok=spacing,
                ignore_before=side == RELEASED_BEFORE,
                ignore_after=side == RELEASED_AFTER,
            )
            out.append(np.asarray(movable & ok, dtype=np.bool_))
        return out[0], out[1]

    def release(self, row: int, d: int, start: int, end: int, side: str) -> Assignment | None:
        """Deploy officer `row` to a compatible open post on the neighbouring day, if lawful."""
        r = self.roster
        other = d - 1 if side == RELEASED_BEFORE else d + 1
        rank = str(self.ranks[row])
        rows = np.asarray([row], dtype=np.int64)
        for o in self._compatible(d, side, start, end):
            if rank not in o.ranks:
                continue
            # The neighbouring tour's rest towards today is against today's duty, which the tour
            # at hand is about to replace.
            ok = r.eligible(
                rows,
                other,
                o.start,
                o.end,
                ignore_after=side == RELEASED_BEFORE,
                ignore_before=side == RELEASED_AFTER,
            )
            if not ok[0]:
                continue
            r.assign(rows, other, o.start, o.end)
            o.remaining -= 1
            self._issued += 1
            officer = r.officers[row]
            return Assignment(
                service_number=officer.service_number,
                event_id=o.event.external_id,
                tour_index=o.tour.index,
                day=o.tour.day,
                role=o.role,
                slot=0,
                unit_id=f"{o.event.external_id}/{o.tour.index}/{o.role}/{officer.unit}/r{d}.{self._issued}",
                source=officer.unit,
                start=o.tour.start,
                end=o.tour.end,
                rest_day_cancelled=False,
            )
        return None

    def undo(self, assignment: Assignment) -> None:
        r = self.roster
        r.unassign(r.rows_of([assignment.service_number]), r.day_index(assignment.day))
        opening = self._by_key[(assignment.event_id, assignment.tour_index, assignment.role)]
        opening.remaining += 1
