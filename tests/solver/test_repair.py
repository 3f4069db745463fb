"""Days that see each other: a deployment on one day can free officers for the next, and the
allocation decides that instead of finding it out afterwards."""

from __future__ import annotations

import datetime as dt

from planner.domain import Policy
from planner.validate import validate
from solver import solve
from tests.solver.factory import WESTMINSTER, event, officers, problem

SATURDAY = dt.date(2027, 3, 6)
SUNDAY = SATURDAY + dt.timedelta(days=1)


def night_crew(count: int) -> list:  # type: ignore[type-arg]
    # On the response pattern (EEEEERRLLLLLRRNNNNNRR) put Saturday on the first night turn:
    # Friday is a rest day, Saturday and Sunday are nights (22:00-06:00).
    epoch = Policy().pattern_epoch
    offset = (14 - (SATURDAY - epoch).days) % 21
    return officers(WESTMINSTER, count, pattern="response", offset=offset)


def test_a_deployment_frees_night_officers_for_the_next_morning() -> None:
    # Published roster: Saturday's night turn ends 06:00 Sunday, too late for a 09:00 Sunday tour.
    # Once Saturday's event replaces that night turn (ending 19:00), Sunday morning is lawful.
    crew = night_crew(10)
    events = [
        event("SAT", day=SATURDAY, start_hour=10, hours=8, constable=10),
        event("SUN", day=SUNDAY, start_hour=10, hours=8, constable=10),
    ]
    p = problem(crew, events, start=SATURDAY, end=SUNDAY)
    plan = solve(p, workers=1)
    assert validate(p, plan) == []
    # Saturday is decided first (equal stakes, earlier day); Sunday's allocation then counts the
    # night officers Saturday's event freed, and covers Sunday with them.
    assert plan.shortfalls == []
    sunday = {a.service_number for a in plan.assignments if a.day == SUNDAY}
    saturday = {a.service_number for a in plan.assignments if a.day == SATURDAY}
    assert sunday == saturday and len(sunday) == 10


def test_without_the_saturday_event_sunday_stays_short() -> None:
    crew = night_crew(10)
    p = problem(
        crew, [event("SUN", day=SUNDAY, start_hour=10, hours=8, constable=10)], start=SATURDAY, end=SUNDAY
    )
    plan = solve(p, workers=1)
    assert validate(p, plan) == []
    assert plan.assignments == []
    assert plan.shortfalls[0].officers_short == 10
