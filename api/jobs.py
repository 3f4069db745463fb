"""Durable plan jobs: the queue lives in the `plan_jobs` table and a worker process runs them.

Life of a job: the API inserts it `queued`. A worker claims it atomically (PostgreSQL: SELECT ... FOR
UPDATE SKIP LOCKED; SQLite: one conditional UPDATE, which SQLite serialises), snapshots the inputs
(the exact PlanningProblem, content-hashed, with the calendar/officers/policy versions), and runs
`solver.solve` in a child process in its own process group. While the child runs, the worker beats
the job's heartbeat, copies progress (stage, percent, objective, bound, gap) into the row, and polls
the cancel flag: on cancel it tells the solver to stop and kills the process group after a short grace,
well inside 2 s. A job whose heartbeat went stale (its worker crashed or the machine restarted) is
claimed again and re-solved from the same snapshot. The result is written once: the `plans` row is
keyed by job id, so a second writer fails on the primary key and the first result stands. A stored
job's objective, bound and gap are the delivered plan's (`Plan.quality`, also kept on the plan row),
not the last stage's.

The blocking (sync) side of this module runs in the worker process; the async helpers at the end are
what the API calls."""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import hashlib
import importlib
import logging
import multiprocessing as mp
import os
import signal
import socket
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, and_, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from api.db.compat import decode_lenient
from api.db.engine import make_sync_engine, utcnow
from api.db.models import (
    DatasetVersion,
    EventRow,
    Job,
    OfficerRow,
    PlanAssignment,
    PlanBcuDay,
    PlanEventKpi,
    PlanRecord,
    PlanShortfall,
    PlanUnitDay,
    PolicyVersion,
    ProblemSnapshot,
)
from api.db.repositories import EVENT_COLUMNS, OFFICER_COLUMNS, dumps, event_from_row, officer_from_row
from api.settings import Settings
from planner.domain import PlanningProblem, Policy
from planner.plan import Plan, Progress
from planner.reference import london
from planner.stages import JobPercent

log = logging.getLogger("api.jobs")

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
FINAL = (SUCCEEDED, FAILED, CANCELLED)
CANCEL_GRACE_SECONDS = 0.5
CANCEL_POLL_SECONDS = 0.25


def new_job_id() -> str:
    return str(uuid.uuid4())


def compress(data: bytes) -> bytes:
    return zlib.compress(data, 6)


def decompress(data: bytes) -> bytes:
    return zlib.decompress(data)


# --------------------------------------------------------------------------- problem snapshot


@dataclass(frozen=True)
class Snapshot:
    hash: str
    problem: PlanningProblem
    calendar_version: int
    officers_version: int
    policy_version: int


def build_problem(conn: Connection, start: dt.date, end: dt.date, policy_version: int | None) -> Snapshot:
    """Read the inputs in one transaction and make the PlanningProblem the job solves."""
    versions = dict(conn.execute(select(DatasetVersion.name, DatasetVersion.version)).all())
    query = select(PolicyVersion.version, PolicyVersion.body)
    query = (
        query.where(PolicyVersion.version == policy_version)
        if policy_version is not None
        else query.order_by(PolicyVersion.version.desc())
    )
    prow = conn.execute(query.limit(1)).first()
    if prow is None:
        raise LookupError(f"policy version {policy_version} does not exist")
    policy = decode_lenient(prow.body, Policy)
    officers = tuple(
        officer_from_row(r)
        for r in conn.execute(select(*OFFICER_COLUMNS).order_by(OfficerRow.service_number))
    )
    lo = dt.datetime.combine(start, dt.time()) - dt.timedelta(days=1)  # overnight tours start the day before
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    events = tuple(
        event_from_row(r)
        for r in conn.execute(
            select(*EVENT_COLUMNS)
            .where(EventRow.status == "planned", EventRow.end >= lo, EventRow.start < hi)
            .order_by(EventRow.start, EventRow.external_id)
        )
    )
    problem = PlanningProblem(
        organisation=london(), officers=officers, events=events, policy=policy, start=start, end=end
    )
    digest = hashlib.sha256(msgspec.msgpack.encode(problem)).hexdigest()
    return Snapshot(
        hash=digest,
        problem=problem,
        calendar_version=versions.get("calendar", 0),
        officers_version=versions.get("officers", 0),
        policy_version=prow.version,
    )


