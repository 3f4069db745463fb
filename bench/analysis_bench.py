"""Analysis benchmark on the full demo London year.

1. Loads the demo year into a fresh SQLite database and plans the full year through a durable job
   (or, with --db, reuses a database that already holds a full-year plan).
2. Starts the real service (uvicorn) and measures the analysis endpoints: the first request for a
   plan (which computes and caches its analysis context) and then p50/p99 over repeated requests
   for investigation impact, explanations, rules, overview, heatmaps and an event drill-down.
3. Measures the dashboard's first load in headless Chromium (when installed): a fresh browser
   session opening /dashboard with a key, until every chart of the first screen is drawn.
4. With --frontier: the 6-point investigation-floor frontier (parallel processes) against the wall
   time of one plan.

Run: `python -m bench.analysis_bench [--frontier] [--db PATH] [--requests N]`;
writes bench/results/analysis.json. Targets: impact and explanation endpoints p99 <= 300 ms once a
plan exists; dashboard first load <= 2 s; frontier <= 4x one plan."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

OUT = Path("bench/results/analysis.json")
TARGETS = {"endpoint_p99_ms": 300.0, "dashboard_first_load_s": 2.0, "frontier_vs_plan": 4.0}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(db_path: Path, reuse: bool) -> dict[str, Any]:
    """A database with the demo year, a full-year plan and keys; returns ids, keys and the plan time."""
    from litestar.testing import TestClient
    from sqlalchemy import select

    from api.app import create_app
    from api.auth import insert_key_statement
    from api.db.engine import make_sync_engine
    from api.db.migrate import migrate
    from api.db.models import PlanRecord
    from api.demo import load_demo
    from api.jobs import Worker
    from api.settings import DatabaseSettings, Settings, WorkerSettings

    settings = Settings(db=DatabaseSettings(url=f"sqlite:///{db_path}"), worker=WorkerSettings(mode="off"))
    migrate(settings.db)
    engine = make_sync_engine(settings.db, pooled=False)
    keys = {}
    with engine.begin() as conn:
        for role in ("planner", "analyst"):
            full, _id, stmt = insert_key_statement(role, "bench")
            conn.execute(stmt)
            keys[role] = full
    plan_id = None
    if reuse:
        with engine.connect() as conn:
            row = conn.execute(
                select(PlanRecord.job_id, PlanRecord.solve_seconds)
                .where(PlanRecord.method != "frontier")
                .order_by(PlanRecord.created_at.desc())
            ).first()
        if row is not None:
            plan_id, seconds = row.job_id, row.solve_seconds
    engine.dispose()
    if plan_id is None:
        load_demo(settings)
        with TestClient(create_app(settings, migrate=False)) as client:
            job = client.post(
                "/plans",
                json={"start": "2027-01-01", "end": "2027-12-31"},
                headers={"X-API-Key": keys["planner"]},
            ).json()
        print("planning the full demo year (a few minutes)...", flush=True)
        worker = Worker(settings)
        started = time.perf_counter()
        status = worker.run_once()
        print(f"  plan job {status} in {time.perf_counter() - started:.1f} s", flush=True)
        worker.engine.dispose()
        plan_id = job["id"]
        engine = make_sync_engine(settings.db, pooled=False)
        with engine.connect() as conn:
            seconds = conn.execute(
                select(PlanRecord.solve_seconds).where(PlanRecord.job_id == plan_id)
            ).scalar_one()
        engine.dispose()
    return {"plan_id": plan_id, "keys": keys, "plan_seconds": float(seconds), "url": settings.db.url}


def start_server(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "PLANNER_WORKER": "off"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.app:app_from_env",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("service did not start")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))]


def measure_endpoints(base: str, plan_id: str, key: str, requests: int) -> dict[str, Any]:
    h = {"X-API-Key": key}
    out: dict[str, Any] = {}
    with httpx.Client(base_url=base, headers=h, timeout=600) as client:
        started = time.perf_counter()
        r = client.get(f"/analysis/plans/{plan_id}/overview")
        r.raise_for_status()
        out["first_request_s"] = round(time.perf_counter() - started, 3)  # computes the analysis context
        overview = r.json()
        short = overview["short_events"][0]["event_id"] if overview["short_events"] else None
        some_event = short or client.get(f"/plans/{plan_id}/events?limit=1").json()["items"][0]["event_id"]
        base_path = f"/analysis/plans/{plan_id}"
        endpoints = {
            "impact": f"{base_path}/impact",
            "impact_summary": f"{base_path}/impact?series=false",
            "impact_custom": f"{base_path}/impact?share=0.4&rate=0.5&threshold=2&series=false",
            "explanations": f"{base_path}/explanations?limit=100",
            "explanations_event": f"{base_path}/explanations?event_id={some_event}",
            "rules": f"{base_path}/rules",
            "overview": f"{base_path}/overview",
            "heatmap_abstraction": f"{base_path}/heatmap?metric=abstraction",
            "heatmap_retained": f"{base_path}/heatmap?metric=retained",
            "event_drill_down": f"{base_path}/events/{some_event}",
        }
        for name, path in endpoints.items():
            times = []
            size = 0
            for _ in range(requests):
                t = time.perf_counter()
                resp = client.get(path)
                times.append((time.perf_counter() - t) * 1000)
                resp.raise_for_status()
                size = len(resp.content)
            out[name] = {
                "p50_ms": round(statistics.median(times), 2),
                "p99_ms": round(percentile(times, 0.99), 2),
                "max_ms": round(max(times), 2),
                "bytes": size,
                "requests": requests,
            }
            print(
                f"  {name:22s} p50 {out[name]['p50_ms']:8.2f} ms  "
                f"p99 {out[name]['p99_ms']:8.2f} ms  {size:>9,} B",
                flush=True,
            )
        out["explanations_total"] = client.get(f"{base_path}/explanations?limit=1").json()["total"]
        # what-if: the first short event (or any event) with a single constable, re-planned unstored
        t = time.perf_counter()
        resp = client.post(
            f"{base_path}/what-if",
            json={"event_id": some_event, "demand": [{"role": "constable", "count": 1}]},
        )
        resp.raise_for_status()
        out["what_if_event_s"] = round(time.perf_counter() - t, 3)
        out["what_if_days"] = len(resp.json()["days"])
        print(f"  what-if (event) {out['what_if_event_s']} s over {out['what_if_days']} day(s)", flush=True)
    return out


def measure_dashboard(base: str, key: str, plan_id: str, runs: int = 3) -> dict[str, Any] | None:
    from bench.browser import find_chromium, headless_chromium

    chromium, driver_path = find_chromium()
    if not chromium or not driver_path:
        return None
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    loads = []
    page_ms = []
    for _ in range(runs):
        with headless_chromium(chromium, driver_path) as driver:
            driver.get(f"{base}/health")
            driver.execute_script("sessionStorage.setItem('planner-key', arguments[0])", key)
            started = time.perf_counter()
            driver.get(f"{base}/dashboard")  # a first load of the page: HTML, JS, then the data and charts
            WebDriverWait(driver, 60).until(
                lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded-ms")
            )
            loads.append(time.perf_counter() - started)
            page_ms.append(
                float(driver.find_element(By.TAG_NAME, "body").get_attribute("data-loaded-ms") or 0)
            )
            cells = len(driver.find_elements(By.CSS_SELECTOR, "#heat-abstraction svg rect.heat-cell"))
            bars = len(driver.find_elements(By.CSS_SELECTOR, "#year-chart svg rect.demand-bar"))
    return {
        "first_load_s": [round(x, 3) for x in loads],
        "first_load_max_s": round(max(loads), 3),
        "data_and_charts_ms": page_ms,
        "heatmap_cells": cells,
        "year_bars": bars,
    }


def measure_frontier(plan_seconds: float, processes: int) -> dict[str, Any]:
    from planner.demo import demo_problem
    from solver.frontier import frontier

    problem = demo_problem()
    print(f"frontier: 6 points, {processes} processes (several minutes)...", flush=True)
    result = frontier(problem, processes=processes)
    return {
        "wall_seconds": result.wall_seconds,
        "plan_seconds": plan_seconds,
        "ratio_to_one_plan": round(result.wall_seconds / plan_seconds, 2) if plan_seconds else None,
        "processes": result.processes,
        "points": [{k: getattr(p, k) for k in p.__struct_fields__} for p in result.points],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path, help="SQLite file to create or reuse (default: a temporary one)")
    parser.add_argument("--requests", type=int, default=100, help="requests per endpoint")
    parser.add_argument("--frontier", action="store_true", help="also run the 6-point frontier (long)")
    parser.add_argument("--processes", type=int, default=2, help="frontier point processes")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    tmp = None
    db = args.db
    if db is None:
        tmp = Path(tempfile.mkdtemp(prefix="analysis-bench-"))
        db = tmp / "planner.sqlite3"
    result: dict[str, Any] = {"targets": TARGETS}
    try:
        info = prepare(db, reuse=db.exists())
        result["plan_id"] = info["plan_id"]
        result["plan_seconds"] = info["plan_seconds"]
        proc, base = start_server(info["url"])
        try:
            print("analysis endpoints (analyst key):", flush=True)
            result["endpoints"] = measure_endpoints(
                base, info["plan_id"], info["keys"]["analyst"], args.requests
            )
            print("dashboard first load (headless chromium):", flush=True)
            result["dashboard"] = measure_dashboard(base, info["keys"]["analyst"], info["plan_id"])
            print(f"  {result['dashboard']}", flush=True)
        finally:
            proc.terminate()
            proc.wait(10)
        if args.frontier:
            result["frontier"] = measure_frontier(info["plan_seconds"], args.processes)
            print(
                f"  frontier {result['frontier']['wall_seconds']} s = "
                f"{result['frontier']['ratio_to_one_plan']}x one plan ({info['plan_seconds']:.1f} s)",
                flush=True,
            )
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    ep = result["endpoints"]
    result["checks"] = {
        "impact_p99_ms": ep["impact"]["p99_ms"],
        "explanations_p99_ms": ep["explanations"]["p99_ms"],
        "endpoint_p99_ok": max(
            ep[k]["p99_ms"] for k in ("impact", "impact_summary", "explanations", "explanations_event")
        )
        <= TARGETS["endpoint_p99_ms"],
        "dashboard_ok": (result["dashboard"] or {}).get("first_load_max_s", 1e9)
        <= TARGETS["dashboard_first_load_s"],
        "frontier_ok": (result.get("frontier") or {}).get("ratio_to_one_plan", 1e9)
        <= TARGETS["frontier_vs_plan"]
        if args.frontier
        else None,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result["checks"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
