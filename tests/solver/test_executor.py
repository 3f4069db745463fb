"""The executor seam: tasks get the worker's context of their problem, never another solve's.

Two solves at once in one process (what-ifs in API threads) each hold their own roster; a solve
through any `concurrent.futures.Executor` (threads here, standing in for a cluster's) gives the
same plan as one in the calling thread, with the problem sent as a payload, not per task."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import msgspec
import pytest

from planner.domain import PlanningProblem
from planner.plan import Plan
from planner.validate import validate
from solver import solve
from solver.executor import Delegating, InProcess, SolveExecutor, WorkerContext, problem_key, run_task
from tests.solver.factory import CAMDEN, DAY, WESTMINSTER, event, officers, problem

NEXT = DAY + dt.timedelta(days=1)


def busy(borough: str, constables: int, crew: int) -> PlanningProblem:
    return problem(
        officers(borough, crew) + officers(CAMDEN, 6, prefix=f"cam{borough[-3:]}"),
        [
            event("A", borough, constable=constables, priority="high"),
            event("B", borough, day=NEXT, start_hour=8, constable=constables),
        ],
        start=DAY,
        end=NEXT,
    )


def rows(plan: Plan) -> list[tuple[str, str, str, int, str]]:
    return sorted((a.service_number, str(a.day), a.event_id, a.tour_index, a.role) for a in plan.assignments)


def test_two_solves_in_two_threads_give_the_plans_each_gives_alone() -> None:
    first, second = busy(WESTMINSTER, 9, 12), busy(CAMDEN, 4, 7)
    alone = [rows(solve(first, workers=1)), rows(solve(second, workers=1))]
    together: list[list[tuple[str, str, str, int, str]]] = [[], []]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(i: int, p: PlanningProblem) -> None:
        barrier.wait()
        try:
            for _ in range(3):  # interleave several solves so that shared state would show
                together[i] = rows(solve(p, workers=1))
        except BaseException as exc:  # a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert alone[0] and alone[1]
    assert together == alone


def test_a_solve_through_another_executor_matches_one_in_this_thread() -> None:
    p = busy(WESTMINSTER, 9, 12)
    payload = msgspec.msgpack.encode(p)

    def threads(problem: PlanningProblem, workers: int, days: int) -> SolveExecutor:
        return Delegating(ThreadPoolExecutor(max_workers=2), payload, payload=payload)

    here = solve(p, workers=1)
    there = solve(p, workers=2, executor=threads)
    assert validate(p, there) == []
    assert rows(there) == rows(here)
    assert there.quality is not None and here.quality is not None
    assert there.quality.bound == pytest.approx(here.quality.bound)


def _problem_of(context: WorkerContext) -> PlanningProblem:
    return context.problem


def test_a_task_gets_the_context_of_its_own_problem() -> None:
    a, b = busy(WESTMINSTER, 9, 12), busy(CAMDEN, 4, 7)
    with InProcess(a) as here:
        assert here.submit(_problem_of).result() is a
    encoded = [msgspec.msgpack.encode(p) for p in (a, b)]
    got = [run_task(problem_key(data), data, _problem_of) for data in encoded]
    assert [msgspec.msgpack.encode(p) for p in got] == encoded


def test_a_worker_sent_no_problem_says_so() -> None:
    with pytest.raises(RuntimeError, match="no problem"):
        run_task("not-a-key", None, _problem_of)
