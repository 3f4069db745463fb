"""Explanations name the limit that really binds, on tiny instances where each one is the cause."""

from __future__ import annotations

from planner.analysis.explain import explain_plan, rule_analysis
from planner.domain import Floors, Policy
from planner.evaluate import evaluate
from planner.validate import validate
from solver import solve
from tests.solver.factory import CAMDEN, KENSINGTON, WESTMINSTER, event, officers, problem


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


def test_no_on_duty_sergeant_is_named_when_sergeants_are_missing() -> None:
    # Westminster and Kensington have constables and drivers but no Level 2 sergeant.
    crew = serial_crew(WESTMINSTER, sergeant=False) + serial_crew(KENSINGTON, sergeant=False)
    p = problem(crew, [event("E1", serial_l2=1)])
    [x] = explain_plan(p, solved(p))
    assert x.officers_short == 8
    by_code = {b.borough: b for b in x.nearby}
    assert by_code[WESTMINSTER].limit == "no on-duty sergeant for a Level 2 serial"
    assert by_code[KENSINGTON].limit == "no on-duty sergeant for a Level 2 serial"
    assert "no on-duty sergeant for a Level 2 serial" in x.text


def test_investigation_floor_is_named_when_it_holds_the_officers_back() -> None:
    # Westminster's only Level 2 officers are investigators; the floor keeps every one of them
    # (floor 100%), so a serial that exists on paper cannot be sent.
    crew = serial_crew(WESTMINSTER, role="investigation")
    p = problem(crew, [event("E1", serial_l2=1)], policy=Policy(floors=Floors(investigation=1.0)))
    [x] = explain_plan(p, solved(p))
    west = next(b for b in x.nearby if b.borough == WESTMINSTER)
    assert west.limit == "investigation floor"
    assert west.held_by_floor == 1  # the scarcest post: its one sergeant is held back
    assert "at their investigation floor (Westminster)" in x.text
    # with a lower floor the same crew covers the event and nothing needs explaining
    relaxed = problem(crew, [event("E1", serial_l2=1)], policy=Policy(floors=Floors(investigation=0.0)))
    assert explain_plan(relaxed, solved(relaxed)) == []


def test_rest_day_cost_is_priced_at_the_notice_tier() -> None:
    # The only serial is on a rest day (offset puts the 5x2 pattern's rest on the event day) and the
    # event was notified 5 days ahead: calling 8 officers in costs 8 x max(tour hours, 4) x 1.5.
    import datetime as dt

    from tests.solver.factory import DAY

    crew = serial_crew(CAMDEN, offset=5)  # Wednesday is a rest day at this offset
    ev = event("E1", borough=CAMDEN, serial_l2=2, notified=DAY - dt.timedelta(days=5))
    p = problem(crew, [ev])
    plan = solve(p, workers=1)
    [x] = explain_plan(p, plan)
    tour_hours = 4 + 2  # 4-hour event plus an hour's briefing each side
    # at most one serial can be formed; the shortfall's officers are priced at the short-notice tier
    assert x.rest_day_cost_hours == x.officers_short * tour_hours * 1.5
    assert "time and a half" in x.rest_day_tier


def test_rule_analysis_names_each_rule_and_its_top_events() -> None:
    crew = officers(WESTMINSTER, 12)
    p = problem(crew, [event("E1", constable=15), event("E2", constable=2, start_hour=8)])
    plan = solved(p)
    rules = {r.rule: r for r in rule_analysis(p, plan, evaluate(p, plan))}
    cover = rules["Demand cover"]
    assert cover.value == 5  # 17 demanded, 12 officers
    assert cover.top_events[0].key in {"E1", "E2"}
    assert "Rest-day cancellation" in rules and "Investigation floor" in rules
    assert any(name.startswith("Binding on shortfalls") for name in rules)
