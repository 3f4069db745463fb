"""Domain rules shared by every planner: what an officer can do, when they are rostered, and which
tours an event needs. The solver, the greedy baseline and the validator all read these, so that
they agree on the facts while each decides (or checks) the plan on its own."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from planner.domain import Event, Officer, Policy, Slot, Tour

REST = "R"
LEAVE = "A"  # annual leave: untouchable


def effective_skills(skills: Iterable[str], policy: Policy) -> frozenset[str]:
    """Skills plus what they imply (a Level 1 officer can fill a Level 2 slot)."""
    out: set[str] = set()
    stack = list(skills)
    while stack:
        skill = stack.pop()
        if skill not in out:
            out.add(skill)
            stack.extend(policy.skill_implies.get(skill, ()))
    return frozenset(out)


def fits_slot(rank: str, skills: frozenset[str], slot: Slot) -> bool:
    return rank in slot.ranks and all(s in skills for s in slot.skills)


def roster_code(officer: Officer, day: dt.date, policy: Policy) -> str:
    """The officer's rostered duty that day: a tour code, REST or LEAVE."""
    for leave in officer.leave:
        if day in leave:
            return LEAVE
    cycle = policy.shift_patterns[officer.shift_pattern].cycle
    return cycle[((day - policy.pattern_epoch).days + officer.pattern_offset) % len(cycle)]


def rostered_tour(code: str, day: dt.date, policy: Policy) -> tuple[dt.datetime, dt.datetime] | None:
    """Start and end of a rostered (non-event) tour, or None on rest days and leave."""
    tour = policy.tour_times.get(code)
    if tour is None:
        return None
    start = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=tour.start_minute)
    return start, start + dt.timedelta(hours=tour.hours)


def event_tours(event: Event, policy: Policy) -> list[Tour]:
    """The daily tours an event needs.

    An event up to one long tour is one tour (an overnight New Year's Eve is one tour on the 31st);
    a longer one is a tour on each calendar day it spans, at the same hours each day. Officers
    report `briefing_minutes` before and stand down the same after; no tour exceeds the
    policy's longest tour."""
    wt = policy.working_time
    pad = dt.timedelta(minutes=wt.briefing_minutes)
    longest = dt.timedelta(hours=wt.max_tour_hours)
    if event.end - event.start + 2 * pad <= longest or event.end.date() == event.start.date():
        windows = [(event.start, event.end)]
    else:
        windows = []
        day = event.start.date()
        daily_start, daily_end = event.start.time(), event.end.time()
        while day <= event.end.date():
            start = dt.datetime.combine(day, daily_start)
            end = dt.datetime.combine(day, daily_end)
            if end <= start:
                end += dt.timedelta(days=1)
            windows.append((start, end))
            day += dt.timedelta(days=1)
    tours = []
    for index, (start, end) in enumerate(windows):
        tour_start = start - pad
        tour_end = min(end + pad, tour_start + longest)
        tours.append(
            Tour(event_id=event.external_id, index=index, day=start.date(), start=tour_start, end=tour_end)
        )
    return tours


def notice_days(event: Event, day: dt.date, policy: Policy) -> int:
    """Days of notice an officer gets when a rest day on `day` is cancelled for this event."""
    notified = event.notified or policy.roster_published or (day - dt.timedelta(days=60))
    return (day - notified).days


def rest_day_cost(event: Event, tour: Tour, policy: Policy) -> float:
    """Paid-hour cost of cancelling one officer's rest day to work this tour."""
    return rest_day_cost_at(notice_days(event, tour.day, policy), tour, policy)


def rest_day_cost_at(notice: int, tour: Tour, policy: Policy) -> float:
    """Paid-hour cost of cancelling a rest day for this tour with `notice` days' notice: time and
    a half (with a minimum) under the short-notice threshold, else the replacement day given back."""
    costs = policy.costs
    hours = tour.hours
    if tour.day in policy.public_holidays:
        return hours * costs.public_holiday_multiplier
    if notice < costs.short_notice_days:
        return max(hours, costs.short_notice_min_hours) * costs.short_notice_multiplier
    return hours * costs.long_notice_multiplier


def on_duty_cost(rank: str, rostered_hours: float, tour: Tour, policy: Policy) -> float:
    """Paid-hour cost beyond the rostered tour of an on-duty officer working this tour."""
    costs = policy.costs
    extra = max(0.0, tour.hours - rostered_hours)
    if tour.day in policy.public_holidays:
        # Working the holiday was already rostered; only the extra hours are new money.
        return extra * costs.public_holiday_multiplier
    if rank in costs.no_overtime_ranks:
        return extra  # owed as time off in lieu
    return extra * costs.overtime_multiplier


def floor_retained(on_duty: int, share: float) -> int:
    """Officers of a duty role who must stay on core duty: the floor share, rounded up."""
    return min(on_duty, math.ceil(share * on_duty - 1e-9))


def max_abstractable(on_duty: int, share: float) -> int:
    """On-duty officers of a duty role that events may take without breaching the floor."""
    return on_duty - floor_retained(on_duty, share)


def fairness_weights(policy: Policy, on_duty_by_borough: Iterable[int]) -> tuple[float, float]:
    """The day's fairness weights: per percentage point of the highest abstraction share, and
    extra per point above the policy's threshold.

    Taking one officer from a borough with n on duty moves its share by 100/n points, so in a
    very small borough fairness could outweigh covering an event. Both weights are scaled down
    so that one officer's fairness cost stays under half the cost of leaving a low-priority
    post empty: coverage always comes first, as the policy's priority order says."""
    weights = policy.weights
    per_point, above = weights.fairness_per_point, weights.fairness_per_point_above
    smallest = min((n for n in on_duty_by_borough if n > 0), default=0)
    if smallest == 0 or per_point + above <= 0:
        return per_point, above
    cap = 0.5 * min(weights.uncovered.values()) * smallest / 100.0
    scale = min(1.0, cap / (per_point + above))
    return per_point * scale, above * scale


def day_fairness_cost(policy: Policy, highest_share: float, on_duty_by_borough: Iterable[int]) -> float:
    """The fairness cost of a day whose most-abstracted borough has `highest_share` taken."""
    per_point, above = fairness_weights(policy, on_duty_by_borough)
    excess = max(0.0, highest_share - policy.weights.fairness_threshold)
    return 100.0 * (per_point * highest_share + above * excess)
