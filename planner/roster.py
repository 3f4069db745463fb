"""Officer-by-day duty state of a plan under construction, held as numpy arrays.

Both named-rostering stages (the solver's and the greedy baseline's) ask the same questions of it:
who is rostered on, who could lawfully work this tour, and who has been abstracted least. One
implementation serves them all; the validator keeps its own independent checks.

Days are indexed from `margin` days before the plan starts (index 0) to `margin` days after it
ends, so that rest rules can see the rostered duties just beyond each edge. Times are minutes
from midnight of day 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from planner.domain import Officer, PlanningProblem, Tour
from planner.rules import REST, effective_skills

NONE = np.int32(-1)
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Roster status codes in the `status` matrix.
ON, RESTING, ON_LEAVE = 0, 1, 2


class Roster:
    def __init__(self, problem: PlanningProblem, officers: Sequence[Officer] | None = None) -> None:
        self.problem = problem
        self.policy = policy = problem.policy
        self.officers: Sequence[Officer] = problem.officers if officers is None else officers
        self.index = {o.service_number: i for i, o in enumerate(self.officers)}
        wt = policy.working_time
        self.margin = max(1, wt.max_consecutive_work_days)
        self.day0 = problem.start - dt.timedelta(days=self.margin)
        self.n_days = (problem.end - problem.start).days + 1 + 2 * self.margin
        self.rest_minutes = int(round(wt.min_rest_hours * 60))
        self.max_run = wt.max_consecutive_work_days
        n = len(self.officers)
        self.status = np.full((n, self.n_days), RESTING, dtype=np.int8)
        self.start = np.full((n, self.n_days), NONE, dtype=np.int32)
        self.end = np.full((n, self.n_days), NONE, dtype=np.int32)
        self.rostered_hours = np.zeros((n, self.n_days), dtype=np.float32)
        self.on_event = np.zeros((n, self.n_days), dtype=np.bool_)
        self.abstractions = np.zeros(n, dtype=np.int32)
        self._cycle_cache: dict[str, npt.NDArray[np.float64]] = {}
        self._fill_base_roster()
        # The published roster, to restore a day when a plan takes its deployments back.
        self._base = (self.start.copy(), self.end.copy(), self.rostered_hours.copy())
        self._init_hours_windows()

    # ------------------------------------------------------------------ construction

    def _fill_base_roster(self) -> None:
        policy = self.policy
        offsets = (self.day0 - policy.pattern_epoch).days + np.arange(self.n_days)
        by_pattern: dict[str, list[int]] = {}
        for i, officer in enumerate(self.officers):
            by_pattern.setdefault(officer.shift_pattern, []).append(i)
        for pattern_name, rows_list in by_pattern.items():
            rows = np.asarray(rows_list, dtype=np.int64)
            cycle = policy.shift_patterns[pattern_name].cycle
            letters = np.frombuffer(cycle.encode(), dtype=np.uint8)
            shift = np.asarray([self.officers[i].pattern_offset for i in rows_list], dtype=np.int64)
            codes = letters[(offsets[None, :] + shift[:, None]) % len(cycle)]
            for letter in np.unique(codes):
                code = chr(int(letter))
                mask = codes == letter
                if code == REST:
                    continue
                tour = policy.tour_times[code]
                r, d = np.nonzero(mask)
                self.status[rows[r], d] = ON
                self.start[rows[r], d] = d * 1440 + tour.start_minute
                self.end[rows[r], d] = d * 1440 + tour.start_minute + int(round(tour.hours * 60))
                self.rostered_hours[rows[r], d] = tour.hours
        for i, officer in enumerate(self.officers):
            for leave in officer.leave:
                a = max(0, (leave.start - self.day0).days)
                b = min(self.n_days - 1, (leave.end - self.day0).days)
                if a <= b:
                    self.status[i, a : b + 1] = ON_LEAVE
                    self.start[i, a : b + 1] = NONE
                    self.end[i, a : b + 1] = NONE
                    self.rostered_hours[i, a : b + 1] = 0.0

    def _init_hours_windows(self) -> None:
        """Reference periods for the average-weekly-hours rule.

        Periods are fixed blocks of `reference_weeks` weeks counted from the roster epoch, so a
        short plan is judged on the whole period it falls in: days outside the plan count at
        their rostered hours (see rules.reference_period)."""
        policy = self.policy
        period = policy.working_time.reference_weeks * 7
        absolute = (self.day0 - policy.pattern_epoch).days + np.arange(self.n_days)
        period_index = absolute // period
        self.window_of_day = period_index - period_index[0]
        n_windows = int(self.window_of_day.max()) + 1
        self.window_cap = np.full(n_windows, policy.working_time.max_average_weekly_hours * period / 7.0)
        self.window_hours = np.zeros((len(self.officers), n_windows), dtype=np.float64)
        hours = self._worked_hours()
        inside = np.zeros(self.n_days, dtype=np.bool_)
        inside[self.margin : -self.margin] = True  # margin days are counted from the pattern below
        first_inside, last_inside = absolute[self.margin], absolute[-self.margin - 1]
        for w in range(n_windows):
            first = (int(period_index[0]) + w) * period
            outside_days = [a for a in range(first, first + period) if not (first_inside <= a <= last_inside)]
            self.window_hours[:, w] = hours[:, inside & (self.window_of_day == w)].sum(axis=1)
            self.window_hours[:, w] += self._pattern_hours(outside_days)

    def _pattern_hours(self, absolute_days: list[int]) -> npt.NDArray[np.float64]:
        """Rostered hours per officer over days given as offsets from the roster epoch (leave days
        are not worked, as the validator counts them)."""
        out = np.zeros(len(self.officers), dtype=np.float64)
        if not absolute_days:
            return out
        days = np.asarray(absolute_days, dtype=np.int64)
        epoch = self.policy.pattern_epoch
        for i, officer in enumerate(self.officers):
            cycle = self.policy.shift_patterns[officer.shift_pattern].cycle
            hours = self._cycle_hours(cycle)[(days + officer.pattern_offset) % len(cycle)]
            for leave in officer.leave:
                first, last = (leave.start - epoch).days, (leave.end - epoch).days
                hours = np.where((days >= first) & (days <= last), 0.0, hours)
            out[i] = hours.sum()
        return out

    def _cycle_hours(self, cycle: str) -> npt.NDArray[np.float64]:
        cached = self._cycle_cache.get(cycle)
        if cached is None:
            tours = self.policy.tour_times
            cached = np.asarray([tours[c].hours if c in tours else 0.0 for c in cycle], dtype=np.float64)
            self._cycle_cache[cycle] = cached
        return cached

    def _worked_hours(self) -> npt.NDArray[np.float64]:
        working = self.start >= 0
        return np.where(working, (self.end - self.start) / 60.0, 0.0)

    # ------------------------------------------------------------------ queries

    def day_index(self, day: dt.date) -> int:
        return (day - self.day0).days

    def minutes(self, start: dt.datetime, end: dt.datetime) -> tuple[int, int]:
        """A duty's start and end in the roster's minutes (from midnight of day 0)."""
        base = dt.datetime.combine(self.day0, dt.time())
        return int((start - base).total_seconds() // 60), int((end - base).total_seconds() // 60)

    def tour_minutes(self, tour: Tour) -> tuple[int, int]:
        return self.minutes(tour.start, tour.end)

    def eligible(
        self,
        rows: IntArray,
        day: int,
        start: int,
        end: int,
        spacing_ok: BoolArray | None = None,
        *,
        ignore_before: bool = False,
        ignore_after: bool = False,
    ) -> BoolArray:
        """Which of `rows` could lawfully work a tour [start, end) on `day` given the plan so far.

        Checks leave, one tour a day, rest before and after, rest-day spacing and average weekly
        hours. The tour replaces whatever the officer was rostered to do that day. Callers asking
        about several tours on one day may pass `spacing_ok(rows, day)`, which does not depend
        on the tour's hours. `ignore_before`/`ignore_after` leave out rest against the duty the
        day before/after (for a caller about to replace that duty)."""
        status = self.status[rows, day]
        ok = (status != ON_LEAVE) & ~self.on_event[rows, day]
        prev_end = self.end[rows, day - 1] if day > 0 else np.full(len(rows), NONE)
        if not ignore_before:
            ok &= (prev_end < 0) | (start - prev_end >= self.rest_minutes)
        if day + 1 < self.n_days and not ignore_after:
            next_start = self.start[rows, day + 1]
            ok &= (next_start < 0) | (next_start - end >= self.rest_minutes)
        if spacing_ok is not None:
            ok &= spacing_ok
        else:
            resting = ok & (status == RESTING)
            if resting.any():
                ok[resting] = self._run_through(rows[resting], day) <= self.max_run
        window = self.window_of_day[day]
        extra = (end - start) / 60.0 - self.rostered_hours[rows, day]
        ok &= self.window_hours[rows, window] + extra <= self.window_cap[window] + 1e-6
        return np.asarray(ok, dtype=np.bool_)

    def spacing_ok(self, rows: IntArray, day: int) -> BoolArray:
        """Rest-day spacing alone: working `day` keeps each of `rows` within the longest run of
        working days. Only a cancelled rest day can lengthen a run, so on-duty rows pass."""
        ok = np.ones(len(rows), dtype=np.bool_)
        resting = self.status[rows, day] == RESTING
        if resting.any():
            ok[resting] = self._run_through(rows[resting], day) <= self.max_run
        return ok

    def _run_through(self, rows: IntArray, day: int) -> IntArray:
        """Length of the run of consecutive working days that working `day` would create."""
        working = self.start[rows] >= 0
        run = np.ones(len(rows), dtype=np.int64)
        for step in (-1, 1):
            alive = np.ones(len(rows), dtype=np.bool_)
            d = day + step
            for _ in range(self.max_run + 1):
                if not 0 <= d < self.n_days:
                    break
                alive &= working[:, d]
                run += alive
                d += step
        return run

    def rows_of(self, service_numbers: Sequence[str]) -> IntArray:
        return np.asarray([self.index[s] for s in service_numbers], dtype=np.int64)

    def pick(
        self, rows: IntArray, count: int, day: int, start: int, end: int, prefer: BoolArray | None = None
    ) -> IntArray:
        """Up to `count` eligible officers of `rows`, least-abstracted first (ties by position);
        officers marked in `prefer` (indexed by roster row) before the others."""
        if count <= 0 or len(rows) == 0:
            return np.empty(0, dtype=np.int64)
        candidates = rows[self.eligible(rows, day, start, end)]
        if len(candidates) <= count:
            return candidates
        if prefer is None:
            order = np.argsort(self.abstractions[candidates], kind="stable")
        else:
            order = np.lexsort((self.abstractions[candidates], ~prefer[candidates]))
        return candidates[order[:count]]

    # ------------------------------------------------------------------ updates

    def assign(self, rows: IntArray, day: int, start: int, end: int) -> None:
        """Record that `rows` work the tour [start, end) on `day` instead of their rostered duty."""
        if len(rows) == 0:
            return
        window = self.window_of_day[day]
        self.window_hours[rows, window] += (end - start) / 60.0 - self.rostered_hours[rows, day]
        self.start[rows, day] = start
        self.end[rows, day] = end
        self.rostered_hours[rows, day] = (end - start) / 60.0
        self.on_event[rows, day] = True
        self.abstractions[rows] += 1

    def published_duty(self, row: int, day: int) -> tuple[int, int]:
        """(start, end) minutes of the row's published duty on `day`, NONE for none: what they
        would go back to if their event tour that day were taken back."""
        start, end, _ = self._base
        return int(start[row, day]), int(end[row, day])

    def rest_conflicts(self, rows: IntArray, day: int) -> BoolArray:
        """Which of `rows` have less than the minimum rest between their duty on `day` and the
        duties either side (after a plan has changed one of them)."""
        start, end = self.start[rows, day], self.end[rows, day]
        working = start >= 0
        out = np.zeros(len(rows), dtype=np.bool_)
        if day > 0:
            prev_end = self.end[rows, day - 1]
            out |= working & (prev_end >= 0) & (start - prev_end < self.rest_minutes)
        if day + 1 < self.n_days:
            next_start = self.start[rows, day + 1]
            out |= working & (next_start >= 0) & (next_start - end < self.rest_minutes)
        return np.asarray(out, dtype=np.bool_)

    def unassign(self, rows: IntArray, day: int) -> None:
        """Take back `rows`' event tours on `day`: they return to their published duty."""
        rows = rows[self.on_event[rows, day]]
        if len(rows) == 0:
            return
        start, end, hours = self._base
        window = self.window_of_day[day]
        self.window_hours[rows, window] += hours[rows, day] - self.rostered_hours[rows, day]
        self.start[rows, day] = start[rows, day]
        self.end[rows, day] = end[rows, day]
        self.rostered_hours[rows, day] = hours[rows, day]
        self.on_event[rows, day] = False
        self.abstractions[rows] -= 1

    def set_available(self, row: int, day: int, available: bool) -> None:
        """Make one officer-day unavailable (sickness, court, leave granted after publication) or
        available again (leave withdrawn: the rostered duty comes back), in the published roster
        as well as the plan's. The caller takes back any event tour on that day first."""
        if self.on_event[row, day]:
            raise ValueError("take the officer's event tour back before changing their availability")
        if available:
            status, start, end, hours = self._pattern_duty(row, day)
        else:
            status, start, end, hours = ON_LEAVE, int(NONE), int(NONE), 0.0
        window = self.window_of_day[day]
        self.window_hours[row, window] += hours - self.rostered_hours[row, day]
        self.status[row, day] = status
        for array, value in zip(
            (self.start, self.end, self.rostered_hours), (start, end, hours), strict=True
        ):
            array[row, day] = value
        for array, value in zip(self._base, (start, end, hours), strict=True):
            array[row, day] = value

    def _pattern_duty(self, row: int, day: int) -> tuple[int, int, int, float]:
        """(status, start, end, hours) the officer's shift pattern rosters on `day`."""
        officer = self.officers[row]
        cycle = self.policy.shift_patterns[officer.shift_pattern].cycle
        offset = (self.day0 - self.policy.pattern_epoch).days + day + officer.pattern_offset
        code = cycle[offset % len(cycle)]
        if code == REST:
            return RESTING, int(NONE), int(NONE), 0.0
        tour = self.policy.tour_times[code]
        start = day * 1440 + tour.start_minute
        return ON, start, start + int(round(tour.hours * 60)), float(tour.hours)


def class_key(
    officer: Officer, relevant_skills: frozenset[str], skills: frozenset[str]
) -> tuple[str, str, str, tuple[str, ...]]:
    """The aggregation key of an officer in stage-1 models: interchangeable officers share it."""
    return (officer.unit, officer.duty_role, officer.rank, tuple(sorted(skills & relevant_skills)))


def officer_classes(
    problem: PlanningProblem,
) -> tuple[list[tuple[str, str, str, tuple[str, ...]]], IntArray]:
    """Partition officers into classes of interchangeable officers; returns keys and class per officer."""
    policy = problem.policy
    relevant = frozenset(s for role in policy.roles.values() for slot in role.slots for s in slot.skills)
    keys: dict[tuple[str, str, str, tuple[str, ...]], int] = {}
    out = np.empty(len(problem.officers), dtype=np.int64)
    cache: dict[tuple[str, ...], frozenset[str]] = {}
    for i, officer in enumerate(problem.officers):
        skills = cache.get(officer.skills)
        if skills is None:
            skills = cache[officer.skills] = effective_skills(officer.skills, policy)
        out[i] = keys.setdefault(class_key(officer, relevant, skills), len(keys))
    return list(keys), out
