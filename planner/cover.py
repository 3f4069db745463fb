"""Lawful cover, measured: for one event tour and role, which sources hold suitable officers, how
many of them could lawfully work the tour against a roster (every working-time rule, with the
plan's deployments applied), what each rule and each floor holds back, and how many whole units
could still be formed, at what rest-day cost.

One measurement serves every caller: the solver's last check before a plan is stored (cover
that exists is taken), the shortfall reasons a plan carries, the analysts' explanations and the
benchmark's count of tours left short although lawful cover existed. Nothing here reads the
solver's internals; units are counted with an exact max-flow over officer types, not a heuristic.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_flow

from planner.domain import Event, PlanningProblem, Record, RoleSpec, Struct, Tour
from planner.roster import ON, ON_LEAVE, RESTING, BoolArray, IntArray, Roster
from planner.rules import effective_skills, fits_slot, max_abstractable, on_duty_cost, rest_day_cost

# The working-time rules in the order an officer is attributed to the first one that rules them
# out, so that the counts add up to the suitable officers who cannot work the tour. Names are the
# validator's rule names.
LEAVE = "Leave is untouchable"
ONE_TOUR = "One tour a day"
REST_BEFORE = "Rest between tours (before)"
REST_AFTER = "Rest between tours (after)"
SPACING = "Rest-day spacing"
WEEKLY_HOURS = "Average weekly hours"
RULE_ORDER: tuple[str, ...] = (LEAVE, ONE_TOUR, REST_BEFORE, REST_AFTER, SPACING, WEEKLY_HOURS)


def floor_name(duty_role: str) -> str:
    """The stable name of a duty role's floor, as the validator and the solver call it."""
    return f"{duty_role.capitalize()} floor"


class SourceCover(Record, frozen=True):
    """One source (borough or central unit) measured for one event tour and role."""

    source: str
    minutes: float  # estimated travel to the event's borough
    suitable: int  # officers of the source fitting some slot of the role
    held_back: dict[str, int]  # rule -> suitable officers it rules out (first failing rule)
    lawful_on_duty: int  # suitable officers on duty who could lawfully work the tour
    lawful_rest_day: int  # suitable officers on a rest day who could lawfully be called in
    held_by_floor: dict[str, int]  # floor rule -> lawful on-duty officers it keeps on core duty
    units_formable: int  # whole units lawful officers within the floors could still form (capped)
    units_on_duty: int  # of those, formable from on-duty officers alone
    rest_day_officers: int  # fewest rest-day cancellations forming `units_formable` needs
    rest_day_cost: float  # their cost, paid-hour equivalents
    unit_cost: float  # an upper bound on the cost of one more unit from this source

    @property
    def lawful(self) -> int:
        return self.lawful_on_duty + self.lawful_rest_day


class TourCover(Struct):
    event_id: str
    tour_index: int
    day: dt.date
    role: str
    short_units: int
    unit_size: int
    uncovered_weight: float  # cost of leaving one unit of this role uncovered
    sources: list[SourceCover]  # sources with suitable officers, nearest first
    slot_lawful: dict[str, int]  # per slot label: lawful officers fitting it, all sources

    @property
    def coverable_units(self) -> int:
        """Units some single source could still form lawfully at a price the policy accepts."""
        return max((s.units_formable for s in self.sources if s.unit_cost < self.uncovered_weight), default=0)

    @property
    def suitable(self) -> int:
        return sum(s.suitable for s in self.sources)

    def held_back(self) -> dict[str, int]:
        """Suitable officers each working-time rule rules out, all sources."""
        out: dict[str, int] = defaultdict(int)
        for s in self.sources:
            for rule, n in s.held_back.items():
                out[rule] += n
        return dict(out)

    def held_by_floors(self) -> dict[str, int]:
        """Lawful on-duty officers each floor keeps on core duty, all sources."""
        out: dict[str, int] = defaultdict(int)
        for s in self.sources:
            for rule, n in s.held_by_floor.items():
                out[rule] += n
        return dict(out)


