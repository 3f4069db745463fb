"""A solve's tasks on a Dask distributed cluster: the same tasks as the local pool, elsewhere.

`dask_pool(problem_bytes, address, workers)` connects a `distributed.Client` to the scheduler,
sends the problem's bytes to the cluster once for this solve (each task carries only a reference
to them; workers that need them fetch them from each other) and returns a `Delegating` executor
over a `ClusterPool`, the client's `concurrent.futures` executor. `points_pool` and `shared_input` do
the same for frontier points, which bring their own inputs. Nothing else changes: tasks are the
module-level functions of the local pool (solver/executor.py, `run_task`), results come back as
futures, and the solve's progress and cancel checks run here, in the caller, as results arrive.

Failure semantics:

- a Dask worker that dies mid-task: the scheduler re-runs its tasks on the workers left (up to
  `distributed.scheduler.allowed-failures` deaths per task); a task that raises is re-run
  `retries` times. Tasks are pure functions of their input, so the plan is the local one.
- the scheduler unreachable when the solve starts: `SchedulerUnreachable` after
  `connect_seconds`, never a hang; or, with `PLANNER_DASK_FALLBACK=local`, the local pool.
- the solve cancelled or failed: `shutdown` cancels every outstanding task on the cluster and
  releases the problem's bytes. A task already running on a worker finishes there (Dask cannot
  interrupt a running function) and its result is dropped.

Solver threads: every task's LP and MIP run single-threaded (solver/linear.py sets HiGHS'
threads=1; GLOP has one), and Dask's nanny starts workers with OMP/MKL/OpenBLAS capped at one
thread, so a worker uses `--nthreads` cores and no more.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import warnings
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, TypeVar

from solver.executor import Delegating, local_pool

SCHEDULER_ENV = "PLANNER_DASK_SCHEDULER"
FALLBACK_ENV = "PLANNER_DASK_FALLBACK"  # "local": run on the local pool if the scheduler is down
TIMEOUT_ENV = "PLANNER_DASK_TIMEOUT"  # seconds to wait for the scheduler at the start of a solve
CONNECT_SECONDS = 10.0
# Re-runs of a task that raised (a worker's memory error, a lost connection to a peer holding the
# problem); a killed worker's tasks are re-run by the scheduler without counting against these.
RETRIES = 2

log = logging.getLogger(__name__)

T = TypeVar("T")


class SchedulerUnreachable(RuntimeError):
    """The Dask scheduler named for this solve did not answer in time."""


def scheduler_address() -> str | None:
    """The scheduler named by PLANNER_DASK_SCHEDULER, or None for the local pool."""
    return os.environ.get(SCHEDULER_ENV, "").strip() or None


def connect(address: str, connect_seconds: float | None = None) -> Any:
    """A client of the scheduler at `address`; `SchedulerUnreachable` if it does not answer."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise RuntimeError(
            f"{SCHEDULER_ENV} is set but Dask distributed is not installed here "
            "(pip install 'met-event-planner[dask]')"
        ) from exc

    seconds = connect_seconds if connect_seconds is not None else _timeout()
    try:
        # set_as_default=False: a solve's client must not become the process's default Dask
        # scheduler (an API thread's dask code would run on the cluster).
        return Client(address, timeout=seconds, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise SchedulerUnreachable(
            f"the Dask scheduler at {address} did not answer within {seconds:g} s "
            f"(set {SCHEDULER_ENV} to a running `dask scheduler`, unset it for the local pool, "
            f"or set {FALLBACK_ENV}=local to fall back to it)"
        ) from exc


def _timeout() -> float:
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    return float(raw) if raw else CONNECT_SECONDS


class ClusterPool(Executor):
    """A `concurrent.futures.Executor` on a Dask cluster whose `shutdown` cancels what is left.

    Callers read every result they need before they shut it down, so whatever is outstanding
    then (a cancelled or failed solve's tasks) is cancelled, not awaited."""

    def __init__(self, client: Any, retries: int = RETRIES, owns: bool = True) -> None:
        self.client = client
        self.executor = client.get_executor(pure=False, retries=retries)
        self.owns = owns
        self.submitted: list[Future[Any]] = []
        self.shared: list[Any] = []

    def share(self, data: bytes) -> Any:
        """`data` on the cluster once, for tasks to take as an argument (Dask hands each task the
        value, fetched from a peer that holds it).

        A task whose result is the data, not scattered data: Dask's memory manager trims a
        broadcast down to one copy, and a scattered key lost with its worker fails every task
        that needs it, where a task's result is recomputed on another worker."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Ll]arge.*graph")  # a year's problem is large
            future = self.client.submit(_same, data, pure=False)
        self.shared.append(future)
        return future

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = self.executor.submit(fn, *args, **kwargs)
        self.submitted.append(future)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for future in self.submitted:
            future.cancel()  # the client's executor passes this on to the cluster
        self.submitted.clear()
        self.executor.shutdown(wait=False)
        for shared in self.shared:
            shared.release()  # the shared inputs leave the cluster with the solve
        self.shared.clear()
        if self.owns:
            self.client.close()


def _same(data: bytes) -> bytes:
    return data


def cluster_pool(address: str) -> ClusterPool | None:
    """A pool on the cluster at `address`; None where it does not answer and
    PLANNER_DASK_FALLBACK=local (the caller runs locally instead)."""
    try:
        return ClusterPool(connect(address))
    except SchedulerUnreachable as exc:
        if not falls_back():
            raise
        log.warning("%s; planning on the local pool instead", exc)
        return None


def dask_pool(problem_bytes: bytes, address: str, workers: int) -> Delegating:
    """The solve's tasks on the cluster at `address`, the problem sent once; the local pool of
    `workers` processes instead if the scheduler does not answer and PLANNER_DASK_FALLBACK=local."""
    cluster = cluster_pool(address)
    if cluster is None:
        return local_pool(problem_bytes, workers)
    try:
        return Delegating(cluster, problem_bytes, payload=cluster.share(problem_bytes))
    except BaseException:
        cluster.shutdown()
        raise


def points_pool(processes: int) -> Executor:
    """For independent jobs that bring their own inputs (frontier points): the Dask cluster
    named by PLANNER_DASK_SCHEDULER, else (or on fallback) a spawn pool of `processes`."""
    address = scheduler_address()
    cluster = cluster_pool(address) if address else None
    if cluster is not None:
        return cluster
    return ProcessPoolExecutor(max_workers=processes, mp_context=mp.get_context("spawn"))


def shared_input(pool: Executor, data: bytes) -> Any:
    """`data` as an argument for many tasks of `pool`: sent once to a cluster, as is to processes."""
    return pool.share(data) if isinstance(pool, ClusterPool) else data


def falls_back() -> bool:
    """PLANNER_DASK_FALLBACK=local: an unreachable scheduler hands the solve to the local pool."""
    return os.environ.get(FALLBACK_ENV, "").strip().lower() == "local"


def cluster_threads(address: str) -> int | None:
    """The cluster's worker threads in all (how many tasks it runs at once); None where the
    scheduler does not answer and the solve will fall back to the local pool."""
    try:
        client = connect(address)
    except SchedulerUnreachable:
        if falls_back():
            return None
        raise
    try:
        return sum(w["nthreads"] for w in client.scheduler_info()["workers"].values()) or 1
    finally:
        client.close()


__all__ = [
    "CONNECT_SECONDS",
    "FALLBACK_ENV",
    "SCHEDULER_ENV",
    "ClusterPool",
    "SchedulerUnreachable",
    "cluster_threads",
    "connect",
    "cluster_pool",
    "dask_pool",
    "falls_back",
    "points_pool",
    "scheduler_address",
    "shared_input",
]
