"""The plan validator: an independent check of the hard rules on any plan.

`validate(problem, plan)` returns one `Violation` per broken rule instance; an empty list means the
plan is lawful. It reads only the domain, the shared rules and `planner.facts` - never the solver -
so it checks the solver's plans and a greedy baseline's alike. Rule names (`RULES`) are stable
identifiers used by tests, the API and explanations.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable

import msgspec
import numpy as np
import numpy.typing as npt

from planner.domain import DUTY_ROLES, Event, Officer, PlanningProblem, Struct
from planner.facts import (
    Cover,
    PlanFacts,
    coverage,
    duty_table,
    event_demand,
    floor_breaches,
    is_on_duty_code,
    merged_leave,
    pattern_hours,
    plan_facts,
    rostered_hours,
)
from planner.plan import Assignment, Plan
from planner.rules import LEAVE, REST, effective_skills, event_tours, fits_slot, rostered_tour

KNOWN_OFFICER_AND_EVENT = "Known officer and event"
OFFICER_FROM_OWN_UNIT = "Officer from own unit"
REQUIRED_RANK_AND_SKILL = "Required rank and skill"
LEAVE_IS_UNTOUCHABLE = "Leave is untouchable"
ONE_TOUR_A_DAY = "One tour a day"
REST_BETWEEN_TOURS = "Rest between tours"
REST_DAY_SPACING = "Rest-day spacing"
AVERAGE_WEEKLY_HOURS = "Average weekly hours"
REST_DAY_FLAG = "Rest-day flag"
UNIT_COMPOSITION = "Unit composition"
NO_OVER_DEPLOYMENT = "No over-deployment"
SHORTFALL_ACCOUNTING = "Shortfall accounting"


def floor_rule(duty_role: str) -> str:
    """The rule name of a duty role's floor, e.g. "Investigation floor"."""
    return f"{duty_role.capitalize()} floor"


INVESTIGATION_FLOOR = floor_rule("investigation")
RESPONSE_FLOOR = floor_rule("response")
FLOOR_RULES: tuple[str, ...] = tuple(floor_rule(role) for role in DUTY_ROLES)

RULES: tuple[str, ...] = (
    KNOWN_OFFICER_AND_EVENT,
    OFFICER_FROM_OWN_UNIT,
    REQUIRED_RANK_AND_SKILL,
    LEAVE_IS_UNTOUCHABLE,
    ONE_TOUR_A_DAY,
    REST_BETWEEN_TOURS,
    REST_DAY_SPACING,
    AVERAGE_WEEKLY_HOURS,
    REST_DAY_FLAG,
    UNIT_COMPOSITION,
    NO_OVER_DEPLOYMENT,
    SHORTFALL_ACCOUNTING,
    *FLOOR_RULES,
)

_EPS = 1e-9
_DAY = dt.timedelta(days=1)


class Violation(Struct):
    """One broken hard rule: which rule, a readable message and where it happened."""

    rule: str
    message: str
    service_number: str | None = None
    event_id: str | None = None
    day: dt.date | None = None
    unit: str | None = None


def _about(rule: str, a: Assignment, message: str) -> Violation:
    """A violation located at one assignment."""
    return Violation(
        rule=rule,
        message=message,
        service_number=a.service_number,
        event_id=a.event_id,
        day=a.day,
        unit=a.source,
    )


# --------------------------------------------------------------------------- per assignment


