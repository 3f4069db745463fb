"""Least-disruption re-planning of a published plan.

A published plan is a promise to officers. A re-plan answers the input changes since its parent
version (planner.changes) in the smallest neighbourhood that can absorb them and keeps everything
else as it was:

1. **Forced changes first.** Assignments that can no longer stand are withdrawn: cancelled events,
   tours whose times changed (kept where the same officers can lawfully work the new times), units
   beyond a lowered demand (the costliest first), and the duties of officers who became
   unavailable. A unit that lost one member is repaired by one lawful replacement from its own
   source before the unit is given up, so a sickness disturbs one officer, not eight.
2. **Cover the residual.** What is left short on the affected tours is covered against the live
   roster (the version's every deployment applied): large residuals by the day's allocation model
   and named rostering (solver.live.DayPlanner), then every remaining shortfall by the exact
   max-flow cover over all sources (solver.completion), cheapest lawful unit first. Rest days are
   priced from the re-plan's day, so short-notice cancellations cost what the regulations charge.
3. **Widen only when that fails.** If critical or high demand is still short, lower-priority units
   on the same day whose officers could lawfully do it are released one at a time, lowest priority
   first, and the released demand is re-covered; a release stands only if it raises the covered
   value. Units in the frozen window (tours starting within the policy's lead time) are released
   only after every published one has been tried; history (tours already started) and pins never move.

Nothing here re-solves the year: the work is proportional to the affected tours and the officers
who could take them. The roster, supply classes and cover context are built once per version and
kept warm (`LiveVersion`), which is what makes a small change fast.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable

import msgspec
import numpy as np

from planner.changes import InputChanges, detect
from planner.cover import CoverContext, measure, pick_units
from planner.disruption import DutyChange, diff
from planner.domain import Event, PlanningProblem, Record, RoleSpec, Struct, Tour
from planner.plan import Assignment, Plan, Shortfall
from planner.roster import ON, Roster, officer_classes
from planner.rules import event_tours
from solver.allocation.inputs import SupplyIndex
from solver.assembly import shortfalls_of
from solver.completion import complete
from solver.live import DayPlanner, TourDemands, apply, residual
from solver.rostering import deploy_unit

# Above this many officers short on one day, the day's allocation model decides the sources first.
MODEL_THRESHOLD_OFFICERS = 120
# Donor units tried per short role when widening: each try measures cover over every source.
MAX_RELEASES_TRIED = 24
PRIORITY_RANK = {"critical": 0, "high": 1, "normal": 2, "low": 3}


class Pin(Record, frozen=True):
    """Keeps assignments from moving: a whole event, one of its tours, or one officer on it."""

    event_id: str
    tour_index: int | None = None
    service_number: str | None = None

    def holds(self, a: Assignment) -> bool:
        return (
            a.event_id == self.event_id
            and (self.tour_index is None or a.tour_index == self.tour_index)
            and (self.service_number is None or a.service_number == self.service_number)
        )


class ReplanOptions(Record, frozen=True):
    as_of: dt.datetime  # when the change is made: notice counts from here, earlier tours are history
    pins: tuple[Pin, ...] = ()
    published_through: dt.date | None = None  # beyond it the plan is a draft and changes cost nothing
    unit_tag: str = "r"  # makes the unit ids this re-plan creates unique in the version's lineage


class ReplanRefused(ValueError):
    """The input changes are not ones a re-plan can answer (plan anew instead)."""


class ReplanStats(Struct):
    seconds: float
    days: list[dt.date]  # days whose deployments the re-plan looked at
    withdrawn_forced: int  # assignments that could not stand
    members_replaced: int  # unit holes filled by one replacement officer
    units_added: int
    units_released: int  # lower-priority units released to cover higher-priority demand
    units_made_compliant: int  # units formed again with fewer short-notice rest-day cancellations
    frozen_released: int  # of those, in the frozen window
    replacement_candidates: int  # lawful officers found for unit holes
    short_before: int  # officers short on the affected tours before covering
    short_after: int


class VersionDelta(Struct):
    """What a version changes in its parent: assignments removed and added (a moved officer is
    both), and the shortfalls of the days it re-measured."""

    removed: list[Assignment]
    added: list[Assignment]
    days: list[dt.date]  # days whose shortfalls were measured again
    shortfalls: list[Shortfall]  # the shortfalls on those days now


class ReplanResult(Struct):
    delta: VersionDelta
    changes: list[DutyChange]
    inputs: InputChanges
    stats: ReplanStats


class LiveVersion:
    """A version's plan applied to a roster, with the indexes a re-plan needs; kept warm between
    re-plans and moved forward by each (`replan` mutates it into the new version). Every officer-day
    a re-plan touches is journalled with its duty before, so the diff costs what the change costs,
    not a pass over the year."""

    def __init__(self, problem: PlanningProblem, plan: Plan) -> None:
        self.problem = problem
        self.roster = Roster(problem)
        apply(self.roster, plan.assignments)
        keys, class_of = officer_classes(problem)
        self.index = SupplyIndex(problem, keys, class_of)
        self.planner = DayPlanner(problem, self.roster, self.index)
        self.ctx = CoverContext(problem, self.roster)
        for role, spec in problem.policy.roles.items():  # warm: the first re-plan should not pay for it
            for i in range(len(spec.slots)):
                self.ctx.fits(role, i)
        self.officers = {o.service_number: o for o in problem.officers}
        self.by_unit: dict[str, list[Assignment]] = {}
        self.by_officer_day: dict[tuple[str, dt.date], Assignment] = {}
        self.units_of_tour: dict[tuple[str, int], set[str]] = defaultdict(set)
        self.units_of_day: dict[dt.date, set[str]] = defaultdict(set)
        self.days_of_officer: dict[str, set[dt.date]] = defaultdict(set)
        self.shortfalls: dict[dt.date, list[Shortfall]] = defaultdict(list)
        for s in plan.shortfalls:
            self.shortfalls[s.day].append(s)
        self.journal: dict[tuple[str, dt.date], Assignment | None] = {}
        self._index(plan.assignments)
        self.journal.clear()

    def _index(self, members: Iterable[Assignment]) -> None:
        for a in members:
            key = (a.service_number, a.day)
            self.journal.setdefault(key, self.by_officer_day.get(key))
            self.by_unit.setdefault(a.unit_id, []).append(a)
            self.by_officer_day[key] = a
            self.units_of_tour[(a.event_id, a.tour_index)].add(a.unit_id)
            self.units_of_day[a.day].add(a.unit_id)
            self.days_of_officer[a.service_number].add(a.day)

    @property
    def assignments(self) -> Iterable[Assignment]:
        for members in self.by_unit.values():
            yield from members

    def units_of_event(self, event_id: str, tours: int) -> list[str]:
        return [u for t in range(tours) for u in self.units_of_tour.get((event_id, t), ())]

    def on_tour(self, event_id: str, tour_index: int) -> list[Assignment]:
        return [a for u in self.units_of_tour.get((event_id, tour_index), ()) for a in self.by_unit[u]]

    def withdraw(self, members: list[Assignment]) -> None:
        """Take assignments off the roster and out of the version."""
        roster = self.roster
        for a in members:
            roster.unassign(np.asarray([roster.index[a.service_number]]), roster.day_index(a.day))
            key = (a.service_number, a.day)
            self.journal.setdefault(key, self.by_officer_day.get(key))
            self.by_officer_day.pop(key, None)
            self.days_of_officer[a.service_number].discard(a.day)
            unit = self.by_unit.get(a.unit_id)
            if unit is not None:
                unit.remove(a)
                if not unit:
                    del self.by_unit[a.unit_id]
                    self.units_of_tour[(a.event_id, a.tour_index)].discard(a.unit_id)
                    self.units_of_day[a.day].discard(a.unit_id)

    def add(self, members: Iterable[Assignment]) -> None:
        """Record assignments already put on the roster."""
        self._index(members)

    def scope(self, officers: Iterable[str], days: Iterable[dt.date]) -> Plan:
        """The assignments of `officers` and every assignment on `days`, with those days'
        shortfalls: all that planner.validate.validate_change reads of a version."""
        days = set(days)
        mine = {
            (n, d): self.by_officer_day[(n, d)] for n in officers for d in self.days_of_officer.get(n, ())
        }
        for day in days:
            for u in self.units_of_day.get(day, ()):
                for a in self.by_unit[u]:
                    mine[(a.service_number, a.day)] = a
        shortfalls = [s for day in sorted(days) for s in self.shortfalls.get(day, ())]
        return Plan(assignments=list(mine.values()), shortfalls=shortfalls)

    def plan(self) -> Plan:
        """The version as a Plan (sorted as the solver stores plans)."""
        assignments = sorted(
            self.assignments, key=lambda a: (a.day, a.event_id, a.tour_index, a.unit_id, a.slot)
        )
        shortfalls = [s for day in sorted(self.shortfalls) for s in self.shortfalls[day]]
        return Plan(assignments=assignments, shortfalls=shortfalls, method="re-plan")


class _Replan:
    """One re-plan's working state over a LiveVersion."""

    def __init__(self, live: LiveVersion, after: PlanningProblem, options: ReplanOptions) -> None:
        self.live = live
        self.after = after
        self.options = options
        self.events = {e.external_id: e for e in after.events if e.status == "planned"}
        self.old_events = {e.external_id: e for e in live.problem.events}
        self.frozen_until = options.as_of + dt.timedelta(hours=after.policy.replanning.frozen_hours)
        self.touched_days: set[dt.date] = set()
        self.affected: set[str] = set()  # events whose demand must be re-checked
        self.serial = 0
        self.withdrawn_forced = self.members_replaced = self.units_added = 0
        self.units_released = self.frozen_released = 0
        self.considered: set[int] = set()
        self.new_units: set[str] = set()
        self.units_made_compliant = 0

    # ----------------------------------------------------------------- windows

    def movable(self, a: Assignment) -> bool:
        """Neither history nor pinned (frozen assignments are movable, as a last resort)."""
        return a.start >= self.options.as_of and not any(p.holds(a) for p in self.options.pins)

    def frozen(self, a: Assignment) -> bool:
        return a.start < self.frozen_until

    def future(self, tour: Tour) -> bool:
        return tour.start >= self.options.as_of and self.after.start <= tour.day <= self.after.end

    def fresh_unit_id(self, event_id: str, tour_index: int, role: str, source: str) -> str:
        self.serial += 1
        return f"{event_id}/{tour_index}/{role}/{source}/{self.options.unit_tag}{self.serial}"

    def _tour_count(self, event_id: str) -> int:
        """Tours the event had in the parent version or has now (a retimed event may change both)."""
        old = self.old_events.get(event_id)
        new = self.events.get(event_id)
        counts = [len(event_tours(e, self.after.policy)) for e in (old, new) if e is not None]
        return max(counts, default=0)

    def touch_events(self, event_ids: Iterable[str]) -> None:
        """The days of these events' tours, before and after the change, are re-measured."""
        for event_id in event_ids:
            for event in (self.old_events.get(event_id), self.events.get(event_id)):
                if event is not None:
                    self.touched_days.update(t.day for t in event_tours(event, self.after.policy))

    def _forced(self, members: list[Assignment], settle: bool = True) -> None:
        self.live.withdraw(members)
        self.withdrawn_forced += len(members)
        self.touched_days.update(a.day for a in members)
        if settle:
            self._settle_rest(members)

    def _settle_rest(self, withdrawn: list[Assignment]) -> None:
        """An officer taken off an event tour goes back to their rostered duty, which may leave too
        little rest beside an event tour the day before or after (the tour had replaced a night,
        say). That neighbouring tour then goes too, and its post is refilled as for an absence."""
        roster = self.live.roster
        for a in withdrawn:
            row = np.asarray([roster.index[a.service_number]])
            d = roster.day_index(a.day)
            if not roster.rest_conflicts(row, d)[0]:
                continue
            for step in (-1, 1):
                b = self.live.by_officer_day.get((a.service_number, a.day + dt.timedelta(days=step)))
                if b is not None and self.movable(b) and roster.rest_conflicts(row, d)[0]:
                    self._vacate(b)

    def _reverting_conflicts(self, members: list[Assignment]) -> int:
        """Members whose rostered duty, were they taken off this tour, would clash with a
        neighbouring day's duty (taking them off would disturb that day too)."""
        roster = self.live.roster
        out = 0
        for a in members:
            r, d = roster.index[a.service_number], roster.day_index(a.day)
            start, end = roster.published_duty(r, d)
            if start < 0:
                continue
            before = (
                d > 0 and roster.end[r, d - 1] >= 0 and start - roster.end[r, d - 1] < roster.rest_minutes
            )
            after = (
                d + 1 < roster.n_days
                and roster.start[r, d + 1] >= 0
                and roster.start[r, d + 1] - end < roster.rest_minutes
            )
            out += int(before or after)
        return out

    def _vacate(self, a: Assignment) -> None:
        """Take `a` off its tour and refill the post, or give the unit up if nobody can."""
        self._forced([a])
        self.affected.add(a.event_id)
        if not self._replace(a):
            rest = list(self.live.by_unit.get(a.unit_id, ()))
            if all(self.movable(m) for m in rest):
                self._forced(rest)

    # ----------------------------------------------------------------- forced changes

    def cancelled(self, event_ids: Iterable[str]) -> None:
        for event_id in event_ids:
            for unit_id in list(self.live.units_of_event(event_id, self._tour_count(event_id))):
                self._forced([a for a in self.live.by_unit[unit_id] if self.movable(a)])

    def retimed(self, event_ids: Iterable[str]) -> None:
        """Tours at new times: an officer keeps the tour where they can lawfully work the new
        times, else the unit is withdrawn and its demand re-covered."""
        roster = self.live.roster
        for event_id in event_ids:
            event = self.events[event_id]
            tours = {t.index: t for t in event_tours(event, self.after.policy)}
            self.affected.add(event_id)
            for unit_id in list(self.live.units_of_event(event_id, self._tour_count(event_id))):
                members = list(self.live.by_unit[unit_id])
                first = members[0]
                if not self.movable(first):
                    continue
                tour = tours.get(first.tour_index)
                if (
                    tour is not None
                    and tour.day == first.day
                    and (tour.start, tour.end) == (first.start, first.end)
                ):
                    continue
                self._forced(members)
                if tour is None or tour.day != first.day or not self.future(tour):
                    continue
                rows = roster.rows_of([a.service_number for a in members])
                d = roster.day_index(tour.day)
                if roster.eligible(rows, d, *roster.tour_minutes(tour)).all():
                    moved = [msgspec.structs.replace(a, start=tour.start, end=tour.end) for a in members]
                    apply(roster, moved)
                    self.live.add(moved)
                    self.withdrawn_forced -= len(members)  # kept, at new times

    def trimmed(self, event_ids: Iterable[str]) -> None:
        """Units beyond a lowered demand go, those costing most (rest days cancelled) first."""
        for event_id in event_ids:
            event = self.events[event_id]
            self.affected.add(event_id)
            want = {d.role: d.count for d in event.demand}
            groups: dict[tuple[int, str], list[list[Assignment]]] = defaultdict(list)
            for unit_id in self.live.units_of_event(event_id, self._tour_count(event_id)):
                members = self.live.by_unit[unit_id]
                groups[(members[0].tour_index, members[0].role)].append(list(members))
            for (_, role), units in groups.items():
                excess = len(units) - want.get(role, 0)
                if excess <= 0:
                    continue
                candidates = [u for u in units if all(self.movable(a) for a in u)]
                candidates.sort(
                    key=lambda u: (
                        self._reverting_conflicts(u),
                        -sum(a.rest_day_cancelled for a in u),
                        not self.frozen(u[0]),
                    )
                )
                for members in candidates[:excess]:
                    self._forced(list(members))

    def unavailable(self, days: dict[str, tuple[dt.date, ...]]) -> None:
        """Officers who cannot work: their duties go, and each hole is refilled by one lawful
        officer of the unit's source before the unit is given up."""
        roster = self.live.roster
        for number, off_days in days.items():
            row = roster.index.get(number)
            if row is None:
                continue
            for day in off_days:
                d = roster.day_index(day)
                if not 0 <= d < roster.n_days:
                    continue
                a = self.live.by_officer_day.get((number, day))
                if a is not None and a.start < self.options.as_of:
                    continue  # already worked: history
                if a is not None:
                    # On leave the officer has no duty that day, so nothing to settle beside it.
                    self._forced([a], settle=False)
                    self.affected.add(a.event_id)
                roster.set_available(row, d, available=False)
                if a is not None and not self._replace(a):
                    rest = list(self.live.by_unit.get(a.unit_id, ()))
                    if all(self.movable(m) for m in rest):
                        self._forced(rest)

    def available(self, days: dict[str, tuple[dt.date, ...]]) -> None:
        roster = self.live.roster
        for number, on_days in days.items():
            row = roster.index.get(number)
            if row is None:
                continue
            for day in on_days:
                d = roster.day_index(day)
                if 0 <= d < roster.n_days and not roster.on_event[row, d]:
                    roster.set_available(row, d, available=True)

    def _replace(self, hole: Assignment) -> bool:
        """One lawful officer for `hole`'s slot: from the unit's own source if the unit has other
        members, else from any source, nearest first. On-duty officers (within the floors) are
        taken before any rest day is cancelled, across every source allowed; then the least
        abstracted."""
        live, roster = self.live, self.live.roster
        others = live.by_unit.get(hole.unit_id, [])
        if others:
            sources = [hole.source]
        else:
            borough = self.events[hole.event_id].borough if hole.event_id in self.events else None
            org = self.after.organisation
            sources = sorted(org.unit_codes(), key=lambda u: org.travel(u, borough) if borough else 0.0)
        d = roster.day_index(hole.day)
        start, end = roster.minutes(hole.start, hole.end)
        fits = live.ctx.fits(hole.role, hole.slot)
        headroom = live.ctx.headroom(d)
        lawful: list[tuple[str, np.ndarray, np.ndarray]] = []
        for source in sources:
            rows = live.ctx.unit_rows.get(source)
            if rows is None:
                continue
            rows = rows[fits[rows]]
            rows = rows[roster.eligible(rows, d, start, end)]
            self.considered.update(rows.tolist())
            on = roster.status[rows, d] == ON
            groups = live.ctx.group[rows]
            within = np.asarray(
                [not on[i] or headroom.get(int(g), 1 << 30) > 0 for i, g in enumerate(groups)]
            )
            if len(rows) and within.any():
                lawful.append((source, rows[within], on[within]))
        for on_duty_only in (True, False):
            for source, rows, on in lawful:
                pool = rows[on] if on_duty_only else rows
                if len(pool) == 0:
                    continue
                row = int(pool[np.argmin(roster.abstractions[pool])])
                unit_id = (
                    hole.unit_id
                    if others
                    else self.fresh_unit_id(hole.event_id, hole.tour_index, hole.role, source)
                )
                made = deploy_unit(
                    roster,
                    [[row] if i == hole.slot else [] for i in range(hole.slot + 1)],
                    event_id=hole.event_id,
                    tour_index=hole.tour_index,
                    day=hole.day,
                    role=hole.role,
                    unit_id=unit_id,
                    source=source,
                    start=hole.start,
                    end=hole.end,
                )
                live.add(made)
                if not others:
                    self.new_units.add(unit_id)
                self.members_replaced += 1
                return True
        return False

    # ----------------------------------------------------------------- covering

    def demand(self) -> dict[dt.date, TourDemands]:
        """Future tours of the affected events, what the live version leaves short of them."""
        by_day: dict[dt.date, TourDemands] = defaultdict(list)
        for event_id in sorted(self.affected):
            event = self.events.get(event_id)
            if event is None:
                continue
            demands = [(d.role, d.count) for d in event.demand if d.count > 0]
            for tour in event_tours(event, self.after.policy):
                if self.future(tour):
                    by_day[tour.day].append((event, tour, demands))
        out: dict[dt.date, TourDemands] = {}
        for day, tours in by_day.items():
            placed = [a for (e, t, _) in tours for a in self.live.on_tour(e.external_id, t.index)]
            left = residual(tours, placed)
            if left:
                out[day] = left
        return out

    def cover(self, demand: dict[dt.date, TourDemands]) -> None:
        """Cover `demand` against the live roster: the day model first where much is short, then
        the exact cover over all sources for whatever is left."""
        problem, live = self.after, self.live
        live.planner.problem = problem
        for day in sorted(demand):
            tours = [(self._priced_event(e), t, ds) for e, t, ds in demand[day]]
            short = sum(problem.policy.roles[r].size * n for _, _, ds in tours for r, n in ds)
            self.touched_days.add(day)
            if short > MODEL_THRESHOLD_OFFICERS:
                _, named, _ = live.planner.plan(day, tours, 0.0, 0)
                self._take(named)
                tours = residual(tours, named)
            if tours:
                done = complete(problem, live.roster, {day: tours}, [], ctx=live.ctx)
                self._take(done.assignments)
        live.planner.applied.clear()

    def _take(self, made: list[Assignment]) -> None:
        """Record assignments the solver put on the roster, under fresh unit ids."""
        renamed: dict[str, str] = {}
        out = []
        for a in made:
            new_id = renamed.get(a.unit_id)
            if new_id is None:
                new_id = renamed[a.unit_id] = self.fresh_unit_id(a.event_id, a.tour_index, a.role, a.source)
            out.append(msgspec.structs.replace(a, unit_id=new_id))
        self.units_added += len(renamed)
        self.new_units.update(renamed.values())
        self.live.add(out)

    def _priced_event(self, event: Event) -> Event:
        today = self.options.as_of.date()
        if event.notified is not None and event.notified >= today:
            return event
        return msgspec.structs.replace(event, notified=today)

    def prefer_compliant(self) -> None:
        """A unit this re-plan formed with rest days cancelled at short notice is formed again
        where a source can form it with fewer (the day model may trade them against travel or
        fairness; the regulations' notice comes first). Member replacements are not revisited:
        their unit's source is fixed, and on-duty officers were taken first."""
        # A unit formed again frees its old members, which may let an earlier unit improve: repeat
        # while a pass improves something (each improvement cancels fewer rest days, so this ends).
        while self._compliance_pass():
            pass

    def _compliance_pass(self) -> bool:
        live, roster = self.live, self.live.roster
        short_notice = self.after.policy.costs.short_notice_days
        today = self.options.as_of.date()
        improved = False
        for unit_id in sorted(self.new_units):
            members = list(live.by_unit.get(unit_id, ()))
            if not members or (members[0].day - today).days >= short_notice:
                continue
            cancelled = sum(a.rest_day_cancelled for a in members)
            if not cancelled:
                continue
            first = members[0]
            event = self._priced_event(self.events[first.event_id])
            tour = next(t for t in event_tours(event, self.after.policy) if t.index == first.tour_index)
            live.withdraw(members)
            cover = measure(live.ctx, event, tour, first.role, 1)
            better = sorted(
                (s for s in cover.sources if s.units_formable > 0 and s.rest_day_officers < cancelled),
                key=lambda s: (s.rest_day_officers, s.minutes),
            )
            for source in better:
                picked = pick_units(live.ctx, event, tour, first.role, source.source, 1)
                if picked:
                    made = deploy_unit(
                        roster,
                        picked[0],
                        event_id=first.event_id,
                        tour_index=first.tour_index,
                        day=first.day,
                        role=first.role,
                        unit_id=unit_id,
                        source=source.source,
                        start=first.start,
                        end=first.end,
                    )
                    live.add(made)
                    self.units_made_compliant += 1
                    improved = True
                    break
            else:
                apply(roster, members)
                live.add(members)
        return improved

    # ----------------------------------------------------------------- widening

    def widen(self, demand: dict[dt.date, TourDemands]) -> None:
        """Release lower-priority units for critical and high demand still short."""
        weights = self.after.policy.weights.uncovered
        roles = self.after.policy.roles
        for day in sorted(demand):
            for event, tour, demands in demand[day]:
                if PRIORITY_RANK[event.priority] > PRIORITY_RANK["high"]:
                    continue
                for role, short in demands:
                    for frozen_pass in (False, True):
                        short = self._release_for(event, tour, role, short, frozen_pass, weights, roles)
                        if short <= 0:
                            break

    def _release_for(
        self,
        event: Event,
        tour: Tour,
        role: str,
        short: int,
        frozen_pass: bool,
        weights: dict[str, float],
        roles: dict[str, RoleSpec],
    ) -> int:
        """Release donor units one at a time until `short` units of `role` are covered; returns
        what is still short."""
        live, roster = self.live, self.live.roster
        value = weights[event.priority] * roles[role].size
        fits = np.logical_or.reduce([live.ctx.fits(role, i) for i in range(len(roles[role].slots))])
        donors = []
        for unit_id in live.units_of_day.get(tour.day, ()):
            members = live.by_unit[unit_id]
            first = members[0]
            donor_event = self.events.get(first.event_id)
            if first.day != tour.day or donor_event is None or first.event_id == event.external_id:
                continue
            if PRIORITY_RANK[donor_event.priority] <= PRIORITY_RANK[event.priority]:
                continue
            if not all(self.movable(a) for a in members) or self.frozen(first) != frozen_pass:
                continue
            rows = roster.rows_of([a.service_number for a in members])
            if not fits[rows].any():
                continue
            donors.append(
                (
                    -PRIORITY_RANK[donor_event.priority],
                    weights[donor_event.priority] * roles[first.role].size,
                    unit_id,
                )
            )
        donors.sort()
        for _, donor_value, unit_id in donors[:MAX_RELEASES_TRIED]:
            if short <= 0 or donor_value >= value:
                break
            members = list(live.by_unit[unit_id])
            live.withdraw(members)
            before = short
            priced = self._priced_event(event)
            done = complete(
                self.after, roster, {tour.day: [(priced, tour, [(role, short)])]}, [], ctx=live.ctx
            )
            gained = len({a.unit_id for a in done.assignments})
            if gained == 0:  # nothing formed: put the donor back as it was
                apply(roster, members)
                live.add(members)
                continue
            self._take(done.assignments)
            short = before - gained
            self.units_released += 1
            self.frozen_released += int(frozen_pass)
            self.touched_days.add(tour.day)
            donor_event = self.events[members[0].event_id]
            self.affected.add(donor_event.external_id)
            # The released unit's own demand is re-covered if anything else can take it.
            left = self.demand().get(tour.day, [])
            left = [x for x in left if x[0].external_id == donor_event.external_id]
            if left:
                again = complete(
                    self.after,
                    roster,
                    {tour.day: [(self._priced_event(e), t, ds) for e, t, ds in left]},
                    [],
                    ctx=live.ctx,
                )
                self._take(again.assignments)
        return short


