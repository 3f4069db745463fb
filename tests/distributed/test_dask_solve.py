"""Solves through a real Dask cluster give the local plan: the same assignments and a valid plan,
also with a worker SIGKILLed while it holds the solve's tasks; an unreachable scheduler fails the
solve with a message naming it, or hands it to the local pool when so configured."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import msgspec
import pytest
from distributed import Client

from bench.cluster import Cluster
from planner.domain import PlanningProblem
from planner.plan import Plan
from planner.validate import validate
from solver import solve
from solver.dask_executor import FALLBACK_ENV, SCHEDULER_ENV, TIMEOUT_ENV, SchedulerUnreachable
from solver.executor import problem_key
from tests.distributed.conftest import WORKERS, free_port
from tests.solver.test_executor import rows


def holders(client: Client, problem: PlanningProblem) -> int:
    """Workers that decoded this problem: each does so on its first task of the solve."""
    key = problem_key(msgspec.msgpack.encode(problem))

    def held(key: str = key) -> bool:
        from solver import executor

        return key in executor._contexts

    return sum(client.run(held).values())


def test_a_plan_through_dask_equals_the_local_plan(
    cluster: Cluster, instance: PlanningProblem, local_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SCHEDULER_ENV, cluster.address)
    plan = solve(instance, workers=WORKERS)
    assert local_plan.assignments
    assert rows(plan) == rows(local_plan)
    assert validate(instance, plan) == []
    with Client(cluster.address, set_as_default=False) as client:  # type: ignore[no-untyped-call]
        assert holders(client, instance) >= 1  # the tasks ran on the cluster, not in this process


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    with Cluster(workers=2, nthreads=1) as running:
        yield running


def test_a_worker_killed_mid_solve_still_gives_the_local_plan(
    own_cluster: Cluster, instance: PlanningProblem, local_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SCHEDULER_ENV, own_cluster.address)
    result: list[Plan] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(solve(instance, workers=WORKERS))
        except BaseException as exc:  # the test fails on it below
            errors.append(exc)

    with Client(own_cluster.address, set_as_default=False) as client:  # type: ignore[no-untyped-call]
        pid_of = client.run(os.getpid)
        victim_proc = own_cluster.worker_procs[0]
        victim = next(addr for addr, pid in pid_of.items() if pid == victim_proc.pid)
        solving = threading.Thread(target=run)
        solving.start()
        held: list[str] = []
        while solving.is_alive() and not held:
            held = [
                str(k) for k in client.processing(workers=[victim]).get(victim, ()) if "run_task" in str(k)
            ]
            time.sleep(0.005)
        victim_proc.send_signal(signal.SIGKILL)
        victim_proc.wait()
        killed_mid_solve = solving.is_alive()
        solving.join()
    assert errors == []
    assert held and killed_mid_solve  # the worker died holding tasks of a solve still running
    assert rows(result[0]) == rows(local_plan)
    assert validate(instance, result[0]) == []


def test_an_unreachable_scheduler_fails_the_solve_saying_so(
    instance: PlanningProblem, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    monkeypatch.setenv(SCHEDULER_ENV, address)
    monkeypatch.setenv(TIMEOUT_ENV, "2")
    monkeypatch.delenv(FALLBACK_ENV, raising=False)
    with pytest.raises(SchedulerUnreachable, match=address):
        solve(instance, workers=WORKERS)


def test_an_unreachable_scheduler_falls_back_to_the_local_pool_when_configured(
    instance: PlanningProblem, local_plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SCHEDULER_ENV, f"tcp://127.0.0.1:{free_port()}")
    monkeypatch.setenv(TIMEOUT_ENV, "2")
    monkeypatch.setenv(FALLBACK_ENV, "local")
    assert rows(solve(instance, workers=WORKERS)) == rows(local_plan)


def test_a_cancelled_solve_leaves_no_task_on_the_cluster(
    cluster: Cluster, instance: PlanningProblem, monkeypatch: pytest.MonkeyPatch
) -> None:
    from solver.executor import SolveCancelled

    monkeypatch.setenv(SCHEDULER_ENV, cluster.address)
    with pytest.raises(SolveCancelled):
        solve(instance, workers=WORKERS, cancel=lambda: True)
    with Client(cluster.address, set_as_default=False) as client:  # type: ignore[no-untyped-call]
        deadline = time.monotonic() + 30
        left = client.run_on_scheduler(_task_count)
        while left and time.monotonic() < deadline:  # the scheduler forgets released tasks async
            time.sleep(0.1)
            left = client.run_on_scheduler(_task_count)
    assert left == 0


def _task_count(dask_scheduler: object) -> int:
    return len(dask_scheduler.tasks)  # type: ignore[attr-defined]
