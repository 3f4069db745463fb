"""Structural variants of the demo year: each transformation does what it says, keeps the problem
sound and deterministic, and a variant's day still solves to a lawful plan."""

from __future__ import annotations

import collections
import datetime as dt
import re

import msgspec
import pytest

from planner.demo import _CLUBS, demo_problem, officer_demand
from planner.domain import PlanningProblem
from planner.rules import LEAVE, REST, event_tours, roster_code, rostered_tour
from planner.variants import (
    AID_UNIT,
    COMPOSITES,
    DEFAULT_BENCH_VARIANTS,
    TRANSFORMS,
    VARIANTS,
    apply_variant,
    compose,
    derby_saturday,
    early_critical_days,
    problem_issues,
    variant_problem,
)

YEAR = 2027
WESTMINSTER = "E09000033"
CENTRAL_BOROUGHS = {
    "E09000033",  # Westminster
    "E09000007",  # Camden
    "E09000020",  # Kensington and Chelsea
    "E09000022",  # Lambeth
    "E09000028",  # Southwark
    "E09000030",  # Tower Hamlets
}


@pytest.fixture(scope="module")
def demo() -> PlanningProblem:
    return demo_problem(YEAR, seed=7)


@pytest.fixture(scope="module")
def variants(demo: PlanningProblem) -> dict[str, PlanningProblem]:
    return {name: apply_variant(name, demo) for name in VARIANTS}


def week_days(start: dt.date, n: int) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(n)]


# --------------------------------------------------------------------------- registry and soundness


def test_registry() -> None:
    assert set(TRANSFORMS) <= set(VARIANTS) and set(COMPOSITES) <= set(VARIANTS)
    assert set(DEFAULT_BENCH_VARIANTS) == {"uniform_day_roster", "hard_weekends"}
    assert set(COMPOSITES["uniform_day_roster"]) == {"day_tours", "weekday_investigators", "central_aid_pool"}
    assert {"driver_without_level", "late_eve_before_major", "derby_bank_holiday"} <= set(
        COMPOSITES["hard_weekends"]
    )
    assert all(f.__doc__ for f in TRANSFORMS.values())
    with pytest.raises(KeyError, match="unknown variant"):
        variant_problem("no_such_variant")


def test_variants_are_sound_and_keep_the_force_size(
    demo: PlanningProblem, variants: dict[str, PlanningProblem]
) -> None:
    assert problem_issues(demo) == []
    for name, problem in variants.items():
        assert problem_issues(problem) == [], name
        numbers = [o.service_number for o in problem.officers]
        assert len(set(numbers)) == len(numbers), name
        ids = [e.external_id for e in problem.events]
        assert len(set(ids)) == len(ids), name
        assert abs(len(problem.officers) - len(demo.officers)) <= 0.01 * len(demo.officers), name
        assert (problem.start, problem.end) == (demo.start, demo.end)
        # Events the variant did not add keep their ids and contents.
        original = {e.external_id: e for e in demo.events}
        for e in problem.events:
            if e.external_id.startswith("DEMO-"):
                assert e == original[e.external_id], name
            else:
                assert re.fullmatch(rf"(EVE|DERBY)-{YEAR}-\d{{5}}", e.external_id), e.external_id


def test_transformations_are_pure_and_deterministic(
    demo: PlanningProblem, variants: dict[str, PlanningProblem]
) -> None:
    before = msgspec.msgpack.encode(demo)
    for name in VARIANTS:
        again = apply_variant(name, demo)
        assert msgspec.msgpack.encode(again) == msgspec.msgpack.encode(variants[name]), name
    assert msgspec.msgpack.encode(demo) == before  # the input is never changed
    fresh = variant_problem("hard_weekends", YEAR, 7)
    assert msgspec.msgpack.encode(fresh) == msgspec.msgpack.encode(variants["hard_weekends"])


def test_composites_apply_their_steps_in_order(
    demo: PlanningProblem, variants: dict[str, PlanningProblem]
) -> None:
    for name, steps in COMPOSITES.items():
        by_hand = demo
        for step in steps:
            by_hand = TRANSFORMS[step](by_hand)
        assert msgspec.msgpack.encode(by_hand) == msgspec.msgpack.encode(variants[name])
    chained = compose(TRANSFORMS["day_tours"], TRANSFORMS["driver_without_level"])
    assert chained(demo).policy.roles == variants["driver_without_level"].policy.roles
    assert chained(demo).policy.shift_patterns == variants["day_tours"].policy.shift_patterns


# --------------------------------------------------------------------------- rosters


