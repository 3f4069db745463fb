"""Solver stand-ins for job tests, loaded by the worker's child process as `tests.api.fake_solvers:<name>`."""

from __future__ import annotations

import time
from collections.abc import Callable

from planner.domain import PlanningProblem
from planner.plan import Plan, PlanQuality, Progress, StageStats


def stubborn(
    problem: PlanningProblem,
    *,
    progress: Callable[[Progress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    workers: int | None = None,
) -> Plan:
    """Reports progress and never looks at `cancel`: only killing the process stops it."""
    deadline = time.monotonic() + 120
    n = 0
    while time.monotonic() < deadline:
        n += 1
        if progress:
            progress(
                Progress(
                    stage="allocation",
                    done=n % 100,
                    total=100,
                    message="thinking",
                    objective=1000.0 - n,
                    bound=900.0,
                    gap=0.1,
                )
            )
        time.sleep(0.05)
    raise RuntimeError("stubborn solver ran out of time")


def slow_real(
    problem: PlanningProblem,
    *,
    progress: Callable[[Progress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    workers: int | None = None,
) -> Plan:
    """Two seconds of progress (cancellable), then the real solver."""
    from solver import solve

    for i in range(40):
        if cancel and cancel():
            raise RuntimeError("cancelled")
        if progress:
            progress(Progress(stage="warm-up", done=i, total=40))
        time.sleep(0.05)
    return solve(problem, progress=progress, cancel=cancel, workers=workers)


def broken(problem: PlanningProblem, **_: object) -> Plan:
    raise ValueError("no feasible deployment: the test says so")


def report_niceness(problem: PlanningProblem, **_: object) -> Plan:
    """Fails with the niceness it runs at (the job's error carries it back)."""
    import os

    raise ValueError(f"solving at niceness {os.nice(0)}")


STAGE_ONE = {"objective": 2000.0, "bound": 1000.0, "gap": 0.5}
DELIVERED = PlanQuality(
    objective=1250.0, bound=1200.0, gap=0.04, bound_seconds=0.5, bound_solve_seconds=1.5, method="test bound"
)


def delivered(
    problem: PlanningProblem,
    *,
    progress: Callable[[Progress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    workers: int | None = None,
) -> Plan:
    """A plan carrying its quality, whose last progress report is stage 1's (as if the final
    report had been lost): the stored job must still end on the delivered plan's figures."""
    if progress:
        progress(Progress(stage="allocation", done=1, total=1, message="stage 1", **STAGE_ONE))
    stage = StageStats(name="allocation", status="DONE", seconds=0.1, **STAGE_ONE)
    return Plan(stages=[stage, DELIVERED.stage()], quality=DELIVERED)


def without_quality(problem: PlanningProblem, **_: object) -> Plan:
    """A plan as solvers stored it before plans carried their quality."""
    return Plan(stages=[StageStats(name="allocation", status="DONE", seconds=0.1, **STAGE_ONE)])


def _spin(seconds: float) -> int:
    deadline, n = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        n += 1
    return n


def pooled(
    problem: PlanningProblem,
    *,
    progress: Callable[[Progress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    workers: int | None = None,
) -> Plan:
    """Like the real solver, keeps a spawned process pool (and so multiprocessing's resource
    tracker) busy, and never looks at `cancel`: only killing the processes stops it."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=2, mp_context=mp.get_context("spawn")) as pool:
        futures = [pool.submit(_spin, 120.0) for _ in range(2)]
        n = 0
        while not all(f.done() for f in futures):
            n += 1
            if progress:
                progress(Progress(stage="allocation", done=n % 100, total=100, message="pooled"))
            time.sleep(0.05)
    raise RuntimeError("pooled solver ran out of time")
