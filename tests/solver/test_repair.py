"""The repair stage: days stage 1 left short are re-planned against the roster as the plan has
changed it, and deployments on one day can free officers for the next."""

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
    allocation = next(s for s in plan.stages if s.name == "allocation")
    repair = next(s for s in plan.stages if s.name == "repair")
    # Stage 1 alone, against the published roster, could not staff Sunday...
    assert allocation.objective is not None and allocation.objective > 10 * 400
    # ...the repair stage re-planned Sunday and covered it with the same officers.
    assert repair.details["days_replanned"] == 1.0
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
