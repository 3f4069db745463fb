"""The "Duty release" family binds: a day's allocation may count officers whose published duty the
day before leaves too little rest, as many as that day's open single-officer posts can take, and
named rostering deploys them there first.

The crew is on the response pattern with Saturday on its first night turn (22:00-06:00): nobody
can start Sunday's 09:00 tour after it unless Saturday's duty is replaced by a daytime event tour
ending by 22:00."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from planner.domain import Officer, PlanningProblem, Policy
from planner.roster import Roster, officer_classes
from planner.rules import roster_code
from planner.validate import validate
from solver import solve
from solver.allocation.inputs import DayInput, Release, SupplyIndex, build_day_input
from solver.allocation.model import solve_day
from solver.allocation.variables import release_side
from solver.blocks import BlockTask, hardness, run_block
from solver.live import DayPlanner
from solver.pipeline import tours_by_day
from tests.solver.exact import exact
from tests.solver.factory import WESTMINSTER, event, officers, problem

SATURDAY = dt.date(2027, 3, 6)
SUNDAY = SATURDAY + dt.timedelta(days=1)


def night_crew(count: int) -> list[Officer]:
    epoch = Policy().pattern_epoch
    offset = (14 - (SATURDAY - epoch).days) % 21  # Friday rest, Saturday and Sunday nights
    return officers(WESTMINSTER, count, pattern="response", offset=offset)


def weekend(crew: int, saturday_posts: int, sunday_posts: int) -> PlanningProblem:
    events = [event("SUN", day=SUNDAY, start_hour=10, hours=8, priority="critical", constable=sunday_posts)]
    if saturday_posts:
        # 09:00-19:00 with briefing: ends 14 h before Sunday's tour.
        events.append(event("SAT", day=SATURDAY, start_hour=10, hours=8, constable=saturday_posts))
    return problem(night_crew(crew), events, start=SATURDAY, end=SUNDAY)


def solved(p: PlanningProblem):  # type: ignore[no-untyped-def]
    plan = solve(p, workers=1)
    assert validate(p, plan) == []
    return plan


def worked(plan, day: dt.date) -> set[str]:  # type: ignore[no-untyped-def]
    return {a.service_number for a in plan.assignments if a.day == day}


def short(plan, event_id: str) -> int:  # type: ignore[no-untyped-def]
    return sum(s.officers_short for s in plan.shortfalls if s.event_id == event_id)


def test_the_crew_is_on_a_saturday_night_turn() -> None:
    policy = Policy()
    for o in night_crew(3):
        codes = [roster_code(o, SATURDAY + dt.timedelta(days=k), policy) for k in (-1, 0, 1)]
        assert codes == ["R", "N", "N"]


def run(p: PlanningProblem, release: bool):  # type: ignore[no-untyped-def]
    roster = Roster(p)
    keys, class_of = officer_classes(p)
    planner = DayPlanner(p, roster, SupplyIndex(p, keys, class_of))
    demand = tours_by_day(p)
    return run_block(p, planner, demand, BlockTask(days=list(demand), fixed=[], release=release))


def test_critical_sunday_is_staffed_by_officers_released_from_saturday_night() -> None:
    p = weekend(crew=6, saturday_posts=6, sunday_posts=6)
    demand = tours_by_day(p)
    # Sunday is decided first: when it is, nobody is yet lawful for its 09:00 tour.
    assert hardness(demand[SUNDAY], p) > hardness(demand[SATURDAY], p)

    plan = solved(p)
    assert plan.shortfalls == []
    sunday, saturday = worked(plan, SUNDAY), worked(plan, SATURDAY)
    assert sunday == saturday == {o.service_number for o in p.officers}
    # The blocks did it, not the completion stage that re-checks shortfalls afterwards.
    [completion] = [s for s in plan.stages if s.name == "completion"]
    assert completion.details["units_added"] == 0.0

    # The same block without the family leaves Sunday to whatever is lawful when it is decided.
    with_release = run(p, release=True)
    assert {a.service_number for a in with_release.assignments if a.day == SUNDAY} == sunday
    without = run(p, release=False)
    assert [a for a in without.assignments if a.day == SUNDAY] == []
    assert len([a for a in without.assignments if a.day == SATURDAY]) == 6


def test_saturday_posts_cap_the_officers_released_for_sunday() -> None:
    p = weekend(crew=6, saturday_posts=4, sunday_posts=6)
    plan = solved(p)
    # Each Saturday post frees one officer for Sunday: Sunday is short by exactly the difference,
    # as it is in the cheapest lawful plan.
    assert short(plan, "SUN") == 6 - 4
    assert short(plan, "SAT") == 0
    assert worked(plan, SUNDAY) == worked(plan, SATURDAY)
    best = exact(p).plan
    assert short(best, "SUN") == short(plan, "SUN")


def test_without_a_saturday_event_sunday_stays_short() -> None:
    p = weekend(crew=6, saturday_posts=0, sunday_posts=6)
    plan = solved(p)
    assert plan.assignments == []
    assert short(plan, "SUN") == 6
    assert short(exact(p).plan, "SUN") == 6


# --------------------------------------------------------------------------- the model alone


def sunday_input(p: PlanningProblem, capacity: list[int] | None) -> DayInput:
    """Sunday's day input on the published roster, with a hand-made Release that calls every
    officer releasable from the day before and `capacity` posts per tour window."""
    roster = Roster(p)
    keys, class_of = officer_classes(p)
    index = SupplyIndex(p, keys, class_of)
    tours = tours_by_day(p)[SUNDAY]

    def make(windows: list[tuple[int, int]]) -> Release:
        assert capacity is not None and len(capacity) == len(windows)

        def masks(rows, d, start, end, spacing=None):  # type: ignore[no-untyped-def]
            return np.ones(len(rows), dtype=np.bool_), np.zeros(len(rows), dtype=np.bool_)

        return Release(capacity={"before|PC": list(capacity)}, masks=masks)

    return build_day_input(p, roster, index, SUNDAY, tours, release=make if capacity is not None else None)


def released_posts(result) -> dict[tuple[str, int], int]:  # type: ignore[no-untyped-def]
    out: dict[tuple[str, int], int] = {}
    for alloc in result.allocations:
        for post in alloc.posts:
            if release_side(post.status) is not None:
                key = (alloc.event_id, alloc.tour_index)
                out[key] = out.get(key, 0) + post.count
    return out


@pytest.mark.parametrize("capacity", [0, 2, 6, 9])
def test_solve_day_uses_at_most_the_released_capacity(capacity: int) -> None:
    p = weekend(crew=6, saturday_posts=0, sunday_posts=6)
    day = sunday_input(p, [capacity])
    assert day.release_capacity == {"before|PC": [capacity]}
    result = solve_day(day)
    used = sum(released_posts(result).values())
    # Critical posts are worth any price: the model takes all it may, no more than the capacity
    # and the six officers allow.
    assert used == min(capacity, 6)
    assert sum(s.required - s.filled for s in result.shortfalls) == 6 - used

    none = solve_day(sunday_input(p, None))
    assert released_posts(none) == {}
    assert sum(s.required - s.filled for s in none.shortfalls) == 6


def test_one_released_officer_per_post_whichever_window_they_work() -> None:
    # Two Sunday tours at different hours; two posts the day before compatible with each window.
    crew = night_crew(6)
    events = [
        event("A", day=SUNDAY, start_hour=10, hours=6, priority="critical", constable=3),
        event("B", day=SUNDAY, start_hour=11, hours=6, priority="critical", constable=3),
    ]
    p = problem(crew, events, start=SATURDAY, end=SUNDAY)
    result = solve_day(sunday_input(p, [2, 2]))
    per_tour = released_posts(result)
    assert all(n <= 2 for n in per_tour.values())
    assert sum(per_tour.values()) == 2  # not 2 + 2: the same two posts serve both windows

    result = solve_day(sunday_input(p, [1, 3]))
    per_tour = released_posts(result)
    assert per_tour.get(("A", 0), 0) <= 1
    assert sum(per_tour.values()) == 3
