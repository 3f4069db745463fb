"""Explanations state measured counts: on tiny instances where every officer's fate is known, the
suitable, lawful, held-back and formable figures per source are exactly what they must be."""

from __future__ import annotations

import datetime as dt

from planner.analysis.explain import explain_plan, rule_analysis
from planner.cover import ONE_TOUR, REST_BEFORE
from planner.domain import Floors, Policy, ShiftPattern
from planner.evaluate import evaluate
from planner.plan import Plan, Shortfall
from planner.validate import validate
from solver import solve
from tests.solver.factory import (
    CAMDEN,
    DAY,
    KENSINGTON,
    WESTMINSTER,
    WITHOUT_FAIRNESS,
    event,
    officers,
    problem,
)


def solved(p):  # type: ignore[no-untyped-def]
    plan = solve(p, workers=1)
    assert validate(p, plan) == []
    return plan


def serial_crew(unit: str, *, sergeant: bool = True, role: str = "neighbourhood", offset: int = 0) -> list:  # type: ignore[type-arg]
    crew = officers(unit, 6, skills=["PO_L2"], role=role, offset=offset)
    crew += officers(unit, 1, skills=["PO_L2", "DRIVER"], role=role, offset=offset)
    if sergeant:
        crew += officers(unit, 1, rank="PS", skills=["PO_L2"], role=role, offset=offset)
    return crew


def unplanned(event_id: str, role: str, units: int, size: int) -> Plan:
    """A plan that sends nobody: every unit of the role is short."""
    short = Shortfall(
        event_id=event_id,
        tour_index=0,
        day=DAY,
        role=role,
        required=units,
        filled=0,
        officers_short=units * size,
    )
    return Plan(shortfalls=[short])


def test_missing_sergeants_show_as_the_scarcest_post_with_no_lawful_officer() -> None:
    # Westminster and Kensington have constables and drivers but no Level 2 sergeant.
    crew = serial_crew(WESTMINSTER, sergeant=False) + serial_crew(KENSINGTON, sergeant=False)
    p = problem(crew, [event("E1", serial_l2=1)])
    [x] = explain_plan(p, solved(p))
    assert x.officers_short == 8
    by_code = {s.source: s for s in x.sources}
    assert set(by_code) == {WESTMINSTER, KENSINGTON}
    for s in by_code.values():
        assert (s.suitable, s.lawful_on_duty, s.lawful_rest_day, s.held_back) == (7, 7, 0, {})
        assert s.units_formable == 0 and s.kind == "borough"
    assert x.sources[0].source == WESTMINSTER  # nearest first: the event is in Westminster
    assert x.sources[0].minutes <= x.sources[1].minutes
    assert x.slot_lawful == {"sergeant": 0, "constable": 14, "driver": 2}  # drivers fit both posts
    assert x.scarcest_slot == "sergeant"
    assert x.coverable_units == 0
    assert "14 officers in 2 boroughs hold the rank and skills for a Level 2 serial" in x.text
    assert "0 for the sergeant post" in x.text
    assert "No source could lawfully form another whole unit" in x.text


def test_the_investigation_floor_holds_the_lawful_on_duty_officers() -> None:
    # Westminster's only Level 2 officers are investigators; a 100% floor keeps every one of them.
    crew = serial_crew(WESTMINSTER, role="investigation")
    p = problem(crew, [event("E1", serial_l2=1)], policy=Policy(floors=Floors(investigation=1.0)))
    [x] = explain_plan(p, solved(p))
    [west] = x.sources
    assert (west.suitable, west.lawful_on_duty, west.held_by_floor) == (8, 8, {"Investigation floor": 8})
    assert west.units_formable == 0
    assert x.held_by_floor == {"Investigation floor": 8}
    assert "the investigation floor 8" in x.text
    # with no floor the same crew covers the event and nothing needs explaining
    relaxed = problem(crew, [event("E1", serial_l2=1)], policy=Policy(floors=Floors(investigation=0.0)))
    assert explain_plan(relaxed, solved(relaxed)) == []


def test_a_central_units_officers_are_counted() -> None:
    # Only the Territorial Support Group holds Level 1 officers: 16 of them (two serials), the event
    # wants three serials; its PO_L1 officers also count for Level 2 (skill implication).
    tsg = officers("TSG", 12, skills=["PO_L1"], role="central")
    tsg += officers("TSG", 2, skills=["PO_L1", "DRIVER"], role="central")
    tsg += officers("TSG", 2, rank="PS", skills=["PO_L1"], role="central")
    p = problem(tsg + serial_crew(CAMDEN), [event("E1", serial_l1=3)])
    plan = solved(p)
    [x] = explain_plan(p, plan)
    assert (x.required, x.filled) == (3, 2)
    [unit] = x.sources  # Camden's Level 2 officers do not hold Level 1
    assert (unit.source, unit.kind, unit.name) == ("TSG", "central unit", "Territorial Support Group")
    assert unit.suitable == 16
    assert unit.held_back == {ONE_TOUR: 16}  # every one of them is on this tour already
    assert unit.lawful == 0
    assert "16 officers in 1 central unit hold the rank and skills" in x.text


