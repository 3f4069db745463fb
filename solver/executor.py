"""Where a solve's tasks run: one seam for this thread, a local process pool, or a cluster.

A task is a plain module-level function `task(context, arg)`: `arg` is small serialisable input
(a block of days, a list of days to bound) and `context` is the worker's `WorkerContext` of the
problem, built once per worker from the problem's bytes and never sent per task. A
`SolveExecutor` is a `concurrent.futures.Executor` whose `submit(task, arg)` runs
`task(context, arg)` wherever the problem is held:

- `InProcess(problem)`: in the calling thread, with its own context, so two solves in two API
  threads (what-ifs) never share a roster;
- `Delegating(executor, problem_bytes)`: any `concurrent.futures.Executor` that runs picklable
  calls elsewhere. `local_pool` gives it a spawn process pool whose initializer hands each
  worker the problem once. A Dask client fits the same way: `client.get_executor()` as the
  executor and `client.scatter(problem_bytes, broadcast=True)` as `payload`; each worker decodes
  the payload on its first task and keeps the context for later ones.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import hashlib
import multiprocessing as mp
import os
import signal
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, Concatenate, ParamSpec, TypeVar

import msgspec

from planner.domain import PlanningProblem
from planner.roster import IntArray, Roster, officer_classes
from solver.allocation.inputs import ClassKey, SupplyIndex
from solver.live import DayPlanner, TourDemands, tours_by_day

# Horizons shorter than this many demand days run in the calling thread: starting processes
# would cost more than the solve.
POOL_MIN_DAYS = 14
# Problems a long-lived worker (a cluster's) keeps decoded at once.
CONTEXTS_KEPT = 2


class SolveCancelled(Exception):
    """The caller asked the solve to stop."""


class WorkerContext:
    """What a worker holds for one problem: the problem, its officer classes and demand (shared,
    never changed), and per thread a day planner over the published roster (tasks change its
    roster while they run and restore it before they return)."""

    def __init__(self, problem: PlanningProblem) -> None:
        self.problem = problem
        self.class_keys: list[ClassKey]
        self.class_of: IntArray
        self.class_keys, self.class_of = officer_classes(problem)
        self.demand: dict[dt.date, TourDemands] = tours_by_day(problem)
        self._local = threading.local()

    @classmethod
    def from_bytes(cls, problem_bytes: bytes) -> WorkerContext:
        return cls(msgspec.msgpack.decode(problem_bytes, type=PlanningProblem))

    @property
    def planner(self) -> DayPlanner:
        planner: DayPlanner | None = getattr(self._local, "planner", None)
        if planner is None:
            roster = Roster(self.problem)
            index = SupplyIndex(self.problem, self.class_keys, self.class_of)
            planner = self._local.planner = DayPlanner(self.problem, roster, index)
        return planner


P = ParamSpec("P")
T = TypeVar("T")


class SolveExecutor(Executor):
    """An executor bound to one problem: `submit(task, *args)` runs `task(context, *args)`.

    Its `submit` takes tasks whose first parameter the worker supplies, so its signature is
    narrower than `Executor.submit`'s; everything else is the Executor's."""

    def submit(  # type: ignore[override]
        self, fn: Callable[Concatenate[WorkerContext, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Future[T]:
        raise NotImplementedError


class InProcess(SolveExecutor):
    """Runs tasks at once in the calling thread, against this executor's own context."""

    def __init__(self, problem: PlanningProblem) -> None:
        self.context = WorkerContext(problem)

    def submit(  # type: ignore[override]
        self, fn: Callable[Concatenate[WorkerContext, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(self.context, *args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future, as a pool would
            future.set_exception(exc)
        return future


class Delegating(SolveExecutor):
    """Tasks run by another executor (processes, a cluster); each call carries only the
    problem's key and `payload` (None where the workers were given the problem at start)."""

    def __init__(
        self, executor: Executor, problem_bytes: bytes, payload: Any = None, owns: bool = True
    ) -> None:
        self.executor = executor
        self.key = problem_key(problem_bytes)
        self.payload = payload
        self.owns = owns

    def submit(  # type: ignore[override]
        self, fn: Callable[Concatenate[WorkerContext, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Future[T]:
        return self.executor.submit(run_task, self.key, self.payload, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self.owns:
            self.executor.shutdown(wait=wait, cancel_futures=cancel_futures)


def problem_key(problem_bytes: bytes) -> str:
    return hashlib.blake2b(problem_bytes, digest_size=16).hexdigest()


# A worker process's (or cluster worker's) decoded problems, by key. Only tasks sent through
# `Delegating` read it, in the process that runs them; a solve in the calling thread never does.
_contexts: OrderedDict[str, WorkerContext] = OrderedDict()
_contexts_lock = threading.Lock()


def run_task(key: str, payload: bytes | None, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Run `fn(context, *args)` on this worker with the context of the problem `key`."""
    with _contexts_lock:
        context = _contexts.get(key)
        if context is None:
            if payload is None:
                raise RuntimeError(f"solver worker has no problem {key} and was sent none")
            context = _contexts[key] = WorkerContext.from_bytes(payload)
            while len(_contexts) > CONTEXTS_KEPT:
                _contexts.popitem(last=False)
        _contexts.move_to_end(key)
    return fn(context, *args, **kwargs)


def _init_pool_worker(key: str, problem_bytes: bytes) -> None:
    _die_with_parent()
    # HiGHS' MIP writes debugging lines straight to file descriptor 1; a worker reports only
    # through its pipe, so its standard output can go.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    _contexts[key] = WorkerContext.from_bytes(problem_bytes)


def _die_with_parent() -> None:
    """Linux: the pool worker is killed when the process that started it dies, however it dies
    (a SIGKILLed solve must not leave its pool running)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def local_pool(problem_bytes: bytes, workers: int) -> Delegating:
    """A spawn process pool of `workers` processes, each given the problem once at start."""
    key = problem_key(problem_bytes)
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=mp.get_context("spawn"),
        initializer=_init_pool_worker,
        initargs=(key, problem_bytes),
    )
    return Delegating(pool, problem_bytes)


ExecutorFactory = Callable[[PlanningProblem, int, int], SolveExecutor]


def default_executor(problem: PlanningProblem, workers: int, days: int) -> SolveExecutor:
    """In this thread for one worker or a short horizon of `days` demand days, else the Dask
    cluster named by PLANNER_DASK_SCHEDULER (solver/dask_executor.py), else a local pool."""
    if workers <= 1 or days < POOL_MIN_DAYS:
        return InProcess(problem)
    from solver.dask_executor import dask_pool, scheduler_address  # distributed only when asked for

    address = scheduler_address()
    if address is not None:
        return dask_pool(msgspec.msgpack.encode(problem), address, workers)
    return local_pool(msgspec.msgpack.encode(problem), workers)


__all__ = [
    "Delegating",
    "ExecutorFactory",
    "InProcess",
    "SolveCancelled",
    "SolveExecutor",
    "WorkerContext",
    "default_executor",
    "local_pool",
    "run_task",
]
