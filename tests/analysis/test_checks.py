"""The benchmark's checks: lawful cover a plan left unused is found, and an independent recount of
suitable and lawful officers per source agrees with the measured explanations."""

from __future__ import annotations

import datetime as dt

import msgspec

from bench.checks import Recount, coverable_short_tours, explanation_differences, explanation_mismatches
from planner.domain import DateRange, Event, Officer, PlanningProblem, Policy, ShiftPattern, WorkingTime
from planner.plan import Assignment, Plan, Shortfall
from planner.rules import event_tours
from planner.validate import validate
from solver import solve
from tests.solver.factory import CAMDEN, DAY, WESTMINSTER, WITHOUT_FAIRNESS, event, officers, problem

PATTERNS = {
    **Policy().shift_patterns,
    "nights": ShiftPattern(cycle="NNNNNRR"),  # 22:00-06:00, Monday to Friday
    "earlies": ShiftPattern(cycle="EEEEERR"),  # 07:00-15:00
    "long_run": ShiftPattern(cycle="DDDDDRDDRR"),  # one rest day between 5 and 2 working days
}


def policy(**working_time: float) -> Policy:
    return Policy(
        weights=WITHOUT_FAIRNESS.weights, shift_patterns=PATTERNS, working_time=WorkingTime(**working_time)
    )


def on_leave(unit: str, count: int, prefix: str) -> list[Officer]:
    return [
        Officer(
            service_number=o.service_number,
            unit=o.unit,
            rank=o.rank,
            duty_role=o.duty_role,
            skills=o.skills,
            shift_pattern=o.shift_pattern,
            leave=(DateRange(start=DAY - dt.timedelta(days=2), end=DAY + dt.timedelta(days=2)),),
        )
        for o in officers(unit, count, prefix=prefix)
    ]


def short(event_id: str, role: str, required: int, filled: int, size: int = 1) -> Shortfall:
    return Shortfall(
        event_id=event_id,
        tour_index=0,
        day=DAY,
        role=role,
        required=required,
        filled=filled,
        officers_short=(required - filled) * size,
    )


def test_a_plan_that_leaves_lawful_cover_unused_is_counted_once() -> None:
    # Three constables on duty could cover E1; nobody holds the sergeant rank E2 asks for.
    p = problem(officers(WESTMINSTER, 3), [event("E1", constable=2), event("E2", sergeant=1, start_hour=18)])
    lazy = Plan(shortfalls=[short("E1", "constable", 2, 0), short("E2", "sergeant", 1, 0)])
    assert coverable_short_tours(p, lazy) == 1
    # the solver's plan takes that cover: only the sergeant is short, and nothing could cover it
    plan = solve(p, workers=1)
    assert validate(p, plan) == []
    assert [(s.event_id, s.role) for s in plan.shortfalls] == [("E2", "sergeant")]
    assert coverable_short_tours(p, plan) == 0


def test_the_recount_applies_each_working_time_rule() -> None:
    # A 12:00-16:00 event is a tour 11:00-17:00 on Wednesday; a second one 18:00-22:00 is 17:00-23:00.
    crew = {
        "on duty": officers(WESTMINSTER, 2, prefix="day"),
        "on leave": on_leave(WESTMINSTER, 2, "leave"),
        "nights": officers(WESTMINSTER, 2, pattern="nights", prefix="night"),  # 06:00 finish: 5 h rest
        "earlies": officers(WESTMINSTER, 2, pattern="earlies", prefix="early"),  # 07:00 start Thursday
        "rest day": officers(WESTMINSTER, 2, offset=3, prefix="rest"),  # Wednesday is a rest day
        "long run": officers(WESTMINSTER, 2, pattern="long_run", offset=8, prefix="run"),
    }
    everyone = [o for group in crew.values() for o in group]
    midday, evening = event("E1", constable=20), event("E2", constable=20, start_hour=18)

    def verdicts(p, ev):  # type: ignore[no-untyped-def]
        recount = Recount(p, Plan())
        [tour] = event_tours(ev, p.policy)
        return {name: [recount.lawful(o, tour) for o in group] for name, group in crew.items()}

    p = problem(everyone, [midday, evening], policy=policy())
    assert policy().shift_patterns["long_run"].cycle[((DAY - p.policy.pattern_epoch).days + 8) % 10] == "R"
    assert verdicts(p, midday) == {
        "on duty": [True, True],
        "on leave": [False, False],
        "nights": [False, False],  # rest before
        "earlies": [True, True],
        "rest day": [True, True],
        "long run": [False, False],  # 5 days, this rest day and 2 more: 8 in a row
    }
    assert verdicts(p, evening)["earlies"] == [False, False]  # 23:00 to 07:00: rest after
    # a one-week reference period at 44 h: a rest day called in adds 6 h to a 40-hour week
    tight = problem(
        everyone, [midday, evening], policy=policy(reference_weeks=1, max_average_weekly_hours=44)
    )
    assert verdicts(tight, midday)["rest day"] == [False, False]
    assert verdicts(tight, midday)["on duty"] == [True, True]  # 6 h in place of a rostered 8 h


