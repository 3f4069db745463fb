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
from typing import Any

import msgspec
import numpy as np

from planner.domain import Event, PlanningProblem, Tour
from planner.plan import Allocation, Assignment, Plan, Progress, Shortfall, StageStats
from planner.roster import Roster, officer_classes
from planner.rules import event_tours
from solver.allocation.inputs import SupplyIndex, build_day_input
from solver.allocation.model import DayResult, UnitAllocation, solve_day
from solver.rostering import RosterResult, UnfilledUnits, UnitRequest, roster_requests

ProgressCallback = Callable[[Progress], None]
CancelCheck = Callable[[], bool]
FEEDBACK_ROUNDS = 3


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

_worker_state: dict[str, object] = {}


def _init_worker(problem_bytes: bytes) -> None:
    problem = msgspec.msgpack.decode(problem_bytes, type=PlanningProblem)
    _worker_state["problem"] = problem
    _worker_state["classes"] = officer_classes(problem)


def _state() -> tuple[PlanningProblem, list[tuple[str, str, str, tuple[str, ...]]], np.ndarray]:
    problem = _worker_state["problem"]
    keys, class_of = _worker_state["classes"]  # type: ignore[misc]
    return problem, keys, class_of  # type: ignore[return-value]


def allocate_days(days: list[dt.date]) -> list[DayResult]:
    """Stage 1 for some days against the published roster (runs in a worker)."""
    problem, keys, class_of = _state()
    roster = _worker_state.get("roster")
    if roster is None:
        roster = _worker_state["roster"] = Roster(problem)
    index = SupplyIndex(problem, keys, class_of)
    demand = tours_by_day(problem)
    results = []
    for day in days:
        day_input = build_day_input(problem, roster, index, day, demand[day])  # type: ignore[arg-type]
        results.append(solve_day(day_input))
    return results


def roster_source(source: str, requests: list[UnitRequest]) -> RosterResult:
    """Stage 2 for one source over the whole horizon (runs in a worker)."""
    problem, _keys, class_of = _state()
    rows_all = np.flatnonzero([o.unit == source for o in problem.officers])
    officers = [problem.officers[i] for i in rows_all]
    roster = Roster(problem, officers)
    local_rows = np.arange(len(officers), dtype=np.int64)
    return roster_requests(problem, roster, local_rows, class_of[rows_all], requests)


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
        _worker_state.clear()


def _executor(problem_bytes: bytes, workers: int, days: int) -> Executor:
    if workers <= 1 or days < 14:
        return InProcessExecutor(problem_bytes)
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=mp.get_context("spawn"),
        initializer=_init_worker,
        initargs=(problem_bytes,),
    )


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
        day_results = _run_allocation(pool, days, report, should_stop)
        stages.append(_allocation_stats(day_results, time.perf_counter() - started))
        roster_started = time.perf_counter()
        tour_times = {(e.external_id, t.index): t for ts in demand.values() for e, t, _ in ts}
        requests = _requests_by_source(day_results, tour_times)
        roster_results = _run_rostering(pool, requests, report, should_stop)
    stages.append(StageStats(name="rostering", status="DONE", seconds=time.perf_counter() - roster_started))

    assignments = [a for r in roster_results for a in r.assignments]
    unfilled = [u for r in roster_results for u in r.unfilled]
    feedback_started = time.perf_counter()
    extra_allocations, assignments, unfilled, rounds = _feedback(
        problem, demand, tour_times, assignments, unfilled, report, should_stop
    )
    stages.append(
        StageStats(
            name="feedback",
            status="DONE",
            seconds=time.perf_counter() - feedback_started,
            details={"rounds": float(rounds), "unfilled_units": float(sum(u.units for u in unfilled))},
        )
    )
    plan = _assemble(problem, demand, day_results, extra_allocations, assignments, unfilled, stages)
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
    pool: Executor, days: list[dt.date], report: ProgressCallback, should_stop: CancelCheck
) -> list[DayResult]:
    results: list[DayResult] = []
    objective = bound = 0.0
    futures = [pool.submit(allocate_days, chunk) for chunk in _chunks(days, 7)]
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
    return results


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


def _feedback(
    problem: PlanningProblem,
    demand: dict[dt.date, TourDemands],
    tour_times: dict[tuple[str, int], Tour],
    assignments: list[Assignment],
    unfilled: list[UnfilledUnits],
    report: ProgressCallback,
    should_stop: CancelCheck,
) -> tuple[list[tuple[dt.date, UnitAllocation]], list[Assignment], list[UnfilledUnits], int]:
    """Re-allocate units that named rostering could not form, against the real roster."""
    if not unfilled:
        return [], assignments, [], 0
    keys, class_of = officer_classes(problem)
    index = SupplyIndex(problem, keys, class_of)
    roster = Roster(problem)
    _apply(roster, assignments)
    events = {e.external_id: e for e in problem.events}
    extra: list[tuple[dt.date, UnitAllocation]] = []
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
                (events[eid], tour_times[(eid, ti)], sorted(roles.items()))
                for (eid, ti), roles in by_tour.items()
            ]
            result = solve_day(build_day_input(problem, roster, index, day, tours))
            by_source: dict[str, list[UnitRequest]] = defaultdict(list)
            for alloc in result.allocations:
                by_source[alloc.source].append(_request(day, alloc, tour_times))
                extra.append((day, alloc))
            for source, reqs in by_source.items():
                rows = np.flatnonzero([o.unit == source for o in problem.officers])
                filled = roster_requests(
                    problem, roster, rows, class_of[rows], reqs, unit_number_start=10_000 * rounds
                )
                assignments.extend(filled.assignments)
                still.extend(filled.unfilled)
            report(
                Progress(
                    stage="feedback",
                    done=n,
                    total=len(missing),
                    message=f"round {rounds}: re-planned {n} of {len(missing)} days",
                )
            )
        unfilled = still
    return extra, assignments, unfilled, rounds


def _apply(roster: Roster, assignments: list[Assignment]) -> None:
    by_tour: dict[tuple[int, dt.datetime, dt.datetime], list[int]] = defaultdict(list)
    for a in assignments:
        by_tour[(roster.day_index(a.day), a.start, a.end)].append(roster.index[a.service_number])
    base = dt.datetime.combine(roster.day0, dt.time())
    for (d, start, end), rows in by_tour.items():
        roster.assign(
            np.asarray(rows, dtype=np.int64),
            d,
            int((start - base).total_seconds() // 60),
            int((end - base).total_seconds() // 60),
        )


def _assemble(
    problem: PlanningProblem,
    demand: dict[dt.date, TourDemands],
    day_results: list[DayResult],
    extra: list[tuple[dt.date, UnitAllocation]],
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
