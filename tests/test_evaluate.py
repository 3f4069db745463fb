"""The evaluator: costs, coverage, fairness and floors computed by hand on tiny plans."""

from __future__ import annotations

import datetime as dt

import pytest

from planner.domain import Policy
from planner.evaluate import Evaluation, evaluate, kpi_summary_table
from planner.plan import Plan, Shortfall
from planner.reference import LAMBETH, WESTMINSTER, london
from planner.validate import FLOOR_RULES, validate
from tests.plan_builders import MON, SAT, assign, event, lambeth_response, officer, problem, valid_scenario

PER_POINT = Policy().weights.fairness_per_point


def unit_row(result: Evaluation, unit: str, day: dt.date):
    return next(r for r in result.units if r.unit == unit and r.day == day)


# --------------------------------------------------------------------------- pay costs


@pytest.mark.parametrize(
    ("notice_days", "holiday", "cost"),
    [(10, False, 15.0), (20, False, 10.0), (20, True, 20.0), (10, True, 20.0)],
)
def test_rest_day_cost(notice_days: int, holiday: bool, cost: float) -> None:
    who = officer("N1")
    # 10:00-18:00 with an hour's briefing either side: a 10 h tour on a rostered rest day
    ev = event("E", SAT, start_hour=10, hours=8, notified=SAT - dt.timedelta(days=notice_days))
    policy = Policy(public_holidays=(SAT,) if holiday else ())
    prob = problem([who], [ev], policy=policy)
    plan = Plan(assignments=[assign(prob, ev, who)])
    assert plan.assignments[0].rest_day_cancelled
    s = evaluate(prob, plan).summary
    assert s.rest_day_cost == pytest.approx(cost)
    assert s.cancelled_rest_days == 1
    assert s.overtime_cost == 0.0
    assert s.travel_minutes == 0.0  # Westminster to Westminster
    assert s.plan_cost == pytest.approx(cost)


def test_short_notice_minimum_hours() -> None:
    who = officer("N1")
    ev = event("E", SAT, start_hour=10, hours=1, notified=SAT)  # a 3 h tour is paid as 4 h
    prob = problem([who], [ev])
    s = evaluate(prob, Plan(assignments=[assign(prob, ev, who)])).summary
    assert s.rest_day_cost == pytest.approx(4 * 1.5)


@pytest.mark.parametrize(("rank", "cost"), [("PC", 4 * 4 / 3), ("PS", 4 * 4 / 3), ("INSP", 4.0)])
def test_overtime_on_a_rostered_day(rank: str, cost: float) -> None:
    who = officer("N1", rank=rank)
    ev = event("E", MON, start_hour=10, hours=10)  # a 12 h tour on a rostered 8 h day
    prob = problem([who], [ev])
    s = evaluate(prob, Plan(assignments=[assign(prob, ev, who)])).summary
    assert s.overtime_cost == pytest.approx(cost)
    assert s.rest_day_cost == 0.0
    assert s.cancelled_rest_days == 0


def test_no_overtime_within_rostered_hours() -> None:
    who = officer("N1")
    ev = event("E", MON, start_hour=10, hours=5)  # a 7 h tour
    prob = problem([who], [ev])
    assert evaluate(prob, Plan(assignments=[assign(prob, ev, who)])).summary.overtime_cost == 0.0


def test_travel_minutes_and_cost() -> None:
    who = officer("L1", LAMBETH)
    ev = event("E", SAT, borough=WESTMINSTER)
    prob = problem([who], [ev])
    result = evaluate(prob, Plan(assignments=[assign(prob, ev, who)]))
    minutes = london().travel(LAMBETH, WESTMINSTER)
    assert minutes > 0
    assert result.summary.travel_minutes == pytest.approx(minutes)
    assert result.summary.travel_cost == pytest.approx(minutes * 0.02)
    assert unit_row(result, LAMBETH, SAT).travel_minutes == pytest.approx(minutes)
    (tour,) = result.events
    assert tour.travel_minutes == pytest.approx(minutes)
    assert tour.cost == pytest.approx(result.summary.rest_day_cost + minutes * 0.02)


# --------------------------------------------------------------------------- coverage


def test_coverage_and_uncovered_weights() -> None:
    a, b = officer("N1"), officer("N2")
    normal = event("NORMAL", SAT, demand=(("constable", 3),))
    critical = event("CRIT", SAT, borough=LAMBETH, priority="critical", demand=(("serial_l2", 1),))
    prob = problem([a, b], [normal, critical])
    plan = Plan(assignments=[assign(prob, normal, a), assign(prob, normal, b)])
    s = evaluate(prob, plan).summary
    assert (s.events, s.tours) == (2, 2)
    assert s.demand_officers == 3 + 8
    assert s.covered_officers == 2
    assert s.uncovered_officers == 1 + 8
    assert s.uncovered_critical == 8
    assert s.uncovered_weighted == pytest.approx(1 * 400 + 8 * 10000)
    assert s.coverage_share == pytest.approx(2 / 11)