def test_a_rest_rule_holds_back_only_the_officers_who_really_lack_the_rest() -> None:
    # The tour runs 11:00-17:00 (a 12:00-16:00 event, an hour's briefing each side). Officers on
    # lates (15:00-23:00 the day before) have 12 h rest; officers on nights (22:00-06:00) have 5 h.
    policy = Policy(
        weights=WITHOUT_FAIRNESS.weights,
        shift_patterns={"lates": ShiftPattern(cycle="LLLLLRR"), "nights": ShiftPattern(cycle="NNNNNRR")},
    )
    lates = officers(WESTMINSTER, 3, pattern="lates", prefix="late")
    nights = officers(WESTMINSTER, 2, pattern="nights", prefix="night")
    p = problem(lates + nights, [event("E1", constable=6)], policy=policy)
    [x] = explain_plan(p, unplanned("E1", "constable", 6, 1))
    [west] = x.sources
    assert west.suitable == 5
    assert west.held_back == {REST_BEFORE: 2}
    assert (west.lawful_on_duty, west.lawful_rest_day) == (3, 0)
    assert west.units_formable == 3 and west.units_on_duty == 3 and west.rest_day_officers == 0
    assert "2 without 11 h rest after their previous duty" in x.text
    # this plan sent nobody although three constables could lawfully have gone
    assert x.coverable_units == 3 and "left lawful cover unused" in x.text
    # the solver sends the three; the nights remain held back by the rest rule, the lates by their tour
    [after] = explain_plan(p, solved(p))
    assert after.sources[0].held_back == {ONE_TOUR: 3, REST_BEFORE: 2}
    assert after.coverable_units == 0


def test_rest_day_officers_and_cost_are_those_of_the_units_that_could_be_formed() -> None:
    # The only serial is on a rest day (offset 3 puts the 5x2 rest days on Wednesday) and the event
    # was notified 5 days ahead: two serials are short but only one can be formed, from 8 rest-day
    # officers at time and a half: 8 x 6 h x 1.5 = 72 h.
    crew = serial_crew(CAMDEN, offset=3)
    ev = event("E1", borough=CAMDEN, serial_l2=2, notified=DAY - dt.timedelta(days=5))
    p = problem(crew, [ev])
    [x] = explain_plan(p, unplanned("E1", "serial_l2", 2, 8))
    [camden] = x.sources
    assert (camden.lawful_on_duty, camden.lawful_rest_day) == (0, 8)
    assert camden.units_formable == 1 and camden.units_on_duty == 0
    assert camden.rest_day_officers == 8 and camden.rest_day_cost_hours == 72.0
    assert "time and a half" in x.rest_day_tier
    assert "Camden 1 (8 officers called in from rest days, 72 h at time and a half" in x.text


def test_nothing_is_said_about_a_shortfall_that_cannot_be_measured() -> None:
    p = problem(officers(WESTMINSTER, 2), [event("E1", constable=1)])
    plan = Plan(
        shortfalls=[
            Shortfall(
                event_id="NOPE",
                tour_index=0,
                day=DAY,
                role="constable",
                required=1,
                filled=0,
                officers_short=1,
            )
        ]
    )
    assert explain_plan(p, plan) == []


def test_explanations_name_no_officer() -> None:
    crew = serial_crew(WESTMINSTER, sergeant=False)
    p = problem(crew, [event("E1", serial_l2=1)])
    [x] = explain_plan(p, solved(p))
    import msgspec

    body = msgspec.json.encode(x).decode()
    assert not any(o.service_number in body for o in crew)


def test_rule_analysis_names_each_rule_and_its_top_events() -> None:
    crew = officers(WESTMINSTER, 12)
    p = problem(crew, [event("E1", constable=15), event("E2", constable=2, start_hour=8)])
    plan = solved(p)
    rules = {r.rule: r for r in rule_analysis(p, plan, evaluate(p, plan))}
    cover = rules["Demand cover"]
    assert cover.value == 5  # 17 demanded, 12 officers
    assert cover.top_events[0].key in {"E1", "E2"}
    assert "Rest-day cancellation" in rules and "Investigation floor" in rules
    # every officer is on one of the two overlapping tours: the one-tour rule keeps all 12 off the
    # short one
    [short] = plan.shortfalls
    binding = rules[f"Binding on shortfalls: {ONE_TOUR}"]
    assert binding.kind == "measured" and binding.value == 12
    assert binding.top_events[0].key == short.event_id and binding.top_boroughs[0].key == WESTMINSTER
