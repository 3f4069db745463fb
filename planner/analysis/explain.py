"""Why a plan looks the way it does: per short event tour, what lawful cover there was, measured;
per named rule, what it costs and whom it affects.

Every figure of a shortfall's explanation comes from one measurement, `planner.cover.measure`, of
that tour against the plan's final roster (the published roster with every deployment of the plan
applied): per source - borough or central unit, nearest first - the officers holding the rank and
skills, the working-time rule that rules each of the others out (the first failing one, in
`planner.cover.RULE_ORDER`), those who could lawfully work the tour on duty or on a rest day, what
each duty-role floor keeps on core duty, and the whole units still formable with the fewest
rest-day cancellations and their cost. The sentence states those counts and nothing else: where
nothing was measured it says nothing. Explanations hold for any plan, the solver's or the greedy
baseline's, because they read only the problem and the plan.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np

from planner.cover import (
    LEAVE,
    ONE_TOUR,
    REST_AFTER,
    REST_BEFORE,
    RULE_ORDER,
    SPACING,
    WEEKLY_HOURS,
    CoverContext,
    SourceCover,
    TourCover,
    measure,
)
from planner.domain import Event, PlanningProblem, Record, Struct, Tour
from planner.evaluate import Evaluation
from planner.plan import Plan, Shortfall
from planner.roster import Roster
from planner.rules import event_tours, notice_days


class SourceExplanation(Record, frozen=True):
    """One source (borough or central unit) measured for one short event tour and role."""

    source: str  # borough ONS code or central unit code
    name: str
    kind: str  # "borough" or "central unit"
    minutes: float  # estimated travel to the event's borough
    suitable: int  # officers holding the rank and skills for some post of the role
    held_back: dict[str, int]  # working-time rule -> suitable officers it rules out (first failing rule)
    lawful_on_duty: int  # suitable officers on duty who could lawfully work the tour
    lawful_rest_day: int  # suitable officers on a rest day who could lawfully be called in
    held_by_floor: dict[str, int]  # floor -> lawful on-duty officers it keeps on core duty
    units_formable: (
        int  # whole units lawful officers within the floors could still form (up to the shortfall)
    )
    units_on_duty: int  # of those, formable from on-duty officers alone
    rest_day_officers: int  # fewest rest-day cancellations forming `units_formable` needs
    rest_day_cost_hours: float  # their cost, paid-hour equivalents

    @property
    def lawful(self) -> int:
        return self.lawful_on_duty + self.lawful_rest_day


class TourExplanation(Struct):
    """One short (event tour, role), with the lawful cover measured against the plan's final roster."""

    event_id: str
    name: str
    tour_index: int
    day: dt.date
    borough: str
    priority: str
    role: str
    role_label: str
    required: int  # units demanded
    filled: int  # units covered
    officers_short: int
    sources: list[SourceExplanation]  # sources with suitable officers, nearest first
    suitable: int  # all sources
    held_back: dict[str, int]  # all sources, in the order the rules are applied
    lawful_on_duty: int
    lawful_rest_day: int
    held_by_floor: dict[str, int]
    slot_lawful: dict[str, int]  # per post of the role: lawful officers fitting it, all sources
    scarcest_slot: str | None  # the post with the fewest lawful officers (None: no suitable officer)
    units_formable: int  # whole units the sources could still form, each source up to the shortfall
    coverable_units: int  # units one source could still form at a price the policy accepts (0 expected)
    rest_day_tier: str  # how a cancelled rest day on this tour is paid
    text: str

    @property
    def lawful(self) -> int:
        return self.lawful_on_duty + self.lawful_rest_day


class ExplainSettings(Record, frozen=True):
    nearest_in_text: int = 3  # sources named with their counts in the sentence, nearest first
    units_in_text: int = 4  # sources that could still form units named in the sentence


# --------------------------------------------------------------------------- the plan's roster


