"""An independent exact oracle for tiny instances: the cheapest lawful plan by CP-SAT.

The model is written from the validator's rules and the evaluator's cost, officer by officer,
and reads only the domain, planner.rules and planner.facts: never the solver, the roster or
planner.cover. It is meant for a dozen officers, a few days and a few event tours, where it
proves optimality in well under a second.

Variables: y[officer, tour, role, slot] (the officer fills that slot of some unit of that role at
that tour) and n[tour, role, source] (whole units the source sends). Hard rules, as
planner/validate.py checks them:

- leave is untouchable, rank and skills fit the slot, one event tour a day;
- at least min_rest_hours between the duties of consecutive days, a day's duty being its event
  tour if the officer has one, else the published rostered tour (days just outside the horizon
  keep their rostered tour);
- no run of more than max_consecutive_work_days working days through a cancelled rest day;
- the average weekly hours of each reference period the plan adds hours to;
- whole units from one source (slot counts per unit), no more units than demanded;
- floors: per (unit, duty role, day), at most rules.max_abstractable(on duty, share) on-duty
  officers abstracted.

Cost, as planner/evaluate.py's plan_cost: uncovered officers x weights.uncovered[priority], the
rest-day cost of officers rostered REST, on-duty overtime against the rostered hours, travel at
weights.travel_per_officer_minute, and fairness, which the oracle requires to be switched off.
Costs are scaled to integers exactly (a coefficient that does not scale exactly is an error, not
a rounding).

`exact(problem)` always cross-checks its own answer: the plan it returns passes validate() and
evaluate() gives the CP-SAT objective.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from planner.domain import Event, Officer, PlanningProblem, Tour
from planner.evaluate import evaluate
from planner.facts import event_demand, is_on_duty_code, rostered_hours
from planner.plan import Assignment, Plan, Shortfall
from planner.rules import (
    LEAVE,
    REST,
    effective_skills,
    event_tours,
    fits_slot,
    max_abstractable,
    on_duty_cost,
    rest_day_cost,
    roster_code,
    rostered_tour,
)
from planner.validate import validate

# Every cost of a tiny instance is a multiple of 1/SCALE paid hours: travel minutes have one
# decimal (x 0.02), overtime is minutes x 4/3 / 60, short-notice rest days minutes x 1.5 / 60.
SCALE = 3_600_000
_DAY = dt.timedelta(days=1)
MAX_OFFICERS = 16
MAX_TOURS = 6
MAX_DAYS = 4


class NotExact(Exception):
    """The instance is outside what the oracle solves exactly (too large, fairness on, ...)."""


@dataclass
class Exact:
    plan: Plan
    objective: float  # plan_cost of `plan`, the optimum
    status: str


@dataclass(frozen=True)
class _Post:
    officer: int
    tour: int
    role: str
    slot: int


def _scaled(value: float) -> int:
    scaled = value * SCALE
    out = round(scaled)
    if abs(scaled - out) > max(1e-3, 1e-14 * abs(scaled)):
        raise NotExact(f"cost {value!r} is not a multiple of 1/{SCALE}")
    return int(out)


def total(terms: Iterable[cp_model.LinearExpr]) -> cp_model.LinearExpr:
    return cp_model.LinearExpr.sum(list(terms))


def demand_tours(problem: PlanningProblem) -> list[tuple[Event, Tour, dict[str, int]]]:
    """Tours of planned events inside the horizon with their units demanded per role."""
    out = []
    for event in problem.events:
        if event.status != "planned":
            continue
        demand = {role: n for role, n in event_demand(event).items() if n > 0}
        if not demand:
            continue
        for tour in event_tours(event, problem.policy):
            if problem.start <= tour.day <= problem.end:
                out.append((event, tour, demand))
    return out


def _conflict(earlier_end: dt.datetime, later_start: dt.datetime, hours: float) -> bool:
    # The validator's test: less than min_rest_hours (to the microsecond) between the two duties.
    return later_start - earlier_end < dt.timedelta(hours=hours) - dt.timedelta(microseconds=1)


def exact(problem: PlanningProblem, *, time_limit: float = 60.0) -> Exact:
    policy = problem.policy
    weights = policy.weights
    wt = policy.working_time
    if weights.fairness_per_point != 0.0 or weights.fairness_per_point_above != 0.0:
        raise NotExact("the oracle prices no fairness: use a policy with fairness switched off")
    tours = demand_tours(problem)
    officers = list(problem.officers)
    horizon = [problem.start + k * _DAY for k in range((problem.end - problem.start).days + 1)]
    if len(officers) > MAX_OFFICERS or len(tours) > MAX_TOURS or len(horizon) > MAX_DAYS:
        raise NotExact("instance too large for the exact oracle")

    code: dict[tuple[int, dt.date], str] = {}

    def code_of(o: int, day: dt.date) -> str:
        key = (o, day)
        if key not in code:
            code[key] = roster_code(officers[o], day, policy)
        return code[key]

    model = cp_model.CpModel()
    posts: dict[_Post, cp_model.IntVar] = {}
    post_cost: dict[_Post, float] = {}
    skills = [effective_skills(o.skills, policy) for o in officers]
    for t, (event, tour, demand) in enumerate(tours):
        for role in demand:
            spec = policy.roles[role]
            for o, officer in enumerate(officers):
                c = code_of(o, tour.day)
                if c == LEAVE:
                    continue
                for s, slot in enumerate(spec.slots):
                    if not fits_slot(officer.rank, skills[o], slot):
                        continue
                    key = _Post(o, t, role, s)
                    posts[key] = model.new_bool_var(f"y_{o}_{t}_{role}_{s}")
                    if c == REST:
                        pay = rest_day_cost(event, tour, policy)
                    elif is_on_duty_code(c, policy):
                        pay = on_duty_cost(officer.rank, rostered_hours(c, policy), tour, policy)
                    else:
                        pay = 0.0
                    travel = problem.organisation.travel(officer.unit, event.borough)
                    post_cost[key] = pay + travel * weights.travel_per_officer_minute

    # x[o, t]: the officer works tour t (in any role and slot).
    by_officer_tour: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
    for key, var in posts.items():
        by_officer_tour[(key.officer, key.tour)].append(var)
    works: dict[tuple[int, int], cp_model.LinearExpr] = {k: total(v) for k, v in by_officer_tour.items()}

    def tours_on(o: int, day: dt.date) -> list[int]:
        return [t for t, (_e, tour, _d) in enumerate(tours) if tour.day == day and (o, t) in works]

    # One tour a day (this also makes each works[o, t] 0/1).
    for o in range(len(officers)):
        for day in horizon:
            on_day = [works[(o, t)] for t in tours_on(o, day)]
            if on_day:
                model.add(total(on_day) <= 1)

    # Whole units from one source, no over-deployment.
    units: dict[tuple[int, str, str], cp_model.IntVar] = {}
    filled: dict[tuple[int, str], list[cp_model.IntVar]] = defaultdict(list)
    sources = sorted({o.unit for o in officers})
    for t, (_event, _tour, demand) in enumerate(tours):
        for role, required in demand.items():
            spec = policy.roles[role]
            for source in sources:
                members = [o for o, officer in enumerate(officers) if officer.unit == source]
                slot_vars = [
                    [posts[k] for o in members if (k := _Post(o, t, role, s)) in posts]
                    for s in range(len(spec.slots))
                ]
                most = min(len(v) // slot.count for v, slot in zip(slot_vars, spec.slots, strict=True))
                if most == 0:
                    for v in slot_vars:
                        for var in v:
                            model.add(var == 0)
                    continue
                n = model.new_int_var(0, min(required, most), f"n_{t}_{role}_{source}")
                units[(t, role, source)] = n
                filled[(t, role)].append(n)
                for v, slot in zip(slot_vars, spec.slots, strict=True):
                    model.add(total(v) == slot.count * n)
            if filled[(t, role)]:
                model.add(total(filled[(t, role)]) <= required)

    # Rest between the duties of consecutive days (event tour if any, else the rostered tour).
    hours = wt.min_rest_hours
    for o in range(len(officers)):
        days = sorted({d for day in horizon for d in (day - _DAY, day, day + _DAY)})
        for day in days[:-1]:
            nxt = day + _DAY
            here, there = tours_on(o, day), tours_on(o, nxt)
            if not here and not there:
                continue  # the published roster alone is never judged
            roster_here = rostered_tour(code_of(o, day), day, policy)
            roster_there = rostered_tour(code_of(o, nxt), nxt, policy)
            for a in here:
                ta = tours[a][1]
                for b in there:
                    tb = tours[b][1]
                    if _conflict(ta.end, tb.start, hours):
                        model.add(works[(o, a)] + works[(o, b)] <= 1)
                if roster_there is not None and _conflict(ta.end, roster_there[0], hours):
                    # Only lawful if the next day's rostered duty is replaced by an event tour.
                    model.add(works[(o, a)] <= total(works[(o, b)] for b in there))
            for b in there:
                tb = tours[b][1]
                if roster_here is not None and _conflict(roster_here[1], tb.start, hours):
                    model.add(works[(o, b)] <= total(works[(o, a)] for a in here))

    # Rest-day spacing: every window of limit + 1 days through a rostered rest day of the
    # horizon has a day off (a rest day worked is a cancelled one).
    limit = wt.max_consecutive_work_days
    for o in range(len(officers)):
        rest_days = [day for day in horizon if code_of(o, day) == REST and tours_on(o, day)]
        if not rest_days:
            continue
        first = problem.start - limit * _DAY
        for shift in range((problem.end - first).days + 1):
            window = [first + (shift + j) * _DAY for j in range(limit + 1)]
            if any(day in rest_days for day in window):
                worked: list[cp_model.LinearExpr] = []
                rostered_on = 0
                for day in window:
                    c = code_of(o, day)
                    if is_on_duty_code(c, policy):
                        rostered_on += 1
                    elif c == REST and day in horizon:
                        worked.extend(works[(o, t)] for t in tours_on(o, day))
                model.add(total(worked) + rostered_on <= limit)

    # Average weekly hours per reference period (fixed blocks from the pattern epoch).
    length = 7 * wt.reference_weeks
    cap_minutes = wt.max_average_weekly_hours * length / 7.0 * 60.0
    for o in range(len(officers)):
        by_period: dict[int, list[tuple[cp_model.LinearExpr, int]]] = defaultdict(list)
        for day in horizon:
            period = (day - policy.pattern_epoch).days // length
            rostered = rostered_hours(code_of(o, day), policy)
            for t in tours_on(o, day):
                extra = round((tours[t][1].hours - rostered) * 60)
                by_period[period].append((works[(o, t)], extra))
        for period, terms in by_period.items():
            origin = policy.pattern_epoch + period * length * _DAY
            base = sum(
                round(rostered_hours(code_of(o, origin + k * _DAY), policy) * 60) for k in range(length)
            )
            if base + sum(max(0, e) for _v, e in terms) <= cap_minutes + 1e-6:
                continue  # cannot bind
            allowed = max(0, int(cap_minutes + 1e-6) - base)
            model.add(total(v * e for v, e in terms) <= allowed)

    # Floors per (unit, duty role, day) over the officers rostered on.
    for day in horizon:
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for o, officer in enumerate(officers):
            if is_on_duty_code(code_of(o, day), policy):
                groups[(officer.unit, officer.duty_role)].append(o)
        for (unit, duty_role), members in groups.items():
            allowed = max_abstractable(len(members), policy.floors_for(unit).share(duty_role))
            taken = [works[(o, t)] for o in members for t in tours_on(o, day)]
            if taken and allowed < len(members):
                model.add(total(taken) <= allowed)

    # Objective: exactly plan_cost, scaled to integers.
    objective: list[cp_model.LinearExpr] = []
    constant = 0
    for t, (event, _tour, demand) in enumerate(tours):
        for role, required in demand.items():
            weight = _scaled(weights.uncovered[event.priority] * policy.roles[role].size)
            constant += weight * required
            objective.extend(-weight * n for n in filled[(t, role)])
    objective.extend(_scaled(post_cost[k]) * var for k, var in posts.items())
    model.minimize(total(objective) + constant)

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = time_limit
    status = solver.solve(model)
    if status != cp_model.OPTIMAL:
        raise NotExact(f"CP-SAT did not prove an optimum: {solver.status_name(status)}")

    plan = _plan(problem, officers, tours, posts, units, solver, code_of)
    value = solver.objective_value / SCALE
    summary = evaluate(problem, plan).summary
    violations = validate(problem, plan)
    assert violations == [], violations
    assert summary.fairness_cost == 0.0
    assert abs(summary.plan_cost - value) <= 1e-6, (summary.plan_cost, value)
    return Exact(plan=plan, objective=summary.plan_cost, status=solver.status_name(status))


def _plan(
    problem: PlanningProblem,
    officers: list[Officer],
    tours: list[tuple[Event, Tour, dict[str, int]]],
    posts: dict[_Post, cp_model.IntVar],
    units: dict[tuple[int, str, str], cp_model.IntVar],
    solver: cp_model.CpSolver,
    code_of: Callable[[int, dt.date], str],
) -> Plan:
    roles = problem.policy.roles
    chosen: dict[tuple[int, str, str, int], list[int]] = defaultdict(list)
    for key, var in posts.items():
        if solver.value(var):
            chosen[(key.tour, key.role, officers[key.officer].unit, key.slot)].append(key.officer)
    assignments: list[Assignment] = []
    got: dict[tuple[int, str], int] = defaultdict(int)
    for (t, role, source), var in units.items():
        n = int(solver.value(var))
        if n == 0:
            continue
        got[(t, role)] += n
        event, tour, _demand = tours[t]
        spec = roles[role]
        for k in range(n):
            unit_id = f"{event.external_id}/{tour.index}/{role}/{source}/x{k}"
            for s, slot in enumerate(spec.slots):
                members = sorted(chosen[(t, role, source, s)])[k * slot.count : (k + 1) * slot.count]
                assert len(members) == slot.count
                for o in members:
                    assignments.append(
                        Assignment(
                            service_number=officers[o].service_number,
                            event_id=event.external_id,
                            tour_index=tour.index,
                            day=tour.day,
                            role=role,
                            slot=s,
                            unit_id=unit_id,
                            source=source,
                            start=tour.start,
                            end=tour.end,
                            rest_day_cancelled=code_of(o, tour.day) == REST,
                        )
                    )
    shortfalls = []
    for t, (event, tour, demand) in enumerate(tours):
        for role, required in demand.items():
            have = got[(t, role)]
            if have < required:
                shortfalls.append(
                    Shortfall(
                        event_id=event.external_id,
                        tour_index=tour.index,
                        day=tour.day,
                        role=role,
                        required=required,
                        filled=have,
                        officers_short=(required - have) * roles[role].size,
                    )
                )
    return Plan(assignments=assignments, shortfalls=shortfalls, method="exact")