def test_day_tours(demo: PlanningProblem, variants: dict[str, PlanningProblem]) -> None:
    for name in ("day_tours", "uniform_day_roster"):
        problem = variants[name]
        policy = problem.policy
        for key, pattern in policy.shift_patterns.items():
            assert set(pattern.cycle) <= {"D", REST}
            if key in demo.policy.shift_patterns:
                old = demo.policy.shift_patterns[key].cycle
                assert [c == REST for c in pattern.cycle] == [c == REST for c in old]
        on_duty = 0
        for day in week_days(dt.date(YEAR, 3, 1), 7):
            for officer in problem.officers:
                code = roster_code(officer, day, policy)
                if code in (REST, LEAVE):
                    continue
                tour = rostered_tour(code, day, policy)
                assert tour is not None
                assert tour[0].time() == dt.time(8, 0) and tour[1] - tour[0] == dt.timedelta(hours=8)
                on_duty += 1
        assert on_duty > 0.5 * 7 * len(problem.officers)
        response = [o for o in problem.officers if o.duty_role == "response"]
        assert {c for o in response for c in policy.shift_patterns[o.shift_pattern].cycle} == {"D", REST}


def test_weekday_investigators(demo: PlanningProblem, variants: dict[str, PlanningProblem]) -> None:
    for name in ("weekday_investigators", "uniform_day_roster"):
        problem = variants[name]
        policy = problem.policy
        investigators = [o for o in problem.officers if o.duty_role == "investigation"]
        assert len(investigators) == sum(o.duty_role == "investigation" for o in demo.officers)
        for day in week_days(dt.date(YEAR, 5, 3), 14):
            codes = collections.Counter(roster_code(o, day, policy) for o in investigators)
            if day.weekday() >= 5:
                assert set(codes) <= {REST, LEAVE}, day
            else:
                assert codes[REST] == 0 and codes["D"] > 0.8 * len(investigators), day
    # Nobody else's roster changes.
    changed = variants["weekday_investigators"]
    for before, after in zip(demo.officers, changed.officers, strict=True):
        if before.duty_role != "investigation":
            assert before == after


def test_central_aid_pool(demo: PlanningProblem, variants: dict[str, PlanningProblem]) -> None:
    for name in ("central_aid_pool", "uniform_day_roster"):
        problem = variants[name]
        assert AID_UNIT in problem.organisation.central_units
        assert AID_UNIT.base_borough == WESTMINSTER
        aid = [o for o in problem.officers if o.unit == "AID"]
        assert collections.Counter(o.rank for o in aid) == {"PC": 3000, "PS": 400}
        assert all(o.skills == () and o.duty_role == "central" for o in aid)
        assert {o.shift_pattern for o in aid} == {"response"}
        assert len(problem.officers) == len(demo.officers)
        spec = collections.Counter(o.unit for o in demo.officers)["SPEC"]
        assert collections.Counter(o.unit for o in problem.officers)["SPEC"] == spec - 3400
        # The pool's rotating offsets put about the same number on duty every day of the cycle.
        bare = [msgspec.structs.replace(o, leave=()) for o in aid]
        on = [
            sum(roster_code(o, d, problem.policy) != REST for o in bare)
            for d in week_days(dt.date(YEAR, 3, 1), 21)
        ]
        assert max(on) - min(on) <= 0.05 * max(on)


# --------------------------------------------------------------------------- drivers


def test_driver_without_level(demo: PlanningProblem, variants: dict[str, PlanningProblem]) -> None:
    for name in ("driver_without_level", "hard_weekends"):
        roles = variants[name].policy.roles
        drivers = [s for spec in roles.values() for s in spec.slots if "DRIVER" in s.skills]
        assert len(drivers) >= 3  # serial_l2, psu_l2, serial_l1
        assert all(s.skills == ("DRIVER",) for s in drivers)
        for key, spec in roles.items():
            old = demo.policy.roles[key]
            assert spec.size == old.size
            for new_slot, old_slot in zip(spec.slots, old.slots, strict=True):
                if "DRIVER" not in old_slot.skills:
                    assert new_slot == old_slot
    assert variants["driver_without_level"].officers == demo.officers


def test_plain_drivers(demo: PlanningProblem, variants: dict[str, PlanningProblem]) -> None:
    def plain(problem: PlanningProblem) -> list[str]:
        return [
            o.service_number
            for o in problem.officers
            if "DRIVER" in o.skills and not {"PO_L1", "PO_L2"} & set(o.skills)
        ]

    assert plain(demo) == []  # in the demo every driver is public-order trained
    added = plain(variants["plain_drivers"])
    assert 400 <= len(added) <= 1000
    assert set(added) <= set(plain(variants["hard_weekends"]))
    by_number = {o.service_number: o for o in variants["plain_drivers"].officers}
    assert all(by_number[n].rank == "PC" for n in added)


