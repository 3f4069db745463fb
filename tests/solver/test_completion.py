"""Completion binds: a shortfall the blocks leave behind is re-measured against the final roster
over every source (planner.cover) and lawful cover is taken, from however far away, on-duty
officers before rest days; where nothing lawful exists it adds nothing. The partial plans here
are made by hand and put on the roster with solver.live.apply, as the pipeline does."""

from __future__ import annotations

import datetime as dt

import msgspec

from planner.cover import LEAVE, ONE_TOUR, REST_BEFORE, CoverContext, measure
from planner.domain import DateRange, Event, Officer, PlanningProblem, Policy
from planner.evaluate import evaluate
from planner.plan import Assignment, Plan
from planner.roster import Roster
from planner.rules import REST, event_tours, roster_code
from planner.validate import validate
from solver.allocation.inputs import candidate_sources
from solver.assembly import assemble
from solver.completion import Completion, complete, cover_context, short_roles
from solver.live import apply
from solver.pipeline import tours_by_day
from tests.solver.exact import exact
from tests.solver.factory import BROMLEY, CAMDEN, KENSINGTON, WESTMINSTER, event, officers, problem

SATURDAY = dt.date(2027, 3, 6)
SUNDAY = SATURDAY + dt.timedelta(days=1)
EPOCH = Policy().pattern_epoch
ON_SATURDAY = (0 - (SATURDAY - EPOCH).days) % 7  # 5x2 offset with Saturday the first D
NIGHTS_FROM_SATURDAY = (14 - (SATURDAY - EPOCH).days) % 21  # response: Saturday, Sunday nights


def deploy(p: PlanningProblem, crew: list[Officer], e: Event, role: str = "constable") -> list[Assignment]:
    """A hand-made partial plan: each officer in one single post of the event's first tour."""
    tour = event_tours(e, p.policy)[0]
    return [
        Assignment(
            service_number=o.service_number,
            event_id=e.external_id,
            tour_index=tour.index,
            day=tour.day,
            role=role,
            slot=0,
            unit_id=f"{e.external_id}/{tour.index}/{role}/{o.unit}/hand{k}",
            source=o.unit,
            start=tour.start,
            end=tour.end,
            rest_day_cancelled=roster_code(o, tour.day, p.policy) == REST,
        )
        for k, o in enumerate(crew)
    ]


def completed(p: PlanningProblem, partial: list[Assignment]) -> tuple[Completion, Plan, Roster]:
    roster = Roster(p)
    apply(roster, partial)
    demand = tours_by_day(p)
    result = complete(p, roster, demand, list(partial))
    plan = assemble(p, demand, cover_context(p, roster), result.assignments, [])
    assert validate(p, plan) == []
    return result, plan, roster


def cover_of(p: PlanningProblem, roster: Roster, e: Event, short: int, role: str = "constable"):  # type: ignore[no-untyped-def]
    tour = event_tours(e, p.policy)[0]
    return measure(CoverContext(p, roster), e, tour, role, short)


def test_completion_covers_from_a_far_borough_on_duty_before_rest_days() -> None:
    e = event("E", day=SATURDAY, constable=5)
    westminster = officers(WESTMINSTER, 2, offset=ON_SATURDAY)
    kensington = officers(KENSINGTON, 3)  # near, but on a rest day
    bromley = officers(BROMLEY, 3, offset=ON_SATURDAY) + officers(BROMLEY, 2)  # far; three on duty
    p = problem(westminster + kensington + bromley, [e], start=SATURDAY)
    # The blocks only look at nearby boroughs for a small event: Bromley is not among them.
    assert BROMLEY not in candidate_sources(p, WESTMINSTER, 5)
    partial = deploy(p, westminster, e)

    before = Roster(p)
    apply(before, partial)
    cover = cover_of(p, before, e, 3)
    assert cover.coverable_units == 3
    [far] = [s for s in cover.sources if s.source == BROMLEY]
    assert (far.units_formable, far.units_on_duty, far.rest_day_officers) == (3, 3, 0)
    assert short_roles(p, tours_by_day(p), partial) == [(e, event_tours(e, p.policy)[0], "constable", 3)]

    result, plan, roster = completed(p, partial)
    added = result.assignments[len(partial) :]
    assert result.units_added == 3 and result.officers_added == 3
    assert {a.source for a in added} == {BROMLEY}
    assert not any(a.rest_day_cancelled for a in added)  # Kensington's rest days are left alone
    assert plan.shortfalls == []
    assert short_roles(p, tours_by_day(p), result.assignments) == []
    # Here the completed plan is the cheapest lawful plan there is.
    assert abs(evaluate(p, plan).summary.plan_cost - exact(p).objective) <= 1e-6


def test_completion_cancels_only_the_rest_days_it_must() -> None:
    e = event("E", day=SATURDAY, constable=3)
    on_duty = officers(BROMLEY, 1, offset=ON_SATURDAY)
    resting = officers(BROMLEY, 4)
    p = problem(on_duty + resting, [e], start=SATURDAY)
    [source] = cover_of(p, Roster(p), e, 3).sources
    assert (source.units_formable, source.units_on_duty, source.rest_day_officers) == (3, 1, 2)
    result, plan, roster = completed(p, [])
    assert result.units_added == 3
    assert on_duty[0].service_number in {a.service_number for a in result.assignments}
    assert sum(a.rest_day_cancelled for a in result.assignments) == source.rest_day_officers
    assert plan.shortfalls == []
    assert abs(evaluate(p, plan).summary.plan_cost - exact(p).objective) <= 1e-6


def test_completion_adds_nothing_where_nothing_lawful_exists() -> None:
    # Sunday 07:00. Kensington worked Saturday until 23:00 (the partial plan); the Westminster
    # night crew's Saturday turn ends 06:00; Camden is on leave; Bromley's officer is already at
    # another Sunday event.
    sunday = event("SUN", day=SUNDAY, start_hour=8, hours=4, priority="critical", constable=4)
    late = event("LATE", day=SATURDAY, start_hour=16, hours=6, constable=3)  # 15:00-23:00
    other = event("OTHER", BROMLEY, day=SUNDAY, start_hour=8, hours=4, constable=1)
    kensington = officers(KENSINGTON, 3, offset=(ON_SATURDAY + 4) % 7)  # Friday, Saturday D; Sunday R
    night = officers(WESTMINSTER, 2, pattern="response", offset=NIGHTS_FROM_SATURDAY)
    camden = [
        msgspec.structs.replace(o, leave=(DateRange(start=SUNDAY, end=SUNDAY),)) for o in officers(CAMDEN, 2)
    ]
    bromley = officers(BROMLEY, 1, offset=ON_SATURDAY)
    p = problem(kensington + night + camden + bromley, [sunday, late, other], start=SATURDAY, end=SUNDAY)
    partial = deploy(p, kensington, late) + deploy(p, bromley, other)

    before = Roster(p)
    apply(before, partial)
    cover = cover_of(p, before, sunday, 4)
    assert cover.coverable_units == 0
    assert cover.held_back() == {LEAVE: 2, ONE_TOUR: 1, REST_BEFORE: 5}

    result, plan, roster = completed(p, partial)
    assert result.units_added == 0 and result.officers_added == 0
    assert result.assignments == partial
    assert result.tours_checked == 1
    [shortfall] = plan.shortfalls
    assert (shortfall.event_id, shortfall.officers_short) == ("SUN", 4)
    after = cover_of(p, roster, sunday, shortfall.required - shortfall.filled)
    assert after.coverable_units == 0
    assert sum(s.lawful for s in after.sources) == 0
