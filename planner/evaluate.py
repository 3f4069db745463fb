"""The plan evaluator: one scoring of any plan, the solver's or a greedy baseline's.

`evaluate(problem, plan)` recomputes every figure from the plan's assignments and the problem (it
does not trust the plan's own statistics), so two plans for the same problem are compared like for
like. Costs are in paid-hour equivalents (see `planner.domain.CostPolicy` and `Weights`).

Coverage is derived, not read from ``plan.shortfalls``: per event tour and demanded role the filled
units are the distinct unit_ids deployed (capped at the demand), and the officers short are the
missing units times the role's size. For any plan that passes the validator's "Shortfall
accounting" rule this equals the sum of ``plan.shortfalls[*].officers_short``; a plan cannot improve
its score by leaving shortfalls out.

Fairness charges, per day, the highest borough *load*: every officer a borough sends to events (on
duty or called in from a rest day) per officer on duty - the same term the solver's stage 1
optimises, so that calling officers in on rest days never looks fairer than using on-duty ones.
`max_borough_abstraction_share` reports the on-duty share alone, for analysts.

Per-unit and per-BCU rows (`UnitDayKPI`, `BcuDayKPI`) are produced for every unit on every day that
has an event tour in the horizon or any assignment (a unit's assignment days are event days, so
this is "the unit has an assignment or the day has an event"): one row per unit and such day, zero
rows included, so a table of boroughs by day has no holes while quiet days are left out.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from planner.domain import PlanningProblem, Struct
from planner.facts import (
    DutyTable,
    PlanFacts,
    coverage,
    duty_table,
    floor_breaches,
    is_on_duty_code,
    plan_facts,
    rostered_hours,
)
from planner.plan import Plan
from planner.rules import REST, day_fairness_cost, floor_retained, on_duty_cost, rest_day_cost


class PlanSummary(Struct):
    """Headline figures of a plan; plan_cost is the objective both planners are compared on."""

    events: int  # planned events with a tour in the horizon
    officers: int
    tours: int  # event tours in the horizon
    demand_officers: int
    covered_officers: int
    uncovered_officers: int
    uncovered_weighted: float  # officers short x weights.uncovered[event priority]
    uncovered_critical: int  # officers short on critical events
    cancelled_rest_days: int  # officer-days called in from a rostered rest day
    rest_day_cost: float
    overtime_cost: float
    travel_minutes: float  # officer-minutes from source unit to event borough
    travel_cost: float
    # Sum over days of rules.day_fairness_cost of the day's highest borough abstraction share
    # (on-duty officers taken for events per officer on duty), as the solver's fairness term.
    # Boroughs with nobody on duty that day are left out.
    fairness_cost: float
    max_borough_abstraction_share: float  # highest abstracted (on duty) / on duty, any borough and day
    max_borough_load_share: float  # highest (abstracted + called in) / on duty, any borough and day
    floor_violations: int  # (unit, day, duty role) over the floor
    plan_cost: float  # uncovered_weighted + rest_day_cost + overtime_cost + travel_cost + fairness_cost
    coverage_share: float  # covered / demand officers (1.0 when nothing is demanded)


class CapacityKPI(Struct):
    """Core-duty capacity and event cost of one unit (or BCU) on one day."""

    day: dt.date
    on_duty: int  # officers rostered a tour, all duty roles
    abstracted: int  # on-duty officers taken for events
    rest_day_called: int  # officers called in from a rest day for events
    investigators_on_duty: int
    investigators_abstracted: int
    investigators_retained: int
    investigation_floor: int  # investigators who must be retained
    response_on_duty: int
    response_abstracted: int
    response_floor: int  # response officers who must be retained
    floor_violations: int  # duty roles over their floor that day
    cost: float  # rest-day + overtime cost of the unit's officers
    travel_minutes: float


class UnitDayKPI(CapacityKPI):
    """A borough or central unit on one day."""

    unit: str
    bcu: str | None  # None for central units


class BcuDayKPI(CapacityKPI):
    """A BCU (its boroughs summed; floors are per borough, summed) on one day."""

    bcu: str


class EventKPI(Struct):
    """One event tour: demand, coverage and what covering it cost."""

    event_id: str
    name: str
    tour_index: int
    day: dt.date
    borough: str
    priority: str
    demand_officers: int
    covered_officers: int
    short: int
    uncovered_weighted: float
    rest_day_officers: int
    cost: float  # rest-day + overtime + travel cost of its officers
    travel_minutes: float


class Evaluation(Struct):
    summary: PlanSummary
    units: list[UnitDayKPI]
    bcus: list[BcuDayKPI]
    events: list[EventKPI]


# --------------------------------------------------------------------------- coverage


def _event_rows(facts: PlanFacts) -> dict[tuple[str, int], EventKPI]:
    """Demand, coverage and shortfall per event tour in the horizon (costs filled in later)."""
    covers = coverage(facts)
    uncovered = facts.policy.weights.uncovered
    rows: dict[tuple[str, int], EventKPI] = {}
    for event, tour in facts.demand_tours():
        rows[(event.external_id, tour.index)] = EventKPI(
            event_id=event.external_id,
            name=event.name,
            tour_index=tour.index,
            day=tour.day,
            borough=event.borough,
            priority=event.priority,
            demand_officers=0,
            covered_officers=0,
            short=0,
            uncovered_weighted=0.0,
            rest_day_officers=0,
            cost=0.0,
            travel_minutes=0.0,
        )
    for (event_id, index, role), cover in covers.items():
        row = rows.get((event_id, index))
        if row is None or cover.required == 0:
            continue
        spec = facts.policy.roles.get(role)
        size = spec.size if spec is not None else 1
        filled = min(cover.filled, cover.required)
        row.demand_officers += cover.required * size
        row.covered_officers += filled * size
        short = (cover.required - filled) * size
        row.short += short
        row.uncovered_weighted += short * uncovered.get(row.priority, 0.0)
    return rows


# --------------------------------------------------------------------------- costs


@dataclass
class _Costs:
    """Rest-day, overtime and travel figures accumulated over the assignments."""

    rest_day_cost: float = 0.0
    overtime_cost: float = 0.0
    travel_minutes: float = 0.0
    rest_days: set[tuple[str, dt.date]] = field(default_factory=set)  # (service number, day)
    unit_cost: dict[tuple[str, dt.date], float] = field(default_factory=lambda: defaultdict(float))
    unit_travel: dict[tuple[str, dt.date], float] = field(default_factory=lambda: defaultdict(float))


def _assignment_costs(facts: PlanFacts, events: dict[tuple[str, int], EventKPI]) -> _Costs:
    """Cost every assignment once and add it to its unit-day and event-tour rows.

    Rest-day cost for an officer rostered REST, overtime (beyond that day's rostered tour) for an
    on-duty one; assignments on leave days or of unknown officers/events carry no pay cost (they
    are invalid and the validator reports them)."""
    policy, organisation = facts.policy, facts.problem.organisation
    travel_weight = policy.weights.travel_per_officer_minute
    out = _Costs()
    for a, code in zip(facts.plan.assignments, facts.codes, strict=True):
        event = facts.events.get(a.event_id)
        officer = facts.officers.get(a.service_number)
        if event is None or officer is None:
            continue
        tour = facts.assignment_tour(a)
        key = (officer.unit, a.day)
        pay = 0.0
        if code == REST:
            pay = rest_day_cost(event, tour, policy)
            out.rest_day_cost += pay
            out.rest_days.add((a.service_number, a.day))
            if (row := events.get((a.event_id, a.tour_index))) is not None:
                row.rest_day_officers += 1
        elif is_on_duty_code(code, policy):
            pay = on_duty_cost(officer.rank, rostered_hours(code, policy), tour, policy)
            out.overtime_cost += pay
        try:
            minutes = organisation.travel(a.source, event.borough)
        except KeyError:
            minutes = 0.0
        out.travel_minutes += minutes
        out.unit_cost[key] += pay
        out.unit_travel[key] += minutes
        if (row := events.get((a.event_id, a.tour_index))) is not None:
            row.cost += pay + minutes * travel_weight
            row.travel_minutes += minutes
    return out


# --------------------------------------------------------------------------- abstraction


def _borough_shares(
    facts: PlanFacts, table: DutyTable
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per borough (rows) and day (columns): abstracted / on duty, and all officers sent to events
    (abstracted + called in from rest days) / on duty, and each day's fairness cost.
    Boroughs with nobody on duty count 0."""
    boroughs = [b.code for b in facts.problem.organisation.boroughs]
    on, ab, called = table.unit_totals(boroughs)
    share = np.divide(ab, on, out=np.zeros(on.shape, dtype=np.float64), where=on > 0)
    load = np.divide(ab + called, on, out=np.zeros(on.shape, dtype=np.float64), where=on > 0)
    highest = share.max(axis=0) if share.size else np.zeros(on.shape[1])
    fairness = np.asarray(
        [day_fairness_cost(facts.policy, float(highest[d]), on[:, d].tolist()) for d in range(on.shape[1])],
        dtype=np.float64,
    )
    return share, load, fairness


def _report_days(facts: PlanFacts) -> list[dt.date]:
    """Days that get unit and BCU rows: days with an event tour in the horizon or an assignment."""
    days = {tour.day for _, tour in facts.demand_tours()}
    days.update(a.day for a in facts.plan.assignments)
    return sorted(days)


def _unit_rows(
    facts: PlanFacts,
    table: DutyTable,
    costs: _Costs,
    breaches: Counter[tuple[str, dt.date]],
    days: list[dt.date],
) -> list[UnitDayKPI]:
    """One UnitDayKPI per unit (boroughs, then central units) and report day."""
    policy = facts.policy
    bcu_of = facts.problem.organisation.borough_bcu()
    units = table.units()
    on, ab, called = table.unit_totals(units)
    out: list[UnitDayKPI] = []
    for i, unit in enumerate(units):
        floors = policy.floors_for(unit)
        inv_row, resp_row = table.rows[(unit, "investigation")], table.rows[(unit, "response")]
        for day in days:
            c = table.col(day)
            inv_on, inv_ab = int(table.on_duty[inv_row, c]), int(table.abstracted[inv_row, c])
            resp_on, resp_ab = int(table.on_duty[resp_row, c]), int(table.abstracted[resp_row, c])
            key = (unit, day)
            out.append(
                UnitDayKPI(
                    unit=unit,
                    bcu=bcu_of.get(unit),
                    day=day,
                    on_duty=int(on[i, c]),
                    abstracted=int(ab[i, c]),
                    rest_day_called=int(called[i, c]),
                    investigators_on_duty=inv_on,
                    investigators_abstracted=inv_ab,
                    investigators_retained=inv_on - inv_ab,
                    investigation_floor=floor_retained(inv_on, floors.investigation),
                    response_on_duty=resp_on,
                    response_abstracted=resp_ab,
                    response_floor=floor_retained(resp_on, floors.response),
                    floor_violations=breaches.get(key, 0),
                    cost=costs.unit_cost.get(key, 0.0),
                    travel_minutes=costs.unit_travel.get(key, 0.0),
                )
            )
    return out


_SUMMED = (
    "on_duty",
    "abstracted",
    "rest_day_called",
    "investigators_on_duty",
    "investigators_abstracted",
    "investigators_retained",
    "investigation_floor",
    "response_on_duty",
    "response_abstracted",
    "response_floor",
    "floor_violations",
    "cost",
    "travel_minutes",
)


def _bcu_rows(facts: PlanFacts, units: list[UnitDayKPI], days: list[dt.date]) -> list[BcuDayKPI]:
    """Borough rows summed per BCU and day, in BCU order."""
    by_key: dict[tuple[str, dt.date], list[UnitDayKPI]] = defaultdict(list)
    for row in units:
        if row.bcu is not None:
            by_key[(row.bcu, row.day)].append(row)
    out: list[BcuDayKPI] = []
    for bcu in facts.problem.organisation.bcus:
        for day in days:
            rows = by_key.get((bcu.code, day), [])
            totals = {name: sum(getattr(r, name) for r in rows) for name in _SUMMED}
            out.append(BcuDayKPI(bcu=bcu.code, day=day, **totals))
    return out


# --------------------------------------------------------------------------- entry point


def evaluate(problem: PlanningProblem, plan: Plan) -> Evaluation:
    """Score a plan: coverage, costs, fairness and floors, in total and per unit, BCU and event."""
    policy = problem.policy
    weights = policy.weights
    facts = plan_facts(problem, plan)
    events = _event_rows(facts)
    costs = _assignment_costs(facts, events)
    table = duty_table(facts)
    shares, loads, daily_fairness = _borough_shares(facts, table)
    max_share = float(shares.max()) if shares.size else 0.0
    breaches = floor_breaches(table, policy)
    days = _report_days(facts)
    units = _unit_rows(facts, table, costs, Counter((b.unit, b.day) for b in breaches), days)

    event_rows = list(events.values())
    demand = sum(r.demand_officers for r in event_rows)
    covered = sum(r.covered_officers for r in event_rows)
    uncovered_weighted = sum(r.uncovered_weighted for r in event_rows)
    travel_cost = costs.travel_minutes * weights.travel_per_officer_minute
    fairness_cost = float(daily_fairness.sum())
    summary = PlanSummary(
        events=len({r.event_id for r in event_rows}),
        officers=len(problem.officers),
        tours=len(event_rows),
        demand_officers=demand,
        covered_officers=covered,
        uncovered_officers=demand - covered,
        uncovered_weighted=uncovered_weighted,
        uncovered_critical=sum(r.short for r in event_rows if r.priority == "critical"),
        cancelled_rest_days=len(costs.rest_days),
        rest_day_cost=costs.rest_day_cost,
        overtime_cost=costs.overtime_cost,
        travel_minutes=costs.travel_minutes,
        travel_cost=travel_cost,
        fairness_cost=fairness_cost,
        max_borough_abstraction_share=max_share,
        max_borough_load_share=float(loads.max()) if loads.size else 0.0,
        floor_violations=len(breaches),
        plan_cost=uncovered_weighted
        + costs.rest_day_cost
        + costs.overtime_cost
        + travel_cost
        + fairness_cost,
        coverage_share=covered / demand if demand else 1.0,
    )
    return Evaluation(summary=summary, units=units, bcus=_bcu_rows(facts, units, days), events=event_rows)


def kpi_summary_table(summary: PlanSummary) -> str:
    """A short, aligned, human-readable table of a plan's headline figures for a terminal."""
    s = summary
    lines = [
        ("Events / tours", f"{s.events:,} / {s.tours:,}"),
        ("Officers", f"{s.officers:,}"),
        ("Demand (officer-tours)", f"{s.demand_officers:,}"),
        ("Covered", f"{s.covered_officers:,} ({100 * s.coverage_share:.1f}%)"),
        ("Uncovered (critical)", f"{s.uncovered_officers:,} ({s.uncovered_critical:,})"),
        ("Cancelled rest days", f"{s.cancelled_rest_days:,}"),
        ("Rest-day cost (h)", f"{s.rest_day_cost:,.1f}"),
        ("Overtime cost (h)", f"{s.overtime_cost:,.1f}"),
        ("Travel (officer-min / cost h)", f"{s.travel_minutes:,.0f} / {s.travel_cost:,.1f}"),
        ("Max borough abstraction", f"{100 * s.max_borough_abstraction_share:.1f}%"),
        ("Max borough load (incl. rest days)", f"{100 * s.max_borough_load_share:.1f}%"),
        ("Fairness cost", f"{s.fairness_cost:,.1f}"),
        ("Floor violations", f"{s.floor_violations:,}"),
        ("Uncovered penalty", f"{s.uncovered_weighted:,.1f}"),
        ("Plan cost", f"{s.plan_cost:,.1f}"),
    ]
    width = max(len(label) for label, _ in lines)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in lines)
