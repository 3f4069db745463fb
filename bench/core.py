"""Full-year benchmark of the planning core: the optimising two-stage solve against the greedy
hand-planner baseline on the same demo year, both scored by one evaluator and one validator.

Run: `planner bench` or `python -m bench.core [--out bench/results/core.json]`."""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

DEFAULT_OUT = Path("bench/results/core.json")


if TYPE_CHECKING:
    from api.progress import ProgressBar


def peak_rss_mb() -> float:
    """Peak resident memory of the largest single process (this one or a finished worker)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def run(year: int = 2027, seed: int = 7, workers: int | None = None, progress: bool = True) -> dict[str, Any]:
    from planner.demo import demo_problem
    from planner.evaluate import evaluate
    from planner.validate import validate
    from solver import solve
    from solver.greedy import greedy_plan

    started = time.perf_counter()
    problem = demo_problem(year=year, seed=seed)
    generated = time.perf_counter()
    plan = solve(problem, workers=workers, progress=_bar() if progress else None)
    solved = time.perf_counter()
    evaluation = evaluate(problem, plan)
    violations = validate(problem, plan)
    checked = time.perf_counter()
    greedy_started = time.perf_counter()
    greedy = greedy_plan(problem)
    greedy_seconds = time.perf_counter() - greedy_started
    greedy_eval = evaluate(problem, greedy)
    greedy_violations = validate(problem, greedy)

    allocation = next(s for s in plan.stages if s.name == "allocation")
    s, g = evaluation.summary, greedy_eval.summary
    floor_rules = {v.rule for v in violations if v.rule.endswith("floor")}
    result: dict[str, Any] = {
        "year": year,
        "seed": seed,
        "events": len(problem.events),
        "officers": len(problem.officers),
        "tours": s.tours,
        "wall_seconds": round(solved - generated, 2),
        "generate_seconds": round(generated - started, 2),
        "evaluate_validate_seconds": round(checked - solved, 2),
        "stage_seconds": {st.name: round(st.seconds, 2) for st in plan.stages},
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "stage1_objective": round(allocation.objective or 0.0, 2),
        "stage1_bound": round(allocation.bound or 0.0, 2),
        "stage1_gap": allocation.gap,
        "stage1_details": allocation.details,
        "repair": next(st.details for st in plan.stages if st.name == "repair"),
        "assignments": len(plan.assignments),
        "demand_officers": s.demand_officers,
        "covered_officers": s.covered_officers,
        "uncovered_weighted": s.uncovered_weighted,
        "uncovered_critical": s.uncovered_critical,
        "cancelled_rest_days": s.cancelled_rest_days,
        "rest_day_cost": round(s.rest_day_cost, 1),
        "overtime_cost": round(s.overtime_cost, 1),
        "travel_minutes": round(s.travel_minutes, 1),
        "floor_violations": s.floor_violations,
        "hard_violations": len(violations),
        "hard_violation_rules": sorted({v.rule for v in violations}),
        "floor_rules_violated": sorted(floor_rules),
        "plan_cost": round(s.plan_cost, 1),
        "max_borough_abstraction_share": round(s.max_borough_abstraction_share, 4),
        "greedy_seconds": round(greedy_seconds, 2),
        "greedy_plan_cost": round(g.plan_cost, 1),
        "greedy_uncovered_weighted": g.uncovered_weighted,
        "greedy_uncovered_critical": g.uncovered_critical,
        "greedy_cancelled_rest_days": g.cancelled_rest_days,
        "greedy_rest_day_cost": round(g.rest_day_cost, 1),
        "greedy_floor_violations": g.floor_violations,
        "greedy_hard_violations": len(greedy_violations),
        "greedy_max_borough_abstraction_share": round(g.max_borough_abstraction_share, 4),
        "plan_cost_ratio_vs_greedy": round(s.plan_cost / g.plan_cost, 4) if g.plan_cost else None,
    }
    return result


def _bar() -> ProgressBar:
    from api.progress import ProgressBar

    return ProgressBar()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    return execute(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--year", type=int, default=2027)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=None, help="solver processes (default: up to 2)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the JSON summary")
    parser.add_argument("--no-progress", action="store_true")


def execute(args: argparse.Namespace) -> int:
    result = run(year=args.year, seed=args.seed, workers=args.workers, progress=not args.no_progress)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
