"""The two-stage solve of a whole planning horizon.

1. Allocation, per day (independent days, solved in parallel worker processes): which source
   sends how many units of each role to each event tour, with the LP bound.
2. Named rostering, per source over the whole horizon (independent sources, in parallel): which
   officers fill those counts, day by day, under the working-time rules.
3. Feedback: units a source could not form (usually because rest-day spacing or rest between
   tours rules out the officers stage 1 counted on) are re-allocated by re-solving those days
   against the real roster, a few rounds at most. What remains uncovered is a shortfall with
   its reasons, never an exception.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np

from planner.domain import Event, PlanningProblem, Tour
from planner.plan import Allocation, Assignment, Plan, Progress, Shortfall, StageStats
from planner.roster import IntArray, Roster, officer_classes
from planner.rules import event_tours
from solver.allocation.inputs import ClassKey, SupplyIndex, build_day_input
from solver.allocation.model import QUIET_DAY_GAP, DayResult, UnitAllocation, solve_day
from solver.rostering import RosterResult, UnfilledUnits, UnitRequest, roster_requests

ProgressCallback = Callable[[Progress], None]
CancelCheck = Callable[[], bool]
FEEDBACK_ROUNDS = 3
# Horizons longer than this many days skip the MIP on quiet days (solve_day's quiet_gap).
LONG_HORIZON_DAYS = 31


class SolveCancelled(Exception):
    """The caller asked the solve to stop."""


TourDemands = list[tuple[Event, Tour, list[tuple[str, int]]]]


def tours_by_day(problem: PlanningProblem) -> dict[dt.date, TourDemands]:
    out: dict[dt.date, TourDemands] = defaultdict(list)
    for event in problem.events:
        if event.status != "planned" or not event.demand:
            continue
        demands = [(d.role, d.count) for d in event.demand if d.count > 0]
        for tour in event_tours(event, problem.policy):
            if problem.start <= tour.day <= problem.end:
                out[tour.day].append((event, tour, list(demands)))
    return dict(sorted(out.items()))


# --------------------------------------------------------------------------- worker processes


@dataclass
class _WorkerState:
    """What a worker process holds for the problem it was started with."""

    problem: PlanningProblem
    class_keys: list[ClassKey]
    class_of: IntArray
    _roster: Roster | None = None
    _index: SupplyIndex | None = None
    _demand: dict[dt.date, TourDemands] | None = None

    @property
    def roster(self) -> Roster:
        """The published roster, built on first use (rostering workers never need it)."""
        if self._roster is None:
            self._roster = Roster(self.problem)
        return self._roster

    @property
    def index(self) -> SupplyIndex:
        if self._index is None:
            self._index = SupplyIndex(self.problem, self.class_keys, self.class_of)
        return self._index

    @property
    def demand(self) -> dict[dt.date, TourDemands]:
        if self._demand is None:
            self._demand = tours_by_day(self.problem)
        return self._demand


_worker: _WorkerState | None = None


def _init_worker(problem_bytes: bytes) -> None:
    global _worker
    problem = msgspec.msgpack.decode(problem_bytes, type=PlanningProblem)
    keys, class_of = officer_classes(problem)
    _worker = _WorkerState(problem=problem, class_keys=keys, class_of=class_of)


def _state() -> _WorkerState:
    if _worker is None:
        raise RuntimeError("solver worker used before _init_worker")
    return _worker


def allocate_days(days: list[dt.date], quiet_gap: float = 0.0) -> list[DayResult]:
    """Stage 1 for some days against the published roster (runs in a worker)."""
    state = _state()
    return [
        solve_day(
            build_day_input(state.problem, state.roster, state.index, day, state.demand[day]),
            quiet_gap=quiet_gap,
        )
        for day in days
    ]


def roster_source(source: str, requests: list[UnitRequest]) -> RosterResult:
    """Stage 2 for one source over the whole horizon (runs in a worker)."""
    state = _state()
    problem = state.problem
    rows_all = np.flatnonzero([o.unit == source for o in problem.officers])
    officers = [problem.officers[i] for i in rows_all]
    roster = Roster(problem, officers)
    local_rows = np.arange(len(officers), dtype=np.int64)
    return roster_requests(problem, roster, local_rows, state.class_of[rows_all], requests)


class InProcessExecutor(Executor):
    """Runs tasks in this process: for one worker or small problems, where starting processes
    would cost more than the solve."""

    def __init__(self, problem_bytes: bytes) -> None:
        _init_worker(problem_bytes)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future, as a pool would
            future.set_exception(exc)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        global _worker
        _worker = None


def _executor(problem_bytes: bytes, workers: int, days: int) -> Executor:
    if workers <= 1 or days < 14:
        return InProcessExecutor(problem_bytes)
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=mp.get_context("spawn"),
        initializer=_init_pool_worker,
        initargs=(problem_bytes,),
    )


def _init_pool_worker(problem_bytes: bytes) -> None:
    # HiGHS' MIP writes debugging lines straight to file descriptor 1; a worker reports only
    # through its pipe, so its standard output can go.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    _init_worker(problem_bytes)


# --------------------------------------------------------------------------- orchestration


def _chunks(items: list[dt.date], size: int) -> Iterator[list[dt.date]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def solve(
    problem: PlanningProblem,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    workers: int | None = None,
) -> Plan:
    """Plan every event tour in the problem's horizon down to named officers."""
    report = progress or (lambda _p: None)
    should_stop = cancel or (lambda: False)
    workers = workers or max(1, min(2, os.cpu_count() or 1))
    demand = tours_by_day(problem)
    days = list(demand)
    problem_bytes = msgspec.msgpack.encode(problem)
    stages: list[StageStats] = []

    started = time.perf_counter()
    with _executor(problem_bytes, workers, len(days)) as pool:
        day_results = _run_allocation(pool, demand, report, should_stop)
        stages.append(_allocation_stats(day_results, time.perf_counter() - started))
        roster_started = time.perf_counter()
        tour_times = {(e.external_id, t.index): t for ts in demand.values() for e, t, _ in ts}
        requests = _requests_by_source(day_results, tour_times)
        roster_results = _run_rostering(pool, requests, report, should_stop)
    stages.append(StageStats(name="rostering", status="DONE", seconds=time.perf_counter() - roster_started))

    assignments = [a for r in roster_results for a in r.assignments]
    unfilled = [u for r in roster_results for u in r.unfilled]
    repair_started = time.perf_counter()
    state = RealRoster(problem, tour_times, assignments)
    # Days were allocated against the published roster, but deployments change it: an officer
    # taken off Saturday's night turn for a Saturday event is free on Sunday morning. So days
    # stage 1 left short are planned again, whole and in date order, against the real roster.
    refined = _refine_short_days(state, demand, day_results, report, should_stop)
    unfilled = [u for u in unfilled if u.day not in refined] + [u for r in refined.values() for u in r[1]]
    rounds = _feedback(state, unfilled, report, should_stop)
    stages.append(
        StageStats(
            name="repair",
            status="DONE",
            seconds=time.perf_counter() - repair_started,
            details={
                "days_replanned": float(len(refined)),
                "feedback_rounds": float(rounds),
                "unfilled_units": float(sum(u.units for u in state.unfilled)),
            },
        )
    )
    reasons_by_day = {r.day: r for r in day_results} | {day: r[0] for day, r in refined.items()}
    plan = _assemble(
        problem, demand, list(reasons_by_day.values()), state.assignments(), state.unfilled, stages
    )
    report(
        Progress(
            stage="done",
            done=1,
            total=1,
            message="plan ready",
            objective=stages[0].objective,
            bound=stages[0].bound,
            gap=stages[0].gap,
        )
    )
    return plan


