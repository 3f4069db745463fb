"""A small multi-week instance: four weeks of events in three boroughs, whose weeks are separate
tasks (and a solve long enough to kill a worker in), yet a few seconds to plan on one core."""

from __future__ import annotations

import datetime as dt

from planner.domain import PlanningProblem
from tests.solver.factory import CAMDEN, DAY, KENSINGTON, WESTMINSTER, event, officers, problem

WEEKS = 4
BOROUGHS = (WESTMINSTER, CAMDEN, KENSINGTON)


def multi_week(weeks: int = WEEKS, scale: int = 1) -> PlanningProblem:
    staff = []
    for n, borough in enumerate(BOROUGHS):
        for offset in range(7):  # every day of the week has officers on duty
            staff += officers(borough, 4 * scale, offset=offset, prefix=f"b{n}o{offset}")
            staff += officers(borough, scale, rank="PS", offset=offset, prefix=f"b{n}s{offset}")
    events = []
    last = DAY + dt.timedelta(days=7 * weeks - 1)
    day = DAY
    while day <= last:
        k = (day - DAY).days
        borough = BOROUGHS[k % len(BOROUGHS)]
        # demand that outgrows the borough's own duty officers on some days, so that cover is drawn
        # from neighbours and rest days, as on a real calendar
        events.append(
            event(
                f"E{k}",
                borough,
                day=day,
                start_hour=10 + k % 5,
                constable=scale * (6 + k % 7),
                sergeant=scale,
            )
        )
        if k % 3 == 0:
            events.append(
                event(
                    f"F{k}",
                    BOROUGHS[(k + 1) % 3],
                    day=day,
                    start_hour=18,
                    priority="high",
                    constable=5 * scale,
                )
            )
        day += dt.timedelta(days=1)
    return problem(staff, events, start=DAY, end=last)
