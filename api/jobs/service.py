"""The API's side of the lifecycle: queue a job, cancel one (async; the statements are transitions').

Who may cancel: the key that submitted the job, or any planner key (planners run the operation and
may stop a scheduler system's job). A scheduler key may cancel only the jobs it submitted, so one
client system cannot stop another's or a planner's work. The key that asked is recorded with the
job (`cancelled_by`), as the submitter is (`created_by`)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import Principal
from api.db.engine import utcnow
from api.db.models import Job, PolicyVersion
from api.db.repositories import dumps
from api.jobs import transitions
from api.jobs.transitions import FINAL, Status
from api.problems import ProblemError

CANCEL_ANY_JOB = frozenset({"planner"})  # roles that may cancel jobs other keys submitted


def new_job_id() -> str:
    return str(uuid.uuid4())


async def enqueue(
    conn: AsyncConnection,
    kind: str,
    start: dt.date,
    end: dt.date,
    policy_version: int | None,
    options: Any,
    submitted_by: str,
) -> str:
    """Queue a job of `kind` (`options` tells the worker how to run it); returns its id."""
    async with conn.begin():
        if policy_version is not None:
            found = await conn.execute(
                select(PolicyVersion.version).where(PolicyVersion.version == policy_version)
            )
            if found.first() is None:
                raise ProblemError(422, f"policy version {policy_version} does not exist.")
        job_id = new_job_id()
        await conn.execute(
            transitions.enqueue(
                job_id, kind, start, end, policy_version, dumps(options), submitted_by, utcnow()
            )
        )
    return job_id


def may_cancel(actor: Principal, submitted_by: str | None) -> bool:
    return actor.role in CANCEL_ANY_JOB or (submitted_by is not None and actor.key_id == submitted_by)


async def cancel(conn: AsyncConnection, job_id: str, actor: Principal) -> None:
    """A queued job is cancelled at once; a running one is flagged and its worker stops it (< 2 s).
    Cancelling a cancelled job again changes nothing; a finished one is a 409."""
    async with conn.begin():
        row = (await conn.execute(select(Job.status, Job.created_by).where(Job.id == job_id))).first()
        if row is None:
            raise ProblemError(404, f"No plan job {job_id!r}.")
        if not may_cancel(actor, row.created_by):
            raise ProblemError(403, "Only the key that submitted this job, or a planner, may cancel it.")
        now = utcnow()
        if row.status == Status.QUEUED:
            cancelled = await conn.execute(transitions.cancel_queued(job_id, actor.key_id, now))
            if cancelled.rowcount == 0:  # a worker claimed it meanwhile: flag it as running
                await conn.execute(transitions.request_cancel(job_id, actor.key_id, now))
        elif row.status == Status.RUNNING:
            await conn.execute(transitions.request_cancel(job_id, actor.key_id, now))
        elif row.status != Status.CANCELLED and row.status in FINAL:
            raise ProblemError(409, f"The job has already {row.status}; there is nothing to cancel.")
