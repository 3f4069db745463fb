"""Recommendations: who could fill one post of an event tour, ranked by what it would cost.

For a tour and role, every officer of every source who holds a slot's rank and skills is checked
against the roster as the version stands (planner.cover: each working-time rule with every
deployment applied, then the floors). Those who could lawfully work it are ranked by the change in
cost of putting them there, priced as a re-plan prices it (planner.disruption: rest-day notice tier
from today, overtime beyond the notified duty, an early start without due notice, the per-change
weight), plus travel and the fairness cost of taking one more officer from their borough. Those
excluded are counted by the first rule that excludes them, so the counts add up.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np

from planner.cover import RULE_ORDER, CoverContext, floor_name
from planner.disruption import notice, price
from planner.domain import Event, Record, Struct, Tour
from planner.plan import Assignment
from planner.roster import ON
from planner.rules import fairness_weights, rest_day_cost_at


class Candidate(Record, frozen=True):
    service_number: str
    unit: str
    rank: str
    slot: str  # the slot label they would fill
    on_duty: bool  # rostered on that day (else a rest day would be cancelled)
    cost: float  # total change in cost, paid-hour equivalents
    rest_day: float  # rest-day compensation (0 for an on-duty officer)
    overtime: float  # hours beyond the notified duty, and early hours without due notice
    travel: float
    fairness: float
    disruption: float  # the policy's per-change weight: one more officer told of a change
    cost_class: str


class Recommendation(Struct):
    event_id: str
    tour_index: int
    day: dt.date
    role: str
    suitable: int  # officers of every source holding some slot's rank and skills
    lawful: int  # of those, who could lawfully work the tour within the floors
    excluded: dict[str, int]  # rule -> suitable officers it excludes (first failing rule)
    candidates: list[Candidate]


def recommend(
    ctx: CoverContext, event: Event, tour: Tour, role: str, as_of: dt.datetime, k: int = 10
) -> Recommendation:
    """The `k` cheapest lawful officers for one post of `role` at the tour, and why others are not."""
    problem, roster = ctx.problem, ctx.roster
    policy = problem.policy
    spec = policy.roles[role]
    fits = [ctx.fits(role, i) for i in range(len(spec.slots))]
    rows = np.flatnonzero(np.logical_or.reduce(fits))
    d = roster.day_index(tour.day)
    start, end = roster.tour_minutes(tour)
    masks = ctx.rule_masks(rows, d, start, end)
    ruled_out = np.zeros(len(rows), dtype=np.bool_)
    excluded: Counter[str] = Counter()
    for rule in RULE_ORDER:
        newly = masks[rule] & ~ruled_out
        if newly.any():
            excluded[rule] = int(newly.sum())
        ruled_out |= masks[rule]
    lawful = rows[~ruled_out]
    on = roster.status[lawful, d] == ON
    headroom = ctx.headroom(d)
    groups = ctx.group[lawful]
    full = np.fromiter((g for g, room in headroom.items() if room <= 0), dtype=np.int64)
    blocked = on & np.isin(groups, full)
    for g in np.unique(groups[blocked]):
        excluded[floor_name(ctx.group_keys[int(g)][1])] += int((groups[blocked] == g).sum())
    lawful, on = lawful[~blocked], on[~blocked]
    ranked = _ranked(ctx, event, tour, lawful, on, d, as_of)
    candidates = [
        _candidate(ctx, event, tour, role, int(row), as_of, fairness) for row, fairness in ranked[:k]
    ]
    candidates.sort(key=lambda c: (c.cost, c.service_number))
    return Recommendation(
        event_id=event.external_id,
        tour_index=tour.index,
        day=tour.day,
        role=role,
        suitable=len(rows),
        lawful=len(lawful),
        excluded=dict(excluded),
        candidates=candidates,
    )


def _ranked(
    ctx: CoverContext, event: Event, tour: Tour, rows: np.ndarray, on: np.ndarray, d: int, as_of: dt.datetime
) -> list[tuple[int, float]]:
    """Lawful rows with their fairness cost, cheapest first by a vectorised estimate of the full
    price (the exact breakdown is computed for the few shown)."""
    problem, roster = ctx.problem, ctx.roster
    policy = problem.policy
    codes, unit_of = ctx.unit_codes, ctx.unit_of
    travel_of = np.asarray([problem.organisation.travel(str(u), event.borough) for u in codes])
    travel = travel_of[unit_of[rows]] * policy.weights.travel_per_officer_minute
    on_duty_of = np.bincount(unit_of[roster.status[:, d] == ON], minlength=len(codes))
    per_point, _ = fairness_weights(policy, on_duty_of.tolist())
    fairness = 100.0 * per_point / np.maximum(1, on_duty_of[unit_of[rows]])
    rest = rest_day_cost_at(notice(tour.day, as_of)[0], tour, policy)
    extra = np.maximum(0.0, tour.hours - roster.rostered_hours[rows, d]) * policy.costs.overtime_multiplier
    estimate = np.where(on, extra, rest) + travel + fairness
    order = np.lexsort((roster.abstractions[rows], estimate))
    return [(int(rows[i]), float(fairness[i])) for i in order]


def _candidate(
    ctx: CoverContext, event: Event, tour: Tour, role: str, row: int, as_of: dt.datetime, fairness: float
) -> Candidate:
    problem, roster = ctx.problem, ctx.roster
    officer = roster.officers[row]
    spec = problem.policy.roles[role]
    slot = next(i for i in range(len(spec.slots)) if ctx.fits(role, i)[row])
    post = Assignment(
        service_number=officer.service_number,
        event_id=event.external_id,
        tour_index=tour.index,
        day=tour.day,
        role=role,
        slot=slot,
        unit_id="",
        source=officer.unit,
        start=tour.start,
        end=tour.end,
    )
    change = price(problem, officer, tour.day, None, post, as_of)
    on_duty = bool(roster.status[row, roster.day_index(tour.day)] == ON)
    travel = (
        problem.organisation.travel(officer.unit, event.borough)
        * problem.policy.weights.travel_per_officer_minute
    )
    rest_day = 0.0 if on_duty else change.pay
    overtime = change.pay if on_duty else 0.0
    return Candidate(
        service_number=officer.service_number,
        unit=officer.unit,
        rank=officer.rank,
        slot=spec.slots[slot].label or str(slot),
        on_duty=on_duty,
        cost=round(change.cost + travel + fairness, 3),
        rest_day=round(rest_day, 3),
        overtime=round(overtime, 3),
        travel=round(travel, 3),
        fairness=round(fairness, 3),
        disruption=change.weight,
        cost_class=change.cost_class,
    )