# --------------------------------------------------------------------------- events


def test_late_evenings_before_early_critical_tours(
    demo: PlanningProblem, variants: dict[str, PlanningProblem]
) -> None:
    base_days = early_critical_days(demo)
    assert len(base_days) >= 5  # Marathon, State Opening, Trooping, Carnival x2, Remembrance
    for name in ("late_eve_before_major", "hard_weekends"):
        problem = variants[name]
        evenings: dict[dt.date, list] = collections.defaultdict(list)
        for e in problem.events:
            if e.external_id.startswith("EVE-"):
                evenings[e.start.date()].append(e)
        early = early_critical_days(problem)
        assert set(base_days) <= set(early)
        for day in early:
            eve = day - dt.timedelta(days=1)
            assert 2 <= len(evenings[eve]) <= 4, (name, day)
        assert set(evenings) == {d - dt.timedelta(days=1) for d in early if d > problem.start}
        for events in evenings.values():
            for e in events:
                assert (e.start.time(), e.end.time()) == (dt.time(19), dt.time(23))
                assert e.borough in CENTRAL_BOROUGHS
                assert e.priority in ("high", "normal")
                assert e.kind in ("concert", "demonstration")
                demand = {d.role: d.count for d in e.demand}
                assert demand.get("serial_l2", 0) >= 2, e.name
                assert e.notified is not None and e.notified <= e.start.date()
                # Its tour ends too late for its officers to start the next morning's early tour.
                (tour,) = event_tours(e, problem.policy)
                assert tour.end >= dt.datetime.combine(tour.day, dt.time(23, 0))
    # Derby kick-offs at 12:30 are early critical tours too: hard_weekends puts a night before them.
    assert derby_saturday(YEAR) in early_critical_days(variants["hard_weekends"])


def test_derby_bank_holiday(demo: PlanningProblem, variants: dict[str, PlanningProblem]) -> None:
    saturday = derby_saturday(YEAR)
    assert saturday == dt.date(YEAR, 8, 28) and saturday.weekday() == 5
    (carnival,) = [e for e in demo.events if e.name == "Notting Hill Carnival"]
    assert carnival.start.date() == saturday + dt.timedelta(days=1)
    grounds = {ground: borough for _, ground, borough, _ in _CLUBS}
    codes = {b.name: b.code for b in demo.organisation.boroughs}
    for name in ("derby_bank_holiday", "hard_weekends"):
        problem = variants[name]
        matches = [e for e in problem.events if e.kind == "football" and e.start.date() == saturday]
        derbies = [e for e in matches if e.grade == "C-IR" and e.priority == "critical"]
        assert 4 <= len(derbies) <= 6
        assert all(e.external_id.startswith("DERBY-") for e in derbies)
        for e in derbies:
            assert 300 <= officer_demand(e, problem.policy) <= 500
            demand = {d.role: d.count for d in e.demand}
            assert demand["serial_l2"] >= 1 and demand["bronze"] >= 1 and demand["dog"] >= 1
            kickoff = e.start + dt.timedelta(hours=3)
            assert dt.time(12, 30) <= kickoff.time() <= dt.time(17, 30)
            assert codes[grounds[e.venue]] == e.borough  # a London ground, in its own borough
        # A club plays once that day, and a ground hosts one match.
        teams = [t for e in matches for t in e.name.split(" (")[0].split(" v ")]
        assert len(teams) == len(set(teams))
        venues = [e.venue for e in matches]
        assert len(venues) == len(set(venues))
    # Only that Saturday's clashing fixtures leave the calendar.
    kept = {e.external_id for e in variants["derby_bank_holiday"].events}
    gone = [e for e in demo.events if e.external_id not in kept]
    assert gone and all(e.kind == "football" and e.start.date() == saturday for e in gone)


# --------------------------------------------------------------------------- a short solve


def test_derby_saturday_of_hard_weekends_solves_lawfully(variants: dict[str, PlanningProblem]) -> None:
    import solver
    from planner.validate import validate

    saturday = derby_saturday(YEAR)
    problem = msgspec.structs.replace(variants["hard_weekends"], start=saturday, end=saturday)
    plan = solver.solve(problem, workers=1)
    assert validate(problem, plan) == []
    covered = {a.event_id for a in plan.assignments}
    assert any(e.startswith("DERBY-") for e in covered)
