"""Each stage-1 constraint family binds: on a tiny instance where breaking it would pay, the
solver keeps it, and the independent validator agrees with the plan."""

from __future__ import annotations

import datetime as dt

from planner.domain import Floors, Policy, Weights
from planner.validate import validate
from solver import solve
from tests.solver.factory import CAMDEN, KENSINGTON, WESTMINSTER, event, officers, problem

SATURDAY = dt.date(2027, 3, 6)


def solved(p):  # type: ignore[no-untyped-def]
    plan = solve(p, workers=1)
    assert validate(p, plan) == []
    return plan


def by_source(plan, role: str | None = None) -> dict[str, int]:  # type: ignore[no-untyped-def]
    out: dict[str, int] = {}
    for a in plan.assignments:
        if role is None or a.role == role:
            out[a.source] = out.get(a.source, 0) + 1
    return out


def test_demand_cover_sends_what_exists_and_reports_the_rest() -> None:
    p = problem(officers(WESTMINSTER, 12), [event("E1", constable=15)])
    plan = solved(p)
    assert len(plan.assignments) == 12
    [short] = plan.shortfalls
    assert (short.required, short.filled, short.officers_short) == (15, 12, 3)
    assert short.reasons


def test_travel_prefers_the_event_borough_then_the_nearest() -> None:
    crew = officers(WESTMINSTER, 4) + officers(KENSINGTON, 4) + officers(CAMDEN, 4)
    no_fairness = Policy(weights=Weights(fairness_per_point=0.0, fairness_per_point_above=0.0))
    plan = solved(problem(crew, [event("E1", constable=6)], policy=no_fairness))
    sources = by_source(plan)
    assert sources.get(WESTMINSTER) == 4
    assert sources.get(KENSINGTON) == 2  # 13.5 min away, Camden 23.6
    assert CAMDEN not in sources


def test_unit_composition_forms_whole_serials_from_one_source() -> None:
    # Westminster has a full serial but no driver; Camden has only a driver. Mixing sources
    # would cover the serial, but a serial comes from one borough with its own driver.
    crew = (
        officers(WESTMINSTER, 1, rank="PS", skills=["PO_L2"])
        + officers(WESTMINSTER, 6, skills=["PO_L2"])
        + officers(CAMDEN, 1, skills=["PO_L2", "DRIVER"])
    )
    plan = solved(problem(crew, [event("E1", serial_l2=1)]))
    assert plan.assignments == []
    [short] = plan.shortfalls
    assert short.officers_short == 8

    crew += officers(KENSINGTON, 1, rank="PS", skills=["PO_L2"]) + officers(KENSINGTON, 6, skills=["PO_L2"])
    crew += officers(KENSINGTON, 1, skills=["PO_L2", "DRIVER"])
    plan = solved(problem(crew, [event("E1", serial_l2=1)]))
    assert by_source(plan) == {KENSINGTON: 8}
    assert len({a.unit_id for a in plan.assignments}) == 1


def test_investigation_floor_keeps_investigators_on_their_crimes() -> None:
    # Ten detectives on duty and nobody else: at 85% only one may go, though the event wants five.
    crew = officers(WESTMINSTER, 10, role="investigation", skills=["DETECTIVE"])
    plan = solved(problem(crew, [event("E1", priority="critical", constable=5)]))
    assert len(plan.assignments) == 1
    assert plan.shortfalls[0].officers_short == 4
    # Measured on the final roster: one detective is deployed, the floor keeps the other nine.
    assert "Investigation floor: keeps 9 of those on duty on core duty" in plan.shortfalls[0].reasons

    relaxed = Policy(floors=Floors(investigation=0.5))
    plan = solved(problem(crew, [event("E1", priority="critical", constable=5)], policy=relaxed))
    assert len(plan.assignments) == 5


def test_response_floor_binds() -> None:
    crew = officers(WESTMINSTER, 8, role="response", pattern="5x2")
    plan = solved(problem(crew, [event("E1", constable=8)]))
    assert len(plan.assignments) == 2  # 8 - ceil(0.75 * 8)
    assert "Response floor: keeps 6 of those on duty on core duty" in plan.shortfalls[0].reasons


def test_rest_days_are_cancelled_only_when_on_duty_officers_run_out() -> None:
    # Offset 3 puts the 5x2 pattern's rest days on Wednesday and Thursday.
    on_duty = officers(WESTMINSTER, 3)
    resting = officers(WESTMINSTER, 5, offset=3)
    p = problem(on_duty + resting, [event("E1", constable=5)])
    plan = solved(p)
    cancelled = [a for a in plan.assignments if a.rest_day_cancelled]
    assert len(plan.assignments) == 5
    assert len(cancelled) == 2


def test_critical_events_are_covered_before_low_priority_ones() -> None:
    crew = officers(WESTMINSTER, 6)
    events = [
        event("LOW", priority="low", constable=6),
        event("CRIT", priority="critical", start_hour=13, constable=6),
    ]
    plan = solved(problem(crew, events))
    assert {a.event_id for a in plan.assignments} == {"CRIT"}


def test_abstraction_fairness_spreads_the_load_between_boroughs() -> None:
    # Kensington is nearer to Westminster than Camden; without a fairness cost the model empties
    # Kensington, with it the two share the load.
    crew = officers(KENSINGTON, 10) + officers(CAMDEN, 10)
    events = [event("E1", constable=10)]
    unfair = Policy(weights=Weights(fairness_per_point=0.0, fairness_per_point_above=0.0))
    plan = solved(problem(crew, events, policy=unfair))
    assert by_source(plan) == {KENSINGTON: 10}
    plan = solved(problem(crew, events, policy=Policy()))
    sources = by_source(plan)
    assert max(sources.values()) < 10 and sum(sources.values()) == 10


def test_abstraction_fairness_relieves_the_borough_from_rest_days() -> None:
    # One borough, 60 on duty and 40 on a rest day (offset 3: Wednesday off), an event for 25.
    # Up to 30% of those on duty (18) the share is cheap; beyond it each on-duty officer costs
    # more in fairness than a rest-day call-in, so the other 7 come from rest days.
    crew = officers(WESTMINSTER, 60) + officers(WESTMINSTER, 40, offset=3)
    events = [event("E1", constable=25)]
    plan = solved(problem(crew, events, policy=Policy()))
    rest = [a for a in plan.assignments if a.rest_day_cancelled]
    assert len(plan.assignments) == 25 and len(rest) == 7
    plan = solved(problem(crew, events))  # fairness off: on-duty officers cost nothing extra
    assert len(plan.assignments) == 25 and not any(a.rest_day_cancelled for a in plan.assignments)


def test_coverage_comes_before_fairness_even_in_a_tiny_borough() -> None:
    # Twelve officers on duty: each is 8 points of the borough's share. At the policy's full
    # fairness weight that would cost more than leaving them idle; the weight is capped so it
    # never outweighs covering the event.
    plan = solved(
        problem(officers(WESTMINSTER, 12), [event("E1", priority="low", constable=12)], policy=Policy())
    )
    assert len(plan.assignments) == 12 and plan.shortfalls == []