def test_uncovered_does_not_depend_on_reported_shortfalls() -> None:
    prob, plan = valid_scenario()
    with_report = evaluate(prob, plan).summary
    plan.shortfalls.clear()
    without = evaluate(prob, plan).summary
    assert with_report == without
    assert without.uncovered_officers == 1  # the bronze commander
    reported = Shortfall(
        event_id="MATCH", tour_index=0, day=MON, role="bronze", required=1, filled=0, officers_short=1
    )
    assert without.uncovered_officers == reported.officers_short


def test_over_deployment_is_not_extra_coverage() -> None:
    a, b = officer("N1"), officer("N2")
    ev = event("E", SAT, demand=(("constable", 1),))
    prob = problem([a, b], [ev])
    s = evaluate(prob, Plan(assignments=[assign(prob, ev, a), assign(prob, ev, b)])).summary
    assert (s.demand_officers, s.covered_officers, s.uncovered_officers) == (1, 1, 0)
    assert s.cancelled_rest_days == 2


def test_event_rows() -> None:
    prob, plan = valid_scenario()
    rows = {r.event_id: r for r in evaluate(prob, plan).events}
    demo, match = rows["DEMO"], rows["MATCH"]
    assert (demo.demand_officers, demo.covered_officers, demo.short, demo.rest_day_officers) == (8, 8, 0, 8)
    assert demo.cost == pytest.approx(8 * 8.0)  # 8 h tours, long notice (no notified date: 60 days)
    assert (match.demand_officers, match.covered_officers, match.short) == (2, 1, 1)
    assert match.uncovered_weighted == pytest.approx(400.0)
    assert match.day == MON and match.borough == LAMBETH


# --------------------------------------------------------------------------- abstraction and fairness


def fairness_scenario():
    west = [officer(f"W{i}") for i in range(10)]  # 10 neighbourhood officers on duty Monday
    lam = lambeth_response(4)
    tsg = [officer(f"T{i}", "TSG", duty_role="central", skills=("PO_L1",)) for i in range(2)]
    ev = event("E", MON, demand=(("constable", 5),))
    prob = problem([*west, *lam, *tsg], [ev])
    plan = Plan(assignments=[assign(prob, ev, o) for o in (west[0], west[1], lam[0], tsg[0], tsg[1])])
    return prob, plan


def test_fairness_and_max_borough_share() -> None:
    prob, plan = fairness_scenario()
    result = evaluate(prob, plan)
    s = result.summary
    # Westminster 2/10, Lambeth 1/4; the TSG (all abstracted) is not a borough
    assert s.max_borough_abstraction_share == pytest.approx(0.25)
    # Lambeth has 4 on duty: the weights (5 a point, 50 above 30%) are scaled so that together
    # they stay within 0.5 x 100 (low priority) x 4 / 100 = 2 a point; 25% is under the threshold.
    assert s.fairness_cost == pytest.approx(100 * 5 * (2 / 55) * 0.25)
    west = unit_row(result, WESTMINSTER, MON)
    assert (west.on_duty, west.abstracted, west.rest_day_called) == (10, 2, 0)
    lam = unit_row(result, LAMBETH, MON)
    assert (lam.response_on_duty, lam.response_abstracted, lam.response_floor) == (4, 1, 3)
    tsg = unit_row(result, "TSG", MON)
    assert (tsg.on_duty, tsg.abstracted, tsg.bcu) == (2, 2, None)
    assert s.plan_cost == pytest.approx(
        s.uncovered_weighted + s.rest_day_cost + s.overtime_cost + s.travel_cost + s.fairness_cost
    )


def test_fairness_sums_daily_maxima() -> None:
    west = [officer(f"W{i}") for i in range(10)]
    mon, tue = event("MON", MON), event("TUE", MON + dt.timedelta(days=1))
    prob = problem(west, [mon, tue])
    plan = Plan(assignments=[assign(prob, mon, west[0]), assign(prob, tue, west[1])])
    s = evaluate(prob, plan).summary
    # 10 on duty: the weights are scaled to 0.5 x 100 x 10 / 100 = 5 a point together.
    assert s.fairness_cost == pytest.approx(100 * 5 * (5 / 55) * (0.1 + 0.1))
    assert s.max_borough_abstraction_share == pytest.approx(0.1)


def test_rest_day_call_ins_are_not_abstraction() -> None:
    west = [officer(f"W{i}") for i in range(10)]
    ev = event("E", SAT)
    prob = problem(west, [ev])
    result = evaluate(prob, Plan(assignments=[assign(prob, ev, west[0])]))
    assert result.summary.fairness_cost == 0.0
    row = unit_row(result, WESTMINSTER, SAT)
    assert (row.on_duty, row.abstracted, row.rest_day_called) == (0, 0, 1)
    assert row.cost == pytest.approx(result.summary.rest_day_cost)


