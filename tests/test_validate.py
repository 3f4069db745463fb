"""Each hard rule of the validator: a tiny plan that breaks it is flagged with that rule's name."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from planner import validate as v
from planner.domain import DateRange, Floors, Policy, WorkingTime
from planner.plan import Plan, Shortfall
from planner.reference import LAMBETH, WESTMINSTER
from tests.plan_builders import (
    MON,
    SAT,
    SUN,
    THU,
    assign,
    at,
    event,
    lambeth_response,
    officer,
    problem,
    serial,
    serial_officers,
    valid_scenario,
)

replace = msgspec.structs.replace


def rules(violations: list[v.Violation]) -> set[str]:
    return {x.rule for x in violations}


def test_rule_names_are_stable() -> None:
    assert v.RULES[:12] == (
        "Known officer and event",
        "Officer from own unit",
        "Required rank and skill",
        "Leave is untouchable",
        "One tour a day",
        "Rest between tours",
        "Rest-day spacing",
        "Average weekly hours",
        "Rest-day flag",
        "Unit composition",
        "No over-deployment",
        "Shortfall accounting",
    )
    assert v.INVESTIGATION_FLOOR == "Investigation floor"
    assert v.RESPONSE_FLOOR == "Response floor"
    assert {"Neighbourhood floor", "Central floor"} <= set(v.RULES)


def test_valid_plan_has_no_violations() -> None:
    prob, plan = valid_scenario()
    assert v.validate(prob, plan) == []


def test_empty_plan_without_demand_is_valid() -> None:
    prob = problem([officer("A")], [])
    assert v.validate(prob, Plan()) == []


# --------------------------------------------------------------------------- per assignment


def test_unknown_officer() -> None:
    prob, plan = valid_scenario()
    plan.assignments[-1] = replace(plan.assignments[-1], service_number="NOBODY")
    found = v.validate(prob, plan)
    assert rules(found) == {v.KNOWN_OFFICER_AND_EVENT}
    assert found[0].service_number == "NOBODY"


def test_cancelled_event() -> None:
    prob, plan = valid_scenario()
    events = tuple(replace(e, status="cancelled") if e.external_id == "MATCH" else e for e in prob.events)
    prob = replace(prob, events=events)
    plan.shortfalls.clear()
    found = v.validate(prob, plan)
    assert v.KNOWN_OFFICER_AND_EVENT in rules(found)
    assert any("cancelled" in x.message for x in found)


def test_tour_times_must_match() -> None:
    prob, plan = valid_scenario()
    a = plan.assignments[-1]
    plan.assignments[-1] = replace(a, end=a.end + dt.timedelta(hours=2))
    assert rules(v.validate(prob, plan)) == {v.KNOWN_OFFICER_AND_EVENT}


def test_missing_tour_index() -> None:
    prob, plan = valid_scenario()
    plan.assignments[-1] = replace(plan.assignments[-1], tour_index=3)
    assert v.KNOWN_OFFICER_AND_EVENT in rules(v.validate(prob, plan))


def test_officer_from_own_unit() -> None:
    prob, plan = valid_scenario()
    plan.assignments[-1] = replace(plan.assignments[-1], source=WESTMINSTER)
    found = v.validate(prob, plan)
    assert rules(found) == {v.OFFICER_FROM_OWN_UNIT}
    assert found[0].service_number == "LR0"


def test_required_rank_and_skill() -> None:
    members = serial_officers("W", driver=False) + [officer("W-NODRIVER")]  # a PC without DRIVER
    demo = event("DEMO", SAT, demand=(("serial_l2", 1),))
    prob = problem(members, [demo])
    found = v.validate(prob, Plan(assignments=serial(prob, demo, members, "s1")))
    assert rules(found) == {v.REQUIRED_RANK_AND_SKILL}
    assert found[0].service_number == "W-NODRIVER"


def test_rank_must_match_slot() -> None:
    members = serial_officers("W")
    members[0] = officer("W-PC-AS-PS")  # a constable in the sergeant's slot
    demo = event("DEMO", SAT, demand=(("serial_l2", 1),))
    prob = problem(members, [demo])
    found = v.validate(prob, Plan(assignments=serial(prob, demo, members, "s1")))
    assert rules(found) == {v.REQUIRED_RANK_AND_SKILL}


def test_skill_implied_by_level_1_is_accepted() -> None:
    members = serial_officers("W")
    members[3] = officer("W-TSG-TRAINED", skills=("PO_L1",))  # Level 1 implies Level 2
    demo = event("DEMO", SAT, demand=(("serial_l2", 1),))
    prob = problem(members, [demo])
    assert v.validate(prob, Plan(assignments=serial(prob, demo, members, "s1"))) == []


def test_leave_is_untouchable() -> None:
    on_leave = officer("L1", duty_role="neighbourhood", leave=(DateRange(start=MON, end=MON),))
    ev = event("E", MON)
    prob = problem([on_leave], [ev])
    a = replace(assign(prob, ev, on_leave), rest_day_cancelled=False)
    found = v.validate(prob, Plan(assignments=[a]))
    assert rules(found) == {v.LEAVE_IS_UNTOUCHABLE}


def test_rest_day_flag() -> None:
    prob, plan = valid_scenario()
    plan.assignments[0] = replace(plan.assignments[0], rest_day_cancelled=False)  # Saturday: a rest day
    plan.assignments[-1] = replace(plan.assignments[-1], rest_day_cancelled=True)  # Monday: on duty
    found = v.validate(prob, plan)
    assert rules(found) == {v.REST_DAY_FLAG}
    assert len(found) == 2


# --------------------------------------------------------------------------- per officer


def test_one_tour_a_day() -> None:
    who = officer("N1")
    morning, evening = event("AM", MON, start_hour=8, hours=3), event("PM", MON, start_hour=14, hours=3)
    prob = problem([who], [morning, evening])
    found = v.validate(prob, Plan(assignments=[assign(prob, morning, who), assign(prob, evening, who)]))
    assert rules(found) == {v.ONE_TOUR_A_DAY}


def test_rest_between_event_tour_and_next_rostered_tour() -> None:
    who = officer("N1")  # rostered 08:00-16:00 on Friday
    night = event("NIGHT", THU, start_hour=20, hours=6)  # tour 19:00 Thursday - 03:00 Friday
    prob = problem([who], [night])
    found = v.validate(prob, Plan(assignments=[assign(prob, night, who)]))
    assert rules(found) == {v.REST_BETWEEN_TOURS}
    assert found[0].service_number == "N1"


def test_rest_between_rostered_night_and_event_next_morning() -> None:
    nights = officer("R1", duty_role="neighbourhood", pattern="response")
    # find a day the response pattern rosters a night followed by a rostered rest day
    policy = Policy()
    cycle = policy.shift_patterns["response"].cycle
    day = next(
        MON + dt.timedelta(days=k)
        for k in range(21)
        if cycle[((MON - policy.pattern_epoch).days + k) % len(cycle)] == "N"
        and cycle[((MON - policy.pattern_epoch).days + k + 1) % len(cycle)] == "R"
    )
    morning = event("MORNING", day + dt.timedelta(days=1), start_hour=9, hours=4)  # tour 08:00-14:00
    prob = problem([nights], [morning])
    found = v.validate(prob, Plan(assignments=[assign(prob, morning, nights)]))
    assert rules(found) == {v.REST_BETWEEN_TOURS}  # night ends 06:00, event starts 08:00


def test_rest_between_two_event_tours_reported_once() -> None:
    who = officer("N1")
    late = event("LATE", MON, start_hour=14, hours=8)  # tour 13:00-23:00
    early = event("EARLY", MON + dt.timedelta(days=1), start_hour=8, hours=4)  # tour 07:00-13:00
    prob = problem([who], [late, early])
    found = v.validate(prob, Plan(assignments=[assign(prob, late, who), assign(prob, early, who)]))
    assert rules(found) == {v.REST_BETWEEN_TOURS}
    assert len(found) == 1
    assert found[0].day == MON + dt.timedelta(days=1)
    assert "8.0 h rest" in found[0].message


def test_rest_checked_against_day_before_plan_start() -> None:
    who = officer("N1", pattern="response")
    policy = Policy()
    cycle = policy.shift_patterns["response"].cycle
    # choose a plan start the day after a rostered night
    start = next(
        MON + dt.timedelta(days=k)
        for k in range(1, 22)
        if cycle[((MON - policy.pattern_epoch).days + k - 1) % len(cycle)] == "N"
    )
    early = event("EARLY", start, start_hour=8, hours=3)  # tour 07:00-12:00; night ended 06:00
    prob = problem([who], [early], start=start, end=start + dt.timedelta(days=6))
    found = v.validate(prob, Plan(assignments=[assign(prob, early, who)]))
    assert v.REST_BETWEEN_TOURS in rules(found)


def test_rest_day_spacing_flags_run_made_by_cancelled_rest_days() -> None:
    who = officer("N1")
    sat, sun = event("SAT", SAT), event("SUN", SUN)
    prob = problem([who], [sat, sun])
    found = v.validate(prob, Plan(assignments=[assign(prob, sat, who), assign(prob, sun, who)]))
    assert rules(found) == {v.REST_DAY_SPACING}  # Monday to the next Friday: 12 days
    assert len(found) == 1
    assert "12 days" in found[0].message


def test_rest_day_spacing_allows_one_cancelled_rest_day() -> None:
    who = officer("N1")
    sat = event("SAT", SAT)
    prob = problem([who], [sat])
    assert v.validate(prob, Plan(assignments=[assign(prob, sat, who)])) == []


def test_rest_day_spacing_ignores_long_base_roster_runs() -> None:
    policy = Policy(working_time=WorkingTime(max_consecutive_work_days=4))  # 5x2 runs are 5 days
    who = officer("N1")
    ev = event("E", MON)
    prob = problem([who], [ev], policy=policy)
    assert v.validate(prob, Plan(assignments=[assign(prob, ev, who)])) == []


def _week_of_long_tours(policy: Policy, end: dt.date) -> tuple[list[v.Violation], v.Violation | None]:
    who = officer("N1")
    week = event("WEEK", MON, start_hour=10, end=at(MON + dt.timedelta(days=4), 20))  # 5 tours of 12 h
    prob = problem([who], [week], policy=policy, end=end)
    plan = Plan(assignments=[assign(prob, week, who, tour_index=i) for i in range(5)])
    found = v.validate(prob, plan)
    return found, next((x for x in found if x.rule == v.AVERAGE_WEEKLY_HOURS), None)


def test_average_weekly_hours() -> None:
    policy = Policy(working_time=WorkingTime(reference_weeks=1))
    found, hit = _week_of_long_tours(policy, MON + dt.timedelta(days=6))
    assert rules(found) == {v.AVERAGE_WEEKLY_HOURS}  # 60 h in a one-week period, at most 48
    assert hit is not None and "60 h" in hit.message


def test_average_weekly_hours_within_longer_period() -> None:
    policy = Policy(working_time=WorkingTime(reference_weeks=2))  # 60 + 40 = 100 h > 96 h in 2 weeks
    found, hit = _week_of_long_tours(policy, MON + dt.timedelta(days=13))
    assert rules(found) == {v.AVERAGE_WEEKLY_HOURS}
    policy = Policy(working_time=WorkingTime(reference_weeks=2, max_average_weekly_hours=50))
    found, _ = _week_of_long_tours(policy, MON + dt.timedelta(days=13))
    assert found == []


def test_average_weekly_hours_not_flagged_for_unassigned_officers() -> None:
    # every week rosters 40 h, above a 38 h limit; nobody is assigned, so the roster stands
    policy = Policy(working_time=WorkingTime(reference_weeks=1, max_average_weekly_hours=38.0))
    prob = problem([officer("N1")], [], policy=policy)
    assert v.validate(prob, Plan()) == []


def test_average_weekly_hours_judges_only_periods_the_plan_lengthened() -> None:
    # a base roster over the limit (40 h a week against 38 h) is assumed lawful...
    policy = Policy(working_time=WorkingTime(reference_weeks=1, max_average_weekly_hours=38.0))
    who = officer("N1")
    short = event("SHORT", MON, hours=4)  # a 6 h tour on an 8 h rostered day
    prob = problem([who], [short], policy=policy)
    assert v.validate(prob, Plan(assignments=[assign(prob, short, who)])) == []
    # ... but a plan that adds hours to such a period is flagged
    longer = event("LONGER", MON, hours=7)  # a 9 h tour
    prob = problem([who], [longer], policy=policy)
    assert rules(v.validate(prob, Plan(assignments=[assign(prob, longer, who)]))) == {v.AVERAGE_WEEKLY_HOURS}


def test_reference_period_is_anchored_at_the_roster_epoch_and_judged_whole() -> None:
    policy = Policy(working_time=WorkingTime(reference_weeks=1))
    who = officer("N1")
    long_day = event("LONG", MON, start_hour=10, hours=10)  # a 12 h tour on an 8 h rostered day
    # a one-day plan: the week counts 40 + 4 = 44 h, within 48 (not 12 h against 48/7 pro rata)
    prob = problem([who], [long_day], policy=policy, end=MON)
    assert v.validate(prob, Plan(assignments=[assign(prob, long_day, who)])) == []
    # a plan from Thursday: Monday to Wednesday count at their rostered hours, 40 + 12 = 52 h
    sat = event("SAT", SAT, start_hour=10, hours=10)
    prob = problem([who], [sat], policy=policy, start=THU, end=SUN)
    found = v.validate(prob, Plan(assignments=[assign(prob, sat, who)]))
    assert rules(found) == {v.AVERAGE_WEEKLY_HOURS}
    assert found[0].day == MON and "52 h" in found[0].message


def test_average_weekly_hours_counts_leave_as_not_worked() -> None:
    policy = Policy(working_time=WorkingTime(reference_weeks=1))
    sat = event("SAT", SAT, hours=10)  # a 12 h tour on a rest day
    week = MON + dt.timedelta(days=6)
    present = officer("N1")  # 40 + 12 = 52 h
    prob = problem([present], [sat], policy=policy, end=week)
    found = v.validate(prob, Plan(assignments=[assign(prob, sat, present)]))
    assert rules(found) == {v.AVERAGE_WEEKLY_HOURS}
    assert "52 h" in found[0].message
    away = officer("N1", leave=(DateRange(start=MON, end=MON),))  # 32 + 12 = 44 h
    prob = problem([away], [sat], policy=policy, end=week)
    assert v.validate(prob, Plan(assignments=[assign(prob, sat, away)])) == []


# --------------------------------------------------------------------------- units and demand


def test_unit_composition_missing_driver() -> None:
    prob, plan = valid_scenario()
    del plan.assignments[7]  # the serial's driver
    found = v.validate(prob, plan)
    assert rules(found) == {v.UNIT_COMPOSITION}
    assert "driver: 0/1" in found[0].message


def test_unit_composition_mixed_sources() -> None:
    members = serial_officers("W")[:7] + [officer("L-DRV", LAMBETH, skills=("PO_L2", "DRIVER"))]
    demo = event("DEMO", SAT, demand=(("serial_l2", 1),))
    prob = problem(members, [demo])
    found = v.validate(prob, Plan(assignments=serial(prob, demo, members, "s1")))
    assert rules(found) == {v.UNIT_COMPOSITION}
    assert "mixes sources" in found[0].message


def test_no_over_deployment() -> None:
    a, b = officer("N1"), officer("N2")
    ev = event("E", SAT, demand=(("constable", 1),))
    prob = problem([a, b], [ev])
    found = v.validate(prob, Plan(assignments=[assign(prob, ev, a), assign(prob, ev, b)]))
    assert rules(found) == {v.NO_OVER_DEPLOYMENT}


def test_role_not_demanded_is_over_deployment() -> None:
    a = officer("N1", rank="PS")
    ev = event("E", SAT, demand=(("constable", 1),))
    prob = problem([a], [ev])
    plan = Plan(
        assignments=[assign(prob, ev, a, role="sergeant")],
        shortfalls=[
            Shortfall(
                event_id="E", tour_index=0, day=SAT, role="constable", required=1, filled=0, officers_short=1
            )
        ],
    )
    assert rules(v.validate(prob, plan)) == {v.NO_OVER_DEPLOYMENT}


def test_shortfall_accounting_unreported() -> None:
    ev = event("E", SAT, demand=(("serial_l2", 2),))
    prob = problem([], [ev])
    found = v.validate(prob, Plan())
    assert rules(found) == {v.SHORTFALL_ACCOUNTING}
    assert found[0].event_id == "E" and found[0].day == SAT


def test_shortfall_accounting_correct_report() -> None:
    ev = event("E", SAT, demand=(("serial_l2", 2),))
    prob = problem([], [ev])
    short = Shortfall(
        event_id="E", tour_index=0, day=SAT, role="serial_l2", required=2, filled=0, officers_short=16
    )
    assert v.validate(prob, Plan(shortfalls=[short])) == []
    wrong = replace(short, officers_short=8)
    assert rules(v.validate(prob, Plan(shortfalls=[wrong]))) == {v.SHORTFALL_ACCOUNTING}
    assert rules(v.validate(prob, Plan(shortfalls=[short, short]))) == {v.SHORTFALL_ACCOUNTING}


def test_shortfall_accounting_partly_filled() -> None:
    members = serial_officers("W")
    demo = event("DEMO", SAT, demand=(("serial_l2", 2),))
    prob = problem(members, [demo])
    assignments = serial(prob, demo, members, "s1")
    good = Shortfall(
        event_id="DEMO", tour_index=0, day=SAT, role="serial_l2", required=2, filled=1, officers_short=8
    )
    assert v.validate(prob, Plan(assignments=assignments, shortfalls=[good])) == []
    stale = replace(good, filled=0, officers_short=16)
    assert rules(v.validate(prob, Plan(assignments=assignments, shortfalls=[stale]))) == {
        v.SHORTFALL_ACCOUNTING
    }


def test_shortfall_for_covered_or_unknown_demand() -> None:
    prob, plan = valid_scenario()
    plan.shortfalls.append(
        Shortfall(
            event_id="MATCH", tour_index=0, day=MON, role="constable", required=1, filled=0, officers_short=1
        )
    )
    plan.shortfalls.append(
        Shortfall(
            event_id="GHOST", tour_index=0, day=MON, role="constable", required=1, filled=0, officers_short=1
        )
    )
    found = v.validate(prob, plan)
    assert rules(found) == {v.SHORTFALL_ACCOUNTING}
    assert len(found) == 2


def test_demand_outside_horizon_is_not_required() -> None:
    later = event("LATER", MON + dt.timedelta(days=30))
    assert v.validate(problem([], [later]), Plan()) == []


# --------------------------------------------------------------------------- floors


def investigators(n: int, unit: str = WESTMINSTER) -> list:
    return [officer(f"INV{i}", unit, duty_role="investigation", skills=("DETECTIVE",)) for i in range(n)]


def test_investigation_floor() -> None:
    team = investigators(4)  # 85% of 4 rounds up to 4 retained: none may go
    ev = event("E", MON)
    prob = problem(team, [ev])
    found = v.validate(prob, Plan(assignments=[assign(prob, ev, team[0])]))
    assert rules(found) == {v.INVESTIGATION_FLOOR}
    assert (found[0].unit, found[0].day) == (WESTMINSTER, MON)


def test_investigation_floor_allows_the_spare_share() -> None:
    team = investigators(10)  # 8.5 rounds up to 9 retained: one may go
    ev = event("E", MON)
    prob = problem(team, [ev])
    assert v.validate(prob, Plan(assignments=[assign(prob, ev, team[0])])) == []


def test_leave_reduces_on_duty_count_for_floor() -> None:
    team = investigators(10)
    away = DateRange(start=MON, end=MON + dt.timedelta(days=2))
    team[5] = officer("INV5", duty_role="investigation", leave=(away,))  # 9 on duty: 8 retained
    ev = event("E", MON, demand=(("constable", 2),))
    prob = problem(team, [ev])
    plan = Plan(assignments=[assign(prob, ev, team[0]), assign(prob, ev, team[1])])
    assert rules(v.validate(prob, plan)) == {v.INVESTIGATION_FLOOR}  # 2 > 9 - 8


def test_rest_day_call_ins_are_not_abstracted() -> None:
    team = investigators(4)
    ev = event("E", SAT)  # a rest day for the 5x2 pattern
    prob = problem(team, [ev])
    assert v.validate(prob, Plan(assignments=[assign(prob, ev, team[0])])) == []


def test_response_floor() -> None:
    responders = lambeth_response(4)  # 75% of 4 = 3 retained: one may go
    ev = event("E", MON, borough=LAMBETH, demand=(("constable", 2),))
    prob = problem(responders, [ev])
    found = v.validate(
        prob, Plan(assignments=[assign(prob, ev, responders[0]), assign(prob, ev, responders[1])])
    )
    assert rules(found) == {v.RESPONSE_FLOOR}
    assert found[0].unit == LAMBETH


@pytest.mark.parametrize("unit", ["TSG", WESTMINSTER])
def test_central_and_per_unit_floors(unit: str) -> None:
    role = "central" if unit == "TSG" else "neighbourhood"
    policy = Policy(borough_floors={unit: Floors(central=0.5, neighbourhood=0.5)})
    team = [officer(f"C{i}", unit, duty_role=role) for i in range(2)]
    ev = event("E", MON, demand=(("constable", 2),))
    prob = problem(team, [ev], policy=policy)
    found = v.validate(prob, Plan(assignments=[assign(prob, ev, o) for o in team]))
    assert rules(found) == {v.floor_rule(role)}
    assert found[0].unit == unit