def _run_allocation(
    pool: Executor,
    demand: dict[dt.date, TourDemands],
    report: ProgressCallback,
    should_stop: CancelCheck,
) -> list[DayResult]:
    days = list(demand)
    results: list[DayResult] = []
    objective = bound = 0.0
    quiet_gap = QUIET_DAY_GAP if len(days) > LONG_HORIZON_DAYS else 0.0
    # Busiest days first, in small chunks, so one worker is not left with Carnival at the end.
    by_load = sorted(days, key=lambda d: -sum(n for _e, _t, roles in demand[d] for _r, n in roles))
    # The ten busiest days go one by one (so Carnival's two days land on different workers).
    chunks = [[day] for day in by_load[:10]] + list(_chunks(by_load[10:], 3))
    futures = [pool.submit(allocate_days, chunk, quiet_gap) for chunk in chunks]
    for future in futures:
        if should_stop():
            for f in futures:
                f.cancel()
            raise SolveCancelled
        for result in future.result():
            results.append(result)
            objective += result.objective
            bound += result.bound
        report(
            Progress(
                stage="allocation",
                done=len(results),
                total=len(days),
                message=f"allocated {len(results)} of {len(days)} days",
                objective=objective,
                bound=bound,
                gap=_gap(objective, bound),
            )
        )
    return sorted(results, key=lambda r: r.day)


