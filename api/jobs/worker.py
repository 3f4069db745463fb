"""The worker: claims jobs, runs each attempt's solve in a child process, beats the heartbeat, copies
progress into the row, stops the child on cancel, and stores the result. One job at a time.

Failures are told apart: inputs that cannot be solved or stored and errors the solver raises fail the
job at once (the same snapshot fails the same way again); a worker that dies leaves its job running
with a heartbeat that goes stale, and the job is claimed again, up to `max_attempts`."""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing as mp
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

from api.db.engine import make_sync_engine, utcnow
from api.db.models import Job
from api.jobs import messages, transitions
from api.jobs.child import child_main, kill_group, lower_priority
from api.jobs.kinds import JobKind, decode_result, kind_of
from api.jobs.snapshot import InputError, Snapshot, build_problem, load_snapshot, save_snapshot
from api.jobs.transitions import ErrorKind, Status
from api.settings import Settings
from planner.plan import Progress
from planner.stages import JobPercent, Stage

log = logging.getLogger("api.jobs")

CANCEL_GRACE_SECONDS = 0.5
CANCEL_POLL_SECONDS = 0.25
LOST = "lost"  # run()'s outcome when another worker took the job over


def transient(error: BaseException) -> bool:
    """A database error worth retrying on another attempt (the connection, not the statement)."""
    if isinstance(error, OperationalError | InterfaceError | DisconnectionError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


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
    kind: str = "plan"


class Worker:
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

    def claim(self) -> Claim | None:
        """Atomically take the oldest queued job, or a running one whose worker stopped beating."""
        while True:
            now = utcnow()
            cond = transitions.claimable(now, self.cfg.stale_seconds)
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
                else:  # one statement: SQLite serialises writers
                    target = select(Job.id).where(cond).order_by(Job.created_at).limit(1).scalar_subquery()
                claimed = conn.execute(transitions.claim(target, cond, self.id, now)).first()
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
                    kind=claimed.kind or "plan",
                )
                if claim.cancel_requested:
                    conn.execute(
                        transitions.finish(claim.id, Status.CANCELLED, "cancelled before it ran", now)
                    )
                    continue
                if claim.attempts > self.cfg.max_attempts:
                    conn.execute(
                        transitions.finish(
                            claim.id,
                            Status.FAILED,
                            "no result after repeated attempts",
                            now,
                            error=f"gave up after {claim.attempts - 1} attempts (worker crashes)",
                            error_kind=ErrorKind.CRASH,
                        )
                    )
                    continue
                if claim.attempts > 1:
                    log.warning("reclaimed job %s (attempt %d)", claim.id, claim.attempts)
                return claim

    def finish(
        self,
        claim: Claim,
        status: Status,
        message: str,
        *,
        error: str | None = None,
        error_kind: ErrorKind | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                transitions.finish(
                    claim.id,
                    status,
                    message,
                    utcnow(),
                    error=error,
                    error_kind=error_kind,
                    worker_id=self.id,
                    attempt=claim.attempts,
                )
            )

    # ---- one attempt

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
            conn.execute(transitions.record_inputs(claim.id, snap.hash, snap.policy_version))
        return snap

    def beat(
        self, claim: Claim, progress: Progress | None, percent: JobPercent | None = None
    ) -> tuple[bool, bool]:
        """Heartbeat plus progress. Returns (still ours, cancel requested)."""
        values: dict[str, Any] = {}
        if progress is not None:
            values.update(
                stage=progress.stage,
                percent=(percent or JobPercent()).update(progress.stage, progress.percent),
                message=progress.message[:500],
                objective=progress.objective,
                bound=progress.bound,
                gap=progress.gap,
            )
        with self.engine.begin() as conn:
            row = conn.execute(
                transitions.heartbeat(claim.id, self.id, claim.attempts, utcnow(), **values)
            ).first()
        if row is None:
            return False, False
        return True, bool(row.cancel_requested)

    def run(self, claim: Claim) -> str:
        """Take a claimed job to a final state (or back to the queue); returns that state."""
        try:
            kind = kind_of(claim.kind)
            snap = self.snapshot(claim)
        except Exception as exc:
            if transient(exc):
                raise  # the job stays running; its heartbeat goes stale and it is claimed again
            return self._fail_on_inputs(claim, exc)
        outcome, progress, percent = self._solve(claim, kind, snap)
        if isinstance(outcome, str):
            return outcome
        if isinstance(outcome, messages.Cancelled):
            self.finish(claim, Status.CANCELLED, "cancelled on request")
            return Status.CANCELLED
        if isinstance(outcome, messages.Failed):
            self.finish(
                claim, Status.FAILED, "the solve failed", error=outcome.message, error_kind=outcome.kind
            )
            return Status.FAILED
        return self._store(claim, kind, snap, outcome, progress, percent)

    def _fail_on_inputs(self, claim: Claim, exc: Exception) -> str:
        message = str(exc) if isinstance(exc, InputError | LookupError) else f"{type(exc).__name__}: {exc}"
        log.warning("job %s failed on its inputs: %s", claim.id, message)
        self.finish(
            claim, Status.FAILED, "the inputs cannot be planned", error=message, error_kind=ErrorKind.INPUT
        )
        return Status.FAILED

    def _solve(self, claim: Claim, kind: JobKind, snap: Snapshot) -> tuple[Any, Progress | None, JobPercent]:
        """Run the child to its last message; (outcome, last progress, the job's percent)."""
        workers = claim.options.get("workers") or self.cfg.solver_workers
        ctx: Any = mp.get_context(self.cfg.start_method)
        recv, send = ctx.Pipe(duplex=False)
        lifeline = ctx.Pipe(duplex=False)  # (child reads, worker holds the write end)
        cancel = ctx.Event()
        child = ctx.Process(
            target=child_main,
            name=f"solve-{claim.id[:8]}",
            args=(
                send,
                lifeline,
                cancel,
                kind.name,
                kind.solver(claim.options, self.cfg.solver),
                msgspec.msgpack.encode(snap.problem),
                workers,
                self.cfg.solve_niceness,
            ),
            daemon=False,
        )
        child.start()
        send.close()
        lifeline[0].close()
        progress: Progress | None = None
        percent = JobPercent()
        dirty = False
        last_beat = last_poll = time.monotonic()
        outcome: Any = None
        try:
            while outcome is None:
                if recv.poll(0.05):
                    try:
                        message = messages.decode(recv.recv_bytes())
                    except EOFError:
                        child.join(1.0)
                        outcome = self._died(child)
                        break
                    if isinstance(message, messages.ProgressReport):
                        progress, dirty = message.progress, True
                        continue
                    outcome = message
                    break
                now = time.monotonic()
                if self.stopping:
                    self._kill(child, cancel)
                    with self.engine.begin() as conn:
                        conn.execute(transitions.requeue(claim.id, self.id, claim.attempts))
                    return Status.QUEUED, progress, percent
                if now - last_poll >= CANCEL_POLL_SECONDS or (dirty and now - last_beat >= 0.5):
                    owned, cancel_requested = self.beat(claim, progress if dirty else None, percent)
                    last_poll = now
                    if dirty:
                        last_beat, dirty = now, False
                    if not owned:
                        log.warning("job %s was taken over by another worker; stopping", claim.id)
                        self._kill(child, cancel)
                        return LOST, progress, percent
                    if cancel_requested:
                        self._kill(child, cancel)
                        self.finish(claim, Status.CANCELLED, "cancelled on request")
                        return Status.CANCELLED, progress, percent
                if not child.is_alive() and not recv.poll(0):
                    outcome = self._died(child)
        finally:
            recv.close()
            child.join(2.0)
            self._kill(child, cancel)  # whatever is left of the group (a crashed child's pool)
            lifeline[1].close()
        return outcome, progress, percent

    @staticmethod
    def _died(child: Any) -> messages.Failed:
        return messages.Failed(
            kind=ErrorKind.SOLVER, message=f"solver process exited with code {child.exitcode}"
        )

    def _store(
        self,
        claim: Claim,
        kind: JobKind,
        snap: Snapshot,
        solved: messages.Solved,
        progress: Progress | None,
        percent: JobPercent,
    ) -> str:
        result = decode_result(kind, solved.result)
        self.beat(
            claim,
            Progress(
                stage=Stage.STORING,
                done=0,
                total=1,
                message="storing the result",
                objective=progress.objective if progress else None,
                bound=progress.bound if progress else None,
                gap=progress.gap if progress else None,
            ),
            percent,
        )
        quality = kind.quality(result)
        # The job ends on the delivered plan's figures, whatever progress report came last.
        final = (
            {"objective": quality.objective, "bound": quality.bound, "gap": quality.gap} if quality else {}
        )
        try:
            with self.engine.begin() as conn:
                stored = kind.store(conn, claim.id, snap, result, solved.seconds)
                if stored:
                    conn.execute(
                        transitions.succeed(claim.id, snap.hash, utcnow(), f"{kind.name} stored", **final)
                    )
        except Exception as exc:
            if transient(exc):
                raise
            log.warning("job %s: result could not be stored: %s", claim.id, exc)
            self.finish(
                claim,
                Status.FAILED,
                "the result could not be stored",
                error=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                error_kind=ErrorKind.INPUT,
            )
            return Status.FAILED
        if stored and self.engine.dialect.name == "postgresql":
            with self.engine.connect() as conn:  # statistics for the new rows' lookups
                conn.execute(text("ANALYZE plan_assignments"))
                conn.commit()
        return Status.SUCCEEDED

    def _kill(self, child: Any, cancel: Any) -> None:
        """Stop the child: ask (the cancel event), then kill its process group, pool and all."""
        if child.is_alive():
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
        kill_group(child.pid)  # the pool lives on in the group after its leader exits

    # ---- the loop

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


def run_worker(settings: Settings, *, stop_requested: Callable[[], bool] = lambda: False) -> int:
    """`planner worker`: migrate, then run jobs until SIGTERM/SIGINT (`stop_requested`: a stop that
    arrived before this was called)."""
    from api.db.migrate import migrate

    # Everything a worker does (snapshots, evaluating and storing a full year's rows) is background
    # work: at the solve's niceness it leaves the API processes' reads first call on the CPU.
    lower_priority(settings.worker.solve_niceness)
    worker = Worker(settings)

    def _stop(*_: Any) -> None:
        worker.request_stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if stop_requested():
        worker.request_stop()
    if not worker.stopping:
        migrate(settings.db)
        worker.run_forever()
    worker.engine.dispose()
    return 0
