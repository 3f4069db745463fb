"""`planner serve` as a user runs it: API and worker processes, a plan end to end, clean shutdown."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.api import data


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _tail(path: Path) -> str:
    return "\n" + "\n".join(path.read_text(errors="replace").splitlines()[-30:])


@pytest.mark.slow
def test_serve_runs_api_and_worker_and_stops_both(tmp_path: Path) -> None:
    port = _free_port()
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{tmp_path}/var/planner.sqlite3",
        PLANNER_LOG_LEVEL="WARNING",
        PLANNER_WORKER_POLL_SECONDS="0.1",
        PLANNER_SOLVER_WORKERS="1",
    )
    env.pop("PLANNER_WORKER", None)
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    serve = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    workers: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                up = httpx.get(f"{base}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                up = False  # not listening yet: the deadline below decides
            if up:
                break
            assert time.monotonic() < deadline, "service did not start: " + _tail(tmp_path / "serve.log")
            time.sleep(0.1)
        assert (tmp_path / "var" / "planner.sqlite3").exists()
        key = subprocess.run(
            [sys.executable, "-m", "api.cli", "create-admin-key", "--role", "planner"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as c:
            assert c.get("/events").status_code == 200
            assert c.post("/officers/import/csv", content=data.officers_csv()).status_code == 200
            assert c.post("/events/import/csv", content=data.events_csv()).status_code == 200
            job = c.post("/plans", json={"start": "2027-03-01", "end": "2027-03-07"}).json()
            deadline = time.monotonic() + 120
            while job["status"] not in ("succeeded", "failed", "cancelled") and time.monotonic() < deadline:
                time.sleep(0.1)
                job = c.get(f"/plans/{job['id']}").json()
            assert job["status"] == "succeeded", f"{job} {_tail(tmp_path / 'serve.log')}"
            assert c.get(f"/plans/{job['id']}/summary").json()["summary"]["demand_officers"] == 36
        workers = subprocess.run(
            ["pgrep", "-P", str(serve.pid), "-f", "api.cli worker"], capture_output=True, text=True
        ).stdout.split()
        assert len(workers) == 1, "serve starts one worker process"
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(20)
        log.close()
    assert workers
    deadline = time.monotonic() + 10
    while _alive(int(workers[0])) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(int(workers[0])), "the worker stops with serve"


@pytest.mark.slow
def test_worker_exits_on_sigterm_while_polling(tmp_path: Path) -> None:
    """SIGTERM must stop an idle worker promptly, whatever it was doing when the signal landed (a
    handler that took the stop Event's lock could deadlock against the main thread's wait)."""
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{tmp_path}/planner.sqlite3",
        PLANNER_LOG_LEVEL="WARNING",
        PLANNER_WORKER_POLL_SECONDS="0.001",
    )
    for _ in range(3):
        worker = subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], env=env)
        try:
            time.sleep(1.5)  # migrated and polling
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(5) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