def replan(live: LiveVersion, after: PlanningProblem, options: ReplanOptions) -> ReplanResult:
    """The version answering every input change since `live`'s, with `live` moved forward to it."""
    started = time.perf_counter()
    inputs = detect(live.problem, after)
    if inputs.officers_added or inputs.officers_removed or inputs.policy_changed:
        raise ReplanRefused(
            "officers were added or removed, or the policy changed, since this version: "
            "a re-plan answers calendar and availability changes; submit a new plan instead"
        )
    live.journal.clear()
    work = _Replan(live, after, options)
    work.touch_events(
        (*inputs.events_added, *inputs.events_cancelled, *inputs.events_retimed, *inputs.demand_changed)
    )
    work.cancelled(inputs.events_cancelled)
    work.retimed(inputs.events_retimed)
    work.trimmed(inputs.demand_changed)
    work.affected.update(inputs.events_added, inputs.demand_changed, inputs.events_updated)
    work.available(inputs.available)
    work.unavailable(inputs.unavailable)
    _move_inputs(live, after)
    demand = work.demand()
    short_before = _officers_short(after, demand)
    work.cover(demand)
    left = work.demand()
    if any(
        PRIORITY_RANK[e.priority] <= PRIORITY_RANK["high"] for tours in left.values() for e, _, _ in tours
    ):
        work.widen(left)
        left = work.demand()
    work.prefer_compliant()
    delta = _remeasure(live, after, work)
    changes = diff(after, delta.removed, delta.added, options.as_of, live.officers)
    if options.published_through is not None:
        # Beyond the published horizon nobody was told anything: the draft changes for free.
        changes = [
            c if c.day <= options.published_through else msgspec.structs.replace(c, pay=0.0, weight=0.0)
            for c in changes
        ]
    stats = ReplanStats(
        seconds=round(time.perf_counter() - started, 4),
        days=sorted(work.touched_days),
        withdrawn_forced=work.withdrawn_forced,
        members_replaced=work.members_replaced,
        units_added=work.units_added,
        units_released=work.units_released,
        units_made_compliant=work.units_made_compliant,
        frozen_released=work.frozen_released,
        replacement_candidates=len(work.considered),
        short_before=short_before,
        short_after=_officers_short(after, left),
    )
    return ReplanResult(delta=delta, changes=changes, inputs=inputs, stats=stats)


