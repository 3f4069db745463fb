"""Tiny hand-built problems and plans for the validator and evaluator tests.

Calendar: the 5x2 pattern ("DDDDDRR", D = 08:00-16:00) at offset 0 works Monday to Friday from the
policy epoch (Monday 1 January 2024); MON is Monday 3 June 2024 and the horizon is two weeks.
"""

from __future__ import annotations

import datetime as dt
import itertools

from planner.domain import DateRange, Event, Officer, PlanningProblem, Policy, RoleDemand
from planner.plan import Assignment, Plan, Shortfall
from planner.reference import LAMBETH, WESTMINSTER, london
from planner.rules import REST, event_tours, roster_code

MON = dt.date(2024, 6, 3)
THU = MON + dt.timedelta(days=3)
SAT = MON + dt.timedelta(days=5)
SUN = MON + dt.timedelta(days=6)
END = MON + dt.timedelta(days=13)

_serial = itertools.count(1)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


def officer(
    sn: str,
    unit: str = WESTMINSTER,
    rank: str = "PC",
    duty_role: str = "neighbourhood",
    skills: tuple[str, ...] = ("PO_L2",),
    leave: tuple[DateRange, ...] = (),
    pattern: str = "5x2",
    offset: int = 0,
) -> Officer:
    return Officer(
        service_number=sn,
        unit=unit,
        rank=rank,  # type: ignore[arg-type]
        duty_role=duty_role,  # type: ignore[arg-type]
        skills=skills,
        shift_pattern=pattern,
        pattern_offset=offset,
        leave=leave,
    )


def event(
    eid: str,
    day: dt.date,
    start_hour: int = 12,
    hours: int = 6,
    demand: tuple[tuple[str, int], ...] = (("constable", 1),),
    borough: str = WESTMINSTER,
    priority: str = "normal",
    notified: dt.date | None = None,
    status: str = "planned",
    end: dt.datetime | None = None,
) -> Event:
    start = at(day, start_hour)
    return Event(
        external_id=eid,
        name=f"Event {eid}",
        kind="demonstration",
        borough=borough,
        start=start,
        end=end or start + dt.timedelta(hours=hours),
        priority=priority,  # type: ignore[arg-type]
        demand=tuple(RoleDemand(role=r, count=c) for r, c in demand),
        notified=notified,
        status=status,  # type: ignore[arg-type]
    )


def problem(
    officers: list[Officer],
    events: list[Event],
    policy: Policy | None = None,
    start: dt.date = MON,
    end: dt.date = END,
) -> PlanningProblem:
    return PlanningProblem(
        organisation=london(),
        officers=tuple(officers),
        events=tuple(events),
        policy=policy or Policy(),
        start=start,
        end=end,
    )


def assign(
    prob: PlanningProblem,
    ev: Event,
    who: Officer,
    role: str = "constable",
    slot: int = 0,
    unit_id: str | None = None,
    tour_index: int = 0,
) -> Assignment:
    """A correct assignment of `who` to tour `tour_index` of `ev` (flags and times from the rules)."""
    tour = event_tours(ev, prob.policy)[tour_index]
    return Assignment(
        service_number=who.service_number,
        event_id=ev.external_id,
        tour_index=tour.index,
        day=tour.day,
        role=role,
        slot=slot,
        unit_id=unit_id or f"u{next(_serial)}",
        source=who.unit,
        start=tour.start,
        end=tour.end,
        rest_day_cancelled=roster_code(who, tour.day, prob.policy) == REST,
    )


def serial_officers(prefix: str, unit: str = WESTMINSTER, driver: bool = True) -> list[Officer]:
    """A Level 2 serial's officers in slot order: sergeant, six constables, driver."""
    out = [officer(f"{prefix}-PS", unit, rank="PS")]
    out += [officer(f"{prefix}-PC{i}", unit) for i in range(6)]
    if driver:
        out.append(officer(f"{prefix}-DRV", unit, skills=("PO_L2", "DRIVER")))
    return out


def serial(prob: PlanningProblem, ev: Event, members: list[Officer], unit_id: str) -> list[Assignment]:
    """Assignments of a serial's members (sergeant, constables, driver) to slots 0, 1, 2."""
    slots = [0] + [1] * 6 + [2]
    return [assign(prob, ev, o, "serial_l2", s, unit_id) for o, s in zip(members, slots, strict=False)]


def lambeth_response(n: int = 4) -> list[Officer]:
    return [officer(f"LR{i}", LAMBETH, duty_role="response") for i in range(n)]


def valid_scenario() -> tuple[PlanningProblem, Plan]:
    """A lawful plan: a Westminster serial on a Saturday (rest days cancelled) and one Lambeth
    response constable (of four on duty) on a Monday, plus a reported shortfall."""
    members = serial_officers("W")
    responders = lambeth_response()
    demo = event("DEMO", SAT, demand=(("serial_l2", 1),))
    match = event("MATCH", MON, borough=LAMBETH, demand=(("constable", 1), ("bronze", 1)))
    prob = problem([*members, *responders], [demo, match])
    assignments = serial(prob, demo, members, "W-serial-1") + [assign(prob, match, responders[0])]
    bronze_short = Shortfall(
        event_id="MATCH", tour_index=0, day=MON, role="bronze", required=1, filled=0, officers_short=1
    )
    return prob, Plan(assignments=assignments, shortfalls=[bronze_short])