def _gap(objective: float, bound: float) -> float:
    return max(0.0, objective - bound) / max(abs(objective), 1e-9)


def _allocation_stats(results: list[DayResult], seconds: float) -> StageStats:
    objective = sum(r.objective for r in results)
    bound = sum(r.bound for r in results)
    return StageStats(
        name="allocation",
        status="OPTIMAL" if all(r.status == "OPTIMAL" for r in results) else "FEASIBLE",
        seconds=seconds,
        objective=objective,
        bound=bound,
        gap=_gap(objective, bound),
        details={
            "days": float(len(results)),
            "lp_integral_days": float(sum(r.lp_integral for r in results)),
            "variables": float(sum(r.variables for r in results)),
            "rows": float(sum(r.rows for r in results)),
            "solve_seconds_sum": sum(r.seconds for r in results),
        },
    )


def _requests_by_source(
    results: list[DayResult], tour_times: dict[tuple[str, int], Tour]
) -> dict[str, list[UnitRequest]]:
    out: dict[str, list[UnitRequest]] = defaultdict(list)
    for result in results:
        for alloc in result.allocations:
            out[alloc.source].append(_request(result.day, alloc, tour_times))
    return out


def _request(day: dt.date, alloc: UnitAllocation, tour_times: dict[tuple[str, int], Tour]) -> UnitRequest:
    tour = tour_times[(alloc.event_id, alloc.tour_index)]
    return UnitRequest(
        day=day,
        event_id=alloc.event_id,
        tour_index=alloc.tour_index,
        role=alloc.role,
        source=alloc.source,
        units=alloc.units,
        posts=alloc.posts,
        start=tour.start,
        end=tour.end,
    )


def _run_rostering(
    pool: Executor,
    requests: dict[str, list[UnitRequest]],
    report: ProgressCallback,
    should_stop: CancelCheck,
) -> list[RosterResult]:
    # Biggest sources first so the pool's last tasks are short.
    order = sorted(requests, key=lambda s: -len(requests[s]))
    futures = [pool.submit(roster_source, source, requests[source]) for source in order]
    results = []
    for done, future in enumerate(futures, start=1):
        if should_stop():
            for f in futures:
                f.cancel()
            raise SolveCancelled
        results.append(future.result())
        report(
            Progress(
                stage="rostering",
                done=done,
                total=len(futures),
                message=f"rostered {done} of {len(futures)} sources",
            )
        )
    return results


