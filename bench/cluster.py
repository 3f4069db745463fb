"""A Dask cluster of real processes on 127.0.0.1: `dask scheduler` and `dask worker` commands,
as an operator would start them, on random ports (the distributed tests and bench.distributed)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

START_SECONDS = 60.0
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Cluster:
    """`workers` worker processes of `nthreads` threads each. Workers run without a nanny, so a
    SIGKILLed worker stays dead (a nanny would restart it) and its pid is the process started."""

    workers: int = 2
    nthreads: int = 1
    address: str = ""
    scheduler: subprocess.Popen[bytes] | None = None
    worker_procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _dir: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Cluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="planner-dask-")
        file = Path(self._dir.name) / "scheduler.json"
        env = _env()
        self.scheduler = _spawn(
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(file),
            ],
            env,
        )
        deadline = time.monotonic() + START_SECONDS
        while not file.exists() or not file.read_text().strip():
            if self.scheduler.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("dask scheduler did not start")
            time.sleep(0.1)
        time.sleep(0.1)  # the file is written in one go, but let a slow writer finish
        self.address = json.loads(file.read_text())["address"]
        for _ in range(self.workers):
            self.add_worker(env)
        self.wait_for_workers(self.workers, deadline)

    def add_worker(self, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        proc = _spawn(
            [
                "worker",
                self.address,
                "--host",
                "127.0.0.1",
                "--nthreads",
                str(self.nthreads),
                "--no-nanny",
                "--no-dashboard",
                "--local-directory",
                self._dir.name if self._dir else ".",
            ],
            env or _env(),
        )
        self.worker_procs.append(proc)
        return proc

    def wait_for_workers(self, n: int, deadline: float | None = None) -> None:
        from distributed import Client

        with Client(self.address, timeout=START_SECONDS, set_as_default=False) as client:  # type: ignore[no-untyped-call]
            left = (deadline or time.monotonic() + START_SECONDS) - time.monotonic()
            client.wait_for_workers(n, timeout=max(1.0, left))

    def stop(self) -> None:
        for proc in [*self.worker_procs, *([self.scheduler] if self.scheduler else [])]:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait()
        self.worker_procs.clear()
        self.scheduler = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


def _env() -> dict[str, str]:
    env = os.environ.copy()
    env.pop("PLANNER_DASK_SCHEDULER", None)  # a worker never sends tasks on
    # what a nanny would set for its worker: numeric libraries one thread per Dask thread
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    dask = Path(sys.executable).with_name("dask")
    # PLANNER_DASK_LOGS=folder keeps each process's log there (for a failure's post-mortem)
    logs = os.environ.get("PLANNER_DASK_LOGS")
    out: int | object = subprocess.DEVNULL
    if logs:
        out = open(Path(logs) / f"{args[0]}-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115
    return subprocess.Popen([str(dask), *args], env=env, cwd=ROOT, stdout=out, stderr=out)  # type: ignore[arg-type]


__all__ = ["Cluster"]
