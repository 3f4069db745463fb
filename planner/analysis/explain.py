"""Why a plan looks the way it does: per short event tour, the limits that bind, in words and numbers;
per named rule, what it costs and whom it affects.

Explanations are recomputed from the problem, the plan and the roster (who is on duty, resting or
on leave that day, who the plan already sends to events, how much each borough may still give
before its floors), not read from the solver's internals, so they hold for any plan - the solver's
or the greedy baseline's. The solver's own binding constraint families (LP duals) are quoted too
when the plan carries them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from planner.domain import DUTY_ROLES, Event, PlanningProblem, Record, RoleSpec, Slot, Struct, Tour
from planner.evaluate import Evaluation
from planner.facts import is_on_duty_code
from planner.plan import Plan, Shortfall
from planner.rules import effective_skills, event_tours, max_abstractable, notice_days, rest_day_cost

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
ON, REST, LEAVE = 1, 2, 0
FLOOR_ROLES = ("investigation", "response")


class BoroughLimit(Record, frozen=True):
    """What stops one nearby borough sending more of the short role."""

    borough: str
    name: str
    minutes: float
    limit: str  # "investigation floor", "response floor", "no on-duty <slot>", "spare officers"
    free_units: int  # whole units it could still form from on-duty officers without breaching a floor
    held_by_floor: int  # on-duty officers for the scarcest post that its floors hold back
    resting: int  # suitable officers on a rest day (could be called in at a cost)


class TourExplanation(Struct):
    event_id: str
    name: str
    tour_index: int
    day: dt.date
    borough: str
    priority: str
    role: str
    role_label: str
    required: int
    filled: int
    officers_short: int
    solver_reasons: list[str]
    nearby: list[BoroughLimit]
    limit_counts: dict[str, int]  # limit -> boroughs within the radius
    rest_day_units_available: int  # whole units formable from suitable resting officers nearby
    rest_day_cost_hours: float  # cost of covering the shortfall by cancelling rest days
    rest_day_tier: str
    text: str


class ExplainSettings(Record, frozen=True):
    radius_minutes: float = 45.0  # boroughs considered "nearby" for an event


# --------------------------------------------------------------------------- roster facts per day


@dataclass
class _Officers:
    """Column arrays over the problem's officers, for per-day status without a Python loop."""

    unit: list[str]
    units: npt.NDArray[np.object_]
    group: IntArray  # (unit, duty role) group id
    group_keys: list[tuple[str, str]]
    patterns: dict[
        str, tuple[IntArray, BoolArray, IntArray]
    ]  # pattern -> rows, on-duty mask of cycle, offsets
    leave_rows: IntArray
    leave_start: npt.NDArray[np.int64]  # ordinal days
    leave_end: npt.NDArray[np.int64]
    index: dict[str, int]


def _officer_columns(problem: PlanningProblem) -> _Officers:
    policy = problem.policy
    groups: dict[tuple[str, str], int] = {}
    group = np.empty(len(problem.officers), dtype=np.int64)
    by_pattern: dict[str, list[int]] = defaultdict(list)
    lr, ls, le = [], [], []
    for i, o in enumerate(problem.officers):
        group[i] = groups.setdefault((o.unit, o.duty_role), len(groups))
        by_pattern[o.shift_pattern].append(i)
        for r in o.leave:
            lr.append(i)
            ls.append(r.start.toordinal())
            le.append(r.end.toordinal())
    patterns = {}
    for name, rows in by_pattern.items():
        cycle = policy.shift_patterns[name].cycle
        mask = np.asarray([is_on_duty_code(c, policy) for c in cycle], dtype=np.bool_)
        offsets = np.asarray([problem.officers[i].pattern_offset for i in rows], dtype=np.int64)
        patterns[name] = (np.asarray(rows, dtype=np.int64), mask, offsets)
    units = [o.unit for o in problem.officers]
    return _Officers(
        unit=units,
        units=np.asarray(units, dtype=object),
        group=group,
        group_keys=list(groups),
        patterns=patterns,
        leave_rows=np.asarray(lr, dtype=np.int64),
        leave_start=np.asarray(ls, dtype=np.int64),
        leave_end=np.asarray(le, dtype=np.int64),
        index={o.service_number: i for i, o in enumerate(problem.officers)},
    )


def day_status(problem: PlanningProblem, cols: _Officers, day: dt.date) -> IntArray:
    """ON, REST or LEAVE per officer on `day` (as rules.roster_code decides it)."""
    out = np.full(len(problem.officers), REST, dtype=np.int64)
    delta = (day - problem.policy.pattern_epoch).days
    for rows, mask, offsets in cols.patterns.values():
        out[rows] = np.where(mask[(delta + offsets) % len(mask)], ON, REST)
    if len(cols.leave_rows):
        d = day.toordinal()
        on_leave = (cols.leave_start <= d) & (d <= cols.leave_end)
        out[cols.leave_rows[on_leave]] = LEAVE
    return out