@dataclass
class _Types:
    """Lawful officers of one source grouped into types that a max-flow can route to slots."""

    rows: list[IntArray]  # members of each type
    fits: list[tuple[bool, ...]]  # per type: which slots it fits
    on_duty: list[bool]
    group: list[int]  # floor group of an on-duty type, -1 if no floor applies
    headroom: dict[int, int] = field(default_factory=dict)


class CoverContext:
    """Officer facts a measurement needs, computed once per roster and reused across tours."""

    def __init__(self, problem: PlanningProblem, roster: Roster) -> None:
        self.problem = problem
        self.roster = roster
        policy = problem.policy
        officers = roster.officers
        self.units = np.asarray([o.unit for o in officers])
        # Units as integer codes too: per-unit figures over many rows at once (recommendations).
        self.unit_codes, self.unit_of = np.unique(self.units, return_inverse=True)
        self.unit_rows = {str(u): np.flatnonzero(self.unit_of == i) for i, u in enumerate(self.unit_codes)}
        self.ranks = np.asarray([o.rank for o in officers])
        skills_cache: dict[tuple[str, ...], frozenset[str]] = {}
        self.skills = [
            skills_cache.setdefault(o.skills, effective_skills(o.skills, policy)) for o in officers
        ]
        groups: dict[tuple[str, str], int] = {}
        self.group = np.asarray(
            [groups.setdefault((o.unit, o.duty_role), len(groups)) for o in officers], dtype=np.int64
        )
        self.group_keys = list(groups)
        self.group_share = np.asarray(
            [policy.floors_for(unit).share(role) for unit, role in groups], dtype=np.float64
        )
        self._fits: dict[tuple[str, int], BoolArray] = {}

    def fits(self, role: str, slot_index: int) -> BoolArray:
        key = (role, slot_index)
        cached = self._fits.get(key)
        if cached is None:
            slot = self.problem.policy.roles[role].slots[slot_index]
            cached = np.fromiter(
                (fits_slot(str(r), s, slot) for r, s in zip(self.ranks, self.skills, strict=True)),
                dtype=np.bool_,
                count=len(self.skills),
            )
            self._fits[key] = cached
        return cached

    def rule_masks(self, rows: IntArray, d: int, start: int, end: int) -> dict[str, BoolArray]:
        """Per rule, which of `rows` it rules out of a tour [start, end) on day `d` (the same
        checks as Roster.eligible, kept apart so that each can be counted)."""
        r = self.roster
        status = r.status[rows, d]
        prev_end = r.end[rows, d - 1] if d > 0 else np.full(len(rows), -1)
        next_start = r.start[rows, d + 1] if d + 1 < r.n_days else np.full(len(rows), -1)
        spacing = r.spacing_ok(rows, d)
        window = r.window_of_day[d]
        extra = (end - start) / 60.0 - r.rostered_hours[rows, d]
        return {
            LEAVE: status == ON_LEAVE,
            ONE_TOUR: r.on_event[rows, d],
            REST_BEFORE: (prev_end >= 0) & (start - prev_end < r.rest_minutes),
            REST_AFTER: (next_start >= 0) & (next_start - end < r.rest_minutes),
            SPACING: ~spacing,
            WEEKLY_HOURS: r.window_hours[rows, window] + extra > r.window_cap[window] + 1e-6,
        }

    def headroom(self, d: int) -> dict[int, int]:
        """Per floor group: on-duty officers events may still take on day `d`."""
        r = self.roster
        on = r.status[:, d] == ON
        n = len(self.group_share)
        on_duty = np.bincount(self.group[on], minlength=n)
        taken = np.bincount(self.group[on & r.on_event[:, d]], minlength=n)
        return {
            int(g): max(0, max_abstractable(int(on_duty[g]), float(self.group_share[g])) - int(taken[g]))
            for g in np.flatnonzero(self.group_share > 0)
        }