def load_snapshot(conn: Connection, digest: str) -> Snapshot:
    row = conn.execute(select(ProblemSnapshot).where(ProblemSnapshot.hash == digest)).one()
    problem = msgspec.msgpack.decode(decompress(row.blob), type=PlanningProblem)
    return Snapshot(
        hash=digest,
        problem=problem,
        calendar_version=row.calendar_version,
        officers_version=row.officers_version,
        policy_version=row.policy_version,
    )


def save_snapshot(conn: Connection, snap: Snapshot) -> None:
    exists = conn.execute(select(ProblemSnapshot.hash).where(ProblemSnapshot.hash == snap.hash)).first()
    if exists is None:
        conn.execute(
            insert(ProblemSnapshot).values(
                hash=snap.hash,
                blob=compress(msgspec.msgpack.encode(snap.problem)),
                calendar_version=snap.calendar_version,
                officers_version=snap.officers_version,
                policy_version=snap.policy_version,
                created_at=utcnow(),
            )
        )


# --------------------------------------------------------------------------- the solve child


def _die_with_parent() -> None:
    """Linux: the child gets SIGKILL if the worker dies, so no orphan keeps solving."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


# Job kinds other than a plan run another callable with the same contract (problem in, Plan out),
# so they share every job guarantee; a kind is chosen from this list, never by the client's path.
JOB_SOLVERS = {
    "frontier": "solver.frontier:solve_frontier",
    "frontier-named": "solver.frontier:solve_frontier_named",
}


def job_solver(options: dict[str, Any], default: str) -> str:
    return JOB_SOLVERS.get(str(options.get("kind", "")), default)


def load_callable(path: str) -> Callable[..., Any]:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name or "solve")  # type: ignore[no-any-return]


def _child_main(
    send: Pipe, cancel: Any, solver_path: str, problem_bytes: bytes, workers: int | None, niceness: int
) -> None:
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)  # own process group: the worker can kill the solver and its pool at once
    with contextlib.suppress(OSError):
        os.nice(niceness)  # inherited by the solver's pool processes
    _die_with_parent()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    last = 0.0

    def progress(update: Progress) -> None:
        nonlocal last
        now = time.monotonic()
        if update.stage == "done" or now - last >= 0.2:
            last = now
            send.send(("progress", msgspec.msgpack.encode(update)))

    try:
        problem = msgspec.msgpack.decode(problem_bytes, type=PlanningProblem)
        solve = load_callable(solver_path)
        started = time.perf_counter()
        plan = solve(problem, progress=progress, cancel=cancel.is_set, workers=workers)
        seconds = time.perf_counter() - started
        if cancel.is_set():
            send.send(("cancelled",))
            return
        evaluation = _evaluate(problem, plan)
        send.send(("result", msgspec.msgpack.encode(plan), evaluation, seconds))
    except BaseException as exc:  # report everything; the worker decides
        if type(exc).__name__ == "SolveCancelled" or cancel.is_set():
            send.send(("cancelled",))
        else:
            log.exception("solve failed")
            send.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        send.close()


def _evaluate(problem: PlanningProblem, plan: Plan) -> bytes | None:
    from planner.evaluate import evaluate

    return msgspec.msgpack.encode(evaluate(problem, plan))


# --------------------------------------------------------------------------- storing a result


def _copy_rows(conn: Connection, table: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        cols = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
    else:
        for start in range(0, len(rows), 20_000):
            conn.execute(
                insert(table), [dict(zip(columns, r, strict=True)) for r in rows[start : start + 20_000]]
            )


def _kpi_key(item: Any, *names: str) -> tuple[Any, ...]:
    return tuple(getattr(item, n) for n in names)


def store_result(
    conn: Connection,
    job_id: str,
    snap: Snapshot,
    plan_bytes: bytes,
    evaluation_bytes: bytes | None,
    solve_seconds: float,
    worker_id: str,
) -> bool:
    """Write the plan and its query rows, and mark the job done. False if a result already existed."""
    from planner.evaluate import Evaluation

    plan = msgspec.msgpack.decode(plan_bytes, type=Plan)
    evaluation = msgspec.msgpack.decode(evaluation_bytes, type=Evaluation) if evaluation_bytes else None
    now = utcnow()
    try:
        with conn.begin_nested():
            conn.execute(
                insert(PlanRecord).values(
                    job_id=job_id,
                    input_hash=snap.hash,
                    calendar_version=snap.calendar_version,
                    officers_version=snap.officers_version,
                    policy_version=snap.policy_version,
                    start=snap.problem.start,
                    end=snap.problem.end,
                    method=plan.method,
                    plan_blob=compress(plan_bytes),
                    summary=dumps(evaluation.summary) if evaluation else "{}",
                    stages=dumps(plan.stages),
                    quality=dumps(plan.quality) if plan.quality is not None else None,
                    assignments=len(plan.assignments),
                    shortfalls=len(plan.shortfalls),
                    solve_seconds=solve_seconds,
                    created_at=now,
                )
            )
    except IntegrityError:
        log.warning("job %s already has a result; keeping the first", job_id)
        return False
    a_cols = [
        "plan_id",
        "service_number",
        "event_id",
        "tour_index",
        "day",
        "role",
        "slot",
        "unit_id",
        "source",
        "start",
        "end",
        "rest_day_cancelled",
    ]
    _copy_rows(
        conn,
        PlanAssignment.__table__,
        a_cols,
        [
            (
                job_id,
                a.service_number,
                a.event_id,
                a.tour_index,
                a.day,
                a.role,
                a.slot,
                a.unit_id,
                a.source,
                a.start,
                a.end,
                a.rest_day_cancelled,
            )
            for a in plan.assignments
        ],
    )
    s_cols = [
        "plan_id",
        "event_id",
        "tour_index",
        "day",
        "role",
        "required",
        "filled",
        "officers_short",
        "reasons",
    ]
    _copy_rows(
        conn,
        PlanShortfall.__table__,
        s_cols,
        [
            (
                job_id,
                s.event_id,
                s.tour_index,
                s.day,
                s.role,
                s.required,
                s.filled,
                s.officers_short,
                dumps(list(s.reasons)),
            )
            for s in plan.shortfalls
        ],
    )
    if evaluation is not None:
        enc = msgspec.json.Encoder()
        _copy_rows(
            conn,
            PlanUnitDay.__table__,
            ["plan_id", "unit", "day", "data"],
            [(job_id, u.unit, u.day, enc.encode(u).decode()) for u in evaluation.units],
        )
        _copy_rows(
            conn,
            PlanBcuDay.__table__,
            ["plan_id", "bcu", "day", "data"],
            [(job_id, b.bcu, b.day, enc.encode(b).decode()) for b in evaluation.bcus],
        )
        _copy_rows(
            conn,
            PlanEventKpi.__table__,
            ["plan_id", "event_id", "tour_index", "day", "borough", "priority", "short", "data"],
            [
                (
                    job_id,
                    e.event_id,
                    e.tour_index,
                    e.day,
                    e.borough,
                    e.priority,
                    e.short,
                    enc.encode(e).decode(),
                )
                for e in evaluation.events
            ],
        )
    final: dict[str, Any] = {}
    if plan.quality is not None:
        # The job ends on the delivered plan's figures, whatever progress report came last.
        final = {"objective": plan.quality.objective, "bound": plan.quality.bound, "gap": plan.quality.gap}
    conn.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(
            status=SUCCEEDED,
            stage="done",
            percent=100.0,
            message="plan stored",
            finished_at=now,
            heartbeat_at=now,
            input_hash=snap.hash,
            error=None,
            **final,
        )
    )
    return True


# --------------------------------------------------------------------------- the worker

@dataclass
class Claim:
    id: str
    attempts: int
    start: dt.date
    end: dt.date
    policy_version: int | None
    options: dict[str, Any]
    input_hash: str | None
    cancel_requested: bool


class Worker:
    """Claims jobs and runs each solve in a child process. One job at a time per worker."""

    def __init__(
        self, settings: Settings, *, engine: Engine | None = None, worker_id: str | None = None
    ) -> None:
        self.settings = settings
        self.cfg = settings.worker
        self.engine = engine or make_sync_engine(settings.db)
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.stop = threading.Event()  # for callers in other threads (tests, an embedding process)
        self._signalled = False  # set by signal handlers, which must not take locks (see request_stop)

    # ---- claiming

    def _claimable(self, now: dt.datetime) -> Any:
        stale = now - dt.timedelta(seconds=self.cfg.stale_seconds)
        return or_(Job.status == QUEUED, and_(Job.status == RUNNING, Job.heartbeat_at < stale))

    def claim(self) -> Claim | None:
        """Atomically take the oldest queued job, or a running one whose worker stopped beating."""
        while True:
            now = utcnow()
            cond = self._claimable(now)
            with self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    row = conn.execute(
                        select(Job.id)
                        .where(cond)
                        .order_by(Job.created_at)
                        .limit(1)
                        .with_for_update(skip_locked=True)
                    ).first()
                    if row is None:
                        return None
                    target: Any = row.id
                else:
                    target = select(Job.id).where(cond).order_by(Job.created_at).limit(1).scalar_subquery()
                claimed = conn.execute(
                    update(Job)
                    .where(Job.id == target, cond)
                    .values(
                        status=RUNNING,
                        worker_id=self.id,
                        attempts=Job.attempts + 1,
                        heartbeat_at=now,
                        started_at=now,
                        stage="starting",
                        message="claimed by " + self.id,
                    )
                    .returning(
                        Job.id,
                        Job.attempts,
                        Job.start,
                        Job.end,
                        Job.policy_version,
                        Job.options,
                        Job.input_hash,
                        Job.cancel_requested,
                    )
                ).first()
                if claimed is None:
                    return None
                claim = Claim(
                    id=claimed.id,
                    attempts=claimed.attempts,
                    start=claimed.start,
                    end=claimed.end,
                    policy_version=claimed.policy_version,
                    options=msgspec.json.decode(claimed.options or "{}"),
                    input_hash=claimed.input_hash,
                    cancel_requested=claimed.cancel_requested,
                )
                if claim.cancel_requested:
                    self._finish(conn, claim, CANCELLED, "cancelled before it ran")
                    continue
                if claim.attempts > self.cfg.max_attempts:
                    self._finish(
                        conn,
                        claim,
                        FAILED,
                        "no result after repeated attempts",
                        error=f"gave up after {claim.attempts - 1} attempts (worker crashes)",
                    )
                    continue
                if claim.attempts > 1:
                    log.warning("reclaimed job %s (attempt %d)", claim.id, claim.attempts)
                return claim

    def _finish(
        self, conn: Connection, claim: Claim, status: str, message: str, *, error: str | None = None
    ) -> None:
        now = utcnow()
        conn.execute(
            update(Job)
            .where(Job.id == claim.id, Job.status == RUNNING)
            .values(
                status=status, stage=status, message=message, error=error, finished_at=now, heartbeat_at=now
            )
        )

    def finish(self, claim: Claim, status: str, message: str, *, error: str | None = None) -> None:
        with self.engine.begin() as conn:
            self._finish(conn, claim, status, message, error=error)

    # ---- running

    def snapshot(self, claim: Claim) -> Snapshot:
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                if claim.input_hash:
                    return load_snapshot(conn, claim.input_hash)
                snap = build_problem(conn, claim.start, claim.end, claim.policy_version)
        with self.engine.begin() as conn:
            save_snapshot(conn, snap)
            conn.execute(
                update(Job)
                .where(Job.id == claim.id)
                .values(input_hash=snap.hash, policy_version=snap.policy_version)
            )
        return snap

    def beat(
        self, claim: Claim, progress: Progress | None, percent: JobPercent | None = None
    ) -> tuple[bool, bool]:
        """Heartbeat plus progress. Returns (still ours, cancel requested)."""
        values: dict[str, Any] = {"heartbeat_at": utcnow()}
        if progress is not None:
            percent = percent or JobPercent()
            values.update(
                stage=progress.stage,
                percent=percent.update(progress.stage, progress.percent),
                message=progress.message[:500],
                objective=progress.objective,
                bound=progress.bound,
                gap=progress.gap,
            )
        with self.engine.begin() as conn:
            row = conn.execute(
                update(Job)
                .where(
                    Job.id == claim.id,
                    Job.worker_id == self.id,
                    Job.attempts == claim.attempts,
                    Job.status == RUNNING,
                )
                .values(**values)
                .returning(Job.cancel_requested)
            ).first()
        if row is None:
            return False, False
        return True, bool(row.cancel_requested)

    def run(self, claim: Claim) -> str:
        """Solve a claimed job to a final state; returns that state."""
        try:
            snap = self.snapshot(claim)
        except LookupError as exc:
            self.finish(claim, FAILED, "inputs not found", error=str(exc))
            return FAILED
        workers = claim.options.get("workers") or self.cfg.solver_workers
        ctx: Any = mp.get_context(self.cfg.start_method)
        recv, send = ctx.Pipe(duplex=False)
        cancel = ctx.Event()
        child = ctx.Process(
            target=_child_main,
            name=f"solve-{claim.id[:8]}",
            args=(
                send,
                cancel,
                job_solver(claim.options, self.cfg.solver),
                msgspec.msgpack.encode(snap.problem),
                workers,
                self.cfg.solve_niceness,
            ),
            daemon=False,
        )
        child.start()
        send.close()
        outcome: tuple[Any, ...] | None = None
        progress: Progress | None = None
        percent = JobPercent()
        dirty = False
        last_beat = last_poll = time.monotonic()
        try:
            while outcome is None:
                if recv.poll(0.05):
                    try:
                        message = recv.recv()
                    except EOFError:
                        child.join(1.0)
                        outcome = ("error", f"solver process exited with code {child.exitcode}")
                        break
                    if message[0] == "progress":
                        progress = msgspec.msgpack.decode(message[1], type=Progress)
                        dirty = True
                        continue
                    outcome = message
                    break
                now = time.monotonic()
                if self.stopping:
                    self._kill(child, cancel)
                    self._requeue(claim)
                    return QUEUED
                if now - last_poll >= CANCEL_POLL_SECONDS or (dirty and now - last_beat >= 0.5):
                    owned, cancel_requested = self.beat(claim, progress if dirty else None, percent)
                    last_poll = now
                    if dirty:
                        last_beat, dirty = now, False
                    if not owned:
                        log.warning("job %s was taken over by another worker; stopping", claim.id)
                        self._kill(child, cancel)
                        return "lost"
                    if cancel_requested:
                        self._kill(child, cancel)
                        self.finish(claim, CANCELLED, "cancelled on request")
                        return CANCELLED
                if not child.is_alive() and not recv.poll(0):
                    outcome = ("error", f"solver process exited with code {child.exitcode}")
        finally:
            recv.close()
        child.join(2.0)
        if child.is_alive():
            self._kill(child, cancel)
        kind = outcome[0]
        if kind == "result":
            _, plan_bytes, evaluation_bytes, seconds = outcome
            self.beat(
                claim,
                Progress(
                    stage="storing",
                    done=0,
                    total=1,
                    message="storing the plan",
                    objective=progress.objective if progress else None,
                    bound=progress.bound if progress else None,
                    gap=progress.gap if progress else None,
                ),
                percent,
            )
            with self.engine.begin() as conn:
                stored = store_result(conn, claim.id, snap, plan_bytes, evaluation_bytes, seconds, self.id)
            if stored and self.engine.dialect.name == "postgresql":
                with self.engine.connect() as conn:  # statistics for the new rows' lookups
                    conn.execute(text("ANALYZE plan_assignments"))
                    conn.commit()
            return SUCCEEDED
        if kind == "cancelled":
            self.finish(claim, CANCELLED, "cancelled on request")
            return CANCELLED
        self.finish(claim, FAILED, "the solve failed", error=str(outcome[1])[:4000])
        return FAILED

    def _kill(self, child: Any, cancel: Any) -> None:
        cancel.set()
        child.join(CANCEL_GRACE_SECONDS)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not child.is_alive():
                break
            try:
                os.killpg(child.pid, sig)
            except (ProcessLookupError, PermissionError):
                child.kill() if sig == signal.SIGKILL else child.terminate()
            child.join(0.5)
        # the solver's own pool lives in the same group; make sure it is gone too
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)

    def _requeue(self, claim: Claim) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(Job)
                .where(Job.id == claim.id, Job.worker_id == self.id, Job.status == RUNNING)
                .values(
                    status=QUEUED,
                    stage="queued",
                    message="worker stopped; queued again",
                    worker_id=None,
                    attempts=Job.attempts - 1,
                )
            )

    @property
    def stopping(self) -> bool:
        return self._signalled or self.stop.is_set()

    def request_stop(self) -> None:
        """Safe in a signal handler: only sets a flag. (Event.set() there can deadlock: the handler
        runs in the main thread, which may be inside Event.wait() holding the Event's lock.)"""
        self._signalled = True

    def run_once(self) -> str | None:
        claim = self.claim()
        if claim is None:
            return None
        log.info("running job %s (attempt %d)", claim.id, claim.attempts)
        status = self.run(claim)
        log.info("job %s: %s", claim.id, status)
        return status

    def run_forever(self) -> None:
        log.info("worker %s polling every %.2fs", self.id, self.cfg.poll_seconds)
        while not self.stopping:
            try:
                if self.run_once() is None:
                    self.stop.wait(self.cfg.poll_seconds)
            except Exception:
                log.exception("worker loop error; retrying")
                self.stop.wait(max(1.0, self.cfg.poll_seconds))


def run_worker(settings: Settings) -> int:
    """`planner worker`: migrate, then run jobs until SIGTERM/SIGINT."""
    from api.db.migrate import migrate

    migrate(settings.db)
    worker = Worker(settings)

    def _stop(*_: Any) -> None:
        worker.request_stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker.run_forever()
    worker.engine.dispose()
    return 0
