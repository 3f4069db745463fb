"""Tiny hand-made instances for solver tests: a few officers in real London boroughs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from planner.domain import Event, Officer, PlanningProblem, Policy, RoleDemand, Weights
from planner.reference import london

WESTMINSTER = "E09000033"
CAMDEN = "E09000007"
KENSINGTON = "E09000020"
BROMLEY = "E09000006"
DAY = dt.date(2027, 3, 3)  # a Wednesday

# Tiny boroughs (a dozen officers on duty) make every officer a large share of the borough, so the
# fairness term would dominate what a test is about. Tests of other rules switch it off; the
# fairness tests pass the default policy explicitly.
WITHOUT_FAIRNESS = Policy(weights=Weights(fairness_per_point=0.0, fairness_per_point_above=0.0))


def officers(
    unit: str,
    count: int,
    *,
    rank: str = "PC",
    role: str = "neighbourhood",
    skills: Iterable[str] = (),
    pattern: str = "5x2",
    offset: int = 0,
    prefix: str | None = None,
) -> list[Officer]:
    prefix = prefix or f"{unit[-3:]}{role[:3]}{rank}{offset}{''.join(sorted(skills))[:6]}"
    return [
        Officer(
            service_number=f"{prefix}-{i}",
            unit=unit,
            rank=rank,
            duty_role=role,  # type: ignore[arg-type]
            skills=tuple(sorted(skills)),
            shift_pattern=pattern,
            pattern_offset=offset,
        )
        for i in range(count)
    ]


def event(
    eid: str,
    borough: str = WESTMINSTER,
    *,
    day: dt.date = DAY,
    start_hour: int = 12,
    hours: int = 4,
    priority: str = "normal",
    notified: dt.date | None = None,
    **roles: int,
) -> Event:
    start = dt.datetime.combine(day, dt.time(start_hour))
    return Event(
        external_id=eid,
        name=eid,
        kind="demonstration",
        borough=borough,
        start=start,
        end=start + dt.timedelta(hours=hours),
        priority=priority,  # type: ignore[arg-type]
        demand=tuple(RoleDemand(role=r, count=c) for r, c in roles.items()),
        notified=notified or day - dt.timedelta(days=60),
    )


def problem(
    officer_list: list[Officer],
    events: list[Event],
    *,
    policy: Policy | None = None,
    start: dt.date = DAY,
    end: dt.date | None = None,
) -> PlanningProblem:
    return PlanningProblem(
        organisation=london(),
        officers=tuple(officer_list),
        events=tuple(events),
        policy=policy or WITHOUT_FAIRNESS,
        start=start,
        end=end or start,
    )