def measure(
    ctx: CoverContext,
    event: Event,
    tour: Tour,
    role: str,
    short_units: int,
    sources: list[str] | None = None,
    headroom: dict[int, int] | None = None,
) -> TourCover:
    """Measure lawful cover for `short_units` more units of `role` at one event tour."""
    problem, roster = ctx.problem, ctx.roster
    policy = problem.policy
    spec = policy.roles[role]
    d = roster.day_index(tour.day)
    start, end = roster.tour_minutes(tour)
    if headroom is None:
        headroom = ctx.headroom(d)
    fits = [ctx.fits(role, i) for i in range(len(spec.slots))]
    suitable_all = np.logical_or.reduce(fits)
    org = problem.organisation
    codes = sources if sources is not None else org.unit_codes()
    per_officer_rest = rest_day_cost(event, tour, policy)
    per_officer_on = on_duty_cost("PC", 0.0, tour, policy)  # the whole tour as overtime: an upper bound
    weights = policy.weights
    fairness_cap = 0.5 * min(weights.uncovered.values())
    out: list[SourceCover] = []
    slot_lawful = [0] * len(spec.slots)
    for code in codes:
        rows = ctx.unit_rows.get(code)
        if rows is None:
            continue
        rows = rows[suitable_all[rows]]
        if len(rows) == 0:
            continue
        masks = ctx.rule_masks(rows, d, start, end)
        ruled_out = np.zeros(len(rows), dtype=np.bool_)
        held: dict[str, int] = {}
        for rule in RULE_ORDER:
            newly = masks[rule] & ~ruled_out
            if newly.any():
                held[rule] = int(newly.sum())
            ruled_out |= masks[rule]
        lawful = rows[~ruled_out]
        status = roster.status[lawful, d]
        for i, f in enumerate(fits):
            slot_lawful[i] += int(f[lawful].sum())
        types = _types(ctx, lawful, status, fits, headroom)
        held_by_floor: dict[str, int] = defaultdict(int)
        for group, cap in types.headroom.items():
            lawful_in_group = sum(len(t) for t, g in zip(types.rows, types.group, strict=True) if g == group)
            if lawful_in_group > cap:
                held_by_floor[floor_name(ctx.group_keys[group][1])] += lawful_in_group - cap
        units = _max_units(types, spec, short_units, on_duty_only=False)
        units_on = _max_units(types, spec, units, on_duty_only=True)
        on_used = _flow(types, spec, units, on_duty_only=True) if units else 0
        rest_needed = units * spec.size - on_used
        minutes = org.travel(code, event.borough)
        unit_cost = spec.size * (
            max(per_officer_rest, per_officer_on) + minutes * weights.travel_per_officer_minute + fairness_cap
        )
        out.append(
            SourceCover(
                source=code,
                minutes=minutes,
                suitable=len(rows),
                held_back=held,
                lawful_on_duty=int((status == ON).sum()),
                lawful_rest_day=int((status == RESTING).sum()),
                held_by_floor=dict(held_by_floor),
                units_formable=units,
                units_on_duty=units_on,
                rest_day_officers=rest_needed,
                rest_day_cost=round(rest_needed * per_officer_rest, 2),
                unit_cost=unit_cost,
            )
        )
    out.sort(key=lambda s: (s.minutes, s.source))
    return TourCover(
        event_id=event.external_id,
        tour_index=tour.index,
        day=tour.day,
        role=role,
        short_units=short_units,
        unit_size=spec.size,
        uncovered_weight=weights.uncovered[event.priority] * spec.size,
        sources=out,
        slot_lawful={_slot_label(spec, i): n for i, n in enumerate(slot_lawful)},
    )


def _slot_label(spec: RoleSpec, i: int) -> str:
    slot = spec.slots[i]
    return slot.label or "/".join(slot.ranks) + ("+" + "+".join(slot.skills) if slot.skills else "")


