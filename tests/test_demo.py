"""The seeded demo year: deterministic, valid, and shaped like the Met's real year."""

from __future__ import annotations

import collections
import datetime as dt
import re
import time

import msgspec
import pytest

from planner.demo import demo_problem, easter_sunday, england_bank_holidays, officer_demand
from planner.domain import EVENT_KINDS, PRIORITIES, SKILLS, Event, PlanningProblem, Policy
from planner.reference import CENTRAL_UNITS, borough_officer_estimates, london
from planner.rules import LEAVE, REST, event_tours, roster_code

YEAR = 2027


@pytest.fixture(scope="module")
def problem() -> PlanningProblem:
    return demo_problem(YEAR, seed=7)


def officers_needed(event: Event, policy: Policy) -> int:
    """Computed here from the role specs, independently of planner.demo.officer_demand."""
    total = 0
    for d in event.demand:
        total += sum(slot.count for slot in policy.roles[d.role].slots) * d.count
    return total


# --------------------------------------------------------------------------- determinism and speed


def test_same_seed_same_bytes_and_other_seed_differs(problem: PlanningProblem) -> None:
    first = msgspec.json.encode(problem)
    assert msgspec.json.encode(demo_problem(YEAR, seed=7)) == first
    other = demo_problem(YEAR, seed=8)
    assert msgspec.json.encode(other) != first
    assert [e.name for e in other.events] != [e.name for e in problem.events]


def test_generation_is_fast() -> None:
    started = time.perf_counter()
    demo_problem(YEAR, seed=11)
    assert time.perf_counter() - started < 5.0


def test_problem_covers_the_calendar_year(problem: PlanningProblem) -> None:
    assert problem.start == dt.date(YEAR, 1, 1)
    assert problem.end == dt.date(YEAR, 12, 31)
    assert problem.organisation == london()
    assert all(problem.start <= e.start.date() <= problem.end for e in problem.events)


# --------------------------------------------------------------------------- calendar and policy


def test_easter() -> None:
    known = {2008: (3, 23), 2019: (4, 21), 2024: (3, 31), 2025: (4, 20), 2027: (3, 28), 2038: (4, 25)}
    for year, (month, day) in known.items():
        assert easter_sunday(year) == dt.date(year, month, day)


def test_bank_holidays_2027_with_christmas_substitutes() -> None:
    assert england_bank_holidays(2027) == (
        dt.date(2027, 1, 1),
        dt.date(2027, 3, 26),  # Good Friday
        dt.date(2027, 3, 29),  # Easter Monday
        dt.date(2027, 5, 3),
        dt.date(2027, 5, 31),
        dt.date(2027, 8, 30),
        dt.date(2027, 12, 27),  # Christmas Day falls on a Saturday
        dt.date(2027, 12, 28),  # Boxing Day on a Sunday
    )


def test_bank_holidays_other_substitute_cases() -> None:
    # 2026: Boxing Day on a Saturday; 2028: New Year's Day on a Saturday; 2022: Christmas on a Sunday.
    h2026 = england_bank_holidays(2026)
    assert (h2026[0], h2026[1], h2026[-2], h2026[-1]) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 4, 3),
        dt.date(2026, 12, 25),
        dt.date(2026, 12, 28),
    )
    assert england_bank_holidays(2028)[0] == dt.date(2028, 1, 3)
    assert england_bank_holidays(2022)[-2:] == (dt.date(2022, 12, 26), dt.date(2022, 12, 27))


def test_policy(problem: PlanningProblem) -> None:
    policy = problem.policy
    assert policy.roster_published == dt.date(YEAR - 1, 12, 1)
    assert set(england_bank_holidays(YEAR)) <= set(policy.public_holidays)
    assert dt.date(YEAR + 1, 1, 3) in policy.public_holidays  # New Year's Eve spill into 2028
    assert policy.floors == Policy().floors
    assert policy.roles == Policy().roles


# --------------------------------------------------------------------------- officers


def test_officer_numbers_and_units(problem: PlanningProblem) -> None:
    officers = problem.officers
    assert 30_000 <= len(officers) <= 34_000
    by_unit = collections.Counter(o.unit for o in officers)
    assert set(by_unit) == {b.code for b in london().boroughs} | {u.code for u in CENTRAL_UNITS}
    assert by_unit["TSG"] == 800
    assert by_unit["MOUNTED"] == 135
    assert 200 <= by_unit["DOGS"] <= 300
    assert 2_000 <= by_unit["RTPC"] <= 2_400
    for code, (n, _) in borough_officer_estimates().items():
        assert by_unit[code] == n
    detectives = sum("DETECTIVE" in o.skills for o in officers)
    assert 0.19 <= detectives / len(officers) <= 0.26  # published share about 22%