def check_known(facts: PlanFacts) -> list[Violation]:
    """Each assignment names an existing officer and an existing tour of a planned event."""
    out: list[Violation] = []
    for a in facts.plan.assignments:
        if a.service_number not in facts.officers:
            out.append(_about(KNOWN_OFFICER_AND_EVENT, a, f"unknown officer {a.service_number}"))
        event = facts.events.get(a.event_id)
        if event is None:
            out.append(_about(KNOWN_OFFICER_AND_EVENT, a, f"unknown event {a.event_id}"))
            continue
        if event.status != "planned":
            out.append(_about(KNOWN_OFFICER_AND_EVENT, a, f"event {a.event_id} is {event.status}"))
            continue
        tour = facts.tour(a.event_id, a.tour_index)
        if tour is None:
            out.append(_about(KNOWN_OFFICER_AND_EVENT, a, f"event {a.event_id} has no tour {a.tour_index}"))
        elif (tour.day, tour.start, tour.end) != (a.day, a.start, a.end):
            out.append(
                _about(
                    KNOWN_OFFICER_AND_EVENT,
                    a,
                    f"tour {a.tour_index} of {a.event_id} is {tour.day} {tour.start:%H:%M}-{tour.end:%H:%M}, "
                    f"assignment says {a.day} {a.start:%H:%M}-{a.end:%H:%M}",
                )
            )
    return out


def check_own_unit(facts: PlanFacts) -> list[Violation]:
    """An officer is deployed by (and counted against) their own unit."""
    out: list[Violation] = []
    for a in facts.plan.assignments:
        officer = facts.officers.get(a.service_number)
        if officer is not None and officer.unit != a.source:
            out.append(_about(OFFICER_FROM_OWN_UNIT, a, f"officer of {officer.unit} sent as {a.source}"))
    return out


def check_rank_and_skill(facts: PlanFacts) -> list[Violation]:
    """The officer holds the rank and skills of the role slot they fill."""
    out: list[Violation] = []
    roles = facts.policy.roles
    skill_cache: dict[tuple[str, ...], frozenset[str]] = {}
    for a in facts.plan.assignments:
        officer = facts.officers.get(a.service_number)
        if officer is None:
            continue
        spec = roles.get(a.role)
        if spec is None:
            out.append(_about(REQUIRED_RANK_AND_SKILL, a, f"role {a.role} is not in the policy"))
            continue
        if not 0 <= a.slot < len(spec.slots):
            out.append(_about(REQUIRED_RANK_AND_SKILL, a, f"role {a.role} has no slot {a.slot}"))
            continue
        skills = skill_cache.get(officer.skills)
        if skills is None:
            skills = skill_cache[officer.skills] = effective_skills(officer.skills, facts.policy)
        slot = spec.slots[a.slot]
        if not fits_slot(officer.rank, skills, slot):
            need = "/".join(slot.ranks) + (" with " + "+".join(slot.skills) if slot.skills else "")
            out.append(
                _about(
                    REQUIRED_RANK_AND_SKILL,
                    a,
                    f"{officer.rank} {'+'.join(sorted(skills)) or 'no skills'} cannot fill "
                    f"{spec.label} {slot.label or a.slot} (needs {need})",
                )
            )
    return out


def check_leave(facts: PlanFacts) -> list[Violation]:
    """No officer is deployed on a day of annual leave."""
    return [
        _about(LEAVE_IS_UNTOUCHABLE, a, f"{a.service_number} is on leave on {a.day}")
        for a, code in zip(facts.plan.assignments, facts.codes, strict=True)
        if code == LEAVE
    ]


def check_rest_day_flag(facts: PlanFacts) -> list[Violation]:
    """rest_day_cancelled is set exactly when the officer was rostered a rest day."""
    out: list[Violation] = []
    for a, code in zip(facts.plan.assignments, facts.codes, strict=True):
        if code is None:
            continue
        rest = code == REST
        if a.rest_day_cancelled != rest:
            out.append(
                _about(
                    REST_DAY_FLAG,
                    a,
                    f"rest_day_cancelled={a.rest_day_cancelled} but rostered code is {code!r} on {a.day}",
                )
            )
    return out


# --------------------------------------------------------------------------- per officer