def plan_roster(problem: PlanningProblem, plan: Plan) -> Roster:
    """The published roster with every deployment of `plan` applied (as the solver leaves it).

    Assignments naming an officer the problem does not hold, or a day outside the roster, are
    skipped: the validator reports them."""
    roster = Roster(problem)
    by_tour: dict[tuple[int, dt.datetime, dt.datetime], list[int]] = defaultdict(list)
    for a in plan.assignments:
        row = roster.index.get(a.service_number)
        d = roster.day_index(a.day)
        if row is not None and 0 <= d < roster.n_days:
            by_tour[(d, a.start, a.end)].append(row)
    for (d, start, end), rows in by_tour.items():
        roster.assign(np.asarray(rows, dtype=np.int64), d, *roster.minutes(start, end))
    return roster


class PlanCover:
    """One plan's final roster and the officer facts measurements read, built once per plan and
    shared by every short tour's measurement (each costs a few milliseconds)."""

    def __init__(self, problem: PlanningProblem, plan: Plan) -> None:
        self.problem = problem
        self.plan = plan
        self.context = CoverContext(problem, plan_roster(problem, plan))
        self.events = {e.external_id: e for e in problem.events}
        org = problem.organisation
        self.names = {b.code: b.name for b in org.boroughs} | {u.code: u.name for u in org.central_units}
        self.central = frozenset(u.code for u in org.central_units)
        self._tours: dict[str, list[Tour]] = {}
        self._headroom: dict[int, dict[int, int]] = {}

    def tour(self, event_id: str, tour_index: int) -> tuple[Event, Tour] | None:
        event = self.events.get(event_id)
        if event is None:
            return None
        tours = self._tours.get(event_id)
        if tours is None:
            tours = self._tours[event_id] = event_tours(event, self.problem.policy)
        if not 0 <= tour_index < len(tours):
            return None
        return event, tours[tour_index]

    def measure(self, event_id: str, tour_index: int, role: str, short_units: int) -> TourCover | None:
        """`planner.cover.measure` of one (event tour, role); None if there is nothing to measure
        (an unknown event, tour or role, or a day outside the roster)."""
        found = self.tour(event_id, tour_index)
        if found is None or role not in self.problem.policy.roles:
            return None
        event, tour = found
        roster = self.context.roster
        d = roster.day_index(tour.day)
        if not 0 <= d < roster.n_days:
            return None
        headroom = self._headroom.get(d)
        if headroom is None:
            headroom = self._headroom[d] = self.context.headroom(d)
        return measure(self.context, event, tour, role, short_units, headroom=headroom)


# --------------------------------------------------------------------------- one short tour


def _tier(event: Event, tour: Tour, problem: PlanningProblem) -> str:
    costs = problem.policy.costs
    if tour.day in problem.policy.public_holidays:
        return f"double time (public holiday, x{costs.public_holiday_multiplier:g})"
    notice = notice_days(event, tour.day, problem.policy)
    if notice < costs.short_notice_days:
        return f"time and a half ({notice} days' notice, under {costs.short_notice_days})"
    return f"a replacement rest day ({notice} days' notice)"


def _source(cover: PlanCover, s: SourceCover) -> SourceExplanation:
    return SourceExplanation(
        source=s.source,
        name=cover.names.get(s.source, s.source),
        kind="central unit" if s.source in cover.central else "borough",
        minutes=s.minutes,
        suitable=s.suitable,
        held_back={rule: s.held_back[rule] for rule in RULE_ORDER if s.held_back.get(rule)},
        lawful_on_duty=s.lawful_on_duty,
        lawful_rest_day=s.lawful_rest_day,
        held_by_floor=dict(sorted(s.held_by_floor.items())),
        units_formable=s.units_formable,
        units_on_duty=s.units_on_duty,
        rest_day_officers=s.rest_day_officers,
        rest_day_cost_hours=s.rest_day_cost,
    )


