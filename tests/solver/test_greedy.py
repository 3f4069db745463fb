"""The greedy hand-planner baseline: own borough first, then the nearest, never below a duty floor,
rest days only once on-duty officers are used up everywhere, serials whole from one source. Every
plan is re-checked by the independent validator."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import msgspec
import pytest

from planner.domain import DateRange, Floors, PlanningProblem, Policy, WorkingTime
from planner.plan import Plan
from planner.reference import london
from planner.roster import RESTING, Roster
from planner.rules import roster_code
from planner.validate import validate
from solver.greedy import greedy_plan
from tests.solver.factory import BROMLEY, CAMDEN, DAY, KENSINGTON, WESTMINSTER, event, officers, problem

REST_OFFSET = 3  # 5x2 ("DDDDDRR") at offset 3 puts Wednesday DAY on a rest day
SATURDAY = dt.date(2027, 3, 6)
SUNDAY = SATURDAY + dt.timedelta(days=1)


def planned(p: PlanningProblem) -> Plan:
    plan = greedy_plan(p)
    assert validate(p, plan) == []
    assert plan.method == "greedy"
    assert [s.name for s in plan.stages] == ["greedy"] and plan.stages[0].status == "DONE"
    # Allocations agree with the named officers behind them.
    units: dict[tuple[str, int, str, str], set[str]] = defaultdict(set)
    rest: Counter[tuple[str, int, str, str]] = Counter()
    for a in plan.assignments:
        key = (a.event_id, a.tour_index, a.role, a.source)
        units[key].add(a.unit_id)
        rest[key] += a.rest_day_cancelled
    assert {
        (x.event_id, x.tour_index, x.role, x.source): (x.count, x.rest_day_officers) for x in plan.allocations
    } == {k: (len(v), rest[k]) for k, v in units.items()}
    return plan


def sent(plan: Plan) -> dict[str, int]:
    return dict(Counter(a.source for a in plan.assignments))


def serial_crew(
    unit: str, tag: str, *, sergeants: int = 1, constables: int = 6, drivers: int = 1, offset: int = 0
) -> list:  # type: ignore[type-arg]
    return (
        officers(unit, sergeants, rank="PS", skills=("PO_L2",), offset=offset, prefix=f"{tag}-ps")
        + officers(unit, constables, skills=("PO_L2",), offset=offset, prefix=f"{tag}-pc")
        + officers(unit, drivers, skills=("PO_L2", "DRIVER"), offset=offset, prefix=f"{tag}-dr")
    )


# --------------------------------------------------------------------------- where officers come from


def test_own_borough_first() -> None:
    crew = officers(WESTMINSTER, 10) + officers(KENSINGTON, 10) + officers(CAMDEN, 10)
    plan = planned(problem(crew, [event("E1", constable=6)]))
    assert sent(plan) == {WESTMINSTER: 6}
    assert plan.shortfalls == []
    [alloc] = plan.allocations
    assert (alloc.source, alloc.count, alloc.rest_day_officers) == (WESTMINSTER, 6, 0)


def test_then_the_nearest_boroughs_in_drive_time_order() -> None:
    travel = london().travel_minutes
    assert travel[KENSINGTON][WESTMINSTER] < travel[CAMDEN][WESTMINSTER] < travel[BROMLEY][WESTMINSTER]
    # Officers listed far-to-near, so problem order cannot explain the result.
    crew = officers(BROMLEY, 10) + officers(CAMDEN, 10) + officers(KENSINGTON, 10) + officers(WESTMINSTER, 2)
    plan = planned(problem(crew, [event("E1", constable=8)]))
    assert sent(plan) == {WESTMINSTER: 2, KENSINGTON: 6}
    plan = planned(problem(crew, [event("E1", constable=25)]))
    assert sent(plan) == {WESTMINSTER: 2, KENSINGTON: 10, CAMDEN: 10, BROMLEY: 3}


def test_central_units_only_after_every_borough() -> None:
    # TSG (based in Lambeth, 38 min away) is nearer than Bromley (95 min), but is asked last.
    crew = officers("TSG", 10, role="central") + officers(BROMLEY, 4) + officers(WESTMINSTER, 2)
    plan = planned(problem(crew, [event("E1", constable=9)]))
    assert sent(plan) == {WESTMINSTER: 2, BROMLEY: 4, "TSG": 3}


# --------------------------------------------------------------------------- floors


def test_never_below_the_investigation_floor() -> None:
    # 20 investigators on duty, floor 85%: 17 must stay, so only 3 may go. Taking 5 would cover the
    # event; greedy leaves a shortfall instead.
    crew = officers(WESTMINSTER, 20, role="investigation")
    plan = planned(problem(crew, [event("E1", constable=5)]))
    assert len(plan.assignments) == 3
    [short] = plan.shortfalls
    assert (short.required, short.filled, short.officers_short) == (5, 3, 2)
    assert short.reasons and short.reasons[0].startswith("Greedy")


def test_floors_are_policy_and_per_unit() -> None:
    crew = officers(WESTMINSTER, 20, role="investigation") + officers(CAMDEN, 20, role="investigation")
    looser = Policy(floors=Floors(investigation=0.5), borough_floors={CAMDEN: Floors(investigation=0.9)})
    plan = planned(problem(crew, [event("E1", constable=14)], policy=looser))
    # Westminster may give 10 of 20; Camden 2 of 20 (ceil(18) stay); Kensington next but empty.
    assert sent(plan) == {WESTMINSTER: 10, CAMDEN: 2}
    assert plan.shortfalls[0].officers_short == 2


def test_floors_hold_across_events_on_the_same_day() -> None:
    crew = officers(WESTMINSTER, 20, role="response")  # 75% floor: 5 of 20 may go
    events = [
        event("AM", start_hour=8, hours=3, constable=3),
        event("PM", start_hour=14, hours=3, constable=3),
    ]
    plan = planned(problem(crew, events))
    assert len(plan.assignments) == 5
    assert sum(s.officers_short for s in plan.shortfalls) == 1


def test_rest_day_call_ins_do_not_count_against_the_floor() -> None:
    crew = officers(WESTMINSTER, 20, role="investigation") + officers(
        WESTMINSTER, 10, role="investigation", offset=REST_OFFSET
    )
    plan = planned(problem(crew, [event("E1", constable=8)]))
    assert Counter(a.rest_day_cancelled for a in plan.assignments) == {False: 3, True: 5}
    assert plan.shortfalls == []


# --------------------------------------------------------------------------- rest days


def test_rest_days_cancelled_only_after_on_duty_officers_everywhere() -> None:
    # Westminster's own officers are all on a rest day; far-away Bromley's are on duty. Bromley's go
    # first; only then are Westminster rest days cancelled, nearest first.
    crew = (
        officers(WESTMINSTER, 6, offset=REST_OFFSET)
        + officers(CAMDEN, 6, offset=REST_OFFSET)
        + officers(BROMLEY, 4)
    )
    p = problem(crew, [event("E1", constable=6)])
    roster = Roster(p)
    assert all(roster.status[i, roster.day_index(DAY)] == RESTING for i in range(12))
    plan = planned(p)
    assert sent(plan) == {BROMLEY: 4, WESTMINSTER: 2}
    by_officer = {o.service_number: o for o in crew}
    for a in plan.assignments:
        assert a.rest_day_cancelled == (roster_code(by_officer[a.service_number], DAY, p.policy) == "R")
        assert a.rest_day_cancelled == (a.source == WESTMINSTER)
    assert {x.source: x.rest_day_officers for x in plan.allocations} == {BROMLEY: 0, WESTMINSTER: 2}


def test_no_rest_days_cancelled_while_on_duty_officers_remain() -> None:
    crew = officers(WESTMINSTER, 6, offset=REST_OFFSET) + officers(BROMLEY, 10)
    plan = planned(problem(crew, [event("E1", constable=10)]))
    assert sent(plan) == {BROMLEY: 10}
    assert not any(a.rest_day_cancelled for a in plan.assignments)


def test_rest_day_spacing_limits_working_both_weekend_days() -> None:
    crew = officers(WESTMINSTER, 12)
    events = [event("SAT", day=SATURDAY, constable=12), event("SUN", day=SUNDAY, constable=12)]
    plan = planned(problem(crew, events, start=SATURDAY, end=SUNDAY))
    assert all(a.rest_day_cancelled for a in plan.assignments)
    assert max(Counter(a.service_number for a in plan.assignments).values()) == 1
    assert len(plan.assignments) == 12
    assert sum(s.officers_short for s in plan.shortfalls) == 12


def test_weekly_hours_cap_binds_for_greedy_too() -> None:
    # With a 40 h + 2/17 h average over the 17-week period, officers on 5x2 (40 h a week) have
    # 2 h to spare: not enough for a 12-hour Saturday call-in. The default 48 h leaves room.
    crew = officers(WESTMINSTER, 6)
    saturday_event = [event("SAT", day=SATURDAY, start_hour=9, hours=10, constable=4)]
    tight = Policy(working_time=WorkingTime(max_average_weekly_hours=40.0 + 2.0 / 17.0))
    plan = planned(problem(crew, saturday_event, start=SATURDAY, end=SATURDAY, policy=tight))
    assert plan.assignments == [] and plan.shortfalls[0].officers_short == 4
    plan = planned(problem(crew, saturday_event, start=SATURDAY, end=SATURDAY))
    assert len(plan.assignments) == 4 and all(a.rest_day_cancelled for a in plan.assignments)


# --------------------------------------------------------------------------- serials and PSUs


def unit_members(plan: Plan) -> dict[str, list]:  # type: ignore[type-arg]
    out: dict[str, list] = defaultdict(list)  # type: ignore[type-arg]
    for a in plan.assignments:
        out[a.unit_id].append(a)
    return out


def test_serials_whole_from_one_source() -> None:
    # Westminster can form one serial (a second lacks a sergeant and a driver); Camden one more.
    crew = serial_crew(WESTMINSTER, "w", constables=9) + serial_crew(CAMDEN, "c") + serial_crew(BROMLEY, "b")
    plan = planned(problem(crew, [event("E1", serial_l2=2)]))
    units = unit_members(plan)
    assert len(units) == 2
    for members in units.values():
        assert len({m.source for m in members}) == 1
        assert Counter(m.slot for m in members) == {0: 1, 1: 6, 2: 1}
        assert len({m.service_number for m in members}) == 8
    assert sorted(m[0].source for m in units.values()) == sorted([WESTMINSTER, CAMDEN])


def test_no_serial_from_pieces_of_two_sources() -> None:
    # Together Westminster (no driver) and Camden (no sergeant) hold a serial; neither alone does.
    crew = serial_crew(WESTMINSTER, "w", constables=7, drivers=0) + serial_crew(CAMDEN, "c", sergeants=0)
    plan = planned(problem(crew, [event("E1", serial_l2=1)]))
    assert plan.assignments == [] and plan.allocations == []
    [short] = plan.shortfalls
    assert (short.required, short.filled, short.officers_short) == (1, 0, 8)


def test_specialist_posts_filled_first() -> None:
    # The only driver is listed first: filling the six constable posts first would take him.
    crew = (
        officers(WESTMINSTER, 1, skills=("PO_L2", "DRIVER"), prefix="driver")
        + officers(WESTMINSTER, 1, rank="PS", skills=("PO_L2",), prefix="sgt")
        + officers(WESTMINSTER, 6, skills=("PO_L2",), prefix="pc")
    )
    plan = planned(problem(crew, [event("E1", serial_l2=1)]))
    assert plan.shortfalls == []
    [driver] = [a for a in plan.assignments if a.slot == 2]
    assert driver.service_number == "driver-0"


def test_rest_day_round_tops_up_a_serial_from_the_same_source() -> None:
    # On duty Westminster holds a sergeant and 3 constables: no serial. On the rest-day round it makes
    # one up with 4 called-in officers, keeping its on-duty officers in the unit.
    crew = (
        officers(WESTMINSTER, 1, rank="PS", skills=("PO_L2",), prefix="sgt")
        + officers(WESTMINSTER, 3, skills=("PO_L2",), prefix="on")
        + officers(WESTMINSTER, 5, skills=("PO_L2",), offset=REST_OFFSET, prefix="off")
        + officers(WESTMINSTER, 1, skills=("PO_L2", "DRIVER"), offset=REST_OFFSET, prefix="drv")
    )
    plan = planned(problem(crew, [event("E1", serial_l2=1)]))
    assert len(plan.assignments) == 8
    assert sum(a.rest_day_cancelled for a in plan.assignments) == 4
    assert [x.rest_day_officers for x in plan.allocations] == [4]


def test_tsg_serials_before_roles_other_sources_could_also_staff() -> None:
    # TSG's Level 1 officers could staff the Level 2 serial too; Westminster, the only other source
    # of Level 2 serials, is on leave that day. A planner fills the TSG-only role first.
    tsg = [
        msgspec.structs.replace(
            o, unit="TSG", duty_role="central", skills=tuple(sorted({*o.skills, "PO_L1"} - {"PO_L2"}))
        )
        for o in serial_crew("TSG", "t")
    ]
    away = (DateRange(start=DAY, end=DAY),)
    on_leave = [msgspec.structs.replace(o, leave=away) for o in serial_crew(WESTMINSTER, "w")]
    plan = planned(problem(tsg + on_leave, [event("E1", serial_l2=1, serial_l1=1)]))
    assert [(a.role, a.source) for a in plan.allocations] == [("serial_l1", "TSG")]
    [short] = plan.shortfalls
    assert (short.role, short.officers_short) == ("serial_l2", 8)


# --------------------------------------------------------------------------- order and determinism


def test_biggest_event_of_the_day_first() -> None:
    crew = officers(WESTMINSTER, 10)
    events = [event("SMALL", start_hour=9, hours=3, constable=3), event("BIG", start_hour=14, constable=8)]
    plan = planned(problem(crew, events))
    assert Counter(a.event_id for a in plan.assignments) == {"BIG": 8, "SMALL": 2}


def week_problem() -> PlanningProblem:
    start = dt.date(2027, 3, 1)
    crew: list = []  # type: ignore[type-arg]
    for unit in (WESTMINSTER, CAMDEN, KENSINGTON, BROMLEY):
        for offset in range(0, 21, 4):
            crew += officers(unit, 5, role="response", pattern="response", offset=offset)
        crew += officers(unit, 12, role="investigation", skills=("DETECTIVE",))
        crew += serial_crew(unit, f"{unit}-a", constables=8) + serial_crew(unit, f"{unit}-b", offset=2)
        crew += officers(unit, 2, rank="INSP", skills=("BRONZE",), prefix=f"{unit}-insp")
    events = []
    for k in range(7):
        day = start + dt.timedelta(days=k)
        events.append(
            event(
                f"D{k}",
                WESTMINSTER,
                day=day,
                start_hour=10 + k % 3,
                hours=6,
                serial_l2=2 + k % 2,
                bronze=1,
                constable=6,
            )
        )
        events.append(event(f"F{k}", CAMDEN, day=day, start_hour=15, hours=4, constable=20 + 8 * k))
    events.append(
        event(
            "LONG",
            KENSINGTON,
            day=start + dt.timedelta(days=2),
            start_hour=9,
            hours=40,
            serial_l2=1,
            constable=4,
        )
    )
    return problem(crew, events, start=start, end=start + dt.timedelta(days=6))


def test_week_plan_is_lawful_and_deterministic() -> None:
    p = week_problem()
    first, second = planned(p), planned(p)
    assert first.assignments and first.shortfalls  # the instance is tight enough to be interesting
    for plan in (first, second):
        plan.stages = []
    assert msgspec.json.encode(first) == msgspec.json.encode(second)
    copy = msgspec.msgpack.decode(msgspec.msgpack.encode(p), type=PlanningProblem)
    assert msgspec.json.encode(greedy_plan(copy).assignments) == msgspec.json.encode(first.assignments)
    # The 40-hour event is one tour a day, each one planned: covered or reported short.
    long_tours = {(x.tour_index, x.role) for x in first.allocations if x.event_id == "LONG"}
    long_tours |= {(s.tour_index, s.role) for s in first.shortfalls if s.event_id == "LONG"}
    assert long_tours == {(i, r) for i in range(3) for r in ("serial_l2", "constable")}


@pytest.mark.slow
def test_full_demo_year_is_lawful() -> None:
    # Its speed is a benchmark figure (planner bench: greedy_seconds), not a unit test's.
    from planner.demo import demo_problem

    p = demo_problem()
    plan = greedy_plan(p)
    assert validate(p, plan) == []
    covered = sum(len(a) for a in unit_members(plan).values())
    assert covered == len(plan.assignments) > 200_000