class RosterFacts:
    """Per-day officer status, event use and floor headroom, computed on demand and memoised."""

    def __init__(self, problem: PlanningProblem, plan: Plan) -> None:
        self.problem = problem
        self.events = {e.external_id: e for e in problem.events}
        self.cols = _officer_columns(problem)
        self.busy: dict[dt.date, set[int]] = defaultdict(set)
        for a in plan.assignments:
            row = self.cols.index.get(a.service_number)
            if row is not None:
                self.busy[a.day].add(row)
        self._days: dict[dt.date, tuple[IntArray, BoolArray, dict[tuple[str, str], int]]] = {}
        self._fits: dict[Slot, BoolArray] = {}
        self._slot_counts: dict[tuple[dt.date, Slot], tuple[IntArray, IntArray]] = {}
        self._group_ids = {k: i for i, k in enumerate(self.cols.group_keys)}
        policy = problem.policy
        self._skills = [effective_skills(o.skills, policy) for o in problem.officers]

    def fits(self, slot: Slot) -> BoolArray:
        mask = self._fits.get(slot)
        if mask is None:
            need = set(slot.skills)
            mask = self._fits[slot] = np.fromiter(
                (
                    o.rank in slot.ranks and need <= s
                    for o, s in zip(self.problem.officers, self._skills, strict=True)
                ),
                dtype=np.bool_,
                count=len(self.problem.officers),
            )
        return mask

    def slot_counts(self, day: dt.date, slot: Slot) -> tuple[IntArray, IntArray]:
        """Officers fitting `slot` and not on an event that day, per (unit, duty role) group:
        (on duty, on a rest day). One pass over the officers per (day, slot), memoised."""
        key = (day, slot)
        found = self._slot_counts.get(key)
        if found is None:
            status, busy, _ = self.day(day)
            free = self.fits(slot) & ~busy
            n = len(self.cols.group_keys)
            found = self._slot_counts[key] = (
                np.bincount(self.cols.group[free & (status == ON)], minlength=n),
                np.bincount(self.cols.group[free & (status == REST)], minlength=n),
            )
        return found

    def day(self, day: dt.date) -> tuple[IntArray, BoolArray, dict[tuple[str, str], int]]:
        """(status per officer, on an event that day, floor headroom per (unit, duty role))."""
        cached = self._days.get(day)
        if cached is None:
            status = day_status(self.problem, self.cols, day)
            busy = np.zeros(len(status), dtype=np.bool_)
            busy[list(self.busy.get(day, ()))] = True
            n = len(self.cols.group_keys)
            on = np.bincount(self.cols.group[status == ON], minlength=n)
            taken = np.bincount(self.cols.group[(status == ON) & busy], minlength=n)
            headroom = {}
            for g, (unit, role) in enumerate(self.cols.group_keys):
                share = self.problem.policy.floors_for(unit).share(role)
                headroom[(unit, role)] = max_abstractable(int(on[g]), share) - int(taken[g])
            cached = self._days[day] = (status, busy, headroom)
        return cached


# --------------------------------------------------------------------------- one short tour


def _tier(event: Event, tour: Tour, problem: PlanningProblem) -> str:
    costs = problem.policy.costs
    if tour.day in problem.policy.public_holidays:
        return f"double time (public holiday, x{costs.public_holiday_multiplier:g})"
    notice = notice_days(event, tour.day, problem.policy)
    if notice < costs.short_notice_days:
        return f"time and a half ({notice} days' notice, under {costs.short_notice_days})"
    return f"a replacement rest day ({notice} days' notice)"


def _slot_supply(facts: RosterFacts, slot: Slot, unit: str, day: dt.date) -> tuple[int, Counter[str], int]:
    """For one slot in one unit that day: whole slots fillable from on-duty officers within the
    floors, suitable on-duty officers held back per floor, and slots fillable from resting officers."""
    _status, _busy, headroom = facts.day(day)
    on_by_group, rest_by_group = facts.slot_counts(day, slot)
    usable = resting = 0
    held: Counter[str] = Counter()
    for role in DUTY_ROLES:
        g = _group_id(facts, unit, role)
        if g < 0:
            continue
        resting += int(rest_by_group[g])
        n = int(on_by_group[g])
        if n == 0:
            continue
        room = max(0, headroom.get((unit, role), n)) if role in FLOOR_ROLES else n
        usable += min(n, room)
        if room < n:
            held[role] += n - room
    return usable // slot.count, held, resting // slot.count