def _types(
    ctx: CoverContext,
    lawful: IntArray,
    status: npt.NDArray[np.int8],
    fits: list[BoolArray],
    headroom: dict[int, int],
) -> _Types:
    # One key per (slots fitted, on duty, floor group), computed for all rows at once.
    on = status == ON
    groups = ctx.group[lawful]
    floored = on & np.isin(groups, np.fromiter(headroom, dtype=np.int64, count=len(headroom)))
    groups = np.where(floored, groups, -1)
    fit_bits = np.zeros(len(lawful), dtype=np.int64)
    for s, f in enumerate(fits):
        fit_bits |= f[lawful].astype(np.int64) << s
    key = (groups + 1) * (1 << (len(fits) + 1)) + (fit_bits << 1) + on
    order = np.argsort(key, kind="stable")
    unique, starts = np.unique(key[order], return_index=True)
    bounds = [*starts.tolist(), len(order)]
    keys: dict[tuple[tuple[bool, ...], bool, int], list[int]] = {}
    # Types in order of first appearance, as the rows come (the flow's picks depend on it).
    for i in sorted(range(len(unique)), key=lambda j: int(order[bounds[j]])):
        members = order[bounds[i] : bounds[i + 1]]
        first = int(members[0])
        fit = tuple(bool(fit_bits[first] >> s & 1) for s in range(len(fits)))
        keys[(fit, bool(on[first]), int(groups[first]))] = lawful[members].tolist()
    types = _Types(rows=[], fits=[], on_duty=[], group=[])
    for (fit, on, group), members in keys.items():
        types.rows.append(np.asarray(members, dtype=np.int64))
        types.fits.append(fit)
        types.on_duty.append(on)
        types.group.append(group)
        if group >= 0:
            types.headroom[group] = headroom[group]
    return types


def _edges(
    types: _Types, spec: RoleSpec, units: int, on_duty_only: bool
) -> tuple[list[tuple[int, int, int]], int, int, int]:
    """Source -> (floor group ->) officer type -> slot -> sink, with slot capacities for `units`:
    (edges, nodes, source, sink)."""
    groups = sorted(types.headroom)
    n_types, n_groups, n_slots = len(types.rows), len(groups), len(spec.slots)
    source, sink = 0, 1 + n_groups + n_types + n_slots
    group_node = {g: 1 + i for i, g in enumerate(groups)}
    type_node = [1 + n_groups + i for i in range(n_types)]
    slot_node = [1 + n_groups + n_types + i for i in range(n_slots)]
    edges: list[tuple[int, int, int]] = []
    for g in groups:
        edges.append((source, group_node[g], types.headroom[g]))
    for i in range(n_types):
        if on_duty_only and not types.on_duty[i]:
            continue
        size = len(types.rows[i])
        parent = group_node[types.group[i]] if types.group[i] >= 0 else source
        edges.append((parent, type_node[i], size))
        for s, fit in enumerate(types.fits[i]):
            if fit:
                edges.append((type_node[i], slot_node[s], size))
    for s, slot in enumerate(spec.slots):
        edges.append((slot_node[s], sink, units * slot.count))
    return edges, sink + 1, source, sink


def _network(types: _Types, spec: RoleSpec, units: int, on_duty_only: bool) -> tuple[sp.csr_matrix, int, int]:
    edges, n, source, sink = _edges(types, spec, units, on_duty_only)
    if not edges:
        return sp.csr_matrix((n, n), dtype=np.int32), source, sink
    a, b, c = zip(*edges, strict=True)
    matrix = sp.csr_matrix((np.asarray(c, dtype=np.int32), (a, b)), shape=(n, n))
    return matrix, source, sink


def _flow(types: _Types, spec: RoleSpec, units: int, on_duty_only: bool) -> int:
    if units <= 0 or not types.rows:
        return 0
    return _flow_value(*_edges(types, spec, units, on_duty_only))