def test_load_counts_rest_day_call_ins_but_fairness_does_not() -> None:
    rostered_off = [officer(f"W{i}") for i in range(2)]  # Saturday is a rest day
    weekend = [officer(f"K{i}", offset=2) for i in range(4)]  # Saturday is a rostered day
    ev = event("E", SAT, demand=(("constable", 2),))
    prob = problem([*rostered_off, *weekend], [ev])
    result = evaluate(
        prob, Plan(assignments=[assign(prob, ev, rostered_off[0]), assign(prob, ev, weekend[0])])
    )
    s = result.summary
    assert s.max_borough_abstraction_share == pytest.approx(1 / 4)  # on-duty officers only
    assert s.max_borough_load_share == pytest.approx(2 / 4)  # plus the rest-day call-in
    # fairness is about core duty; 4 on duty scales the weights to 2 a point together
    assert s.fairness_cost == pytest.approx(100 * 5 * (2 / 55) * 0.25)
    row = unit_row(result, WESTMINSTER, SAT)
    assert (row.on_duty, row.abstracted, row.rest_day_called) == (4, 1, 1)


def test_unit_and_bcu_rows_cover_event_days_only() -> None:
    prob, plan = fairness_scenario()
    result = evaluate(prob, plan)
    units = prob.organisation.unit_codes()
    assert {r.day for r in result.units} == {MON}
    assert len(result.units) == len(units)
    assert len(result.bcus) == len(prob.organisation.bcus)
    bcu_of = prob.organisation.borough_bcu()
    west_bcu = next(r for r in result.bcus if r.bcu == bcu_of[WESTMINSTER])
    members = [r for r in result.units if r.bcu == bcu_of[WESTMINSTER]]
    assert west_bcu.on_duty == sum(r.on_duty for r in members) == 10
    assert west_bcu.abstracted == 2


def test_investigation_kpis_and_floor_counts_agree_with_validator() -> None:
    inv = [officer(f"I{i}", duty_role="investigation") for i in range(10)]  # 9 must stay, 1 may go
    lam = lambeth_response(4)  # 3 must stay, 1 may go
    ev = event("E", MON, demand=(("constable", 4),))
    later = event("F", MON + dt.timedelta(days=1), demand=(("constable", 2),))
    prob = problem([*inv, *lam], [ev, later])
    plan = Plan(
        assignments=[
            assign(prob, ev, inv[0]),
            assign(prob, ev, inv[1]),  # investigation floor breached on Monday
            assign(prob, ev, lam[0]),
            assign(prob, ev, lam[1]),  # response floor breached on Monday
            assign(prob, later, inv[2]),  # within the floor on Tuesday
            assign(prob, later, lam[2]),
        ]
    )
    result = evaluate(prob, plan)
    row = unit_row(result, WESTMINSTER, MON)
    assert (row.investigators_on_duty, row.investigators_abstracted) == (10, 2)
    assert (row.investigators_retained, row.investigation_floor) == (8, 9)
    assert row.floor_violations == 1
    assert unit_row(result, WESTMINSTER, MON + dt.timedelta(days=1)).floor_violations == 0
    floors = [x for x in validate(prob, plan) if x.rule in FLOOR_RULES]
    assert result.summary.floor_violations == len(floors) == 2


def test_summary_table_prints() -> None:
    prob, plan = valid_scenario()
    text = kpi_summary_table(evaluate(prob, plan).summary)
    assert "Plan cost" in text and "Cancelled rest days" in text
    assert "8" in text.splitlines()[5]  # eight rest days cancelled for the serial


def test_fairness_weight_is_the_policys_for_boroughs_of_real_size() -> None:
    west = [officer(f"W{i}") for i in range(200)]
    ev = event("E", MON, demand=(("constable", 20),))
    prob = problem(west, [ev])
    s = evaluate(prob, Plan(assignments=[assign(prob, ev, o) for o in west[:20]])).summary
    assert PER_POINT == 5.0
    assert s.fairness_cost == pytest.approx(PER_POINT * 100 * 0.1)


def test_fairness_costs_more_above_the_threshold() -> None:
    west = [officer(f"W{i}") for i in range(200)]
    ev = event("E", MON, demand=(("constable", 80),))
    prob = problem(west, [ev])
    s = evaluate(prob, Plan(assignments=[assign(prob, ev, o) for o in west[:80]])).summary
    # 40% taken: 5 a point for 40 points, and 50 a point for the 10 points above 30%.
    assert s.fairness_cost == pytest.approx(5 * 40 + 50 * 10)