def _borough_limit(
    facts: RosterFacts, spec: RoleSpec, unit: str, name: str, minutes: float, day: dt.date
) -> BoroughLimit:
    """The scarcest slot of the role decides: whole units are limited by their scarcest post."""
    supplies = [(slot, *_slot_supply(facts, slot, unit, day)) for slot in spec.slots]
    slot, free_units, held, _ = min(supplies, key=lambda x: x[1])
    resting = min(x[3] for x in supplies)
    if free_units > 0:
        limit = "spare officers"
    elif held:
        limit = f"{held.most_common(1)[0][0]} floor"
    else:
        limit = f"no on-duty {slot.label or 'officer'} for a {spec.label}"
    return BoroughLimit(
        borough=unit,
        name=name,
        minutes=minutes,
        limit=limit,
        free_units=free_units,
        held_by_floor=sum(held.values()),
        resting=resting,
    )


def _group_id(facts: RosterFacts, unit: str, role: str) -> int:
    return facts._group_ids.get((unit, role), -1)


def explain_shortfall(
    problem: PlanningProblem,
    facts: RosterFacts,
    shortfall: Shortfall,
    settings: ExplainSettings | None = None,
) -> TourExplanation:
    """The limits that bind for one short (event tour, role)."""
    settings = settings or ExplainSettings()
    event = facts.events[shortfall.event_id]
    tour = event_tours(event, problem.policy)[shortfall.tour_index]
    spec = problem.policy.roles[shortfall.role]
    names = {b.code: b.name for b in problem.organisation.boroughs}
    near = sorted(
        (
            (m, b)
            for b, m in problem.organisation.travel_minutes[event.borough].items()
            if m <= settings.radius_minutes
        ),
        key=lambda x: (x[0], x[1]),
    )
    nearby = [_borough_limit(facts, spec, b, names.get(b, b), m, shortfall.day) for m, b in near]
    counts = Counter(x.limit for x in nearby)
    per_officer = rest_day_cost(event, tour, problem.policy)
    cost = per_officer * shortfall.officers_short
    tier = _tier(event, tour, problem)
    resting = sum(x.resting for x in nearby)
    out = TourExplanation(
        event_id=event.external_id,
        name=event.name,
        tour_index=shortfall.tour_index,
        day=shortfall.day,
        borough=event.borough,
        priority=event.priority,
        role=shortfall.role,
        role_label=spec.label,
        required=shortfall.required,
        filled=shortfall.filled,
        officers_short=shortfall.officers_short,
        solver_reasons=list(shortfall.reasons),
        nearby=nearby,
        limit_counts=dict(counts),
        rest_day_units_available=resting,
        rest_day_cost_hours=round(cost, 2),
        rest_day_tier=tier,
        text="",
    )
    out.text = _sentence(out, settings, names)
    return out


def _sentence(x: TourExplanation, settings: ExplainSettings, names: dict[str, str]) -> str:
    short_units = x.required - x.filled
    parts = [f"{x.role_label}: {short_units} of {x.required} short ({x.officers_short} officers)."]
    radius = f"{settings.radius_minutes:g} min"
    if not x.nearby:
        parts.append(f"No borough within {radius} of {names.get(x.borough, x.borough)}.")
    for limit, n in sorted(x.limit_counts.items(), key=lambda kv: -kv[1]):
        which = ", ".join(b.name for b in x.nearby if b.limit == limit)
        if limit.endswith(" floor"):
            parts.append(
                f"{n} of the {len(x.nearby)} boroughs within {radius} are at their {limit} ({which})."
            )
        elif limit == "spare officers":
            spare = sum(b.free_units for b in x.nearby if b.limit == limit)
            parts.append(
                f"{n} within {radius} still have {spare} unit(s) of on-duty officers ({which}) that "
                "the tour's hours or the working-time rules keep off this tour, or that other events need."
            )
        else:
            parts.append(f"{n} boroughs within {radius} have {limit} ({which}).")
    if x.rest_day_units_available:
        parts.append(
            f"Cancelling rest days would cost {x.rest_day_cost_hours:g} h at {x.rest_day_tier}; "
            f"{x.rest_day_units_available} unit(s) could be formed from suitable officers resting nearby."
        )
    else:
        parts.append(f"No suitable officers are on a rest day within {radius} to call in.")
    if x.solver_reasons:
        parts.append("Binding in the allocation model: " + "; ".join(x.solver_reasons) + ".")
    return " ".join(parts)


def explain_plan(
    problem: PlanningProblem, plan: Plan, settings: ExplainSettings | None = None
) -> list[TourExplanation]:
    """An explanation for every short (event tour, role) in the plan, in day order."""
    facts = RosterFacts(problem, plan)
    shortfalls = sorted(plan.shortfalls, key=lambda s: (s.day, s.event_id, s.tour_index, s.role))
    return [explain_shortfall(problem, facts, s, settings) for s in shortfalls]


