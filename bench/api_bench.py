"""Service benchmark: the demo London year through the API, on SQLite and PostgreSQL.

For each database it starts a real uvicorn server on 127.0.0.1 (fresh database, migrations applied),
then measures
  * importing the demo calendar (~4,200 events) and officers (~32,000) through the import endpoints,
    and re-importing the calendar (which must change nothing);
  * GET list/read latency with 50 concurrent clients (a bounded number of requests each);
and, once (by default on SQLite), a full-year plan through the API (POST -> worker -> stored plan)
against `planner plan` on the same data from the command line.

Run: `python -m bench.api_bench [--backends sqlite,postgres] [--skip-plan]`; writes bench/results/api.json.
Targets: calendar import <= 3 s, officers <= 10 s, GET p99 <= 100 ms at 50 clients (with a cold and
with a warm response cache), API plan within 20% of the CLI."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import msgspec

DEFAULT_OUT = Path("bench/results/api.json")
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
TARGETS = {"calendar_import_s": 3.0, "officers_import_s": 10.0, "get_p99_ms": 100.0, "plan_api_vs_cli": 1.2}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Backend:
    """A fresh database: an SQLite file in a temp dir, or a new PostgreSQL schema (dropped afterwards)."""

    def __init__(self, kind: str, pg_url: str) -> None:
        self.kind = kind
        self.tmp = Path(tempfile.mkdtemp(prefix="api-bench-"))
        self.schema = f"bench_{uuid.uuid4().hex[:10]}"
        self.pg_url = pg_url
        if kind == "sqlite":
            self.url = f"sqlite:///{self.tmp}/planner.sqlite3"
        else:
            from sqlalchemy import create_engine, text

            from api.settings import DatabaseSettings

            self._admin = create_engine(DatabaseSettings(url=pg_url).sync_url, isolation_level="AUTOCOMMIT")
            with self._admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            self.url = pg_url + ("&" if "?" in pg_url else "?") + f"options=-csearch_path%3D{self.schema}"

    def close(self) -> None:
        if self.kind == "postgres":
            from sqlalchemy import text

            with self._admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            self._admin.dispose()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _keys(url: str) -> dict[str, str]:
    from api.auth import insert_key_statement
    from api.db.engine import make_sync_engine
    from api.db.migrate import migrate
    from api.settings import DatabaseSettings

    db = DatabaseSettings(url=url)
    migrate(db)
    engine = make_sync_engine(db, pooled=False)
    keys = {}
    with engine.begin() as conn:
        for role in ("planner", "analyst", "scheduler"):
            full, _, stmt = insert_key_statement(role, "bench")
            conn.execute(stmt)
            keys[role] = full
    engine.dispose()
    return keys


def _env(url: str, **extra: str) -> dict[str, str]:
    return dict(os.environ, DATABASE_URL=url, PLANNER_WORKER="off", PLANNER_LOG_LEVEL="WARNING", **extra)


def _start_server(url: str, port: int, web_workers: int = 1) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.app:app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--workers",
            str(web_workers),
        ],
        env=_env(url, PLANNER_WEB_CONCURRENCY=str(web_workers)),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def _timed_post(
    client: httpx.Client, path: str, body: bytes, key: str, media: str
) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    r = client.post(path, content=body, headers={"X-API-Key": key, "Content-Type": media})
    seconds = time.perf_counter() - started
    if r.status_code != 200:
        raise RuntimeError(f"{path}: {r.status_code} {r.text[:500]}")
    return seconds, r.json()


class _Connection:
    """A minimal keep-alive HTTP/1.1 client: the load generator shares the machine's two cores with the
    server, so it must cost far less per request than the server does (httpx costs about as much)."""

    def __init__(self, host: str, port: int, key: str) -> None:
        self.host, self.port, self.key = host, port, key
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nX-API-Key: {self.key}\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _load(
    port: int, key: str, paths: list[tuple[str, str]], clients: int, per_client: int, prewarm: bool
) -> dict[str, Any]:
    """`clients` concurrent keep-alive clients, each sending `per_client` GETs (paths in random order,
    no think time). `paths` holds (endpoint label, URL). With `prewarm`, every URL is read once first
    (a running service whose response cache holds the current pages); without, the first read of each
    URL runs the full handler and its queries."""
    latencies: dict[str, list[float]] = {}
    errors = 0
    conns = [_Connection("127.0.0.1", port, key) for _ in range(clients)]
    # open the client connections and warm the server's database pool (concurrent /health calls, a
    # database round trip each, outside the measured routes)
    for _ in range(3):
        await asyncio.gather(*(conn.get("/health") for conn in conns))
    if prewarm:
        for _label, path in paths:
            await conns[0].get(path)

    async def one_client(conn: _Connection, seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        for _ in range(per_client):
            label, path = rng.choice(paths)
            started = time.perf_counter()
            status, _ = await conn.get(path)
            took = time.perf_counter() - started
            if status != 200:
                errors += 1
            latencies.setdefault(label, []).append(took)

    started = time.perf_counter()
    await asyncio.gather(*(one_client(c, i) for i, c in enumerate(conns)))
    wall = time.perf_counter() - started
    for c in conns:
        c.close()
    every = sorted(x for v in latencies.values() for x in v)

    def pct(values: list[float], q: float) -> float:
        values = sorted(values)
        return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 1)

    return {
        "cache": "warm" if prewarm else "cold",
        "distinct_urls": len({p for _, p in paths}),
        "clients": clients,
        "requests": len(every),
        "errors": errors,
        "throughput_rps": round(len(every) / wall, 1),
        "p50_ms": pct(every, 0.50),
        "p95_ms": pct(every, 0.95),
        "p99_ms": pct(every, 0.99),
        "max_ms": round(1000 * every[-1], 1),
        "by_endpoint_p99_ms": {k: pct(v, 0.99) for k, v in sorted(latencies.items())},
    }


def _read_paths(problem: Any) -> list[tuple[str, str]]:
    """(endpoint label, URL) pairs for the read load."""
    rng = random.Random(1)
    event_ids = rng.sample([e.external_id for e in problem.events], 200)
    service_numbers = rng.sample([o.service_number for o in problem.officers], 200)
    boroughs = sorted({e.borough for e in problem.events})
    # ~830 distinct URLs, none requested before the measurement: about a third of the 2,000
    # requests are cache misses that run the full handler and its queries.
    paths = (
        [("GET /events (page)", f"/events?limit=100&offset={o}") for o in range(0, len(problem.events), 100)]
        + [("GET /officers (page)", "/officers?limit=100")]
        + [
            ("GET /officers (page)", f"/officers?limit=100&after={sn}")
            for sn in sorted(o.service_number for o in problem.officers)[99::100]
        ]
        + [("GET /reference/*", f"/reference/{r}") for r in ("boroughs", "bcus", "central-units")]
        + [("GET /policy", "/policy")]
        + [("GET /events (filtered)", f"/events?borough={b}&from=2027-06-01&to=2027-06-30") for b in boroughs]
        + [("GET /officers (filtered)", f"/officers?unit={b}&limit=50") for b in boroughs]
        + [("GET /events/{id}", f"/events/{e}") for e in event_ids]
        + [("GET /officers/{sn}", f"/officers/{s}") for s in service_numbers]
    )
    return paths


def bench_backend(
    kind: str, pg_url: str, problem: Any, clients: int, per_client: int, web_workers: int = 1
) -> dict[str, Any]:
    backend = Backend(kind, pg_url)
    try:
        keys = _keys(backend.url)
        port = _free_port()
        server = _start_server(backend.url, port, web_workers)
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=300) as client:
                events = msgspec.json.encode(problem.events)
                officers = msgspec.json.encode(problem.officers)
                cal_s, cal = _timed_post(
                    client, "/events/import/json", events, keys["planner"], "application/json"
                )
                off_s, off = _timed_post(
                    client, "/officers/import/json", officers, keys["planner"], "application/json"
                )
                again_s, again = _timed_post(
                    client, "/events/import/json", events, keys["planner"], "application/json"
                )
                assert again["inserted"] == again["updated"] == 0, again
                print(
                    f"[{kind}] calendar import {cal['received']} events: {cal_s:.2f} s; officers "
                    f"{off['received']}: {off_s:.2f} s; calendar re-import (no change): {again_s:.2f} s"
                )
            paths = _read_paths(problem)
            cold = asyncio.run(_load(port, keys["planner"], paths, clients, per_client, prewarm=False))
            load = asyncio.run(_load(port, keys["planner"], paths, clients, per_client, prewarm=True))
            for phase in (cold, load):
                print(
                    f"[{kind}] GET x{phase['requests']} at {clients} clients, {phase['cache']} cache: "
                    f"p50 {phase['p50_ms']} ms, p95 {phase['p95_ms']} ms, p99 {phase['p99_ms']} ms "
                    f"({phase['throughput_rps']} req/s, {phase['errors']} errors)"
                )
        finally:
            server.terminate()
            server.wait(10)
        return {
            "calendar_import_s": round(cal_s, 3),
            "calendar_events": cal["received"],
            "officers_import_s": round(off_s, 3),
            "officers": off["received"],
            "calendar_reimport_s": round(again_s, 3),
            "get": load,
            "get_cold_cache": cold,
        }
    finally:
        backend.close()


def bench_plan(
    kind: str, pg_url: str, problem: Any, workers: int | None, web_workers: int, clients: int, per_client: int
) -> dict[str, Any]:
    """Full-year plan: `planner plan` on the demo files vs POST /plans with a worker, same data; then
    the GET load again while a second full-year plan is solving (cancelled afterwards)."""
    backend = Backend(kind, pg_url)
    data_dir = backend.tmp / "demo"
    data_dir.mkdir()
    (data_dir / "events.json").write_bytes(msgspec.json.encode(problem.events))
    (data_dir / "officers.json").write_bytes(msgspec.json.encode(problem.officers))
    (data_dir / "policy.json").write_bytes(msgspec.json.encode(problem.policy))
    worker_args = ["--workers", str(workers)] if workers else []
    try:
        started = time.perf_counter()
        cli = subprocess.run(
            [
                sys.executable,
                "-m",
                "api.cli",
                "plan",
                "--data",
                str(data_dir),
                "--start",
                str(problem.start),
                "--end",
                str(problem.end),
                "--out",
                str(backend.tmp / "plan.json"),
                "--no-progress",
                *worker_args,
            ],
            capture_output=True,
            text=True,
            env=_env(backend.url),
        )
        cli_s = time.perf_counter() - started
        solved = re.search(r"\) in ([0-9.]+) s;", cli.stdout)
        print(
            f"[plan] CLI: {cli_s:.1f} s wall (exit {cli.returncode}); "
            f"solve {solved.group(1) if solved else '?'} s"
        )

        keys = _keys(backend.url)
        port = _free_port()
        server = _start_server(backend.url, port, web_workers)
        env = _env(
            backend.url,
            PLANNER_WORKER_POLL_SECONDS="0.2",
            **({"PLANNER_SOLVER_WORKERS": str(workers)} if workers else {}),
        )
        worker = subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], env=env)
        try:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}", timeout=300, headers={"X-API-Key": keys["planner"]}
            ) as client:
                client.post(
                    "/events/import/json",
                    content=msgspec.json.encode(problem.events),
                    headers={"Content-Type": "application/json"},
                ).raise_for_status()
                client.post(
                    "/officers/import/json",
                    content=msgspec.json.encode(problem.officers),
                    headers={"Content-Type": "application/json"},
                ).raise_for_status()
                client.put(
                    "/policy", json={"policy": msgspec.to_builtins(problem.policy), "note": "demo"}
                ).raise_for_status()
                started = time.perf_counter()
                job = client.post(
                    "/plans", json={"start": str(problem.start), "end": str(problem.end)}
                ).json()
                while job["status"] not in ("succeeded", "failed", "cancelled"):
                    time.sleep(0.25)
                    job = client.get(f"/plans/{job['id']}").json()
                api_s = time.perf_counter() - started
                summary = (
                    client.get(f"/plans/{job['id']}/summary").json() if job["status"] == "succeeded" else {}
                )
                under_solve = _reads_while_solving(
                    client, port, keys["planner"], problem, clients, per_client
                )
        finally:
            worker.terminate()
            worker.wait(30)
            server.terminate()
            server.wait(10)
        print(
            f"[plan] API ({kind}): {api_s:.1f} s from POST to stored plan ({job['status']}); "
            f"ratio {api_s / cli_s:.2f} of the CLI"
        )
        return {
            "backend": kind,
            "cli_wall_s": round(cli_s, 2),
            "cli_exit": cli.returncode,
            "cli_solve_s": float(solved.group(1)) if solved else None,
            "api_wall_s": round(api_s, 2),
            "api_status": job["status"],
            "api_solve_s": summary.get("solve_seconds"),
            "assignments": summary.get("assignments"),
            "ratio_api_to_cli": round(api_s / cli_s, 3),
            "get_while_solving": under_solve,
        }
    finally:
        backend.close()


def _reads_while_solving(
    client: httpx.Client, port: int, key: str, problem: Any, clients: int, per_client: int
) -> dict[str, Any]:
    """The GET load (cold, then warm cache) while a full-year plan solves on the same cores."""
    job = client.post("/plans", json={"start": str(problem.start), "end": str(problem.end)}).json()
    deadline = time.monotonic() + 120
    while (
        job["stage"] not in ("allocation", "rostering", "repair", "feedback") and time.monotonic() < deadline
    ):
        time.sleep(0.25)
        job = client.get(f"/plans/{job['id']}").json()
    solving_at = job["stage"]
    cold = asyncio.run(_load(port, key, _read_paths(problem), clients, per_client, prewarm=False))
    warm = asyncio.run(_load(port, key, _read_paths(problem), clients, per_client, prewarm=True))
    client.delete(f"/plans/{job['id']}")
    while client.get(f"/plans/{job['id']}").json()["status"] not in ("cancelled", "succeeded", "failed"):
        time.sleep(0.25)
    for phase in (cold, warm):
        print(
            f"[plan] GET while a plan solves ({solving_at}), {phase['cache']} cache: "
            f"p50 {phase['p50_ms']} ms, p95 {phase['p95_ms']} ms, p99 {phase['p99_ms']} ms "
            f"({phase['throughput_rps']} req/s)"
        )
    return {"stage": solving_at, "cold": cold, "warm": warm}


PLAN_FILE_ENV = "PLANNER_BENCH_PLAN"  # the plan replay_plan hands the worker
STORE_LOAD_CAP_SECONDS = 900.0  # the load stops by then even if the plan never reaches its store


def replay_plan(problem: Any, *, progress: Any = None, cancel: Any = None, workers: Any = None) -> Any:
    """A solver for the worker (PLANNER_SOLVER=bench.api_bench:replay_plan) that returns a full-year
    plan solved before (its JSON at PLANNER_BENCH_PLAN), so that the store-load benchmark measures
    storing and analysing a plan, not the solve."""
    from planner.plan import Plan, Progress

    if progress:
        progress(Progress(stage="allocation", done=1, total=1, message="replaying a stored plan"))
    return msgspec.json.decode(Path(os.environ[PLAN_FILE_ENV]).read_bytes(), type=Plan)


def _full_year_plan(problem: Any, plan_file: Path | None, tmp: Path) -> tuple[Path, str]:
    """The plan file to replay, and where it came from (a solved plan if given; else the greedy
    baseline, as many rows to store and more shortfalls to explain than the solved plan)."""
    if plan_file is not None:
        return plan_file, f"plan file {plan_file}"
    from solver.greedy import greedy_plan

    out = tmp / "greedy-plan.json"
    out.write_bytes(msgspec.json.encode(greedy_plan(problem)))
    return out, "greedy baseline (no --plan-file given)"


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 1)


async def _paced_load(
    port: int, key: str, paths: list[tuple[str, str]], rate: float, connections: int, during: Any
) -> tuple[list[tuple[float, float, int]], Any]:
    """GETs at a fixed arrival rate (open loop) until the coroutine `during(start, window)` has set
    `window["end"]` (seconds from the start) and that time has come. Each latency counts from the
    request's scheduled time, so a stalled server shows as the time requests waited, not as fewer
    requests. Returns [(scheduled offset s, latency s, status)] and what `during` returned."""
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(_Connection("127.0.0.1", port, key))
    rng = random.Random(7)
    samples: list[tuple[float, float, int]] = []
    start = time.perf_counter()
    window: dict[str, float] = {"end": STORE_LOAD_CAP_SECONDS}

    async def one(due: float, path: str) -> None:
        conn = await idle.get()
        try:
            status, _ = await conn.get(path)
        except (OSError, asyncio.IncompleteReadError):
            status = 0  # a reset or refused connection: an error
            conn.close()
            conn = _Connection("127.0.0.1", port, key)
        samples.append((due - start, time.perf_counter() - due, status))
        idle.put_nowait(conn)

    side = asyncio.create_task(during(start, window))
    tasks = []
    i = 0
    while i / rate < window["end"]:
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, rng.choice(paths)[1])))
        i += 1
    await asyncio.gather(*tasks)
    return samples, await side


def _cpu_pressure() -> str | None:
    try:
        return Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return None


def bench_store_load(
    kind: str,
    pg_url: str,
    problem: Any,
    plan_file: Path,
    plan_source: str,
    web_workers: int,
    rate: float,
    seconds: float,
) -> dict[str, Any]:
    """Reads at `rate` req/s for `seconds` while a full-year plan goes through the worker (its
    evaluation, storing its rows) and the API processes analyse it once stored."""
    backend = Backend(kind, pg_url)
    try:
        keys = _keys(backend.url)
        port = _free_port()
        server = _start_server(backend.url, port, web_workers)
        worker_env = _env(
            backend.url,
            PLANNER_WORKER_POLL_SECONDS="0.2",
            PLANNER_SOLVER="bench.api_bench:replay_plan",
            **{PLAN_FILE_ENV: str(plan_file)},
        )
        worker = subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], env=worker_env)
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=300, headers={"X-API-Key": keys["planner"]}) as client:
                for path, body in (
                    ("/events/import/json", msgspec.json.encode(problem.events)),
                    ("/officers/import/json", msgspec.json.encode(problem.officers)),
                ):
                    client.post(
                        path, content=body, headers={"Content-Type": "application/json"}
                    ).raise_for_status()
                client.put(
                    "/policy", json={"policy": msgspec.to_builtins(problem.policy), "note": "demo"}
                ).raise_for_status()

            async def plan_job(start: float, window: dict[str, float]) -> dict[str, Any]:
                """Submit the plan 10 s into the load (the reads before it are the idle baseline on
                the same machine at the same time) and note when each stage began; the load runs
                `seconds` from the start of the store (storing, then analysing in the API)."""
                await asyncio.sleep(10.0)
                async with httpx.AsyncClient(
                    base_url=base, timeout=60, headers={"X-API-Key": keys["planner"]}
                ) as c:
                    job = (
                        await c.post("/plans", json={"start": str(problem.start), "end": str(problem.end)})
                    ).json()
                    timeline = {"submitted": time.perf_counter() - start}
                    while job["status"] in ("queued", "running"):
                        await asyncio.sleep(0.2)
                        job = (await c.get(f"/plans/{job['id']}")).json()
                        timeline.setdefault(job["stage"], time.perf_counter() - start)
                        if "storing" in timeline:
                            window["end"] = timeline["storing"] + seconds
                    timeline.setdefault(job["status"], time.perf_counter() - start)
                    if "storing" not in timeline:
                        window["end"] = time.perf_counter() - start + 5.0
                    return {"status": job["status"], "error": job.get("error"), "timeline": timeline}

            paths = _read_paths(problem)
            samples, job = asyncio.run(_paced_load(port, keys["planner"], paths, rate, 64, plan_job))
        finally:
            worker.terminate()
            worker.wait(30)
            server.terminate()
            server.wait(10)
    finally:
        backend.close()
    t = job["timeline"]
    end = max(at for at, _, _ in samples) + 1e-9
    storing = t.get("storing", end)
    stored_at = t.get("succeeded", end)
    analysed_until = min(end, stored_at + 15.0)  # each API process analyses a new plan within ~10 s
    phases = {
        "before": (2.0, t.get("submitted", 0.0)),  # idle (the first 2 s open the connections)
        "evaluate": (t.get("submitted", 0.0), storing),
        "store": (storing, stored_at),
        "analyse": (stored_at, analysed_until),
        "after": (analysed_until, end),
        "store_and_analyse": (storing, end),  # the measured window: `seconds` from the store's start
        "all": (0.0, end),
    }
    out: dict[str, Any] = {
        "backend": kind,
        "cpu_pressure": _cpu_pressure(),  # other work on the machine: share of time tasks waited for CPU
        "rate_rps": rate,
        "seconds": seconds,
        "plan": plan_source,
        "job": job,
        "phases": {},
    }
    for name, (lo, hi) in phases.items():
        inside = [(lat, st) for at, lat, st in samples if lo <= at < hi]
        lat = [x for x, _ in inside]
        out["phases"][name] = {
            "from_s": round(lo, 1),
            "to_s": round(hi, 1),
            "requests": len(inside),
            "errors": sum(1 for _, st in inside if st != 200),
            "p50_ms": _pct(lat, 0.50),
            "p99_ms": _pct(lat, 0.99),
            "max_ms": round(1000 * max(lat), 1) if lat else None,
        }
    lo, hi = phases["store_and_analyse"]
    by_second: dict[int, list[float]] = {}
    for at, took, _ in samples:
        if lo <= at < hi:
            by_second.setdefault(int(at - lo), []).append(took)
    out["store_and_analyse_per_second_p99_ms"] = [_pct(by_second[k], 0.99) for k in sorted(by_second)]
    for name, ph in out["phases"].items():
        print(
            f"[store-load {kind}] {name:8s} {ph['from_s']:5.1f}-{ph['to_s']:5.1f} s: "
            f"{ph['requests']:5d} GETs, {ph['errors']} errors, "
            f"p50 {ph['p50_ms']} ms, p99 {ph['p99_ms']} ms, max {ph['max_ms']} ms"
        )
    print(f"[store-load {kind}] job {job['status']}: {job['timeline']}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_POSTGRES_URL") or PG_DEFAULT)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--web-workers",
        type=int,
        default=None,
        help="API processes (default: the service's own default, PLANNER_WEB_CONCURRENCY)",
    )
    parser.add_argument("--requests-per-client", type=int, default=40)
    parser.add_argument("--skip-plan", action="store_true", help="skip the full-year plan (API vs CLI)")
    parser.add_argument("--plan-backend", default="sqlite")
    parser.add_argument("--workers", type=int, default=None, help="solver workers for both CLI and API")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--store-load",
        action="store_true",
        help="reads at --rate req/s for --seconds while a full-year plan is stored and analysed, per backend",
    )
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--plan-file", type=Path, default=None, help="a solved plan's JSON (planner plan --out)"
    )
    parser.add_argument("--skip-backends", action="store_true", help="skip the import and GET benchmarks")
    args = parser.parse_args(argv)
    if args.web_workers is None:
        from api.settings import default_web_concurrency

        args.web_workers = default_web_concurrency()

    from planner.demo import demo_problem

    problem = demo_problem(year=2027, seed=7)
    results: dict[str, Any] = {
        "targets": TARGETS,
        "cpus": os.cpu_count(),
        "web_workers": args.web_workers,
        "command": "python -m bench.api_bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "backends": {},
    }
    kinds = [b.strip() for b in args.backends.split(",") if b.strip()]
    for kind in kinds if not args.skip_backends else []:
        results["backends"][kind] = bench_backend(
            kind, args.postgres_url, problem, args.clients, args.requests_per_client, args.web_workers
        )
    if args.store_load:
        tmp = Path(tempfile.mkdtemp(prefix="api-bench-plan-"))
        try:
            plan_file, source = _full_year_plan(problem, args.plan_file, tmp)
            results["store_load"] = {
                kind: bench_store_load(
                    kind,
                    args.postgres_url,
                    problem,
                    plan_file,
                    source,
                    args.web_workers,
                    args.rate,
                    args.seconds,
                )
                for kind in kinds
            }
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if not args.skip_plan:
        results["plan"] = bench_plan(
            args.plan_backend,
            args.postgres_url,
            problem,
            args.workers,
            args.web_workers,
            args.clients,
            args.requests_per_client,
        )
    verdict = {}
    for kind, r in results["backends"].items():
        verdict[f"{kind}.calendar_import"] = r["calendar_import_s"] <= TARGETS["calendar_import_s"]
        verdict[f"{kind}.officers_import"] = r["officers_import_s"] <= TARGETS["officers_import_s"]
        verdict[f"{kind}.get_p99_warm_cache"] = r["get"]["p99_ms"] <= TARGETS["get_p99_ms"]
        verdict[f"{kind}.get_p99_cold_cache"] = r["get_cold_cache"]["p99_ms"] <= TARGETS["get_p99_ms"]
    for kind, r in results.get("store_load", {}).items():
        every = r["phases"]["store_and_analyse"]
        verdict[f"{kind}.store_load_p99"] = (
            every["p99_ms"] is not None and every["p99_ms"] <= TARGETS["get_p99_ms"]
        )
        verdict[f"{kind}.store_load_errors"] = every["errors"] == 0 and r["job"]["status"] == "succeeded"
    if "plan" in results:
        verdict["plan_api_vs_cli"] = results["plan"]["ratio_api_to_cli"] <= TARGETS["plan_api_vs_cli"]
    results["met"] = verdict
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(verdict, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
