"""Checks of a plan's shortfalls for the benchmark (bench/core.py calls them).

- `coverable_short_tours`: short (event tour, role)s for which `planner.cover.measure`, against the
  plan's final roster, finds lawful cover the plan did not use (`coverable_units > 0`).
- `explanation_mismatches`: short tours whose explanation (planner/analysis/explain.py, measured by
  planner/cover.py on planner/roster.py's arrays) disagrees with an independent recount, for any
  source, on how many officers are suitable or could lawfully work the tour.

The recount shares no code with planner/cover.py or planner/roster.py. It goes officer by officer
in plain Python from the problem, the plan's assignments and the validator's building blocks
(planner/rules.py: roster codes, rostered tours, effective skills and slot fit; planner/facts.py:
which tours a plan covers, rostered hours), and applies each working-time rule as the validator
(planner/validate.py) checks it once the officer is added to the tour: not on leave; not already on
an event tour that day; the minimum rest against the duty (event tour, else rostered tour) the day
before and the day after; on a cancelled rest day, no run of working days longer than the policy
allows; and the hours of the reference period (fixed blocks from the roster epoch, days at their
worked hours under the plan, leave at none) within the weekly average.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from planner.analysis.explain import PlanCover, TourExplanation, explain_plan
from planner.domain import Event, Officer, PlanningProblem, Tour
from planner.facts import coverage, is_on_duty_code, merged_leave, plan_facts, rostered_hours
from planner.plan import Assignment, Plan
from planner.rules import LEAVE, REST, effective_skills, fits_slot, roster_code, rostered_tour

_DAY = dt.timedelta(days=1)
_EPS = 1e-6

ShortKey = tuple[str, int, str]  # (event_id, tour_index, role)
SourceCounts = dict[str, tuple[int, int]]  # source -> (suitable, lawful)


# --------------------------------------------------------------------------- short tours


def short_tours(problem: PlanningProblem, plan: Plan) -> dict[ShortKey, int]:
    """Units short per (event tour, role) inside the horizon, from the plan's coverage (not from
    the shortfalls it reports)."""
    covers = coverage(plan_facts(problem, plan))
    return {key: c.required - c.filled for key, c in covers.items() if c.in_horizon and c.required > c.filled}


_cached: list[tuple[PlanningProblem, Plan, PlanCover]] = []


def _plan_cover(problem: PlanningProblem, plan: Plan) -> PlanCover:
    """The plan's measured roster, kept for the last plan asked about: the benchmark runs both
    checks on one plan one after the other. (The cache holds the objects, so their identity is
    not reused while they are compared.)"""
    for p, q, cover in _cached:
        if p is problem and q is plan:
            return cover
    cover = PlanCover(problem, plan)
    _cached[:] = [(problem, plan, cover)]
    return cover


def coverable_short_tours(problem: PlanningProblem, plan: Plan) -> int:
    """Short (event tour, role)s whose measurement finds lawful cover the plan left unused."""
    cover = _plan_cover(problem, plan)
    found = 0
    for (event_id, tour_index, role), units in short_tours(problem, plan).items():
        measured = cover.measure(event_id, tour_index, role, units)
        if measured is not None and measured.coverable_units > 0:
            found += 1
    return found


# --------------------------------------------------------------------------- the recount


class Recount:
    """Per short tour and source: officers suitable for the role and officers who could lawfully
    work the tour, counted officer by officer (see the module docstring for the rules)."""

    def __init__(self, problem: PlanningProblem, plan: Plan) -> None:
        self.problem = problem
        self.policy = policy = problem.policy
        wt = policy.working_time
        self.rest = dt.timedelta(hours=wt.min_rest_hours)
        self.max_run = wt.max_consecutive_work_days
        self.period_days = 7 * wt.reference_weeks
        self.hours_limit = wt.max_average_weekly_hours * self.period_days / 7.0
        self.sources = problem.organisation.unit_codes()
        self.by_unit: dict[str, list[Officer]] = {code: [] for code in self.sources}
        for officer in problem.officers:
            if officer.unit in self.by_unit:
                self.by_unit[officer.unit].append(officer)
        self.tours: dict[tuple[str, dt.date], list[Assignment]] = {}  # (officer, day) -> event tours
        self.days_of: dict[str, set[dt.date]] = {}  # officer -> days with event tours
        for a in plan.assignments:
            self.tours.setdefault((a.service_number, a.day), []).append(a)
            self.days_of.setdefault(a.service_number, set()).add(a.day)
        self._skills: dict[tuple[str, ...], frozenset[str]] = {}
        self._suitable: dict[tuple[str, str], list[Officer]] = {}
        self._lawful: dict[tuple[str, dt.date, dt.datetime, dt.datetime], bool] = {}
        self._period_hours: dict[tuple[str, int], float] = {}
        self._pattern_hours: dict[tuple[str, int, int], float] = {}

    # ---- facts per officer and day, as the validator reads them

    def code(self, officer: Officer, day: dt.date) -> str:
        return roster_code(officer, day, self.policy)

    def duty(self, officer: Officer, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The officer's duty that day under the plan: its event tours, else the rostered tour."""
        tours = self.tours.get((officer.service_number, day))
        if tours:
            return min(a.start for a in tours), max(a.end for a in tours)
        return rostered_tour(self.code(officer, day), day, self.policy)

    def works(self, officer: Officer, day: dt.date) -> bool:
        if (officer.service_number, day) in self.tours:
            return True
        return is_on_duty_code(self.code(officer, day), self.policy)

    def worked_hours(self, officer: Officer, day: dt.date) -> float:
        tours = self.tours.get((officer.service_number, day))
        if tours:
            return sum((a.end - a.start).total_seconds() / 3600.0 for a in tours)
        return rostered_hours(self.code(officer, day), self.policy)

    def period(self, day: dt.date) -> int:
        return (day - self.policy.pattern_epoch).days // self.period_days

    def period_span(self, period: int) -> tuple[dt.date, dt.date]:
        first = self.policy.pattern_epoch + dt.timedelta(days=period * self.period_days)
        return first, first + dt.timedelta(days=self.period_days - 1)

    def period_hours(self, officer: Officer, period: int) -> float:
        """Hours worked in a reference period under the plan: the shift pattern's rostered hours,
        less those of leave days, with each day of event tours at the tours' hours instead."""
        key = (officer.service_number, period)
        found = self._period_hours.get(key)
        if found is None:
            first, last = self.period_span(period)
            cycle = self.policy.shift_patterns[officer.shift_pattern].cycle
            offset = officer.pattern_offset % len(cycle)
            found = self.pattern_hours(officer.shift_pattern, offset, period)
            base = (first - self.policy.pattern_epoch).days + offset
            for start, end in merged_leave(officer, first, last):
                for i in range(start, end + 1):
                    found -= rostered_hours(cycle[(base + i) % len(cycle)], self.policy)
            for day in self.days_of.get(officer.service_number, ()):
                if first <= day <= last:
                    found += self.worked_hours(officer, day) - rostered_hours(
                        self.code(officer, day), self.policy
                    )
            self._period_hours[key] = found
        return found

    def pattern_hours(self, pattern: str, offset: int, period: int) -> float:
        """Rostered hours of a shift pattern at `offset` over a reference period (no leave)."""
        key = (pattern, offset, period)
        found = self._pattern_hours.get(key)
        if found is None:
            first, _ = self.period_span(period)
            cycle = self.policy.shift_patterns[pattern].cycle
            base = (first - self.policy.pattern_epoch).days + offset
            found = self._pattern_hours[key] = sum(
                rostered_hours(cycle[(base + i) % len(cycle)], self.policy) for i in range(self.period_days)
            )
        return found

    # ---- the questions

    def suitable(self, source: str, role: str) -> list[Officer]:
        key = (source, role)
        found = self._suitable.get(key)
        if found is None:
            slots = self.policy.roles[role].slots
            found = self._suitable[key] = [
                o
                for o in self.by_unit[source]
                if any(fits_slot(o.rank, self.skills(o), slot) for slot in slots)
            ]
        return found

    def skills(self, officer: Officer) -> frozenset[str]:
        found = self._skills.get(officer.skills)
        if found is None:
            found = self._skills[officer.skills] = effective_skills(officer.skills, self.policy)
        return found

    def lawful(self, officer: Officer, tour: Tour) -> bool:
        """Whether adding `tour` to the officer's duties under the plan keeps every working-time rule."""
        key = (officer.service_number, tour.day, tour.start, tour.end)
        found = self._lawful.get(key)
        if found is None:
            found = self._lawful[key] = self._check(officer, tour)
        return found

    def _check(self, officer: Officer, tour: Tour) -> bool:
        day = tour.day
        code = self.code(officer, day)
        if code == LEAVE:
            return False
        if (officer.service_number, day) in self.tours:
            return False
        before = self.duty(officer, day - _DAY)
        if before is not None and tour.start - before[1] < self.rest:
            return False
        after = self.duty(officer, day + _DAY)
        if after is not None and after[0] - tour.end < self.rest:
            return False
        if code == REST and self._run(officer, day) > self.max_run:
            return False
        hours = self.period_hours(officer, self.period(day))
        hours += (tour.end - tour.start).total_seconds() / 3600.0 - self.worked_hours(officer, day)
        return hours <= self.hours_limit + _EPS

    def _run(self, officer: Officer, day: dt.date) -> int:
        """Working days in a row through `day` once the officer works it (looked at up to one
        day past the limit each way)."""
        run = 1
        for step in (-_DAY, _DAY):
            d = day + step
            for _ in range(self.max_run + 1):
                if not self.works(officer, d):
                    break
                run += 1
                d += step
        return run

    def tour(self, event: Event, tour: Tour, role: str) -> SourceCounts:
        """Per source with suitable officers: (suitable, lawful) for this tour and role."""
        out: SourceCounts = {}
        for source in self.sources:
            suitable = self.suitable(source, role)
            if suitable:
                out[source] = (len(suitable), sum(self.lawful(o, tour) for o in suitable))
        return out


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Mismatch:
    """One short tour whose explanation disagrees with the recount (None: no explanation)."""

    event_id: str
    tour_index: int
    role: str
    explained: SourceCounts | None
    recounted: SourceCounts

    def differences(self) -> dict[str, tuple[tuple[int, int] | None, tuple[int, int] | None]]:
        """Source -> (explained, recounted) (suitable, lawful) where they differ."""
        explained = self.explained or {}
        return {
            s: (explained.get(s), self.recounted.get(s))
            for s in sorted(set(explained) | set(self.recounted))
            if explained.get(s) != self.recounted.get(s)
        }