def two_days() -> tuple[dict[str, list[Officer]], list[Event]]:
    """Westminster officers of every kind, Camden's Level 2 constables and a TSG section; an evening
    event on Tuesday (a tour 19:00-01:00), a midday and an evening one on Wednesday."""
    crew = {
        "day": officers(WESTMINSTER, 6, prefix="day"),
        "leave": on_leave(WESTMINSTER, 2, "leave"),
        "nights": officers(WESTMINSTER, 3, pattern="nights", prefix="night"),
        "earlies": officers(WESTMINSTER, 3, pattern="earlies", prefix="early"),
        "rest": officers(WESTMINSTER, 3, offset=3, prefix="rest"),
        "run": officers(WESTMINSTER, 2, pattern="long_run", offset=8, prefix="run"),
        "camden": officers(CAMDEN, 4, skills=["PO_L2"], prefix="cam"),
        "tsg": officers("TSG", 6, skills=["PO_L1"], role="central", prefix="tsg")
        + officers("TSG", 1, rank="PS", skills=["PO_L1"], role="central", prefix="tsgps"),
    }
    events = [
        event("E0", day=DAY - dt.timedelta(days=1), start_hour=20, constable=4),
        event("E1", constable=30, serial_l2=1),
        event("E2", start_hour=18, constable=20),
    ]
    return crew, events


def two_day_problem(crew: dict[str, list[Officer]], events: list[Event]) -> PlanningProblem:
    everyone = [o for group in crew.values() for o in group]
    # a one-week reference period at 45 h: a rest day called in (40 h + 6 h) is over it
    tight = policy(reference_weeks=1, max_average_weekly_hours=45)
    return problem(everyone, events, policy=tight, start=DAY - dt.timedelta(days=1), end=DAY)


def sent(officer: Officer, ev: Event, p: PlanningProblem, unit_id: str) -> Assignment:
    [tour] = event_tours(ev, p.policy)
    return Assignment(
        service_number=officer.service_number,
        event_id=ev.external_id,
        tour_index=0,
        day=tour.day,
        role="constable",
        slot=0,
        unit_id=unit_id,
        source=officer.unit,
        start=tour.start,
        end=tour.end,
    )


def test_the_recount_agrees_with_explanations_where_every_rule_binds() -> None:
    # By hand: two day officers sent to Tuesday's late event (back at 01:00) and two to the midday
    # event; everything else is short.
    crew, events = two_days()
    p = two_day_problem(crew, events)
    e0, e1, e2 = events
    day = crew["day"]
    assignments = [sent(o, e0, p, f"u0-{i}") for i, o in enumerate(day[:2])]
    assignments += [sent(o, e1, p, f"u1-{i}") for i, o in enumerate(day[2:4])]
    plan = Plan(
        assignments=assignments,
        shortfalls=[
            short("E0", "constable", 4, 2),
            short("E1", "constable", 30, 2),
            short("E1", "serial_l2", 1, 0, size=8),
            short("E2", "constable", 20, 0),
        ],
    )
    recount = Recount(p, plan)
    [t1], [t2] = event_tours(e1, p.policy), event_tours(e2, p.policy)
    # midday (11:00-17:00): the two free day officers and the earlies; not those back at 01:00 (rest
    # before), the two already there, leave, nights (06:00 finish), rest days (hours), the long run
    assert recount.tour(e1, t1, "constable")[WESTMINSTER] == (19, 5)
    # evening (17:00-23:00): only the nights; day officers start at 08:00 and earlies at 07:00
    assert recount.tour(e2, t2, "constable")[WESTMINSTER] == (19, 3)
    assert recount.tour(e1, t1, "serial_l2") == {CAMDEN: (4, 4), "TSG": (7, 7)}
    assert explanation_differences(p, plan) == []
    assert explanation_mismatches(p, plan) == 0


def test_the_recount_agrees_with_the_explanations_of_a_solved_plan() -> None:
    p = two_day_problem(*two_days())
    plan = solve(p, workers=1)
    assert validate(p, plan) == []
    assert len(plan.shortfalls) >= 3 and plan.assignments
    assert explanation_differences(p, plan) == []
    assert explanation_mismatches(p, plan) == 0
    assert coverable_short_tours(p, plan) == 0


def test_a_short_tour_without_an_explanation_is_a_mismatch() -> None:
    # The plan does not report its shortfall, so nothing explains it: the recount still sees it.
    p = problem(officers(WESTMINSTER, 1), [event("E1", constable=2)])
    plan = solve(p, workers=1)
    silent = Plan(assignments=plan.assignments, shortfalls=[])
    [mismatch] = explanation_differences(p, silent)
    assert mismatch.explained is None and mismatch.recounted == {WESTMINSTER: (1, 0)}
    assert explanation_mismatches(p, silent) == 1


def test_leave_outside_the_horizon_lowers_the_weekly_hours_in_both_counts() -> None:
    # One-week reference periods at 45 h: a rest-day officer with a 40-hour week cannot be called
    # in for 6 h, one with Monday's 8 h on leave can (32 + 6). Monday is outside the one-day horizon.
    resting = officers(WESTMINSTER, 2, offset=3, prefix="rest")
    monday = DateRange(start=DAY - dt.timedelta(days=2), end=DAY - dt.timedelta(days=2))
    with_leave = [
        msgspec.structs.replace(o, service_number=f"{o.service_number}L", leave=(monday,)) for o in resting
    ]
    p = problem(
        resting + with_leave,
        [event("E1", constable=5)],
        policy=policy(reference_weeks=1, max_average_weekly_hours=45),
    )
    plan = Plan(shortfalls=[short("E1", "constable", 5, 0)])
    [tour] = event_tours(p.events[0], p.policy)
    assert Recount(p, plan).tour(p.events[0], tour, "constable") == {WESTMINSTER: (4, 2)}
    assert explanation_differences(p, plan) == []
