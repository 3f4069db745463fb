"""Dask benchmark: one named-rostering frontier on the local process pool and on local Dask
clusters of real `dask scheduler` / `dask worker` processes (bench/cluster.py).

- `dask_overhead_ratio`: wall time on a Dask cluster of `--workers` one-thread workers over the
  local pool of as many processes (the same cores);
- `dask_speedup_2_workers`: wall time with one one-thread Dask worker over two (a measured
  simulation of adding a machine);
- `plans_equal`: every configuration gives the same frontier points (each point a full
  two-stage plan scored by the evaluator) and, with `--plan-days`, a plan through Dask has the
  local plan's assignments;
- CPU seconds of every configuration (this process, its pool processes, the Dask workers) and the
  load average, since the machine is shared; peak RSS per Dask worker; the bytes each task takes
  as arguments beside the problem, which is sent to the cluster once per frontier.

Dask workers are warmed (the solver imported) before they are timed, as long-lived workers are;
the local pool starts its processes inside the timing, as it does for every frontier.

Run: `python -m bench.distributed [--days 7] [--shares 6] [--plan-days 14]
[--out bench/results/distributed.json]`. The issue's target instance is the full demo year with
12 shares; the default here is a week of it (`instance` in the JSON says which was run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import resource
import sys
import time
from pathlib import Path
from typing import Any

import msgspec

DEFAULT_OUT = Path("bench/results/distributed.json")
DEFAULT_START = dt.date(2027, 3, 1)  # a Monday-started week with matches and protests


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _worker_cpu() -> float:
    times = os.times()
    return times.user + times.system


def _worker_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _warm() -> bool:
    import solver.frontier  # noqa: F401 (imports are what a long-lived worker has done already)

    return True


def _figures(result: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in msgspec.structs.asdict(p).items() if k != "seconds"} for p in result.points]


def _local(problem: Any, shares: tuple[float, ...], processes: int) -> dict[str, Any]:
    from solver.frontier import frontier

    os.environ.pop("PLANNER_DASK_SCHEDULER", None)
    wall, cpu, children = time.perf_counter(), time.process_time(), _cpu_children()
    result = frontier(problem, shares, detail="named", processes=processes)
    return {
        "wall_seconds": round(time.perf_counter() - wall, 2),
        "cpu_seconds": round(time.process_time() - cpu + _cpu_children() - children, 2),
        "points": _figures(result),
    }


def _on_dask(problem: Any, shares: tuple[float, ...], workers: int, processes: int) -> dict[str, Any]:
    """`processes` > 1 sends every point to the cluster (1 would plan them here); how many run at
    once is the cluster's `workers`."""
    from distributed import Client

    from bench.cluster import Cluster
    from solver.frontier import frontier

    with (
        Cluster(workers=workers, nthreads=1) as cluster,
        Client(cluster.address, set_as_default=False) as client,  # type: ignore[no-untyped-call]
    ):
        client.run(_warm)
        before = client.run(_worker_cpu)
        os.environ["PLANNER_DASK_SCHEDULER"] = cluster.address
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            result = frontier(problem, shares, detail="named", processes=processes)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        finally:
            os.environ.pop("PLANNER_DASK_SCHEDULER", None)
        after = client.run(_worker_cpu)
        peaks = client.run(_worker_peak_mb)
    return {
        "workers": workers,
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu + sum(after[w] - before[w] for w in after), 2),
        "client_cpu_seconds": round(cpu, 2),
        "worker_peak_rss_mb": sorted(round(v, 1) for v in peaks.values()),
        "points": _figures(result),
    }