def _counts(x: TourExplanation) -> SourceCounts:
    return {s.source: (s.suitable, s.lawful_on_duty + s.lawful_rest_day) for s in x.sources}


def explanation_differences(problem: PlanningProblem, plan: Plan) -> list[Mismatch]:
    """Every short tour whose explanation's per-source suitable or lawful counts differ from the
    independent recount (a short tour with no explanation counts as differing)."""
    cover = _plan_cover(problem, plan)
    explained = {(x.event_id, x.tour_index, x.role): x for x in explain_plan(problem, plan, cover=cover)}
    recount = Recount(problem, plan)
    out = []
    for key in sorted(short_tours(problem, plan)):
        event_id, tour_index, role = key
        found = cover.tour(event_id, tour_index)
        if found is None or role not in problem.policy.roles:
            continue  # not demand this recount can read; the validator reports it
        counted = recount.tour(*found, role)
        x = explained.get(key)
        got = _counts(x) if x is not None else None
        if got != counted:
            out.append(
                Mismatch(
                    event_id=event_id, tour_index=tour_index, role=role, explained=got, recounted=counted
                )
            )
    return out


def explanation_mismatches(problem: PlanningProblem, plan: Plan) -> int:
    """Short tours whose explanation disagrees with the recount for any source."""
    return len(explanation_differences(problem, plan))
