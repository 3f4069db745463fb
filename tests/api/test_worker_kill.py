"""SIGKILL of a real `planner worker` mid-solve: its solve child, the child's process pool and
multiprocessing's resource tracker all die with it, the job is reclaimed, exactly one result is
stored, and no solver process is left once the reclaiming worker is done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from api.db.models import PlanRecord
from tests.api.conftest import Service
from tests.api.test_jobs import A, _count, _load, _poll, _submit

MARK = "PLANNER_KILL_TEST_MARK"  # every process the worker starts inherits its environment


def _marked(mark: str) -> set[int]:
    """Live processes (not zombies) whose environment carries `mark`."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"{MARK}={mark}".encode() in environ.split(b"\0") and state != "Z":
            found.add(int(entry.name))
    return found


def _worker(service: Service, mark: str, solver: str) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        DATABASE_URL=service.settings.db.url,
        PLANNER_SOLVER=solver,
        PLANNER_WORKER_POLL_SECONDS="0.05",
        PLANNER_JOB_STALE_SECONDS="1",
        PLANNER_LOG_LEVEL="WARNING",
        **{MARK: mark},
    )
    return subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], env=env, cwd=os.getcwd())


def _wait_until(check: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.slow
def test_sigkill_of_the_worker_mid_solve_leaves_no_solver_process_and_one_result(service: Service) -> None:
    _load(service)
    job_id = _submit(service)
    killed, again = uuid.uuid4().hex, uuid.uuid4().hex
    worker = _worker(service, killed, "tests.api.fake_solvers:pooled")
    try:
        job = _poll(service, job_id, {"running"}, timeout=60)
        assert job["status"] == "running"
        # the worker, its solve child, two pool processes and the resource tracker
        assert _wait_until(lambda: len(_marked(killed)) >= 5, 60), _marked(killed)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        gone = _wait_until(lambda: not _marked(killed), 5.0)
        assert gone, f"left after the worker's SIGKILL: {sorted(_marked(killed))}"
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert service.client.get(f"/plans/{job_id}", headers=service.h(A)).json()["status"] == "running"

    # another worker (the real solver, with a pool of its own) reclaims the stale job
    reclaimer = _worker(service, again, "solver:solve")
    try:
        job = _poll(service, job_id, {"succeeded", "failed"}, timeout=300)
        assert job["status"] == "succeeded" and job["attempts"] == 2, job
        time.sleep(5.0)  # the measure: solver processes left 5 s after the reclaim
        left = _marked(again) - {reclaimer.pid}
        assert not left, f"solver processes left after the reclaimed job finished: {sorted(left)}"
    finally:
        reclaimer.terminate()
        reclaimer.wait(30)
    assert _count(service, PlanRecord, job_id) == 1
