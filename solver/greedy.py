"""The greedy baseline: the plan a hand planner would produce, scored like the solver's.

A hand planner works through the calendar day by day, biggest event first, and for each demanded
role fills each unit from the event's own borough, then from the nearest boroughs (by estimated
drive time), then from the central units (nearest base first). Only on-duty officers are taken
while any source can still form the unit from them, and never beyond a duty role's floor (see
`planner.rules.max_abstractable`); when no source can, the planner goes round the same order again
cancelling rest days. A serial or PSU is formed whole from one source, its specialist posts
(drivers, medics) filled first; within a source the lawful officers abstracted least so far are
taken (`planner.roster.Roster.pick`). What cannot be filled is a shortfall.

Two details a hand planner would also do:
- On the rest-day round a unit may combine a source's remaining on-duty officers (within the
  floors) with officers called in from a rest day, on-duty first, so as few rest days as possible
  are cancelled for it.
- Units of a role are formed in one batch per source where possible, and one by one otherwise; a
  source that could not form a unit for a tour's times is not asked again for that role that day.

Performance: officers are indexed per (source, slot) once, abstraction headroom per
(unit, duty role, day) is a numpy array, and every draw works on numpy masks of one source's
candidates, so the full London year runs in seconds.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from planner.domain import DUTY_ROLES, PRIORITIES, Event, PlanningProblem, RoleSpec, Slot, Tour
from planner.plan import Allocation, Assignment, Plan, Shortfall, StageStats
from planner.roster import ON, RESTING, IntArray, Roster, officer_classes
from planner.rules import event_tours, fits_slot
from planner.stages import Stage

METHOD = "greedy"
NO_UNIT = "Greedy: no source could form the unit"
NO_OFFICER = "Greedy: no source had a lawful officer to spare"
WITHIN_FLOORS = (
    "on-duty officers were limited by the duty floors, rest between tours, rest-day spacing and weekly "
    "hours, and too few could be called in from rest days"
)
NO_SINGLE_SOURCE = "Greedy: no single source holds enough officers of the required rank and skills"
UNKNOWN_ROLE = "Greedy: role is not defined in the policy"

_ROLE_INDEX = {role: i for i, role in enumerate(DUTY_ROLES)}
_N_ROLES = len(DUTY_ROLES)
_EMPTY = np.empty(0, dtype=np.int64)

SlotKey = tuple[tuple[str, ...], tuple[str, ...]]


def _slot_key(slot: Slot) -> SlotKey:
    return (tuple(slot.ranks), tuple(slot.skills))


@dataclass
class _TourWork:
    event: Event
    tour: Tour
    demands: list[tuple[str, int]]  # role, units; roles merged, demand order kept
    officers: int  # officers per tour (known roles)


@dataclass
class _Deployment:
    """Units of one role formed from one source for one tour: rows per slot, unit by unit."""

    source: str
    units: list[list[IntArray]] = field(default_factory=list)  # units x slots -> rows


class GreedyPlanner:
    """Builds a greedy plan; one instance per problem (it holds the evolving roster)."""

    def __init__(self, problem: PlanningProblem) -> None:
        self.problem = problem
        self.policy = policy = problem.policy
        self.org = problem.organisation
        self.roster = Roster(problem)
        officers = problem.officers
        n = len(officers)

        # Sources: boroughs then central units; officers of any other unit are never deployed.
        self.sources = list(dict.fromkeys(self.org.unit_codes()))
        units = list(dict.fromkeys([*self.sources, *(o.unit for o in officers)]))
        self.unit_index = {u: i for i, u in enumerate(units)}
        unit_of = np.fromiter((self.unit_index[o.unit] for o in officers), dtype=np.int64, count=n)
        self.role_of = np.fromiter((_ROLE_INDEX[o.duty_role] for o in officers), dtype=np.int64, count=n)
        self.group_of = unit_of * _N_ROLES + self.role_of

        # Abstraction headroom per (unit, duty role) group and day: floors on on-duty officers.
        roster = self.roster
        n_groups = len(units) * _N_ROLES
        on_count = np.zeros((n_groups, roster.n_days), dtype=np.int64)
        rows, days = np.nonzero(roster.status == ON)
        np.add.at(on_count, (self.group_of[rows], days), 1)
        shares = np.asarray(
            [policy.floors_for(u).share(role) for u in units for role in DUTY_ROLES], dtype=np.float64
        )
        retained = np.minimum(on_count, np.ceil(shares[:, None] * on_count - 1e-9).astype(np.int64))
        self.headroom = on_count - retained  # == rules.max_abstractable, per group and day

        # Officers per (source, slot) fitting the slot's ranks and skills, in problem order.
        keys, class_of = officer_classes(problem)
        self.class_of = class_of
        self.class_keys = keys
        order = np.argsort(unit_of, kind="stable")
        bounds = np.searchsorted(unit_of[order], np.arange(len(units) + 1))
        self.rows_of_unit = {u: order[bounds[i] : bounds[i + 1]] for i, u in enumerate(units)}
        self._fit_rows: dict[tuple[str, SlotKey], IntArray] = {}
        self._class_fit: dict[SlotKey, npt.NDArray[np.bool_]] = {}

        self._source_order: dict[str, list[str]] = {}
        self._sources_for: dict[tuple[str, str], list[str]] = {}
        self._failed: set[tuple[str, str, int, int, int]] = set()  # source, role, pass, start, end
        self._failed_day = -1

        self.allocations: list[Allocation] = []
        self.assignments: list[Assignment] = []
        self.shortfalls: list[Shortfall] = []

    # ------------------------------------------------------------------ indexes

    def fit_rows(self, source: str, slot: Slot) -> IntArray:
        key = (source, _slot_key(slot))
        rows = self._fit_rows.get(key)
        if rows is None:
            fit = self._class_fit.get(key[1])
            if fit is None:
                fit = self._class_fit[key[1]] = np.fromiter(
                    (fits_slot(rank, frozenset(skills), slot) for _u, _r, rank, skills in self.class_keys),
                    dtype=np.bool_,
                    count=len(self.class_keys),
                )
            members = self.rows_of_unit.get(source, _EMPTY)
            rows = self._fit_rows[key] = members[fit[self.class_of[members]]]
        return rows

    def source_order(self, borough: str) -> list[str]:
        """The event's own borough, then boroughs by drive time, then central units by drive time."""
        order = self._source_order.get(borough)
        if order is None:
            travel = self.org.travel_minutes
            central = {u.code: u.base_borough for u in self.org.central_units}

            def minutes(code: str) -> float:
                return travel.get(central.get(code, code), {}).get(borough, math.inf)

            boroughs = [s for s in self.sources if s not in central]
            centrals = [s for s in self.sources if s in central]
            order = sorted(boroughs, key=lambda s: (s != borough, minutes(s), s))
            order += sorted(centrals, key=lambda s: (minutes(s), s))
            self._source_order[borough] = order
        return order

    def can_ever_form(self, source: str, spec: RoleSpec) -> bool:
        """Whether the source has enough officers of each slot's rank and skills at all."""
        return all(len(self.fit_rows(source, slot)) >= slot.count for slot in spec.slots)

    def sources_for(self, borough: str, role: str, spec: RoleSpec) -> list[str]:
        """The sources, in the order a planner asks them, that have the officers for the role at all."""
        key = (borough, role)
        order = self._sources_for.get(key)
        if order is None:
            order = self._sources_for[key] = [
                s for s in self.source_order(borough) if self.can_ever_form(s, spec)
            ]
        return order

    # ------------------------------------------------------------------ demand

    def tour_work(self) -> list[_TourWork]:
        problem, roles = self.problem, self.policy.roles
        work: list[_TourWork] = []
        for event in problem.events:
            if event.status != "planned" or not event.demand:
                continue
            merged: dict[str, int] = {}
            for d in event.demand:
                if d.count > 0:
                    merged[d.role] = merged.get(d.role, 0) + d.count
            if not merged:
                continue
            demands = list(merged.items())
            size = sum(roles[r].size * c for r, c in demands if r in roles)
            for tour in event_tours(event, self.policy):
                if problem.start <= tour.day <= problem.end:
                    work.append(_TourWork(event=event, tour=tour, demands=demands, officers=size))
        priority = {p: i for i, p in enumerate(PRIORITIES)}
        work.sort(
            key=lambda w: (
                w.tour.day,
                -w.officers,
                priority.get(w.event.priority, len(priority)),
                w.tour.start,
                w.event.external_id,
                w.tour.index,
            )
        )
        return work

    def role_order(self, work: _TourWork) -> list[tuple[str, int]]:
        """Roles few sources can supply first (a TSG serial before a PSU that TSG could also
        staff), then in the order demanded."""
        roles = self.policy.roles
        borough = work.event.borough

        def suppliers(role: str) -> int:
            spec = roles.get(role)
            return 0 if spec is None else len(self.sources_for(borough, role, spec))

        return sorted(work.demands, key=lambda d: suppliers(d[0]))

    # ------------------------------------------------------------------ drawing officers

    def draw(
        self,
        rows: IntArray,
        need: int,
        day: int,
        start: int,
        end: int,
        headroom: IntArray | None,
    ) -> IntArray:
        """Up to `need` lawful officers of `rows`, least-abstracted first; when `headroom` (per duty
        role, updated in place) is given, no duty role gives more than its headroom."""
        if need <= 0 or len(rows) == 0:
            return _EMPTY
        roster = self.roster
        if headroom is None:
            return roster.pick(rows, need, day, start, end)
        roles = self.role_of[rows]
        rows = rows[headroom[roles] > 0]
        if len(rows) == 0:
            return _EMPTY
        roles = self.role_of[rows]
        present = np.bincount(roles, minlength=_N_ROLES) > 0
        if np.all(headroom[present] >= need):
            got = roster.pick(rows, need, day, start, end)
        else:
            ok = rows[roster.eligible(rows, day, start, end)]
            ok = ok[np.argsort(roster.abstractions[ok], kind="stable")]
            got = ok[_rank_within(self.role_of[ok]) < headroom[self.role_of[ok]]][:need]
        np.subtract.at(headroom, self.role_of[got], 1)
        return got

    def form(
        self,
        source: str,
        spec: RoleSpec,
        units: int,
        rest_round: bool,
        day: int,
        start: int,
        end: int,
    ) -> list[list[IntArray]]:
        """Form up to `units` whole units of `spec` from one source; rows per slot for each unit.

        On-duty officers are drawn within the floors; on the rest-day round officers on a rest day
        make up what on-duty officers cannot."""
        slots = spec.slots
        if not slots:
            return []
        first = self.unit_index[source] * _N_ROLES
        headroom = self.headroom[first : first + _N_ROLES, day].copy()
        status = self.roster.status
        taken: list[IntArray] = []
        picked: list[IntArray] = [_EMPTY] * len(slots)
        # Specialist posts first (drivers, medics), so general posts do not use up their holders.
        for i in sorted(range(len(slots)), key=lambda i: (-len(slots[i].skills), i)):
            slot = slots[i]
            need = units * slot.count
            rows = self.fit_rows(source, slot)
            if taken:
                rows = rows[~np.isin(rows, np.concatenate(taken))]
            here = status[rows, day]
            got = self.draw(rows[here == ON], need, day, start, end, headroom)
            if rest_round and len(got) < need:
                more = self.draw(rows[here == RESTING], need - len(got), day, start, end, None)
                got = np.concatenate([got, more])
            if len(got) < slot.count and spec.is_unit:
                return []
            picked[i] = got
            taken.append(got)
        complete = min(units, *(len(picked[i]) // s.count for i, s in enumerate(slots)))
        return [
            [picked[i][k * s.count : (k + 1) * s.count] for i, s in enumerate(slots)] for k in range(complete)
        ]

    def commit(self, units: list[list[IntArray]], day: int, start: int, end: int) -> None:
        rows = np.concatenate([r for unit in units for r in unit])
        on = rows[self.roster.status[rows, day] == ON]
        np.subtract.at(self.headroom[:, day], self.group_of[on], 1)
        self.roster.assign(rows, day, start, end)

    # ------------------------------------------------------------------ one role on one tour

    def fill(self, work: _TourWork, role: str, required: int) -> None:
        event, tour = work.event, work.tour
        spec = self.policy.roles.get(role)
        if spec is None:
            self._shortfall(tour, role, required, 0, 1, (UNKNOWN_ROLE,))
            return
        roster = self.roster
        day = roster.day_index(tour.day)
        start, end = roster.tour_minutes(tour)
        if day != self._failed_day:
            self._failed.clear()
            self._failed_day = day
        order = self.sources_for(event.borough, role, spec)
        deployed: dict[str, list[list[IntArray]]] = defaultdict(list)
        remaining = required
        for rest_round in (False, True):
            for source in order:
                if remaining == 0:
                    break
                key = (source, role, int(rest_round), start, end)
                if key in self._failed:
                    continue
                batch = remaining
                formed = self.form(source, spec, batch, rest_round, day, start, end)
                if formed:
                    self.commit(formed, day, start, end)
                    deployed[source].extend(formed)
                    remaining -= len(formed)
                # A batch can fall short where units formed one at a time would not (the floors are
                # shared between slots); then form them one by one until the source runs out.
                while remaining and spec.is_unit and batch > 1:
                    formed = self.form(source, spec, 1, rest_round, day, start, end)
                    if not formed:
                        break
                    self.commit(formed, day, start, end)
                    deployed[source].extend(formed)
                    remaining -= 1
                if remaining:
                    self._failed.add(key)
        self._record(work, role, spec, deployed, day)
        if remaining:
            if not order:
                reasons: tuple[str, ...] = (NO_SINGLE_SOURCE,)
            else:
                lead = NO_UNIT if spec.is_unit else NO_OFFICER
                reasons = (f"{lead}: {WITHIN_FLOORS}",)
            self._shortfall(tour, role, required, required - remaining, spec.size, reasons)

    def _record(
        self,
        work: _TourWork,
        role: str,
        spec: RoleSpec,
        deployed: dict[str, list[list[IntArray]]],
        day: int,
    ) -> None:
        event, tour = work.event, work.tour
        status = self.roster.status
        officers = self.problem.officers
        for source, units in deployed.items():
            rest_officers = 0
            for n, unit in enumerate(units):
                unit_id = f"{event.external_id}/{tour.index}/{role}/{source}/{n}"
                for slot_index, rows in enumerate(unit):
                    resting = (status[rows, day] == RESTING).tolist()
                    rest_officers += sum(resting)
                    for row, on_rest in zip(rows.tolist(), resting, strict=True):
                        self.assignments.append(
                            Assignment(
                                service_number=officers[row].service_number,
                                event_id=event.external_id,
                                tour_index=tour.index,
                                day=tour.day,
                                role=role,
                                slot=slot_index,
                                unit_id=unit_id,
                                source=source,
                                start=tour.start,
                                end=tour.end,
                                rest_day_cancelled=bool(on_rest),
                            )
                        )
            self.allocations.append(
                Allocation(
                    event_id=event.external_id,
                    tour_index=tour.index,
                    day=tour.day,
                    role=role,
                    source=source,
                    count=len(units),
                    rest_day_officers=rest_officers,
                )
            )

    def _shortfall(
        self, tour: Tour, role: str, required: int, filled: int, size: int, reasons: tuple[str, ...]
    ) -> None:
        self.shortfalls.append(
            Shortfall(
                event_id=tour.event_id,
                tour_index=tour.index,
                day=tour.day,
                role=role,
                required=required,
                filled=filled,
                officers_short=(required - filled) * size,
                reasons=reasons,
            )
        )

    # ------------------------------------------------------------------ whole plan

    def run(self) -> Plan:
        started = time.perf_counter()
        work = self.tour_work()
        for item in work:
            for role, count in self.role_order(item):
                self.fill(item, role, count)
        seconds = time.perf_counter() - started
        stats = StageStats(
            name=Stage.GREEDY,
            status="DONE",
            seconds=seconds,
            details={
                "tours": float(len(work)),
                "units": float(sum(a.count for a in self.allocations)),
                "assignments": float(len(self.assignments)),
                "rest_day_officers": float(sum(a.rest_day_officers for a in self.allocations)),
                "shortfalls": float(len(self.shortfalls)),
                "officers_short": float(sum(s.officers_short for s in self.shortfalls)),
            },
        )
        return Plan(
            allocations=self.allocations,
            assignments=self.assignments,
            shortfalls=self.shortfalls,
            stages=[stats],
            method=METHOD,
        )


def _rank_within(labels: IntArray) -> IntArray:
    """Position of each element among the elements with the same label, in order (0, 1, ...)."""
    out = np.zeros(len(labels), dtype=np.int64)
    for value in np.unique(labels):
        mask = labels == value
        out[mask] = np.arange(int(mask.sum()))
    return out


def greedy_plan(problem: PlanningProblem) -> Plan:
    """The hand planner's plan for every event tour in the problem's horizon (see module doc)."""
    started = time.perf_counter()
    plan = GreedyPlanner(problem).run()
    plan.stages[0].seconds = time.perf_counter() - started  # set-up (roster, indexes) included
    return plan