def _flow_value(edges: list[tuple[int, int, int]], n: int, source: int, sink: int) -> int:
    """Max-flow value by shortest augmenting paths. The networks have a few dozen nodes, where
    building scipy's sparse matrices costs far more than the flow; counting units calls this
    thousands of times per plan. Routing (which officers fill which slot) stays with scipy."""
    cap: list[dict[int, int]] = [dict() for _ in range(n)]
    for a, b, c in edges:
        cap[a][b] = cap[a].get(b, 0) + c
        cap[b].setdefault(a, 0)
    total = 0
    while True:
        parent = {source: source}
        frontier = [source]
        while frontier and sink not in parent:
            step = []
            for u in frontier:
                for v, c in cap[u].items():
                    if c > 0 and v not in parent:
                        parent[v] = u
                        step.append(v)
            frontier = step
        if sink not in parent:
            return total
        push, v = None, sink
        while v != source:
            u = parent[v]
            push = cap[u][v] if push is None else min(push, cap[u][v])
            v = u
        assert push is not None
        v = sink
        while v != source:
            u = parent[v]
            cap[u][v] -= push
            cap[v][u] += push
            v = u
        total += push


def _max_units(types: _Types, spec: RoleSpec, cap: int, on_duty_only: bool) -> int:
    """The most whole units (at most `cap`) the types can form: binary search on the max-flow."""
    if cap <= 0 or not types.rows:
        return 0
    upper = cap
    for s, slot in enumerate(spec.slots):
        fitting = sum(
            len(r)
            for r, fit, on in zip(types.rows, types.fits, types.on_duty, strict=True)
            if fit[s] and (on or not on_duty_only)
        )
        upper = min(upper, fitting // slot.count)
    if upper <= 0:
        return 0
    # The common case: the cap itself can be formed, and one max-flow says so.
    flow = _flow(types, spec, upper, on_duty_only)
    if flow == upper * spec.size:
        return upper
    lo, hi = 0, min(upper - 1, flow // spec.size)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _flow(types, spec, mid, on_duty_only) == mid * spec.size:
            lo = mid
        else:
            hi = mid - 1
    return lo


def pick_units(
    ctx: CoverContext, event: Event, tour: Tour, role: str, source: str, units: int
) -> list[list[list[int]]]:
    """Officers for `units` whole units from one source: per unit, per slot, roster rows.

    On-duty officers are used before rest days are cancelled (the flow routes on-duty officers
    first, then tops up from rest days), least-abstracted first within a type."""
    roster = ctx.roster
    spec = ctx.problem.policy.roles[role]
    d = roster.day_index(tour.day)
    start, end = roster.tour_minutes(tour)
    fits = [ctx.fits(role, i) for i in range(len(spec.slots))]
    rows = ctx.unit_rows[source]
    rows = rows[np.logical_or.reduce(fits)[rows]]
    masks = ctx.rule_masks(rows, d, start, end)
    lawful = rows[~np.logical_or.reduce(list(masks.values()))]
    types = _types(ctx, lawful, roster.status[lawful, d], fits, ctx.headroom(d))
    # Route as many on-duty officers as possible, then the rest: the flow on each type->slot edge
    # says how many of that type fill that slot.
    routed = _route(types, spec, units)
    if routed is None:
        return []
    per_slot: dict[int, list[int]] = defaultdict(list)
    for i, members in enumerate(types.rows):
        order = members[np.argsort(roster.abstractions[members], kind="stable")].tolist()
        for s, count in routed.get(i, {}).items():
            per_slot[s].extend(order[:count])
            order = order[count:]
    out = []
    for k in range(units):
        out.append([per_slot[s][k * slot.count : (k + 1) * slot.count] for s, slot in enumerate(spec.slots)])
    return out


def _route(types: _Types, spec: RoleSpec, units: int) -> dict[int, dict[int, int]] | None:
    """Type -> slot counts filling `units` units, using as few rest-day officers as possible."""
    matrix, source, sink = _network(types, spec, units, on_duty_only=True)
    on_flow = maximum_flow(matrix, source, sink) if matrix.nnz else None
    full, source, sink = _network(types, spec, units, on_duty_only=False)
    # Start the full network from the on-duty flow: augmenting paths never take flow back from a
    # source edge, so the on-duty officers routed stay routed.
    result = maximum_flow(full, source, sink)
    if int(result.flow_value) != units * spec.size:
        return None
    flow = result.flow
    if on_flow is not None and int(on_flow.flow_value) > 0:
        flow = _prefer_on_duty(types, spec, units, on_flow.flow, full, source, sink)
    n_groups = len(types.headroom)
    first_type, first_slot = 1 + n_groups, 1 + n_groups + len(types.rows)
    coo = sp.coo_matrix(flow)
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for a, b, f in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True):
        if f > 0 and first_type <= a < first_slot and b >= first_slot and b < first_slot + len(spec.slots):
            out[a - first_type][b - first_slot] = int(f)
    return out


def _prefer_on_duty(
    types: _Types,
    spec: RoleSpec,
    units: int,
    on_flow: sp.csr_matrix,
    full: sp.csr_matrix,
    source: int,
    sink: int,
) -> sp.csr_matrix:
    """A full flow that keeps the on-duty flow: fix the on-duty routing, route the remaining slot
    capacity through rest-day types only, and add the two."""
    n_groups = len(types.headroom)
    first_slot = 1 + n_groups + len(types.rows)
    used = np.asarray(on_flow.maximum(0).toarray(), dtype=np.int64)
    slot_used = used[first_slot : first_slot + len(spec.slots), sink]
    rest_types = _Types(
        rows=[r for r, on in zip(types.rows, types.on_duty, strict=True) if not on],
        fits=[f for f, on in zip(types.fits, types.on_duty, strict=True) if not on],
        on_duty=[False] * sum(not on for on in types.on_duty),
        group=[-1] * sum(not on for on in types.on_duty),
    )
    # Rest-day officers for what the on-duty flow left of each slot.
    remaining = [units * slot.count - int(slot_used[s]) for s, slot in enumerate(spec.slots)]
    rest_matrix, rs, rt = _network_caps(rest_types, remaining)
    rest = maximum_flow(rest_matrix, rs, rt)
    if int(rest.flow_value) == sum(remaining):
        # Re-index the rest-day flow into the full network's node numbering.
        out = used.copy()
        rest_arr = np.asarray(rest.flow.maximum(0).toarray(), dtype=np.int64)
        type_index = [i for i, on in enumerate(types.on_duty) if not on]
        first_type = 1 + n_groups
        for j, i in enumerate(type_index):
            for s in range(len(spec.slots)):
                out[first_type + i, first_slot + s] += rest_arr[1 + j, 1 + len(type_index) + s]
        return sp.csr_matrix(out)
    # The on-duty routing cannot be completed from rest days alone: use the plain max-flow.
    return maximum_flow(full, source, sink).flow


def _network_caps(types: _Types, slot_caps: list[int]) -> tuple[sp.csr_matrix, int, int]:
    n_types, n_slots = len(types.rows), len(slot_caps)
    source, sink = 0, 1 + n_types + n_slots
    edges = []
    for i in range(n_types):
        edges.append((source, 1 + i, len(types.rows[i])))
        for s, fit in enumerate(types.fits[i]):
            if fit:
                edges.append((1 + i, 1 + n_types + s, len(types.rows[i])))
    for s, cap in enumerate(slot_caps):
        edges.append((1 + n_types + s, sink, cap))
    n = sink + 1
    a, b, c = zip(*edges, strict=True) if edges else ((), (), ())
    matrix = sp.csr_matrix((np.asarray(c, dtype=np.int32), (list(a), list(b))), shape=(n, n))
    return matrix, source, sink