def test_service_numbers_unique_and_well_formed(problem: PlanningProblem) -> None:
    numbers = [o.service_number for o in problem.officers]
    assert len(set(numbers)) == len(numbers)
    assert all(re.fullmatch(r"MP\d{6}", n) for n in numbers)


def test_every_borough_keeps_its_investigators(problem: PlanningProblem) -> None:
    estimates = borough_officer_estimates()
    investigators = collections.Counter(
        o.unit for o in problem.officers if o.duty_role == "investigation" and "DETECTIVE" in o.skills
    )
    for borough in london().boroughs:
        assert investigators[borough.code] == estimates[borough.code][1]


def test_borough_ranks_and_commanders(problem: PlanningProblem) -> None:
    for borough in london().boroughs:
        ranks = collections.Counter(o.rank for o in problem.officers if o.unit == borough.code)
        assert ranks["CI"] + ranks["SUPT"] >= 2
        n = sum(ranks.values())
        assert 0.72 <= ranks["PC"] / n <= 0.86
    skills = collections.Counter(s for o in problem.officers for s in o.skills)
    assert 5 <= skills["GOLD"] <= 40
    assert all(o.rank == "SUPT" for o in problem.officers if "GOLD" in o.skills)
    assert all(o.rank in ("PC", "PS") for o in problem.officers if "PLO" in o.skills)
    assert all("PO_L1" in o.skills for o in problem.officers if o.unit == "TSG")
    assert all("MOUNTED" in o.skills for o in problem.officers if o.unit == "MOUNTED")
    l2 = [
        o
        for o in problem.officers
        if o.unit.startswith("E09") and o.duty_role != "investigation" and o.rank == "PC"
    ]
    assert 0.25 <= sum("PO_L2" in o.skills for o in l2) / len(l2) <= 0.35


def test_officer_records_are_valid(problem: PlanningProblem) -> None:
    policy = problem.policy
    for o in problem.officers:
        assert list(o.skills) == sorted(set(o.skills))
        assert set(o.skills) <= set(SKILLS)
        cycle = policy.shift_patterns[o.shift_pattern].cycle
        assert 0 <= o.pattern_offset < len(cycle)
        assert o.name
        for a, b in zip(o.leave, o.leave[1:], strict=False):
            assert a.end < b.start
        assert all(problem.start <= r.start <= r.end <= problem.end for r in o.leave)
        days = sum((r.end - r.start).days + 1 for r in o.leave)
        assert 2 <= len(o.leave) <= 3 and 20 <= days <= 32


def test_rosters_put_similar_numbers_on_duty_every_day(problem: PlanningProblem) -> None:
    """Pattern offsets are spread: ignoring leave, each borough's response team has about the same
    number on duty on every day of a three-week cycle."""
    policy = problem.policy
    westminster = [o for o in problem.officers if o.unit == "E09000033" and o.shift_pattern == "response"]
    bare = [msgspec.structs.replace(o, leave=()) for o in westminster]
    start = dt.date(YEAR, 3, 1)
    on_duty = [
        sum(roster_code(o, start + dt.timedelta(days=i), policy) != REST for o in bare) for i in range(21)
    ]
    assert max(on_duty) - min(on_duty) <= 0.05 * max(on_duty)
    # Leave peaks in school holidays, but never takes a fifth of the response officers off London's
    # rosters (nor a quarter of Westminster's).
    response = [o for o in problem.officers if o.unit.startswith("E09") and o.shift_pattern == "response"]
    for i in range(0, 365, 3):
        day = problem.start + dt.timedelta(days=i)
        assert sum(roster_code(o, day, policy) == LEAVE for o in response) <= 0.2 * len(response)
        assert sum(roster_code(o, day, policy) == LEAVE for o in westminster) <= 0.25 * len(westminster)


# --------------------------------------------------------------------------- events


def test_events_are_valid(problem: PlanningProblem) -> None:
    codes = {b.code for b in problem.organisation.boroughs}
    roles = problem.policy.roles
    ids = [e.external_id for e in problem.events]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(rf"DEMO-{YEAR}-\d{{5}}", i) for i in ids)
    for e in problem.events:
        assert e.start < e.end, e.name
        assert e.borough in codes
        assert e.kind in EVENT_KINDS and e.priority in PRIORITIES
        assert e.notified is not None and e.notified <= e.start.date()
        assert all(d.role in roles and d.count > 0 for d in e.demand), e.name
        assert len({d.role for d in e.demand}) == len(e.demand)
        assert e.demand or e.grade == "police-free", e.name
        assert officer_demand(e, problem.policy) == officers_needed(e, problem.policy)
        for tour in event_tours(e, problem.policy):
            assert tour.hours <= problem.policy.working_time.max_tour_hours