def _plan_equal(problem: Any, workers: int) -> dict[str, Any]:
    from bench.cluster import Cluster
    from solver import solve

    def rows(plan: Any) -> set[tuple[str, str, str, int, str]]:
        return {(a.service_number, str(a.day), a.event_id, a.tour_index, a.role) for a in plan.assignments}

    os.environ.pop("PLANNER_DASK_SCHEDULER", None)
    started = time.perf_counter()
    local = solve(problem, workers=workers)
    local_seconds = time.perf_counter() - started
    # the solver's own repeatability on this machine now: its MIPs have time limits, so a loaded
    # machine can change a day's incumbent whichever executor runs it
    again = solve(problem, workers=workers)
    with Cluster(workers=workers, nthreads=1) as cluster:
        os.environ["PLANNER_DASK_SCHEDULER"] = cluster.address
        try:
            started = time.perf_counter()
            remote = solve(problem, workers=workers)
            remote_seconds = time.perf_counter() - started
        finally:
            os.environ.pop("PLANNER_DASK_SCHEDULER", None)
    return {
        "days": (problem.end - problem.start).days + 1,
        "assignments": len(local.assignments),
        "equal": rows(local) == rows(remote),
        "rows_differing_local_vs_dask": len(rows(local) ^ rows(remote)),
        "rows_differing_local_vs_local_again": len(rows(local) ^ rows(again)),
        "local_seconds": round(local_seconds, 2),
        "dask_seconds_cold_workers": round(remote_seconds, 2),
    }


def _differing(*runs: list[dict[str, Any]]) -> list[str]:
    """share:field for every point field on which the configurations disagree."""
    out = []
    for points in zip(*runs, strict=True):
        for name, value in points[0].items():
            if any(p[name] != value for p in points[1:]):
                out.append(f"{points[0]['investigation_floor']}:{name}")
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.core import trim
    from planner.analysis.impact import ImpactSettings
    from planner.demo import demo_problem

    year = demo_problem(args.year, seed=args.seed)
    problem = trim(year, args.start, args.days)
    shares = tuple(round(0.5 + 0.5 * i / max(1, args.shares - 1), 3) for i in range(args.shares))
    problem_bytes = msgspec.msgpack.encode(problem)
    # what `frontier` sends with each point besides the reference to the shared problem
    per_task = len(pickle.dumps((shares[0], "named", msgspec.msgpack.encode(ImpactSettings()))))
    load_before = os.getloadavg()
    local = _local(problem, shares, args.workers)
    two = _on_dask(problem, shares, args.workers, args.workers)
    one = _on_dask(problem, shares, 1, args.workers)
    plan = _plan_equal(trim(year, args.start, args.plan_days), args.workers) if args.plan_days else None
    points_equal = local["points"] == two["points"] == one["points"]
    return {
        "instance": {
            "source": f"demo year {args.year} seed {args.seed}",
            "start": str(problem.start),
            "days": (problem.end - problem.start).days + 1,
            "officers": len(problem.officers),
            "shares": list(shares),
            "detail": "named",
            "full_year_12_shares": args.days is None and args.shares == 12,
        },
        "dask_overhead_ratio": round(two["wall_seconds"] / local["wall_seconds"], 3),
        "dask_speedup_2_workers": round(one["wall_seconds"] / two["wall_seconds"], 3),
        "plans_equal": points_equal and (plan is None or plan["equal"]),
        "frontier_points_equal": points_equal,
        "frontier_fields_differing": _differing(local["points"], two["points"], one["points"]),
        "plan_through_dask": plan,
        "local_pool": {k: v for k, v in local.items() if k != "points"} | {"processes": args.workers},
        "dask_2_workers": {k: v for k, v in two.items() if k != "points"},
        "dask_1_worker": {k: v for k, v in one.items() if k != "points"},
        "problem_bytes_sent_once": len(problem_bytes),
        "task_argument_bytes_besides_problem": per_task,
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        },
        "points": local["points"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--year", type=int, default=2027)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=DEFAULT_START)
    parser.add_argument("--days", type=int, default=7, help="horizon in days (0: the whole year)")
    parser.add_argument("--shares", type=int, default=6, help="frontier points (floor shares 0.5-1.0)")
    parser.add_argument("--workers", type=int, default=2, help="pool processes / Dask workers")
    parser.add_argument(
        "--plan-days", type=int, default=0, help="also compare a plan of this many days (0: skip)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.days == 0:
        args.days, args.start = None, None
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=str))
    print(json.dumps({k: v for k, v in result.items() if k != "points"}, indent=1, default=str))
    return 0 if result["plans_equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
