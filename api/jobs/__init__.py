"""Durable jobs: the queue lives in the `plan_jobs` table and a worker process runs them.

Life of a job: the API queues it (`service.enqueue`). A worker claims it atomically (PostgreSQL:
SELECT ... FOR UPDATE SKIP LOCKED; SQLite: one conditional UPDATE, which SQLite serialises),
snapshots the inputs (the exact PlanningProblem, checked and content-hashed, with the calendar,
officers and policy versions) and runs the job kind's solver in a child process that leads its own
process group and dies with the worker. While the child runs, the worker beats the heartbeat,
copies progress into the row (the percent never falls: planner.stages) and polls the cancel flag;
on cancel it stops the child's whole group, well inside 2 s. A job whose heartbeat went stale (its
worker died) is claimed again and re-solved from the same snapshot; bad inputs and solver errors
fail it at once with a message naming what was wrong. The result is written once: the `plans` row
is keyed by job id, so a second writer fails on the primary key and the first result stands.

    transitions.py  every change of a job row (the only writer of plan_jobs)
    service.py      the API's side: enqueue, cancel (who may cancel, and who did)
    worker.py       claim, supervise the child, heartbeat, cancel, store
    child.py        the solve child, its process group and lifeline
    messages.py     the child's typed messages to the worker
    kinds.py        per job kind: solver, result type, how the result is stored
    snapshot.py     the inputs a job solves, checked; store.py: writing the result rows"""

from api.jobs.snapshot import Snapshot, compress, decompress
from api.jobs.store import copy_rows
from api.jobs.transitions import FINAL, ErrorKind, Status
from api.jobs.worker import Claim, Worker, run_worker

__all__ = [
    "FINAL",
    "Claim",
    "ErrorKind",
    "Snapshot",
    "Status",
    "Worker",
    "compress",
    "copy_rows",
    "decompress",
    "run_worker",
]
