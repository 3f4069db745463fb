"""Every change of a `plan_jobs` row, and nothing else writes one.

    enqueue ──> queued ──claim──> running ──succeed──> succeeded
                  │                │  ├──fail───────> failed     (inputs, solver: never retried)
                  │                │  ├──cancel─────> cancelled  (the worker, on the flag)
                  │                │  ├──requeue────> queued     (its worker was asked to stop)
                  │                │  └──(heartbeat goes stale: claimable again = reclaim;
                  │                │      past max_attempts the claim gives up: failed, crash)
                  └──cancel───────────────────────> cancelled  (at once; a running job is flagged)

Each transition is a statement with its guard in the WHERE clause (the state it leaves, and for a
worker's writes the attempt it owns), so the API's async connections and the worker's blocking ones
run the same statements and a transition that lost a race changes nothing."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ColumnElement, Insert, Update, and_, insert, or_, update

from api.db.models import Job
from planner.stages import Stage


class Status(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)


class ErrorKind(enum.StrEnum):
    """Why a job failed: `input` and `solver` are deterministic (the same snapshot fails the same way,
    so the job fails at once); `crash` is a job given up after its workers kept dying."""

    INPUT = "input"
    SOLVER = "solver"
    CRASH = "crash"


def enqueue(
    job_id: str,
    kind: str,
    start: dt.date,
    end: dt.date,
    policy_version: int | None,
    options: str,
    submitted_by: str,
    now: dt.datetime,
) -> Insert:
    return insert(Job).values(
        id=job_id,
        kind=kind,
        status=Status.QUEUED,
        stage=Stage.QUEUED,
        percent=0.0,
        message="waiting for a worker",
        start=start,
        end=end,
        policy_version=policy_version,
        options=options,
        created_at=now,
        attempts=0,
        cancel_requested=False,
        created_by=submitted_by,
    )


def cancel_queued(job_id: str, actor: str, now: dt.datetime) -> Update:
    """A queued job is cancelled at once (nothing has run)."""
    return (
        update(Job)
        .where(Job.id == job_id, Job.status == Status.QUEUED)
        .values(
            status=Status.CANCELLED,
            stage=Stage.CANCELLED,
            cancel_requested=True,
            cancelled_by=actor,
            cancel_requested_at=now,
            message="cancelled before it ran",
            finished_at=now,
        )
    )


def request_cancel(job_id: str, actor: str, now: dt.datetime) -> Update:
    """A running job is flagged; its worker sees the flag on its next poll and stops the solve. The
    first request is the one recorded."""
    return (
        update(Job)
        .where(Job.id == job_id, Job.status == Status.RUNNING, Job.cancel_requested.is_(False))
        .values(
            cancel_requested=True, cancelled_by=actor, cancel_requested_at=now, message="cancel requested"
        )
    )


def claimable(now: dt.datetime, stale_seconds: float) -> ColumnElement[bool]:
    """Queued, or running with a heartbeat so old that its worker must have died (reclaim)."""
    stale = now - dt.timedelta(seconds=stale_seconds)
    return or_(Job.status == Status.QUEUED, and_(Job.status == Status.RUNNING, Job.heartbeat_at < stale))


CLAIM_COLUMNS = (
    Job.id,
    Job.kind,
    Job.attempts,
    Job.start,
    Job.end,
    Job.policy_version,
    Job.options,
    Job.input_hash,
    Job.cancel_requested,
)


def claim(target: Any, condition: ColumnElement[bool], worker_id: str, now: dt.datetime) -> Any:
    """Take `target` (an id, or a subquery choosing one) if it is still claimable; a new attempt."""
    return (
        update(Job)
        .where(Job.id == target, condition)
        .values(
            status=Status.RUNNING,
            worker_id=worker_id,
            attempts=Job.attempts + 1,
            heartbeat_at=now,
            started_at=now,
            stage=Stage.STARTING,
            percent=0.0,  # a new attempt starts the solve again
            message="claimed by " + worker_id,
        )
        .returning(*CLAIM_COLUMNS)
    )


def _owned(job_id: str, worker_id: str, attempt: int) -> ColumnElement[bool]:
    return and_(
        Job.id == job_id, Job.worker_id == worker_id, Job.attempts == attempt, Job.status == Status.RUNNING
    )


def heartbeat(job_id: str, worker_id: str, attempt: int, now: dt.datetime, **progress: Any) -> Any:
    """The owner's heartbeat, with any progress; returns the cancel flag (no row: no longer ours)."""
    return (
        update(Job)
        .where(_owned(job_id, worker_id, attempt))
        .values(heartbeat_at=now, **progress)
        .returning(Job.cancel_requested)
    )


def record_inputs(job_id: str, input_hash: str, policy_version: int) -> Update:
    """The snapshot the job solves; a reclaimed attempt solves the same one."""
    return update(Job).where(Job.id == job_id).values(input_hash=input_hash, policy_version=policy_version)


def finish(
    job_id: str,
    status: Status,
    message: str,
    now: dt.datetime,
    *,
    error: str | None = None,
    error_kind: ErrorKind | None = None,
    worker_id: str | None = None,
    attempt: int | None = None,
) -> Update:
    """A running job ends without a plan (failed or cancelled). With `worker_id`/`attempt`, only if
    that attempt still owns it (a worker that lost its job to a reclaim must not end it)."""
    guard = (
        _owned(job_id, worker_id, attempt)
        if worker_id is not None and attempt is not None
        else and_(Job.id == job_id, Job.status == Status.RUNNING)
    )
    return (
        update(Job)
        .where(guard)
        .values(
            status=status,
            stage=Stage.CANCELLED if status == Status.CANCELLED else Stage.FAILED,
            message=message[:500],
            error=error[:4000] if error else None,
            error_kind=error_kind,
            finished_at=now,
            heartbeat_at=now,
        )
    )


def succeed(job_id: str, input_hash: str, now: dt.datetime, message: str, **final: Any) -> Update:
    """The job's result is stored (in the same transaction): it ends on the delivered figures."""
    return (
        update(Job)
        .where(Job.id == job_id)
        .values(
            status=Status.SUCCEEDED,
            stage=Stage.DONE,
            percent=100.0,
            message=message,
            finished_at=now,
            heartbeat_at=now,
            input_hash=input_hash,
            error=None,
            error_kind=None,
            **final,
        )
    )


def requeue(job_id: str, worker_id: str, attempt: int) -> Update:
    """Its worker is stopping (SIGTERM, a deploy): back in the queue, the attempt not counted."""
    return (
        update(Job)
        .where(_owned(job_id, worker_id, attempt))
        .values(
            status=Status.QUEUED,
            stage=Stage.QUEUED,
            percent=0.0,
            message="worker stopped; queued again",
            worker_id=None,
            attempts=Job.attempts - 1,
        )
    )
