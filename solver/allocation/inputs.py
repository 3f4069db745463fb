"""Stage-1 inputs: one day's demand and supply, aggregated into classes of interchangeable officers.

A `DayInput` is plain serialisable data, so a day can be solved in another process or on another
machine; `build_day_input` derives it from the problem and the roster state.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

import numpy as np

from planner.domain import Event, PlanningProblem, RoleSpec, Struct, Tour
from planner.roster import ON, RESTING, BoolArray, IntArray, Roster
from planner.rules import fairness_weights, max_abstractable, on_duty_cost, rest_day_cost

ClassKey = tuple[str, str, str, tuple[str, ...]]


class ClassSupply(Struct):
    cls: int  # global class id
    source: str
    duty_role: str
    rank: str
    skills: tuple[str, ...]
    on: int  # on-duty officers free for events today
    rest: int  # officers on a rest day who could lawfully be called in
    on_by_window: list[int]  # of `on`, those who could work each tour window
    rest_by_window: list[int]
    # Post status "on<before" etc. -> per window, officers who could work it only if their duty
    # the day before (after) is replaced by an event tour: see families/duty_release.py.
    released: dict[str, list[int]] = {}
    usable: int = 0  # officers usable today in any status and window (0: on + rest bound it)

    def count(self, status: str, window: int) -> int:
        if status == "on":
            return self.on_by_window[window]
        if status == "rest":
            return self.rest_by_window[window]
        return self.released[status][window] if status in self.released else 0

    def total(self, status: str) -> int:
        if status == "on":
            return self.on
        if status == "rest":
            return self.rest
        return max(self.released.get(status, [0]))


class TourDemand(Struct):
    event_id: str
    tour_index: int
    borough: str
    priority: str
    window: int
    rest_cost: float  # cost of calling one officer in from a rest day
    on_cost: dict[str, float]  # extra cost of one on-duty officer, by rank
    demands: list[tuple[str, int]]  # (role, units still needed)
    travel: dict[str, float]  # candidate source -> minutes to the event's borough


class DayInput(Struct):
    day: dt.date
    tours: list[TourDemand]
    classes: list[ClassSupply]
    windows: list[tuple[int, int]]
    floors: dict[str, int]  # "source|duty_role" -> on-duty officers events may still take
    borough_on_duty: dict[str, int]
    roles: dict[str, RoleSpec]
    uncovered_weight: dict[str, float]
    travel_weight: float
    fairness_per_point: float
    fairness_threshold: float
    fairness_per_point_above: float
    # "before|PC" -> per window, officers of that rank the day before (after) could absorb: see
    # families/duty_release.py. Empty when no release is allowed.
    release_capacity: dict[str, list[int]] = {}
    # Price of a release in the allocation's objective (a tie-breaker, not pay: the bound sets 0).
    release_cost: float = 1.0


def candidate_sources(problem: PlanningProblem, borough: str, officers_needed: int) -> dict[str, float]:
    """Where officers for an event in `borough` may come from, with travel minutes.

    Small events draw on nearby boroughs only; large ones on the whole force. Central units are
    always candidates. Leaving distant boroughs out of small events keeps the model small
    without losing anything a sensible plan would use."""
    org = problem.organisation
    boroughs = sorted(org.travel_minutes[borough].items(), key=lambda kv: kv[1])
    if officers_needed <= 60:
        nearest = 6
    elif officers_needed <= 400:
        nearest = 12
    else:
        nearest = len(boroughs)
    out = dict(boroughs[:nearest])
    for unit in org.central_units:
        out[unit.code] = org.travel(unit.code, borough)
    return out


def all_source_minutes(problem: PlanningProblem, borough: str) -> dict[str, float]:
    """Every source of the force with its travel minutes to `borough`."""
    org = problem.organisation
    return {code: org.travel(code, borough) for code in org.unit_codes()}


def officers_needed(demands: list[tuple[str, int]], roles: dict[str, RoleSpec]) -> int:
    return sum(roles[role].size * count for role, count in demands)


Eligibility = Callable[[IntArray, int, int, int], BoolArray]


class Release(Struct):
    """Who may be released from a neighbouring day's duty, and how many that day can absorb.

    `masks(rows, d, start, end)` gives, for a tour window, the officers who could work it only if
    their duty the day before (after) were replaced; `capacity` per side and rank, per window."""

    capacity: dict[str, list[int]]
    # (rows, day, start, end, rest-day spacing ok for rows) -> (released before, released after)
    masks: Callable[[IntArray, int, int, int, BoolArray], tuple[BoolArray, BoolArray]]


def build_day_input(
    problem: PlanningProblem,
    roster: Roster,
    index: SupplyIndex,
    day: dt.date,
    tours: list[tuple[Event, Tour, list[tuple[str, int]]]],
    rows: IntArray | None = None,
    *,
    eligible: Eligibility | None = None,
    all_sources: bool = False,
    bound_costs: bool = False,
    release: Callable[[list[tuple[int, int]]], Release] | None = None,
) -> DayInput:
    """Aggregate `roster` on `day` for the given event tours and their outstanding demand.

    `rows` limits supply to some officers (all by default). `eligible(rows, d, start, end)`
    decides who could work a tour window (the roster's working-time rules by default; the bound
    passes a relaxation). `all_sources` makes every source a candidate for every tour.
    `bound_costs` prices on-duty officers so that the model's costs never overstate a plan's."""
    policy = problem.policy
    class_keys, class_of = index.class_keys, index.class_of
    d = roster.day_index(day)
    all_rows = np.arange(len(roster.officers)) if rows is None else rows
    n_classes = len(class_keys)
    # On-duty cost falls as rostered hours rise: pricing every class at the day's longest rostered
    # tour never overstates what an on-duty officer costs (so a relaxation stays a bound).
    rostered = float(roster.rostered_hours[all_rows, d].max()) if bound_costs and len(all_rows) else 8.0

    windows: dict[tuple[int, int], int] = {}
    tour_demands: list[TourDemand] = []
    for event, tour, demands in tours:
        minutes = roster.tour_minutes(tour)
        window = windows.setdefault(minutes, len(windows))
        tour_demands.append(
            TourDemand(
                event_id=event.external_id,
                tour_index=tour.index,
                borough=event.borough,
                priority=event.priority,
                window=window,
                rest_cost=rest_day_cost(event, tour, policy),
                on_cost={
                    rank: on_duty_cost(rank, rostered, tour, policy)
                    for rank in ("PC", "PS", "INSP", "CI", "SUPT")
                },
                demands=demands,
                travel=(
                    all_source_minutes(problem, event.borough)
                    if all_sources
                    else candidate_sources(problem, event.borough, officers_needed(demands, policy.roles))
                ),
            )
        )
    # Supply is counted for the officers some tour may draw on (every source for a relaxation,
    # whose omitted sources are priced); floors and fairness below count everyone on duty.
    rows = all_rows if all_sources or eligible is not None else _of_sources(index, all_rows, tour_demands)
    status = roster.status[rows, d]
    free = ~roster.on_event[rows, d]
    on_mask = (status == ON) & free
    on = np.bincount(class_of[rows[on_mask]], minlength=n_classes)
    rest = np.zeros(n_classes, dtype=np.int64)
    on_by_window = []
    rest_by_window = []
    spacing = roster.spacing_ok(rows, d)
    rest_mask = (status == RESTING) & free
    released_spec = release(list(windows)) if release is not None else None
    released: dict[str, list[IntArray]] = defaultdict(list)
    usable_mask = np.zeros(len(rows), dtype=np.bool_)
    for start, end in windows:
        if eligible is None:
            ok = roster.eligible(rows, d, start, end, spacing_ok=spacing)
        else:
            ok = eligible(rows, d, start, end)
        on_by_window.append(np.bincount(class_of[rows[ok & on_mask]], minlength=n_classes))
        rest_ok = np.bincount(class_of[rows[ok & rest_mask]], minlength=n_classes)
        rest_by_window.append(rest_ok)
        rest = np.maximum(rest, rest_ok)
        usable_mask |= ok & (on_mask | rest_mask)
        if released_spec is not None:
            before, after = released_spec.masks(rows, d, start, end, spacing)
            for side, mask in (("before", before & ~ok), ("after", after & ~ok & ~before)):
                for name, base in (("on", on_mask), ("rest", rest_mask)):
                    released[f"{name}<{side}"].append(
                        np.bincount(class_of[rows[mask & base]], minlength=n_classes)
                    )
                usable_mask |= mask & (on_mask | rest_mask)
    released_any = np.zeros(n_classes, dtype=np.int64)
    for counts in released.values():
        for c in counts:
            released_any = np.maximum(released_any, c)
    usable = np.bincount(class_of[rows[usable_mask]], minlength=n_classes)

    used = np.flatnonzero((on > 0) | (rest > 0) | (released_any > 0))
    classes = [
        ClassSupply(
            cls=int(c),
            source=class_keys[c][0],
            duty_role=class_keys[c][1],
            rank=class_keys[c][2],
            skills=class_keys[c][3],
            on=int(on[c]),
            rest=int(rest[c]),
            on_by_window=[int(w[c]) for w in on_by_window],
            rest_by_window=[int(w[c]) for w in rest_by_window],
            released={
                name: [int(w[c]) for w in counts]
                for name, counts in released.items()
                if any(w[c] for w in counts)
            },
            usable=int(usable[c]) if released_spec is not None else 0,
        )
        for c in used
    ]
    borough_on_duty = _borough_on_duty(index, roster, all_rows, d)
    per_point, per_point_above = fairness_weights(policy, borough_on_duty.values())
    return DayInput(
        day=day,
        tours=tour_demands,
        classes=classes,
        windows=list(windows),
        floors=_floor_headroom(index, roster, all_rows, d),
        borough_on_duty=borough_on_duty,
        roles=dict(policy.roles),
        uncovered_weight=dict(policy.weights.uncovered),
        travel_weight=policy.weights.travel_per_officer_minute,
        fairness_per_point=per_point,
        fairness_threshold=policy.weights.fairness_threshold,
        fairness_per_point_above=per_point_above,
        release_capacity=released_spec.capacity if released_spec is not None else {},
    )


def _of_sources(index: SupplyIndex, rows: IntArray, tours: list[TourDemand]) -> IntArray:
    """Those of `rows` whose source is a candidate for at least one of the tours."""
    sources = sorted({source for tour in tours for source in tour.travel})
    wanted = np.isin(index.class_source, sources)
    return rows[wanted[index.class_of[rows]]]


class SupplyIndex:
    """Officer classes and the (source, duty role) groups that floors apply to, for roster rows."""

    def __init__(self, problem: PlanningProblem, class_keys: list[ClassKey], class_of: IntArray) -> None:
        self.class_keys = class_keys
        self.class_of = class_of
        self.class_source = np.asarray([k[0] for k in class_keys])
        group_ids: dict[tuple[str, str], int] = {}
        self.class_group = np.asarray(
            [group_ids.setdefault((k[0], k[1]), len(group_ids)) for k in class_keys], dtype=np.int64
        )
        self.group_keys = list(group_ids)
        self.group_share = np.asarray(
            [problem.policy.floors_for(src).share(role) for src, role in self.group_keys], dtype=np.float64
        )
        boroughs = {b.code for b in problem.organisation.boroughs}
        self.group_is_borough = np.asarray([src in boroughs for src, _ in self.group_keys], dtype=np.bool_)


def _floor_headroom(index: SupplyIndex, roster: Roster, rows: IntArray, d: int) -> dict[str, int]:
    """Per source and duty role: on-duty officers events may still take today.

    The floor is a share of everyone rostered on (including those already on events), so
    headroom is what the floor allows minus what earlier plans already took."""
    on = rows[roster.status[rows, d] == ON]
    groups = index.class_group[index.class_of[on]]
    n = len(index.group_keys)
    on_duty = np.bincount(groups, minlength=n)
    taken = np.bincount(groups[roster.on_event[on, d]], minlength=n)
    out = {}
    for g in np.flatnonzero((on_duty > 0) & (index.group_share > 0)):
        source, role = index.group_keys[g]
        allowed = max_abstractable(int(on_duty[g]), float(index.group_share[g]))
        out[f"{source}|{role}"] = max(0, allowed - int(taken[g]))
    return out


def _borough_on_duty(index: SupplyIndex, roster: Roster, rows: IntArray, d: int) -> dict[str, int]:
    on = rows[roster.status[rows, d] == ON]
    groups = index.class_group[index.class_of[on]]
    on_duty = np.bincount(groups, minlength=len(index.group_keys))
    out: dict[str, int] = {}
    for g in np.flatnonzero((on_duty > 0) & index.group_is_borough):
        source = index.group_keys[g][0]
        out[source] = out.get(source, 0) + int(on_duty[g])
    return out
