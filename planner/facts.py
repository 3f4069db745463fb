"""Facts about a problem and a plan that the validator and the evaluator both read.

Who each assignment names, which tours an event needs, which demand a plan covers, and how many
officers of each unit and duty role are on duty and abstracted each day. Computed once, quickly
(numpy for the officer-day tables), and independent of any solver: the validator and the evaluator
must see every plan - the solver's and a greedy baseline's - through the same facts.

Definitions used throughout:
- on duty: rostered a tour that day (a code with a time in ``policy.tour_times``: not REST, not LEAVE);
- abstracted: an on-duty officer assigned to any event tour that day (rest-day call-ins are not
  abstracted from core duty; they are counted separately);
- demand: the tours (``rules.event_tours``) of planned events whose day lies in the planning horizon.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from planner.domain import DUTY_ROLES, Event, Officer, PlanningProblem, Policy, Tour
from planner.plan import Assignment, Plan
from planner.rules import LEAVE, REST, event_tours, floor_retained, max_abstractable, roster_code

IntMatrix = npt.NDArray[np.int64]

TourKey = tuple[str, int]  # (event_id, tour_index)
DemandKey = tuple[str, int, str]  # (event_id, tour_index, role)


def event_demand(event: Event) -> dict[str, int]:
    """Units demanded per role for each of the event's tours (repeated roles are summed)."""
    out: dict[str, int] = defaultdict(int)
    for demand in event.demand:
        out[demand.role] += demand.count
    return dict(out)


def is_on_duty_code(code: str | None, policy: Policy) -> bool:
    """True if a roster code is a rostered tour (not REST, LEAVE or unknown)."""
    return code is not None and code not in (REST, LEAVE) and code in policy.tour_times


def rostered_hours(code: str | None, policy: Policy) -> float:
    """Hours of the rostered tour for a roster code, 0 on rest days and leave."""
    if not is_on_duty_code(code, policy):
        return 0.0
    assert code is not None
    return policy.tour_times[code].hours


@dataclass
class Cover:
    """Demand of one role on one event tour and the units a plan deployed to it."""

    required: int
    units: set[str] = field(default_factory=set)
    officers: int = 0
    in_horizon: bool = True

    @property
    def filled(self) -> int:
        return len(self.units)


@dataclass
class PlanFacts:
    """A plan read against its problem: lookups, roster codes and coverage."""

    problem: PlanningProblem
    plan: Plan
    officers: dict[str, Officer]
    events: dict[str, Event]  # every event, cancelled ones included
    tours: dict[str, list[Tour]]  # planned events only
    codes: list[str | None]  # roster code of each assignment's officer on its day (None: unknown officer)
    by_officer: dict[str, dict[dt.date, list[int]]]  # service number -> day -> assignment indices
    _codes: dict[tuple[str, dt.date], str] = field(default_factory=dict)

    @property
    def policy(self) -> Policy:
        return self.problem.policy

    def roster(self, officer: Officer, day: dt.date) -> str:
        """rules.roster_code for the officer that day, memoised (rules ask about the same days)."""
        key = (officer.service_number, day)
        code = self._codes.get(key)
        if code is None:
            code = self._codes[key] = roster_code(officer, day, self.problem.policy)
        return code

    def tour(self, event_id: str, index: int) -> Tour | None:
        """The canonical tour of a planned event, or None if there is no such tour."""
        tours = self.tours.get(event_id)
        if tours is None or not 0 <= index < len(tours):
            return None
        return tours[index]

    def assignment_tour(self, assignment: Assignment) -> Tour:
        """The canonical tour if it exists, else one built from the assignment's own times."""
        tour = self.tour(assignment.event_id, assignment.tour_index)
        if tour is not None:
            return tour
        return Tour(
            event_id=assignment.event_id,
            index=assignment.tour_index,
            day=assignment.day,
            start=assignment.start,
            end=assignment.end,
        )

    def in_horizon(self, day: dt.date) -> bool:
        return self.problem.start <= day <= self.problem.end

    def demand_tours(self) -> Iterator[tuple[Event, Tour]]:
        """Tours of planned events inside the horizon: the demand a plan must cover."""
        for event_id, tours in self.tours.items():
            event = self.events[event_id]
            for tour in tours:
                if self.in_horizon(tour.day):
                    yield event, tour

    def span(self) -> tuple[dt.date, dt.date]:
        """The horizon, widened to any assignment outside it."""
        first, last = self.problem.start, self.problem.end
        for assignment in self.plan.assignments:
            first = min(first, assignment.day)
            last = max(last, assignment.day)
        return first, last


