"""`planner demo`, `planner plan` and `planner bench`: the planning core from the terminal."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planner.plan import Plan


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the planning subcommands."""
    demo = sub.add_parser("demo", help="write the built-in London demo year (events, officers, policy)")
    demo.add_argument("--out", type=Path, default=Path("demo"), help="folder to write into")
    demo.add_argument("--year", type=int, default=2027)
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(handler=_demo)

    plan = sub.add_parser("plan", help="plan a calendar down to named officers; writes plan JSON")
    plan.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder with events.json, officers.json and policy.json (as `planner demo` writes)",
    )
    plan.add_argument("--events", type=Path, default=None)
    plan.add_argument("--officers", type=Path, default=None)
    plan.add_argument(
        "--policy", type=Path, default=None, help="policy JSON (defaults from DOMAIN.md if omitted)"
    )
    plan.add_argument(
        "--start", type=dt.date.fromisoformat, default=None, help="first day (default: first event)"
    )
    plan.add_argument(
        "--end", type=dt.date.fromisoformat, default=None, help="last day (default: last event)"
    )
    plan.add_argument("--out", type=Path, default=Path("plan.json"))
    plan.add_argument("--workers", type=int, default=None)
    plan.add_argument(
        "--dask",
        metavar="ADDR",
        default=None,
        help="run the solve's tasks on the Dask scheduler at ADDR (default PLANNER_DASK_SCHEDULER)",
    )
    plan.add_argument("--no-progress", action="store_true")
    plan.set_defaults(handler=_plan)

    bench = sub.add_parser("bench", help="full demo year end to end vs the greedy baseline; writes JSON")
    from bench.core import add_arguments

    add_arguments(bench)
    bench.set_defaults(handler=_bench)


def _demo(args: argparse.Namespace) -> int:
    import msgspec

    from planner.demo import demo_problem

    problem = demo_problem(year=args.year, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "events.json").write_bytes(msgspec.json.encode(problem.events))
    (args.out / "officers.json").write_bytes(msgspec.json.encode(problem.officers))
    (args.out / "policy.json").write_bytes(msgspec.json.format(msgspec.json.encode(problem.policy)))
    print(
        f"wrote {len(problem.events)} events, {len(problem.officers)} officers and the policy to {args.out}/"
    )
    return 0


def load_problem(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    import msgspec

    from planner.domain import Event, Officer, PlanningProblem, Policy
    from planner.reference import london

    events_path = args.events or (args.data / "events.json" if args.data else None)
    officers_path = args.officers or (args.data / "officers.json" if args.data else None)
    policy_path = args.policy or (args.data / "policy.json" if args.data else None)
    if events_path is None or officers_path is None:
        raise SystemExit("planner plan: give --data FOLDER, or --events and --officers")
    events = msgspec.json.decode(events_path.read_bytes(), type=tuple[Event, ...])
    officers = msgspec.json.decode(officers_path.read_bytes(), type=tuple[Officer, ...])
    policy = (
        msgspec.json.decode(policy_path.read_bytes(), type=Policy)
        if policy_path and policy_path.exists()
        else Policy()
    )
    if not events:
        raise SystemExit("planner plan: the calendar has no events")
    start = args.start or min(e.start.date() for e in events)
    end = args.end or max(e.end.date() for e in events)
    return PlanningProblem(
        organisation=london(), officers=officers, events=events, policy=policy, start=start, end=end
    )


def _plan(args: argparse.Namespace) -> int:
    import msgspec

    from api.progress import ProgressBar
    from planner.evaluate import evaluate, kpi_summary_table
    from planner.validate import validate
    from solver import solve

    try:
        problem = load_problem(args)
    except msgspec.ValidationError as exc:
        print(f"planner plan: invalid input: {exc}", file=sys.stderr)
        return 2
    from solver.dask_executor import SCHEDULER_ENV, SchedulerUnreachable, cluster_threads, scheduler_address

    if args.dask:
        os.environ[SCHEDULER_ENV] = args.dask
    address = scheduler_address()
    started = time.perf_counter()
    try:
        # on a cluster, as many tasks at once as it has worker threads
        workers = args.workers or (cluster_threads(address) if address else None)
        plan = solve(problem, workers=workers, progress=None if args.no_progress else ProgressBar())
    except SchedulerUnreachable as exc:
        print(f"planner plan: {exc}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    args.out.write_bytes(msgspec.json.encode(plan))
    evaluation = evaluate(problem, plan)
    violations = validate(problem, plan)
    print(kpi_summary_table(evaluation.summary))
    print(quality_line(plan))
    print("stage statistics:")
    for stage in plan.stages:
        gap = f", gap {stage.gap:.4%}" if stage.gap is not None else ""
        print(f"  {stage.name}: {stage.status} in {stage.seconds:.1f} s{gap}")
    print(
        f"plan written to {args.out} ({len(plan.assignments)} assignments) in {seconds:.1f} s; "
        f"validator: {len(violations)} violations"
    )
    return 1 if violations else 0


def quality_line(plan: Plan) -> str:
    """The headline: the delivered plan's cost against its lower bound, and the gap between them."""
    q = plan.quality
    if q is None:
        return "delivered plan: no lower bound was computed, so its gap is unknown"
    return (
        f"delivered plan: cost {q.objective:,.1f}, lower bound {q.bound:,.1f}, gap {q.gap:.4%} "
        f"(bound in {q.bound_seconds:.1f} s after the plan was ready)"
    )


def _bench(args: argparse.Namespace) -> int:
    from bench.core import execute

    return execute(args)