class RealRoster:
    """The plan so far, applied to the roster: where days are re-planned against reality."""

    def __init__(
        self, problem: PlanningProblem, tour_times: dict[tuple[str, int], Tour], assignments: list[Assignment]
    ) -> None:
        self.problem = problem
        self.tour_times = tour_times
        keys, self.class_of = officer_classes(problem)
        self.index = SupplyIndex(problem, keys, self.class_of)
        self.roster = Roster(problem)
        self.events = {e.external_id: e for e in problem.events}
        units = np.asarray([o.unit for o in problem.officers])
        self.rows_of_unit = {u: np.flatnonzero(units == u) for u in np.unique(units)}
        self.by_day: dict[dt.date, list[Assignment]] = defaultdict(list)
        for a in assignments:
            self.by_day[a.day].append(a)
        _apply(self.roster, assignments)
        self.unfilled: list[UnfilledUnits] = []
        self._units_issued = 0
        # Re-allocating a few units on a quiet day of a long horizon is not worth a MIP either.
        self.quiet_gap = (
            QUIET_DAY_GAP if len(tour_times) and _horizon_days(problem) > LONG_HORIZON_DAYS else 0.0
        )

    def assignments(self) -> list[Assignment]:
        return [a for day in sorted(self.by_day) for a in self.by_day[day]]

    def plan_day(
        self, day: dt.date, tours: TourDemands, quiet_gap: float = 0.0
    ) -> tuple[DayResult, list[Assignment], list[UnfilledUnits]]:
        """Allocate and roster `tours` on `day` against the roster as it now stands."""
        # The full-day MIP again where critical demand is short: on the Carnival window it covers
        # ~80 more officer-tours than the repaired rounding, for a few seconds.
        day_input = build_day_input(self.problem, self.roster, self.index, day, tours)
        result = solve_day(day_input, quiet_gap=quiet_gap)
        by_source: dict[str, list[UnitRequest]] = defaultdict(list)
        for alloc in result.allocations:
            by_source[alloc.source].append(_request(day, alloc, self.tour_times))
        assignments: list[Assignment] = []
        unfilled: list[UnfilledUnits] = []
        for source, requests in by_source.items():
            rows = self.rows_of_unit[source]
            # Unit numbers only need to be unique per event tour, role and source.
            self._units_issued += 1_000_000
            filled = roster_requests(
                self.problem, self.roster, rows, self.class_of[rows], requests, self._units_issued
            )
            assignments.extend(filled.assignments)
            unfilled.extend(filled.unfilled)
        return result, assignments, unfilled

    def take_back(self, day: dt.date) -> list[Assignment]:
        """Remove the day's deployments from the plan and the roster; returns them."""
        old = self.by_day.pop(day, [])
        if old:
            self.roster.unassign(
                self.roster.rows_of([a.service_number for a in old]), self.roster.day_index(day)
            )
        return old

    def covered_value(self, assignments: list[Assignment]) -> float:
        weights = self.problem.policy.weights.uncovered
        return sum(weights[self.events[a.event_id].priority] for a in assignments)


def _horizon_days(problem: PlanningProblem) -> int:
    return (problem.end - problem.start).days + 1


def _refine_short_days(
    state: RealRoster,
    demand: dict[dt.date, TourDemands],
    day_results: list[DayResult],
    report: ProgressCallback,
    should_stop: CancelCheck,
) -> dict[dt.date, tuple[DayResult, list[UnfilledUnits]]]:
    """Re-plan each day with a shortfall, in date order; keep the new day only if it covers more.

    Units with an officer whose neighbouring days now depend on the event tour (their published
    duty that day would leave too little rest) stay as they are; the rest of the day is re-planned."""
    short_days = sorted(r.day for r in day_results if r.shortfalls)
    refined: dict[dt.date, tuple[DayResult, list[UnfilledUnits]]] = {}
    for n, day in enumerate(short_days, start=1):
        if should_stop():
            raise SolveCancelled
        old = state.take_back(day)
        kept = _units_pinned_by_neighbours(state, day, old)
        _apply(state.roster, kept)
        result, new, unfilled = state.plan_day(day, _residual(demand[day], kept))
        if state.covered_value(kept) + state.covered_value(new) >= state.covered_value(old):
            state.by_day[day] = kept + new
            refined[day] = (result, unfilled)
        else:  # keep the day as first planned
            tried = kept + new
            state.roster.unassign(
                state.roster.rows_of([a.service_number for a in tried]), state.roster.day_index(day)
            )
            _apply(state.roster, old)
            state.by_day[day] = old
        report(Progress(stage="repair", done=n, total=len(short_days), message=f"re-planned {n} short days"))
    return refined


def _units_pinned_by_neighbours(state: RealRoster, day: dt.date, old: list[Assignment]) -> list[Assignment]:
    if not old:
        return []
    rows = state.roster.rows_of([a.service_number for a in old])
    conflicts = state.roster.rest_conflicts(rows, state.roster.day_index(day))
    pinned_units = {a.unit_id for a, conflict in zip(old, conflicts.tolist(), strict=True) if conflict}
    return [a for a in old if a.unit_id in pinned_units]


def _residual(tours: TourDemands, kept: list[Assignment]) -> TourDemands:
    units: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    for a in kept:
        units[(a.event_id, a.tour_index, a.role)].add(a.unit_id)
    out: TourDemands = []
    for event, tour, demands in tours:
        left = [(role, n - len(units[(event.external_id, tour.index, role)])) for role, n in demands]
        left = [(role, n) for role, n in left if n > 0]
        if left:
            out.append((event, tour, left))
    return out