def explain_shortfall(
    problem: PlanningProblem,
    cover: PlanCover,
    shortfall: Shortfall,
    settings: ExplainSettings | None = None,
) -> TourExplanation | None:
    """The lawful cover measured for one short (event tour, role); None if it cannot be measured."""
    short_units = shortfall.required - shortfall.filled
    measured = cover.measure(shortfall.event_id, shortfall.tour_index, shortfall.role, short_units)
    if measured is None:
        return None
    found = cover.tour(shortfall.event_id, shortfall.tour_index)
    assert found is not None
    event, tour = found
    spec = problem.policy.roles[shortfall.role]
    sources = [_source(cover, s) for s in measured.sources]
    held = measured.held_back()
    scarcest = min(measured.slot_lawful.items(), key=lambda kv: kv[1], default=None) if sources else None
    out = TourExplanation(
        event_id=event.external_id,
        name=event.name,
        tour_index=tour.index,
        day=tour.day,
        borough=event.borough,
        priority=event.priority,
        role=shortfall.role,
        role_label=spec.label,
        required=shortfall.required,
        filled=shortfall.filled,
        officers_short=shortfall.officers_short,
        sources=sources,
        suitable=measured.suitable,
        held_back={rule: held[rule] for rule in RULE_ORDER if held.get(rule)},
        lawful_on_duty=sum(s.lawful_on_duty for s in sources),
        lawful_rest_day=sum(s.lawful_rest_day for s in sources),
        held_by_floor=dict(sorted(measured.held_by_floors().items())),
        slot_lawful=dict(measured.slot_lawful),
        scarcest_slot=scarcest[0] if scarcest is not None else None,
        units_formable=sum(s.units_formable for s in sources),
        coverable_units=measured.coverable_units,
        rest_day_tier=_tier(event, tour, problem),
        text="",
    )
    out.text = sentence(out, problem, settings or ExplainSettings())
    return out


def _rule_phrases(problem: PlanningProblem) -> dict[str, str]:
    wt = problem.policy.working_time
    rest = f"{wt.min_rest_hours:g} h"
    return {
        LEAVE: "on leave",
        ONE_TOUR: "already deployed to an event tour that day",
        REST_BEFORE: f"without {rest} rest after their previous duty",
        REST_AFTER: f"without {rest} rest before their next duty",
        SPACING: f"who would work more than {wt.max_consecutive_work_days} days in a row",
        WEEKLY_HOURS: f"over {wt.max_average_weekly_hours:g} h a week on average",
    }


