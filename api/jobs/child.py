"""The solve child: one process per attempt, the leader of its own process group, which holds the
solver's process pool and multiprocessing's resource tracker too.

It dies with its worker, however the worker dies (SIGKILL included): the worker holds the only
write end of a lifeline pipe, and a watchdog thread in the child blocks reading it. When the worker
is gone the read returns end-of-file and the watchdog kills the child's whole process group, so no
pool process or resource tracker is left behind (a parent-death signal on the child alone would
kill the child and orphan its pool). The worker kills the same group to cancel."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from multiprocessing.connection import Connection as Pipe
from typing import Any

import msgspec

from api.jobs import messages
from api.jobs.kinds import encode_result, kind_of, load_callable
from api.jobs.snapshot import InputError, check_problem
from api.jobs.transitions import ErrorKind
from planner.domain import PlanningProblem
from planner.plan import Progress
from planner.stages import Stage

log = logging.getLogger("api.jobs")

PROGRESS_EVERY_SECONDS = 0.2


def lower_priority(niceness: int) -> None:
    """Run at niceness `niceness` at least (never raised back: that would need privileges)."""
    with contextlib.suppress(OSError):
        os.nice(max(0, niceness - os.nice(0)))


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _watch_lifeline(lifeline: Pipe) -> None:
    """Block until the worker's end of the lifeline closes, then take the whole group down."""
    with contextlib.suppress(EOFError, OSError):
        while True:
            lifeline.recv_bytes()  # the worker never writes: this returns only at its end
    if os.getpgid(0) == os.getpid():  # never the worker's group, should setpgid have failed
        kill_group(os.getpid())
    os._exit(1)


def child_main(
    send: Pipe,
    lifeline: tuple[Pipe, Pipe],
    cancel: Any,
    kind_name: str,
    solver_path: str,
    problem_bytes: bytes,
    workers: int | None,
    niceness: int,
) -> None:
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)  # own process group: one kill reaches the solver's pool and tracker
    lower_priority(niceness)  # inherited by the solver's pool processes
    reader, writer = lifeline
    writer.close()  # a forked child inherited the worker's end; only the worker may hold it
    threading.Thread(target=_watch_lifeline, args=(reader,), name="lifeline", daemon=True).start()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    last = 0.0

    def report(message: messages.ChildMessage) -> None:
        send.send_bytes(messages.encode(message))

    def progress(update: Progress) -> None:
        nonlocal last
        now = time.monotonic()
        if update.stage == Stage.DONE or now - last >= PROGRESS_EVERY_SECONDS:
            last = now
            report(messages.ProgressReport(progress=update))

    try:
        kind = kind_of(kind_name)
        problem = msgspec.msgpack.decode(problem_bytes, type=PlanningProblem)
        check_problem(problem)  # a snapshot stored before the check existed
        solve = load_callable(solver_path)
        started = time.perf_counter()
        output = solve(problem, progress=progress, cancel=cancel.is_set, workers=workers)
        seconds = time.perf_counter() - started
        if cancel.is_set():
            report(messages.Cancelled())
            return
        result = kind.produce(problem, output)
        report(messages.Solved(result=encode_result(result), seconds=seconds))
    except InputError as exc:
        report(messages.Failed(kind=ErrorKind.INPUT, message=str(exc)))
    except BaseException as exc:  # report everything; the worker decides
        if type(exc).__name__ == "SolveCancelled" or cancel.is_set():
            report(messages.Cancelled())
        else:
            log.exception("solve failed")
            report(messages.Failed(kind=ErrorKind.SOLVER, message=f"{type(exc).__name__}: {exc}"))
    finally:
        send.close()