def test_event_volume_and_mix(problem: PlanningProblem) -> None:
    events = problem.events
    assert len(events) >= 4_000
    kinds = collections.Counter(e.kind for e in events)
    protests = kinds["demonstration"] + kinds["march"]
    assert 3_000 <= protests <= 3_600
    westminster = sum(e.borough == "E09000033" for e in events if e.kind in ("demonstration", "march"))
    assert 0.40 <= westminster / protests <= 0.50
    sizes = sorted(officer_demand(e, problem.policy) for e in events if e.kind in ("demonstration", "march"))
    assert 10 <= sizes[len(sizes) // 2] <= 60
    assert sum(10 <= n <= 200 for n in sizes) / len(sizes) >= 0.7
    assert kinds["football"] >= 250


def test_protest_notice(problem: PlanningProblem) -> None:
    published = problem.policy.roster_published
    assert published is not None
    marches = [e for e in problem.events if e.kind == "march"]
    assert marches
    assert all(e.notified is not None and (e.start.date() - e.notified).days >= 7 for e in marches)
    static = [e for e in problem.events if e.kind == "demonstration"]
    short = [e for e in static if e.notified is not None and (e.start.date() - e.notified).days <= 5]
    assert 0.3 <= len(short) / len(static) <= 0.5
    assert all(e.notified is not None and e.notified > published for e in short)
    big_short = [e for e in short if officer_demand(e, problem.policy) >= 500]
    assert len(big_short) >= 8


def test_carnival_is_two_tours_of_about_seven_thousand(problem: PlanningProblem) -> None:
    (carnival,) = [e for e in problem.events if e.name == "Notting Hill Carnival"]
    assert carnival.borough == "E09000020" and carnival.priority == "critical"
    tours = event_tours(carnival, problem.policy)
    assert [t.day for t in tours] == [dt.date(YEAR, 8, 29), dt.date(YEAR, 8, 30)]  # Sun, bank holiday Mon
    per_tour = officers_needed(carnival, problem.policy)
    assert 6_500 <= per_tour <= 7_500
    published = problem.policy.roster_published
    assert carnival.notified is not None and published is not None and carnival.notified < published


def test_major_events(problem: PlanningProblem) -> None:
    def find(prefix: str) -> list[Event]:
        return [e for e in problem.events if e.name.startswith(prefix)]

    (nye,) = find("New Year's Eve")
    assert nye.start == dt.datetime(YEAR, 12, 31, 18) and len(event_tours(nye, problem.policy)) == 1
    assert 2_500 <= officer_demand(nye, problem.policy) <= 3_500
    (trooping,) = find("Trooping the Colour")
    assert trooping.start.weekday() == 5 and trooping.start.month == 6
    assert officer_demand(trooping, problem.policy) >= 1_500
    marathon = find("London Marathon")
    assert sum(officer_demand(e, problem.policy) for e in marathon) >= 1_500
    assert len({e.start.date() for e in marathon}) == 1 and marathon[0].start.weekday() == 6
    assert len(find("The Championships, Wimbledon")) == 14
    concerts = [
        e
        for e in problem.events
        if e.kind == "concert" and e.borough in ("E09000005", "E09000014", "E09000011")
    ]
    assert 30 <= len(concerts) <= 60


def test_football_season_shape(problem: PlanningProblem) -> None:
    matches = [e for e in problem.events if e.kind == "football"]
    assert not [e for e in matches if e.start.month in (6, 7)]
    clubs = collections.Counter(e.name.split(" v ")[0] for e in matches)
    assert len(clubs) == 14
    assert all(15 <= n <= 30 for n in clubs.values()), clubs
    for e in matches:
        n = officer_demand(e, problem.policy)
        if e.grade == "C-IR":
            assert 450 <= n <= 520 and e.priority in ("critical", "high")
        elif e.grade == "police-free":
            assert n == 0
        elif e.grade == "A":
            assert n < 60
    grades = collections.Counter(e.grade for e in matches)
    assert grades["C-IR"] >= 2 and grades["A"] > grades["C-IR"]
    # Released in mid-June: the spring fixtures were known before the roster was published.
    spring = [e for e in matches if e.start.month <= 5 and e.start.weekday() == 5]
    assert all(e.notified == dt.date(YEAR - 1, 6, 17) for e in spring)


def test_hard_saturdays(problem: PlanningProblem) -> None:
    """Days when 6-10 London matches coincide with a 1,600+ officer event."""
    matches: collections.Counter[dt.date] = collections.Counter()
    biggest: dict[dt.date, int] = collections.defaultdict(int)
    for e in problem.events:
        n = officer_demand(e, problem.policy)
        if e.kind == "football" and n > 0:
            matches[e.start.date()] += 1
        for tour in event_tours(e, problem.policy):
            biggest[tour.day] = max(biggest[tour.day], n)
    hard = [d for d in matches if d.weekday() == 5 and matches[d] >= 6 and biggest[d] >= 1_600]
    assert len(hard) >= 6
    assert all(matches[d] <= 10 for d in hard)
