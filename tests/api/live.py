"""A real `planner serve` process for tests that need several API processes or an HTTP client from
outside (concurrency, schemathesis): started on a free port against a given database, with one key
per role, and stopped with its process group."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from api.auth import ROLES, insert_key_statement
from api.db.engine import make_sync_engine
from api.db.migrate import migrate
from api.settings import DatabaseSettings

START_SECONDS = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    base_url: str
    database_url: str
    log: Path
    keys: dict[str, str] = field(default_factory=dict)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def create_keys(database_url: str) -> dict[str, str]:
    engine = make_sync_engine(DatabaseSettings(url=database_url), pooled=False)
    keys = {}
    with engine.begin() as conn:
        for role in ROLES:
            full, _, stmt = insert_key_statement(role, "live test")
            conn.execute(stmt)
            keys[role] = full
    engine.dispose()
    return keys


@contextmanager
def live_server(database_url: str, workdir: Path, *, processes: int = 1, **env: str) -> Iterator[LiveServer]:
    """`planner serve --no-worker` until the block ends; the database is migrated and given keys first."""
    migrate(DatabaseSettings(url=database_url))
    keys = create_keys(database_url)
    port = free_port()
    log = workdir / f"serve-{port}.log"
    environment = dict(
        os.environ,
        DATABASE_URL=database_url,
        PLANNER_WORKER="off",
        PLANNER_WEB_CONCURRENCY=str(processes),
        PLANNER_ANALYSIS_WARM_SECONDS="0",
        PLANNER_LOG_LEVEL="WARNING",
        **env,
    )
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--no-worker", "--port", str(port)],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: uvicorn's workers stop with it
        )
    server = LiveServer(base_url=f"http://127.0.0.1:{port}", database_url=database_url, log=log, keys=keys)
    try:
        _wait_until_up(server, process)
        yield server
    finally:
        with _suppress_gone():
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            with _suppress_gone():
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def _wait_until_up(server: LiveServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"planner serve exited with {process.returncode}:\n{server.tail()}")
        try:
            if httpx.get(f"{server.base_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass  # not listening yet: the deadline decides
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"planner serve did not answer /health in {START_SECONDS:.0f} s:\n{server.tail()}"
            )
        time.sleep(0.2)


def _suppress_gone() -> contextlib.suppress:
    return contextlib.suppress(ProcessLookupError, PermissionError)  # already gone