def _move_inputs(live: LiveVersion, after: PlanningProblem) -> None:
    """The live version reads the new inputs from here on (officer records carry their new leave)."""
    if after.officers is not live.problem.officers:
        officers = {o.service_number: o for o in after.officers}
        live.roster.officers = tuple(officers[o.service_number] for o in live.roster.officers)
        live.officers = officers
    live.problem = after
    live.ctx.problem = after
    live.roster.problem = after


def _officers_short(problem: PlanningProblem, demand: dict[dt.date, TourDemands]) -> int:
    roles = problem.policy.roles
    return sum(roles[r].size * n for tours in demand.values() for _, _, ds in tours for r, n in ds)


def _remeasure(live: LiveVersion, after: PlanningProblem, work: _Replan) -> VersionDelta:
    """The journal as removed/added assignments, and the shortfalls (with measured reasons) of the
    days the re-plan touched and their neighbours, where a deployment changes who may work."""
    removed, added = [], []
    for key, was in live.journal.items():
        now = live.by_officer_day.get(key)
        if was == now:
            continue
        if was is not None:
            removed.append(was)
        if now is not None:
            added.append(now)
    days = sorted({d + dt.timedelta(days=k) for d in work.touched_days for k in (-1, 0, 1)})
    demand: dict[dt.date, TourDemands] = defaultdict(list)
    wanted = set(days)
    first, last = min(wanted, default=after.start), max(wanted, default=after.start)
    for event in work.events.values():
        if event.end.date() < first - dt.timedelta(days=1) or event.start.date() > last + dt.timedelta(
            days=1
        ):
            continue  # no tour of it can fall on a re-measured day (a day's slack for briefings)
        for tour in event_tours(event, after.policy):
            if tour.day in wanted and after.start <= tour.day <= after.end:
                demand[tour.day].append(
                    (event, tour, [(d.role, d.count) for d in event.demand if d.count > 0])
                )
    on_days = [a for day in days for u in live.units_of_day.get(day, ()) for a in live.by_unit[u]]
    fresh = shortfalls_of(after, demand, live.ctx, on_days)
    for day in days:
        live.shortfalls.pop(day, None)
    for s in fresh:
        live.shortfalls[s.day].append(s)
    # Shortfalls of events cancelled on untouched days go too.
    for day, rows in list(live.shortfalls.items()):
        live.shortfalls[day] = [s for s in rows if s.event_id in work.events]
    return VersionDelta(removed=removed, added=added, days=days, shortfalls=fresh)


__all__ = ["LiveVersion", "Pin", "ReplanOptions", "ReplanRefused", "ReplanResult", "VersionDelta", "replan"]