def check_one_tour_a_day(facts: PlanFacts) -> list[Violation]:
    """An officer works at most one event tour a day."""
    out: list[Violation] = []
    for service_number, days in facts.by_officer.items():
        for day, indices in days.items():
            if len(indices) > 1:
                a = facts.plan.assignments[indices[0]]
                events = ", ".join(facts.plan.assignments[i].event_id for i in indices)
                out.append(
                    _about(ONE_TOUR_A_DAY, a, f"{service_number} has {len(indices)} tours on {day}: {events}")
                )
    return out


Interval = tuple[dt.datetime, dt.datetime]


def _duty_span(facts: PlanFacts, officer: Officer, day: dt.date) -> Interval | None:
    """Start of the first and end of the last duty that day: event tours if any, else the roster."""
    indices = facts.by_officer.get(officer.service_number, {}).get(day)
    if indices:
        tours = [facts.plan.assignments[i] for i in indices]
        return min(a.start for a in tours), max(a.end for a in tours)
    return rostered_tour(facts.roster(officer, day), day, facts.policy)


def _roster_reach(facts: PlanFacts) -> dict[str, tuple[dt.timedelta, dt.timedelta]]:
    """Per shift pattern: earliest start and latest end of its rostered tours, from the day's midnight."""
    out: dict[str, tuple[dt.timedelta, dt.timedelta]] = {}
    times = facts.policy.tour_times
    for name, pattern in facts.policy.shift_patterns.items():
        tours = [times[c] for c in set(pattern.cycle) if is_on_duty_code(c, facts.policy)]
        earliest = min((t.start_minute for t in tours), default=0)
        latest = max((t.start_minute + t.hours * 60 for t in tours), default=0.0)
        out[name] = (dt.timedelta(minutes=earliest), dt.timedelta(minutes=latest))
    return out


def check_rest_between_tours(facts: PlanFacts) -> list[Violation]:
    """At least min_rest_hours between an officer's duties on consecutive days."""
    out: list[Violation] = []
    hours = facts.policy.working_time.min_rest_hours
    need = dt.timedelta(hours=hours) - dt.timedelta(microseconds=1)
    reach = _roster_reach(facts)
    for service_number, days in facts.by_officer.items():
        officer = facts.officers.get(service_number)
        if officer is None:
            continue
        earliest, latest = reach[officer.shift_pattern]
        for day in sorted(days):
            here = _duty_span(facts, officer, day)
            assert here is not None
            before, after = day - _DAY, day + _DAY
            # A rostered neighbour is looked up only if its tours could come too close.
            if before not in days and here[0] - (_midnight(before) + latest) < need:
                span = _duty_span(facts, officer, before)
                if span is not None and here[0] - span[1] < need:
                    out.append(_rest_violation(officer, day, span[1], here[0], hours))
            if after in days or _midnight(after) + earliest - here[1] < need:
                span = _duty_span(facts, officer, after)
                if span is not None and span[0] - here[1] < need:
                    out.append(
                        _rest_violation(officer, after if after in days else day, here[1], span[0], hours)
                    )
    return out


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _rest_violation(
    officer: Officer, day: dt.date, end: dt.datetime, start: dt.datetime, hours: float
) -> Violation:
    """A rest-between-tours violation between a duty ending at `end` and the next starting at `start`."""
    rest = (start - end).total_seconds() / 3600
    return Violation(
        rule=REST_BETWEEN_TOURS,
        message=f"{officer.service_number}: {rest:.1f} h rest between duty ending {end:%Y-%m-%d %H:%M} "
        f"and duty starting {start:%Y-%m-%d %H:%M} (minimum {hours:g} h)",
        service_number=officer.service_number,
        day=day,
        unit=officer.unit,
    )


def _works(facts: PlanFacts, officer: Officer, day: dt.date) -> bool:
    """Whether the officer has a duty that day (an event tour or a rostered tour)."""
    if day in facts.by_officer.get(officer.service_number, {}):
        return True
    return is_on_duty_code(facts.roster(officer, day), facts.policy)