def plan_facts(problem: PlanningProblem, plan: Plan) -> PlanFacts:
    """Index a plan against its problem (one pass over officers, events and assignments)."""
    policy = problem.policy
    officers = {o.service_number: o for o in problem.officers}
    events = {e.external_id: e for e in problem.events}
    tours = {e.external_id: event_tours(e, policy) for e in problem.events if e.status == "planned"}
    codes: list[str | None] = []
    by_officer: dict[str, dict[dt.date, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, assignment in enumerate(plan.assignments):
        officer = officers.get(assignment.service_number)
        codes.append(None if officer is None else roster_code(officer, assignment.day, policy))
        by_officer[assignment.service_number][assignment.day].append(i)
    return PlanFacts(
        problem=problem,
        plan=plan,
        officers=officers,
        events=events,
        tours=tours,
        codes=codes,
        by_officer=by_officer,
    )


def coverage(facts: PlanFacts) -> dict[DemandKey, Cover]:
    """Per (event, tour, role): units demanded and the distinct units (unit_ids) the plan sent.

    Holds every demanded role of every planned event tour inside the horizon, plus any
    (event, tour, role) the plan deployed to (demand 0 if the role was not asked for)."""
    covers: dict[DemandKey, Cover] = {}
    for event, tour in facts.demand_tours():
        for role, count in event_demand(event).items():
            covers[(event.external_id, tour.index, role)] = Cover(required=count)
    for assignment in facts.plan.assignments:
        key = (assignment.event_id, assignment.tour_index, assignment.role)
        cover = covers.get(key)
        if cover is None:
            known = facts.events.get(assignment.event_id)
            planned = known is not None and known.status == "planned"
            required = event_demand(known).get(assignment.role, 0) if known is not None and planned else 0
            cover = covers[key] = Cover(required=required, in_horizon=facts.in_horizon(assignment.day))
        cover.units.add(assignment.unit_id)
        cover.officers += 1
    return covers


# --------------------------------------------------------------------------- officer-day tables


@dataclass
class DutyTable:
    """On-duty, abstracted and called-in officers per (unit, duty role) row and day column."""

    first: dt.date
    days: int
    rows: dict[tuple[str, str], int]  # (unit, duty_role) -> row
    on_duty: IntMatrix  # rows x days
    abstracted: IntMatrix  # rows x days: on-duty officers assigned to an event tour
    called_in: IntMatrix  # rows x days: officers assigned on a rostered rest day

    def col(self, day: dt.date) -> int:
        return (day - self.first).days

    def day(self, col: int) -> dt.date:
        return self.first + dt.timedelta(days=col)

    def units(self) -> list[str]:
        return list(dict.fromkeys(unit for unit, _ in self.rows))

    def unit_totals(self, units: list[str]) -> tuple[IntMatrix, IntMatrix, IntMatrix]:
        """On-duty, abstracted and called-in officers per unit (all duty roles), rows as given."""
        on = np.zeros((len(units), self.days), dtype=np.int64)
        ab = np.zeros((len(units), self.days), dtype=np.int64)
        called = np.zeros((len(units), self.days), dtype=np.int64)
        for i, unit in enumerate(units):
            for role in DUTY_ROLES:
                row = self.rows.get((unit, role))
                if row is not None:
                    on[i] += self.on_duty[row]
                    ab[i] += self.abstracted[row]
                    called[i] += self.called_in[row]
        return on, ab, called


def merged_leave(officer: Officer, first: dt.date, last: dt.date) -> list[tuple[int, int]]:
    """The officer's leave as disjoint [start, end] day offsets from `first`, clipped to `last`."""
    ranges = sorted(
        (max(r.start, first), min(r.end, last)) for r in officer.leave if r.end >= first and r.start <= last
    )
    merged: list[tuple[dt.date, dt.date]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1] + dt.timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return [((s - first).days, (e - first).days) for s, e in merged]


def pattern_mask(
    policy: Policy, pattern: str, offset: int, first: dt.date, days: int
) -> npt.NDArray[np.bool_]:
    """Which of `days` days from `first` a shift pattern at `offset` rosters a tour."""
    cycle = policy.shift_patterns[pattern].cycle
    is_tour = np.fromiter((is_on_duty_code(c, policy) for c in cycle), dtype=np.bool_, count=len(cycle))
    idx = (np.arange(days) + (first - policy.pattern_epoch).days + offset) % len(cycle)
    return is_tour[idx]


def pattern_hours(
    policy: Policy, pattern: str, offset: int, first: dt.date, days: int
) -> npt.NDArray[np.float64]:
    """Rostered hours on each of `days` days from `first` for a shift pattern at `offset` (no leave)."""
    cycle = policy.shift_patterns[pattern].cycle
    hours = np.fromiter((rostered_hours(c, policy) for c in cycle), dtype=np.float64, count=len(cycle))
    idx = (np.arange(days) + (first - policy.pattern_epoch).days + offset) % len(cycle)
    return hours[idx]


def on_duty_table(problem: PlanningProblem, first: dt.date, last: dt.date) -> DutyTable:
    """On-duty officers per (unit, duty role, day), without a Python loop over officer-days.

    Officers sharing (unit, duty role, shift pattern, pattern offset) share a roster, so each group
    is one boolean day mask times its head count, less its members' leave days (a difference array)."""
    policy = problem.policy
    days = (last - first).days + 1
    units = list(dict.fromkeys([*problem.organisation.unit_codes(), *(o.unit for o in problem.officers)]))
    rows: dict[tuple[str, str], int] = {}
    for unit in units:
        for role in DUTY_ROLES:
            rows[(unit, role)] = len(rows)

    groups: dict[tuple[str, str, str, int], int] = {}
    sizes: list[int] = []
    leave_g: list[int] = []
    leave_s: list[int] = []
    leave_e: list[int] = []
    for officer in problem.officers:
        period = len(policy.shift_patterns[officer.shift_pattern].cycle)
        key = (officer.unit, officer.duty_role, officer.shift_pattern, officer.pattern_offset % period)
        g = groups.get(key)
        if g is None:
            g = groups[key] = len(sizes)
            sizes.append(0)
        sizes[g] += 1
        if officer.leave:
            for s, e in merged_leave(officer, first, last):
                leave_g.append(g)
                leave_s.append(s)
                leave_e.append(e + 1)

    n = len(sizes)
    diff = np.zeros((n, days + 1), dtype=np.int64)
    np.add.at(diff, (np.array(leave_g, dtype=np.int64), np.array(leave_s, dtype=np.int64)), 1)
    np.add.at(diff, (np.array(leave_g, dtype=np.int64), np.array(leave_e, dtype=np.int64)), -1)
    available = np.asarray(sizes, dtype=np.int64)[:, None] - np.cumsum(diff, axis=1)[:, :days]
    masks = np.zeros((n, days), dtype=np.bool_)
    group_row = np.zeros(n, dtype=np.int64)
    for (group_unit, group_role, pattern, offset), g in groups.items():
        masks[g] = pattern_mask(policy, pattern, offset, first, days)
        group_row[g] = rows[(group_unit, group_role)]
    on_duty = np.zeros((len(rows), days), dtype=np.int64)
    np.add.at(on_duty, group_row, available * masks)
    return DutyTable(
        first=first,
        days=days,
        rows=rows,
        on_duty=on_duty,
        abstracted=np.zeros_like(on_duty),
        called_in=np.zeros_like(on_duty),
    )


def duty_table(facts: PlanFacts) -> DutyTable:
    """On-duty officers and, from the plan, abstracted and called-in ones per (unit, duty role, day).

    An officer counts once a day however many assignments they have (extra ones break other rules);
    assignments on leave days count in neither."""
    first, last = facts.span()
    table = on_duty_table(facts.problem, first, last)
    policy = facts.policy
    cells: dict[bool, tuple[list[int], list[int]]] = {True: ([], []), False: ([], [])}
    for service_number, days in facts.by_officer.items():
        officer = facts.officers.get(service_number)
        if officer is None:
            continue
        row = table.rows[(officer.unit, officer.duty_role)]
        for day, indices in days.items():
            code = facts.codes[indices[0]]
            if code == REST or is_on_duty_code(code, policy):
                rows, cols = cells[code != REST]
                rows.append(row)
                cols.append(table.col(day))
    for on_duty, matrix in ((True, table.abstracted), (False, table.called_in)):
        rows, cols = cells[on_duty]
        np.add.at(matrix, (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)), 1)
    return table


@dataclass(frozen=True)
class FloorBreach:
    """A (unit, day, duty role) where events took more on-duty officers than the floor allows."""

    unit: str
    duty_role: str
    day: dt.date
    on_duty: int
    abstracted: int
    retained_required: int

    @property
    def allowed(self) -> int:
        return self.on_duty - self.retained_required


def floor_breaches(table: DutyTable, policy: Policy) -> list[FloorBreach]:
    """Every (unit, duty role, day) whose abstraction exceeds rules.max_abstractable, in table order."""
    out: list[FloorBreach] = []
    rows, cols = np.nonzero(table.abstracted)
    keys = list(table.rows)
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        unit, role = keys[r]
        share = policy.floors_for(unit).share(role)
        on = int(table.on_duty[r, c])
        taken = int(table.abstracted[r, c])
        if taken > max_abstractable(on, share):
            out.append(
                FloorBreach(
                    unit=unit,
                    duty_role=role,
                    day=table.day(c),
                    on_duty=on,
                    abstracted=taken,
                    retained_required=floor_retained(on, share),
                )
            )
    return out
