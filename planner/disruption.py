"""What a change to a published plan does to the officers who were told their duties, and what the
regulations charge for it.

A published plan is a promise: each officer knows, for each day, either an event tour or their
rostered duty. A new version is compared with it officer-day by officer-day; every officer-day
whose duty differs is one `DutyChange`, priced as the regulations price it:

- a rest day cancelled at under `short_notice_days` notice: time and a half, a minimum of hours;
  with more notice, the replacement rest day given back (planner.rules.rest_day_cost_at);
- a tour start brought forward with less than the due notice: the early hours as overtime;
- longer hours than the duty notified: overtime, as for any on-duty officer (rules.on_duty_cost);
- a duty withdrawn or moved between events: no pay, but the officer must be told again;
plus the policy's per-change weight, so that at equal cost fewer officers are disturbed.

Notice counts from the day of the re-plan, as `rules.notice_days` counts it from the day an event
became known; clear days are the whole days between the two.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Literal

from planner.domain import Officer, PlanningProblem, Record, Tour
from planner.plan import Assignment
from planner.rules import REST, on_duty_cost, rest_day_cost_at, roster_code, rostered_tour

ChangeKind = Literal["added", "withdrawn", "moved", "retimed"]

# Cost classes, stable names for the notification list and the change log.
REST_DAY_SHORT_NOTICE = "Rest day cancelled at short notice"
REST_DAY_REPLACED = "Rest day cancelled with a replacement day"
PUBLIC_HOLIDAY = "Public holiday worked"
RETASKED = "Duty changed to an event"
MOVED = "Moved between events"
RETIMED = "Event tour times changed"
WITHDRAWN = "Event duty withdrawn"
EARLY_START = "Start brought forward without due notice"


class Duty(Record, frozen=True):
    """What an officer was (or is now) told to do on one day."""

    kind: Literal["event", "rostered", "rest", "leave"]
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    event_id: str | None = None
    tour_index: int | None = None
    role: str | None = None
    unit_id: str | None = None


class DutyChange(Record, frozen=True):
    """One officer-day whose notified duty a version changes, with what the change costs."""

    service_number: str
    unit: str  # the officer's borough or central unit
    day: dt.date
    kind: ChangeKind
    before: Duty
    after: Duty
    notice_days: int  # days from the re-plan to the duty day
    clear_days: int  # whole days between them
    cost_class: str
    pay: float  # paid-hour equivalents the regulations charge
    early_hours: float = 0.0  # hours brought forward without due notice (inside `pay`)
    weight: float = 0.0  # the policy's per-change weight

    @property
    def cost(self) -> float:
        return self.pay + self.weight


def notice(day: dt.date, as_of: dt.datetime) -> tuple[int, int]:
    """(notice days, clear days) for a change made at `as_of` to a duty on `day`."""
    days = (day - as_of.date()).days
    return days, max(0, days - 1)


def rostered_duty(officer: Officer, day: dt.date, problem: PlanningProblem) -> Duty:
    code = roster_code(officer, day, problem.policy)
    if code == REST:
        return Duty(kind="rest")
    times = rostered_tour(code, day, problem.policy)
    if times is None:
        return Duty(kind="leave")
    return Duty(kind="rostered", start=times[0], end=times[1])


def event_duty(a: Assignment) -> Duty:
    return Duty(
        kind="event",
        start=a.start,
        end=a.end,
        event_id=a.event_id,
        tour_index=a.tour_index,
        role=a.role,
        unit_id=a.unit_id,
    )


def _hours(duty: Duty) -> float:
    if duty.start is None or duty.end is None:
        return 0.0
    return (duty.end - duty.start).total_seconds() / 3600.0


def price(
    problem: PlanningProblem,
    officer: Officer,
    day: dt.date,
    before: Assignment | None,
    after: Assignment | None,
    as_of: dt.datetime,
) -> DutyChange:
    """Price one officer-day's change from `before` to `after` (event assignments, or None for the
    officer's rostered duty)."""
    policy = problem.policy
    replanning = policy.replanning
    rostered = rostered_duty(officer, day, problem)
    old = event_duty(before) if before is not None else rostered
    new = event_duty(after) if after is not None else rostered
    days, clear = notice(day, as_of)
    early = 0.0
    pay = 0.0
    if after is None:
        kind: ChangeKind = "withdrawn"
        cost_class = WITHDRAWN
    else:
        tour = Tour(
            event_id=after.event_id, index=after.tour_index, day=day, start=after.start, end=after.end
        )
        if before is not None and (before.event_id, before.tour_index) == (after.event_id, after.tour_index):
            kind, cost_class = "retimed", RETIMED
        elif before is not None:
            kind, cost_class = "moved", MOVED
        else:
            kind, cost_class = "added", RETASKED
        if rostered.kind == "rest" and (before is None or not before.rest_day_cancelled):
            pay = rest_day_cost_at(days, tour, policy)
            if day in policy.public_holidays:
                cost_class = PUBLIC_HOLIDAY
            elif days < policy.costs.short_notice_days:
                cost_class = REST_DAY_SHORT_NOTICE
            else:
                cost_class = REST_DAY_REPLACED
        else:
            # Only hours beyond the duty already notified are new money (its own pay stands).
            pay = on_duty_cost(officer.rank, _hours(old), tour, policy)
        if old.start is not None and after.start < old.start:
            hours_of_notice = (after.start - as_of).total_seconds() / 3600.0
            if hours_of_notice < replanning.due_notice_hours:
                early = (old.start - after.start).total_seconds() / 3600.0
                multiplier = (
                    1.0
                    if officer.rank in policy.costs.no_overtime_ranks
                    else policy.costs.overtime_multiplier
                )
                pay += early * multiplier
                if cost_class in (RETASKED, MOVED, RETIMED):
                    cost_class = EARLY_START
    return DutyChange(
        service_number=officer.service_number,
        unit=officer.unit,
        day=day,
        kind=kind,
        before=old,
        after=new,
        notice_days=days,
        clear_days=clear,
        cost_class=cost_class,
        pay=round(pay, 4),
        early_hours=round(early, 4),
        weight=replanning.change_weight,
    )


def diff(
    problem: PlanningProblem,
    before: Iterable[Assignment],
    after: Iterable[Assignment],
    as_of: dt.datetime,
    officers: Mapping[str, Officer] | None = None,
) -> list[DutyChange]:
    """Every officer-day whose duty differs between two versions' assignments, priced."""
    officers = officers if officers is not None else {o.service_number: o for o in problem.officers}
    old = {(a.service_number, a.day): a for a in before}
    new = {(a.service_number, a.day): a for a in after}
    out: list[DutyChange] = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if a is not None and b is not None and _same_duty(a, b):
            continue
        officer = officers.get(key[0])
        if officer is None:
            continue  # an officer no longer on the books is told nothing by the duty system
        out.append(price(problem, officer, key[1], a, b, as_of))
    return out


def _same_duty(a: Assignment, b: Assignment) -> bool:
    """Same event tour at the same times: renumbering a unit is not a change an officer notices."""
    return (a.event_id, a.tour_index, a.start, a.end, a.role) == (
        b.event_id,
        b.tour_index,
        b.start,
        b.end,
        b.role,
    )