def _listed(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _more(shown: int, total: int, noun: str) -> list[str]:
    rest = total - shown
    return [f"{rest} more {noun}{'s' if rest != 1 else ''}"] if rest > 0 else []


def sentence(x: TourExplanation, problem: PlanningProblem, settings: ExplainSettings) -> str:
    """The explanation in words: every number in it is one of `x`'s measured counts."""
    short_units = x.required - x.filled
    parts = [f"{x.role_label}: {short_units} of {x.required} short ({x.officers_short} officers)."]
    if not x.sources:
        parts.append(
            f"No officer of any borough or central unit holds the rank and skills for a {x.role_label}."
        )
        return " ".join(parts)
    boroughs = sum(s.kind == "borough" for s in x.sources)
    central = len(x.sources) - boroughs
    where = _listed(
        [f"{boroughs} borough{'s' if boroughs != 1 else ''}"] * (boroughs > 0)
        + [f"{central} central unit{'s' if central != 1 else ''}"] * (central > 0)
    )
    ruled_out = sum(x.held_back.values())
    held = f"{x.suitable} officers in {where} hold the rank and skills for a {x.role_label}"
    if ruled_out:
        phrases = _rule_phrases(problem)
        why = [f"{n} {phrases.get(rule, rule)}" for rule, n in x.held_back.items()]
        held += f"; {ruled_out} of them cannot lawfully work this tour ({_listed(why)})"
    parts.append(held + ".")
    parts.append(f"{x.lawful} could: {x.lawful_on_duty} on duty and {x.lawful_rest_day} on a rest day.")
    if x.held_by_floor:
        floors = [f"the {rule.lower()} {n}" for rule, n in x.held_by_floor.items()]
        parts.append(f"Of those on duty, the floors keep on core duty: {_listed(floors)}.")
    if x.scarcest_slot is not None and len(x.slot_lawful) > 1:
        parts.append(
            f"Fewest lawful officers for one post: {x.slot_lawful[x.scarcest_slot]} for the "
            f"{x.scarcest_slot} post."
        )
    nearest = x.sources[: settings.nearest_in_text]
    near = [f"{s.name} ({s.minutes:g} min) {s.suitable} suitable, {s.lawful} lawful" for s in nearest]
    parts.append("Nearest: " + "; ".join(near + _more(len(nearest), len(x.sources), "source")) + ".")
    forming = [s for s in x.sources if s.units_formable > 0]
    if not forming:
        parts.append("No source could lawfully form another whole unit within its floors.")
    else:
        shown = forming[: settings.units_in_text]
        items = []
        for s in shown:
            item = f"{s.name} {s.units_formable}"
            if s.rest_day_officers:
                item += (
                    f" ({s.rest_day_officers} officers called in from rest days, "
                    f"{s.rest_day_cost_hours:g} h at {x.rest_day_tier})"
                )
            else:
                item += " (from on-duty officers)"
            items.append(item)
        parts.append(
            "Whole units that could still be formed lawfully within the floors, each source up to "
            f"the {short_units} short: " + "; ".join(items + _more(len(shown), len(forming), "source")) + "."
        )
    if x.coverable_units:
        parts.append(
            f"One source alone could have formed {x.coverable_units} of the missing units at a price "
            "the policy accepts: the plan left lawful cover unused."
        )
    return " ".join(parts)


def explain_plan(
    problem: PlanningProblem,
    plan: Plan,
    settings: ExplainSettings | None = None,
    cover: PlanCover | None = None,
) -> list[TourExplanation]:
    """An explanation for every short (event tour, role) in the plan that can be measured, in day
    order. `cover` (the plan's PlanCover) may be passed to reuse a roster already built."""
    if cover is None or cover.plan is not plan or cover.problem is not problem:
        cover = PlanCover(problem, plan)
    shortfalls = sorted(plan.shortfalls, key=lambda s: (s.day, s.event_id, s.tour_index, s.role))
    out = []
    for s in shortfalls:
        x = explain_shortfall(problem, cover, s, settings)
        if x is not None:
            out.append(x)
    return out


# --------------------------------------------------------------------------- per named rule


class Affected(Record, frozen=True):
    key: str  # event id or borough code
    label: str
    value: float


class RuleImpact(Struct):
    rule: str
    kind: str  # "hard", "soft", or "measured" (counted on the short tours' explanations)
    measure: str  # what `value` counts
    value: float
    cost: float  # paid-hour equivalents in the plan's objective (0 for hard rules)
    top_events: list[Affected]
    top_boroughs: list[Affected]


def _top(items: dict[str, float], labels: dict[str, str], n: int = 5) -> list[Affected]:
    best = sorted(((v, k) for k, v in items.items() if v > 0), key=lambda x: (-x[0], x[1]))[:n]
    return [Affected(key=k, label=labels.get(k, k), value=round(v, 3)) for v, k in best]


def rule_analysis(
    problem: PlanningProblem,
    plan: Plan,
    evaluation: Evaluation,
    top: int = 5,
    explanations: list[TourExplanation] | None = None,
) -> list[RuleImpact]:
    """For each named rule: how much it costs or constrains the plan and the events/boroughs it hits
    most. The rules binding on shortfalls are counted from the measured explanations (computed
    here unless the plan's `explanations` are passed)."""
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
    if explanations is None:
        explanations = explain_plan(problem, plan)
    # Per rule and floor: suitable officers it kept off short tours, by event and by source.
    binding_events: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    binding_sources: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for x in explanations:
        for source in x.sources:
            for name, n in (*source.held_back.items(), *source.held_by_floor.items()):
                binding_events[name][x.event_id] += n
                binding_sources[name][source.source] += n

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
    floors = sorted(name for name in binding_events if name not in RULE_ORDER)
    for name in [*(r for r in RULE_ORDER if r in binding_events), *floors]:
        by_event = binding_events[name]
        out.append(
            rule(
                f"Binding on shortfalls: {name}",
                "measured",
                "suitable officers it kept off short tours (summed over short tours and roles)",
                sum(by_event.values()),
                0.0,
                by_event,
                binding_sources[name],
            )
        )
    return out