def check_rest_day_spacing(facts: PlanFacts) -> list[Violation]:
    """No run of working days longer than max_consecutive_work_days that a cancelled rest day made."""
    out: list[Violation] = []
    limit = facts.policy.working_time.max_consecutive_work_days
    for service_number, days in facts.by_officer.items():
        officer = facts.officers.get(service_number)
        if officer is None:
            continue
        cancelled = sorted(d for d, idx in days.items() if facts.codes[idx[0]] == REST)
        lowest, highest = min(days) - dt.timedelta(days=limit + 1), max(days) + dt.timedelta(days=limit + 1)
        seen: set[tuple[dt.date, dt.date]] = set()
        for day in cancelled:
            first = last = day
            while first > lowest and _works(facts, officer, first - _DAY):
                first -= _DAY
            while last < highest and _works(facts, officer, last + _DAY):
                last += _DAY
            length = (last - first).days + 1
            if length > limit and (first, last) not in seen:
                seen.add((first, last))
                out.append(
                    Violation(
                        rule=REST_DAY_SPACING,
                        message=f"{service_number} works {length} days in a row ({first} to {last}) "
                        f"after a cancelled rest day; at most {limit}",
                        service_number=service_number,
                        day=day,
                        unit=officer.unit,
                    )
                )
    return out