# --------------------------------------------------------------------------- per named rule


class Affected(Record, frozen=True):
    key: str  # event id or borough code
    label: str
    value: float


class RuleImpact(Struct):
    rule: str
    kind: str  # "hard" or "soft"
    measure: str  # what `value` counts
    value: float
    cost: float  # paid-hour equivalents in the plan's objective (0 for hard rules)
    top_events: list[Affected]
    top_boroughs: list[Affected]


def _top(items: dict[str, float], labels: dict[str, str], n: int = 5) -> list[Affected]:
    best = sorted(((v, k) for k, v in items.items() if v > 0), key=lambda x: (-x[0], x[1]))[:n]
    return [Affected(key=k, label=labels.get(k, k), value=round(v, 3)) for v, k in best]


def rule_analysis(
    problem: PlanningProblem, plan: Plan, evaluation: Evaluation, top: int = 5
) -> list[RuleImpact]:
    """For each named rule: how much it costs or constrains the plan and the events/boroughs it hits most."""
    s = evaluation.summary
    names = {b.code: b.name for b in problem.organisation.boroughs} | {
        u.code: u.name for u in problem.organisation.central_units
    }
    event_names = {e.event_id: e.name for e in evaluation.events}
    ev: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for e in evaluation.events:
        ev["short"][e.event_id] += e.short
        ev["uncovered"][e.event_id] += e.uncovered_weighted
        ev["rest"][e.event_id] += e.rest_day_officers
        ev["travel"][e.event_id] += e.travel_minutes
        ev["cost"][e.event_id] += e.cost
    un: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for u in evaluation.units:
        un["inv_at_floor"][u.unit] += float(
            u.investigators_abstracted > 0 and u.investigators_retained <= u.investigation_floor
        )
        un["resp_at_floor"][u.unit] += float(
            u.response_abstracted > 0 and u.response_on_duty - u.response_abstracted <= u.response_floor
        )
        un["rest"][u.unit] += u.rest_day_called
        un["cost"][u.unit] += u.cost
        un["travel"][u.unit] += u.travel_minutes
        un["abstracted"][u.unit] += u.abstracted
        un["violations"][u.unit] += u.floor_violations
    reasons: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for sf in plan.shortfalls:
        for reason in sf.reasons:
            reasons[reason.split(":")[0]][sf.event_id] += sf.officers_short

    def rule(
        name: str,
        kind: str,
        measure: str,
        value: float,
        cost: float,
        e: dict[str, float],
        u: dict[str, float],
    ) -> RuleImpact:
        return RuleImpact(
            rule=name,
            kind=kind,
            measure=measure,
            value=round(value, 3),
            cost=round(cost, 3),
            top_events=_top(e, event_names, top),
            top_boroughs=_top(u, names, top),
        )

    out = [
        rule(
            "Demand cover",
            "soft",
            "officer-tours uncovered",
            s.uncovered_officers,
            s.uncovered_weighted,
            ev["short"],
            {},
        ),
        rule(
            "Investigation floor",
            "hard",
            "borough-days with investigators abstracted down to the floor",
            sum(un["inv_at_floor"].values()),
            0.0,
            {},
            un["inv_at_floor"],
        ),
        rule(
            "Response floor",
            "hard",
            "borough-days with response officers abstracted down to the floor",
            sum(un["resp_at_floor"].values()),
            0.0,
            {},
            un["resp_at_floor"],
        ),
        rule(
            "Floor violations",
            "hard",
            "(unit, day, duty role) over a floor",
            s.floor_violations,
            0.0,
            {},
            un["violations"],
        ),
        rule(
            "Rest-day cancellation",
            "soft",
            "officer rest days cancelled",
            s.cancelled_rest_days,
            s.rest_day_cost,
            ev["rest"],
            un["rest"],
        ),
        rule(
            "Overtime",
            "soft",
            "paid hours beyond rostered tours",
            s.overtime_cost,
            s.overtime_cost,
            ev["cost"],
            un["cost"],
        ),
        rule(
            "Travel",
            "soft",
            "officer-minutes travelled",
            s.travel_minutes,
            s.travel_cost,
            ev["travel"],
            un["travel"],
        ),
        rule(
            "Fairness",
            "soft",
            "highest borough load share (abstracted + called in / on duty)",
            s.max_borough_load_share,
            s.fairness_cost,
            {},
            un["abstracted"],
        ),
    ]
    for family, by_event in sorted(reasons.items()):
        out.append(
            rule(
                f"Binding on shortfalls: {family}",
                "model",
                "officers short on tours where this limit binds",
                sum(by_event.values()),
                0.0,
                by_event,
                {},
            )
        )
    return out