def _feedback(
    state: RealRoster, unfilled: list[UnfilledUnits], report: ProgressCallback, should_stop: CancelCheck
) -> int:
    """Re-allocate units that named rostering could not form, day by day in order, a few rounds."""
    rounds = 0
    while unfilled and rounds < FEEDBACK_ROUNDS:
        if should_stop():
            raise SolveCancelled
        rounds += 1
        missing: dict[dt.date, dict[tuple[str, int], dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
        for u in unfilled:
            roles = missing[u.day][(u.event_id, u.tour_index)]
            roles[u.role] = roles.get(u.role, 0) + u.units
        still: list[UnfilledUnits] = []
        for n, (day, by_tour) in enumerate(sorted(missing.items()), start=1):
            tours = [
                (state.events[eid], state.tour_times[(eid, ti)], sorted(roles.items()))
                for (eid, ti), roles in by_tour.items()
            ]
            _result, assignments, not_formed = state.plan_day(day, tours, state.quiet_gap)
            state.by_day[day].extend(assignments)
            still.extend(not_formed)
            report(
                Progress(
                    stage="feedback",
                    done=n,
                    total=len(missing),
                    message=f"round {rounds}: re-planned {n} of {len(missing)} days",
                )
            )
        unfilled = still
    state.unfilled = unfilled
    return rounds


def _apply(roster: Roster, assignments: list[Assignment]) -> None:
    by_tour: dict[tuple[int, dt.datetime, dt.datetime], list[int]] = defaultdict(list)
    for a in assignments:
        by_tour[(roster.day_index(a.day), a.start, a.end)].append(roster.index[a.service_number])
    for (d, start, end), rows in by_tour.items():
        roster.assign(np.asarray(rows, dtype=np.int64), d, *roster.minutes(start, end))


def _assemble(
    problem: PlanningProblem,
    demand: dict[dt.date, TourDemands],
    day_results: list[DayResult],
    assignments: list[Assignment],
    unfilled: list[UnfilledUnits],
    stages: list[StageStats],
) -> Plan:
    roles = problem.policy.roles
    day_of = {(e.external_id, t.index): day for day, tours in demand.items() for e, t, _ in tours}
    units_deployed: dict[tuple[str, int, str, str], set[str]] = defaultdict(set)
    rest_officers: dict[tuple[str, int, str, str], int] = defaultdict(int)
    for a in assignments:
        key = (a.event_id, a.tour_index, a.role, a.source)
        units_deployed[key].add(a.unit_id)
        rest_officers[key] += a.rest_day_cancelled
    allocations = [
        Allocation(
            event_id=eid,
            tour_index=ti,
            day=day_of[(eid, ti)],
            role=role,
            source=source,
            count=len(ids),
            rest_day_officers=rest_officers[(eid, ti, role, source)],
        )
        for (eid, ti, role, source), ids in sorted(units_deployed.items())
    ]
    filled: dict[tuple[str, int, str], int] = defaultdict(int)
    for (eid, ti, role, _source), ids in units_deployed.items():
        filled[(eid, ti, role)] += len(ids)
    binding = _binding_reasons(day_results)
    rostering_short = {(u.event_id, u.tour_index, u.role) for u in unfilled}
    shortfalls = []
    for day, tours in demand.items():
        for event, tour, demands in tours:
            for role, required in demands:
                got = filled[(event.external_id, tour.index, role)]
                if got >= required:
                    continue
                reasons = list(binding.get(day, ()))
                if (event.external_id, tour.index, role) in rostering_short:
                    reasons.append(
                        "Named rostering: not enough officers could lawfully work this tour "
                        "(rest between tours, rest-day spacing or weekly hours)"
                    )
                shortfalls.append(
                    Shortfall(
                        event_id=event.external_id,
                        tour_index=tour.index,
                        day=day,
                        role=role,
                        required=required,
                        filled=got,
                        officers_short=(required - got) * roles[role].size,
                        reasons=tuple(reasons) or ("Officer supply",),
                    )
                )
    return Plan(allocations=allocations, assignments=assignments, shortfalls=shortfalls, stages=stages)


def _binding_reasons(results: list[DayResult]) -> dict[dt.date, tuple[str, ...]]:
    """The constraint families whose LP duals were non-zero on days with a shortfall."""
    out = {}
    for r in results:
        if r.shortfalls:
            families = sorted(
                (f for f, d in r.family_duals.items() if d > 1e-6 and f != "Demand cover"),
                key=lambda f: -r.family_duals[f],
            )
            out[r.day] = tuple(families)
    return out