def check_average_weekly_hours(facts: PlanFacts) -> list[Violation]:
    """Hours in each reference period the plan touches within the weekly average for that period.

    Reference periods are fixed blocks of `reference_weeks` weeks counted from the roster epoch
    (policy.pattern_epoch), as the rostering stages count them, and are judged whole: days of a
    period outside the plan count at their rostered hours, less leave. Event tours replace the
    rostered tour of their day. Base rosters are assumed lawful, so only periods to which the plan
    adds hours are judged."""
    out: list[Violation] = []
    policy = facts.policy
    length = 7 * policy.working_time.reference_weeks
    max_avg = policy.working_time.max_average_weekly_hours
    limit = max_avg * length / 7.0
    lo, hi = facts.span()
    first_block = (lo - policy.pattern_epoch).days // length
    blocks = (hi - policy.pattern_epoch).days // length - first_block + 1
    origin = policy.pattern_epoch + dt.timedelta(days=first_block * length)
    n_days = blocks * length
    bounds = np.arange(0, n_days, length, dtype=np.int64)
    cache: dict[tuple[str, int], tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = {}
    for service_number, days in facts.by_officer.items():
        officer = facts.officers.get(service_number)
        if officer is None:
            continue
        added: dict[int, float] = defaultdict(float)  # period -> hours the plan adds
        for day, indices in days.items():
            extra = _worked_hours(facts, officer, day) - rostered_hours(facts.codes[indices[0]], policy)
            added[(day - origin).days // length] += extra
        cycle = len(policy.shift_patterns[officer.shift_pattern].cycle)
        key = (officer.shift_pattern, officer.pattern_offset % cycle)
        if key not in cache:
            daily = pattern_hours(policy, key[0], key[1], origin, n_days)
            cache[key] = (np.add.reduceat(daily, bounds), np.concatenate(([0.0], np.cumsum(daily))))
        per_period, cumulative = cache[key]
        # Leave only lowers the roster: a period within the limit without it needs no closer look.
        suspects = [p for p, h in added.items() if h > _EPS and per_period[p] + h > limit + _EPS]
        if not suspects:
            continue
        rostered = per_period.copy()
        for first, last in _leave_columns(officer, origin, origin + dt.timedelta(days=n_days - 1), length):
            rostered[first // length] -= cumulative[last + 1] - cumulative[first]
        for p in sorted(suspects):
            hours = float(rostered[p]) + added[p]
            if hours > limit + _EPS:
                start = origin + dt.timedelta(days=p * length)
                end = start + dt.timedelta(days=length - 1)
                out.append(
                    Violation(
                        rule=AVERAGE_WEEKLY_HOURS,
                        message=f"{service_number} works {hours:g} h in the reference period {start} to "
                        f"{end}; at most {limit:g} h ({max_avg:g} h a week on average)",
                        service_number=service_number,
                        day=start,
                        unit=officer.unit,
                    )
                )
    return out


def _leave_columns(officer: Officer, first: dt.date, last: dt.date, length: int) -> list[tuple[int, int]]:
    """The officer's leave as disjoint day-offset ranges from `first`, split at period boundaries."""
    out: list[tuple[int, int]] = []
    for start, end in merged_leave(officer, first, last):
        while start <= end:
            stop = min(end, (start // length + 1) * length - 1)
            out.append((start, stop))
            start = stop + 1
    return out


def _worked_hours(facts: PlanFacts, officer: Officer, day: dt.date) -> float:
    """Hours the officer works that day under the plan: event tours, else the roster."""
    indices = facts.by_officer.get(officer.service_number, {}).get(day)
    if indices:
        return sum(_hours(facts.plan.assignments[i]) for i in indices)
    return rostered_hours(facts.roster(officer, day), facts.policy)


def _hours(a: Assignment) -> float:
    """Length of an assignment's tour in hours."""
    return (a.end - a.start).total_seconds() / 3600.0


# --------------------------------------------------------------------------- per unit and demand


def check_unit_composition(facts: PlanFacts) -> list[Violation]:
    """Each unit_id is one role's full composition, from one source, on one event tour."""
    out: list[Violation] = []
    units: dict[str, list[Assignment]] = {}
    for a in facts.plan.assignments:
        units.setdefault(a.unit_id, []).append(a)
    wanted = {role: [slot.count for slot in spec.slots] for role, spec in facts.policy.roles.items()}
    for unit_id, members in units.items():
        first = members[0]
        want = wanted.get(first.role)
        if len(members) == 1 and want == [1] and first.slot == 0:
            continue  # a single post, correctly filled: the common case
        problems = _composition_problems(facts, members)
        if problems:
            out.append(
                Violation(
                    rule=UNIT_COMPOSITION,
                    message=f"unit {unit_id} " + "; ".join(problems),
                    event_id=first.event_id,
                    day=first.day,
                    unit=first.source,
                )
            )
    return out


def _composition_problems(facts: PlanFacts, members: list[Assignment]) -> list[str]:
    """What is wrong with one unit's members (empty if nothing)."""
    problems: list[str] = []
    tours = {(m.event_id, m.tour_index) for m in members}
    roles = {m.role for m in members}
    sources = {m.source for m in members}
    if len(tours) > 1:
        problems.append(f"spans {len(tours)} event tours")
    if len(roles) > 1:
        problems.append(f"mixes roles {sorted(roles)}")
    if len(sources) > 1:
        problems.append(f"mixes sources {sorted(sources)}")
    spec = facts.policy.roles.get(members[0].role)
    if len(roles) == 1 and spec is not None:
        have = Counter(m.slot for m in members)
        want = {i: slot.count for i, slot in enumerate(spec.slots)}
        if have != Counter(want):
            parts = [
                f"{spec.slots[i].label or i}: {have.get(i, 0)}/{n}"
                for i, n in want.items()
                if have.get(i, 0) != n
            ]
            parts += [f"slot {i}: {n}/0" for i, n in have.items() if i not in want]
            problems.append(f"{spec.label} slots filled wrongly ({', '.join(parts)})")
    return problems


def _day_of(facts: PlanFacts, event_id: str, tour_index: int) -> dt.date | None:
    tour = facts.tour(event_id, tour_index)
    return tour.day if tour is not None else None


def check_over_deployment(facts: PlanFacts, covers: dict[tuple[str, int, str], Cover]) -> list[Violation]:
    """No event tour gets more units of a role than it demanded."""
    out: list[Violation] = []
    for (event_id, index, role), cover in covers.items():
        if cover.filled > cover.required:
            out.append(
                Violation(
                    rule=NO_OVER_DEPLOYMENT,
                    message=f"{cover.filled} units of {role} on tour {index} of {event_id}; "
                    f"{cover.required} demanded",
                    event_id=event_id,
                    day=_day_of(facts, event_id, index),
                )
            )
    return out


def check_shortfall_accounting(
    facts: PlanFacts, covers: dict[tuple[str, int, str], Cover]
) -> list[Violation]:
    """Every uncovered demand is reported once, with the right required/filled/officers_short."""
    out: list[Violation] = []
    reported: dict[tuple[str, int, str], int] = Counter(
        (s.event_id, s.tour_index, s.role) for s in facts.plan.shortfalls
    )
    for key, n in reported.items():
        if n > 1:
            out.append(_shortfall(facts, key, f"reported {n} times"))
    by_key = {(s.event_id, s.tour_index, s.role): s for s in facts.plan.shortfalls}
    for key, cover in covers.items():
        if not cover.in_horizon or cover.required == 0:
            continue
        missing = max(0, cover.required - cover.filled)
        shortfall = by_key.get(key)
        spec = facts.policy.roles.get(key[2])
        size = spec.size if spec is not None else 1
        if missing == 0:
            if shortfall is not None and shortfall.officers_short > 0:
                out.append(_shortfall(facts, key, "reported short but fully covered"))
            continue
        if shortfall is None:
            out.append(
                _shortfall(facts, key, f"{missing} of {cover.required} units uncovered and not reported")
            )
        elif (shortfall.required, shortfall.filled, shortfall.officers_short) != (
            cover.required,
            cover.filled,
            missing * size,
        ):
            out.append(
                _shortfall(
                    facts,
                    key,
                    f"reported required={shortfall.required} filled={shortfall.filled} "
                    f"officers_short={shortfall.officers_short}; plan has required={cover.required} "
                    f"filled={cover.filled} officers_short={missing * size}",
                )
            )
    for key in by_key:
        found = covers.get(key)
        if found is None or not found.in_horizon or found.required == 0:
            event = facts.events.get(key[0])
            if event is None or event.status != "planned" or event_demand(event).get(key[2], 0) == 0:
                out.append(_shortfall(facts, key, "reported for demand that does not exist"))
            elif facts.tour(key[0], key[1]) is None:
                out.append(_shortfall(facts, key, f"reported for a tour {key[1]} that does not exist"))
    return out


def _shortfall(facts: PlanFacts, key: tuple[str, int, str], message: str) -> Violation:
    """A shortfall-accounting violation for one (event, tour, role)."""
    event_id, index, role = key
    return Violation(
        rule=SHORTFALL_ACCOUNTING,
        message=f"{role} on tour {index} of {event_id}: {message}",
        event_id=event_id,
        day=_day_of(facts, event_id, index),
    )


def check_floors(facts: PlanFacts) -> list[Violation]:
    """Per (unit, day, duty role), abstraction keeps the floor share of on-duty officers on core duty."""
    return [
        Violation(
            rule=floor_rule(b.duty_role),
            message=f"{b.unit} {b.day}: {b.abstracted} of {b.on_duty} on-duty {b.duty_role} officers "
            f"abstracted; at most {b.allowed} (must retain {b.retained_required})",
            day=b.day,
            unit=b.unit,
        )
        for b in floor_breaches(duty_table(facts), facts.policy)
    ]


# --------------------------------------------------------------------------- entry point


def validate(problem: PlanningProblem, plan: Plan) -> list[Violation]:
    """Every hard-rule violation in the plan, grouped in RULES order; [] for a lawful plan."""
    facts = plan_facts(problem, plan)
    covers = coverage(facts)
    checks: list[Callable[[], list[Violation]]] = [
        lambda: check_known(facts),
        lambda: check_own_unit(facts),
        lambda: check_rank_and_skill(facts),
        lambda: check_leave(facts),
        lambda: check_one_tour_a_day(facts),
        lambda: check_rest_between_tours(facts),
        lambda: check_rest_day_spacing(facts),
        lambda: check_average_weekly_hours(facts),
        lambda: check_rest_day_flag(facts),
        lambda: check_unit_composition(facts),
        lambda: check_over_deployment(facts, covers),
        lambda: check_shortfall_accounting(facts, covers),
        lambda: check_floors(facts),
    ]
    out: list[Violation] = []
    for check in checks:
        out.extend(check())
    order = {rule: i for i, rule in enumerate(RULES)}
    out.sort(key=lambda v: order.get(v.rule, len(order)))  # stable: keeps each check's own order
    return out


def validate_change(
    problem: PlanningProblem, plan: Plan, officers: set[str], days: set[dt.date]
) -> list[Violation]:
    """Every violation a change to a valid plan can have caused: the same checks as `validate`,
    over everything the change can reach. A change that moved the duties of `officers` and the
    deployments on `days` can break only rules about those officers (checked with all their
    assignments over the whole horizon, so rest and rest-day spacing across the edge of the
    re-planned days are seen), rules about tours on those days (checked with every assignment on
    those days), and the floors of those days in the units of the officers moved; everything else
    is as it was in the parent version, which passed `validate`. Findings outside the scope would
    be artefacts of the assignments left out and are not kept."""
    found: list[Violation] = []
    mine = Plan(assignments=[a for a in plan.assignments if a.service_number in officers])
    facts = plan_facts(_with_events(problem, mine, days=set()), mine)
    for check in (
        check_known,
        check_own_unit,
        check_rank_and_skill,
        check_leave,
        check_one_tour_a_day,
        check_rest_between_tours,
        check_rest_day_spacing,
        check_average_weekly_hours,
        check_rest_day_flag,
    ):
        found.extend(v for v in check(facts) if v.service_number in officers)
    on_days = Plan(
        assignments=[a for a in plan.assignments if a.day in days],
        shortfalls=[s for s in plan.shortfalls if s.day in days],
    )
    tours = plan_facts(_with_events(problem, on_days, days), on_days)
    covers = coverage(tours)
    found.extend(v for v in check_unit_composition(tours) if v.day in days)
    found.extend(v for v in check_over_deployment(tours, covers) if v.day in days)
    found.extend(v for v in check_shortfall_accounting(tours, covers) if v.day in days)
    # A floor can only break where abstraction rose: in the units of the officers the change moved.
    units = {o.unit for o in problem.officers if o.service_number in officers}
    unit_officers = tuple(o for o in problem.officers if o.unit in units)
    members = {o.service_number for o in unit_officers}
    for day in sorted(days):
        if not problem.start <= day <= problem.end:
            continue
        one_day = msgspec.structs.replace(problem, officers=unit_officers, events=(), start=day, end=day)
        day_plan = Plan(
            assignments=[a for a in on_days.assignments if a.day == day and a.service_number in members]
        )
        found.extend(check_floors(plan_facts(one_day, day_plan)))
    order = {rule: i for i, rule in enumerate(RULES)}
    found.sort(key=lambda v: order.get(v.rule, len(order)))
    return found


def _with_events(problem: PlanningProblem, plan: Plan, days: set[dt.date]) -> PlanningProblem:
    """The problem with only the events the sub-plan names or that have a tour on `days`."""
    wanted = {a.event_id for a in plan.assignments} | {s.event_id for s in plan.shortfalls}
    events = tuple(e for e in problem.events if e.external_id in wanted or _has_tour_on(e, problem, days))
    return msgspec.structs.replace(problem, events=events)


def _has_tour_on(event: Event, problem: PlanningProblem, days: set[dt.date]) -> bool:
    if event.status != "planned" or not days:
        return False
    # Tours fall on the days the event spans (an overnight one on its first): a cheap test first.
    first, last = event.start.date(), event.end.date()
    if not any(first <= d <= last for d in days):
        return False
    return any(t.day in days for t in event_tours(event, problem.policy))
