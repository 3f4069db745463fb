"""Full-year benchmark of the planning core: the optimising two-stage solve against the greedy
hand-planner baseline on the same demo year, both scored by one evaluator and one validator - and
the same for structural variants of the year (planner/variants.py: shapes a real force's data has
and the demo lacks).

`run_case(problem)` produces every figure for one problem. The demo year's figures are the top level
of the result (as before); each variant's go under "variants": {name: {...}}, with the same keys.
`peak_rss_mb` is the peak of this process and its finished workers so far: the demo runs first, so
its figure is its own; a variant's is the peak up to the end of that variant.

Run: `planner bench` or `python -m bench.core [--out bench/results/core.json]
[--variants uniform_day_roster,hard_weekends | --no-variants]`. For a smoke run on a short window:
`python -m bench.core --start 2027-08-27 --days 4` (every case trimmed to those days)."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import resource
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

DEFAULT_OUT = Path("bench/results/core.json")
DEFAULT_VARIANTS = ("uniform_day_roster", "hard_weekends")
PRIORITIES = ("critical", "high", "normal", "low")

# Targets (each verdict True, False, or None when a figure is not available).
TARGET_GAP = 0.02
TARGET_COST_SHARE_OF_GREEDY = 0.8
TARGET_DEMO_WALL_SECONDS = 45.0
TARGET_DEMO_PEAK_RSS_MB = 2048.0


if TYPE_CHECKING:
    from api.progress import ProgressBar
    from planner.domain import PlanningProblem
    from planner.evaluate import Evaluation
    from planner.plan import Plan


def peak_rss_mb() -> float:
    """Peak resident memory of the largest single process (this one or a finished worker)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def trim(problem: PlanningProblem, start: dt.date | None, days: int | None) -> PlanningProblem:
    """The problem's horizon cut to `days` days from `start` (defaults: its own start and end)."""
    import msgspec

    if start is None and days is None:
        return problem
    if days is not None and days < 1:
        raise SystemExit("bench: --days must be at least 1")
    first = max(problem.start, start or problem.start)
    last = problem.end if days is None else min(problem.end, first + dt.timedelta(days=days - 1))
    if last < first:
        raise SystemExit(f"bench: {first} is after the problem's last day {problem.end}")
    return msgspec.structs.replace(problem, start=first, end=last)


def _stage(plan: Plan, name: str) -> Any:
    return next((s for s in plan.stages if s.name == name), None)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _count(value: Any) -> int:
    """A check's result as a number: an int as it is, a collection by its length."""
    return value if isinstance(value, int) and not isinstance(value, bool) else len(value)


def _short_by_priority(evaluation: Evaluation) -> dict[str, int]:
    out = dict.fromkeys(PRIORITIES, 0)
    for row in evaluation.events:
        out[row.priority] = out.get(row.priority, 0) + row.short
    return out


def _checks(problem: PlanningProblem, plan: Plan) -> tuple[int | None, int | None, float | None]:
    """bench.checks' coverable short tours and explanation mismatches, if that module exists."""
    try:
        checks = importlib.import_module("bench.checks")
    except ImportError:
        return None, None, None
    started = time.perf_counter()
    coverable = _count(checks.coverable_short_tours(problem, plan))
    mismatches = _count(checks.explanation_mismatches(problem, plan))
    return coverable, mismatches, round(time.perf_counter() - started, 2)


def _verdict(ok: bool, *needed: Any) -> bool | None:
    return None if any(x is None for x in needed) else ok


def run_case(
    problem: PlanningProblem,
    *,
    workers: int | None = None,
    progress: bool = True,
    demo_targets: bool = False,
) -> dict[str, Any]:
    """Solve one problem, score it and the greedy baseline alike, and return every figure.

    `demo_targets` adds the wall-time and memory targets that hold for the demo year only."""
    from planner.evaluate import evaluate
    from planner.validate import validate
    from solver import solve
    from solver.greedy import greedy_plan

    started = time.perf_counter()
    plan = solve(problem, workers=workers, progress=_bar() if progress else None)
    solved = time.perf_counter()
    evaluation = evaluate(problem, plan)
    violations = validate(problem, plan)
    checked = time.perf_counter()
    peak = round(peak_rss_mb(), 1)
    coverable, mismatches, checks_seconds = _checks(problem, plan)
    greedy_started = time.perf_counter()
    greedy = greedy_plan(problem)
    greedy_seconds = time.perf_counter() - greedy_started
    greedy_eval = evaluate(problem, greedy)
    greedy_violations = validate(problem, greedy)

    allocation = _stage(plan, "allocation")
    repair = _stage(plan, "repair")
    quality = getattr(plan, "quality", None)
    plan_bound = _round(quality.bound, 2) if quality is not None else None
    plan_gap = quality.gap if quality is not None else None
    s, g = evaluation.summary, greedy_eval.summary
    floor_rules = {v.rule for v in violations if v.rule.endswith("floor")}
    without = s.plan_cost - s.uncovered_weighted
    greedy_without = g.plan_cost - g.uncovered_weighted
    wall = round(solved - started, 2)
    targets: dict[str, bool | None] = {
        "coverable_short_tours == 0": _verdict(coverable == 0, coverable),
        f"plan_gap <= {TARGET_GAP}": _verdict(plan_gap is not None and plan_gap <= TARGET_GAP, plan_gap),
        f"cost_without_shortfall <= {TARGET_COST_SHARE_OF_GREEDY} x greedy, critical short <= greedy": (
            without <= TARGET_COST_SHARE_OF_GREEDY * greedy_without
            and s.uncovered_critical <= g.uncovered_critical
        ),
    }
    if demo_targets:
        targets[f"wall_seconds <= {TARGET_DEMO_WALL_SECONDS:g}"] = wall <= TARGET_DEMO_WALL_SECONDS
        targets[f"peak_rss_mb <= {TARGET_DEMO_PEAK_RSS_MB:g}"] = peak <= TARGET_DEMO_PEAK_RSS_MB
    return {
        "start": problem.start.isoformat(),
        "end": problem.end.isoformat(),
        "events": len(problem.events),
        "officers": len(problem.officers),
        "tours": s.tours,
        "wall_seconds": wall,
        "evaluate_validate_seconds": round(checked - solved, 2),
        "stage_seconds": {st.name: round(st.seconds, 2) for st in plan.stages},
        "peak_rss_mb": peak,
        "stage1_objective": round(allocation.objective or 0.0, 2) if allocation else None,
        "stage1_bound": round(allocation.bound or 0.0, 2) if allocation else None,
        "stage1_gap": allocation.gap if allocation else None,
        "stage1_details": allocation.details if allocation else None,
        "repair": repair.details if repair else None,
        "plan_bound": plan_bound,
        "plan_gap": plan_gap,
        "assignments": len(plan.assignments),
        "demand_officers": s.demand_officers,
        "covered_officers": s.covered_officers,
        "uncovered_weighted": s.uncovered_weighted,
        "uncovered_critical": s.uncovered_critical,
        "uncovered_by_priority": _short_by_priority(evaluation),
        "cancelled_rest_days": s.cancelled_rest_days,
        "rest_day_cost": round(s.rest_day_cost, 1),
        "overtime_cost": round(s.overtime_cost, 1),
        "travel_minutes": round(s.travel_minutes, 1),
        "floor_violations": s.floor_violations,
        "hard_violations": len(violations),
        "hard_violation_rules": sorted({v.rule for v in violations}),
        "floor_rules_violated": sorted(floor_rules),
        "plan_cost": round(s.plan_cost, 1),
        "plan_cost_without_shortfall": round(without, 1),
        "max_borough_abstraction_share": round(s.max_borough_abstraction_share, 4),
        "coverable_short_tours": coverable,
        "explanation_mismatches": mismatches,
        "checks_seconds": checks_seconds,
        "greedy_seconds": round(greedy_seconds, 2),
        "greedy_plan_cost": round(g.plan_cost, 1),
        "greedy_plan_cost_without_shortfall": round(greedy_without, 1),
        "greedy_uncovered_weighted": g.uncovered_weighted,
        "greedy_uncovered_critical": g.uncovered_critical,
        "greedy_uncovered_by_priority": _short_by_priority(greedy_eval),
        "greedy_cancelled_rest_days": g.cancelled_rest_days,
        "greedy_rest_day_cost": round(g.rest_day_cost, 1),
        "greedy_floor_violations": g.floor_violations,
        "greedy_hard_violations": len(greedy_violations),
        "greedy_max_borough_abstraction_share": round(g.max_borough_abstraction_share, 4),
        "plan_cost_ratio_vs_greedy": round(s.plan_cost / g.plan_cost, 4) if g.plan_cost else None,
        "cost_without_shortfall_ratio_vs_greedy": (
            round(without / greedy_without, 4) if greedy_without else None
        ),
        "targets": targets,
    }


def run(
    year: int = 2027,
    seed: int = 7,
    workers: int | None = None,
    progress: bool = True,
    variants: tuple[str, ...] | list[str] = DEFAULT_VARIANTS,
    start: dt.date | None = None,
    days: int | None = None,
) -> dict[str, Any]:
    """The demo year's figures at the top level and each named variant's under "variants"."""
    from planner.demo import demo_problem
    from planner.variants import VARIANTS, apply_variant

    unknown = [name for name in variants if name not in VARIANTS]
    if unknown:
        raise SystemExit(f"bench: unknown variant(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    started = time.perf_counter()
    demo = demo_problem(year=year, seed=seed)
    generated = time.perf_counter()
    _announce("demo", progress)
    result: dict[str, Any] = {
        "year": year,
        "seed": seed,
        **run_case(trim(demo, start, days), workers=workers, progress=progress, demo_targets=True),
        "generate_seconds": round(generated - started, 2),
    }
    result["variants"] = {}
    for name in variants:
        _announce(name, progress)
        variant_started = time.perf_counter()
        problem = trim(apply_variant(name, demo), start, days)
        made = round(time.perf_counter() - variant_started, 2)
        result["variants"][name] = {
            **run_case(problem, workers=workers, progress=progress),
            "generate_seconds": made,
        }
    return result


def _announce(case: str, progress: bool) -> None:
    if progress:
        print(f"== {case}", file=sys.stderr, flush=True)


def _bar() -> ProgressBar:
    from api.progress import ProgressBar

    return ProgressBar()


# --------------------------------------------------------------------------- report


def _fmt(value: Any, spec: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return format(value, spec)


def summary_table(result: dict[str, Any]) -> str:
    """The key figures of every case, one row each."""
    cases = [("demo", result), *result.get("variants", {}).items()]
    columns = (
        ("case", lambda r, n: n, "<20"),
        (
            "days",
            lambda r, n: (dt.date.fromisoformat(r["end"]) - dt.date.fromisoformat(r["start"])).days + 1,
            ">4",
        ),
        ("tours", lambda r, n: r["tours"], ">5"),
        ("wall s", lambda r, n: _fmt(r["wall_seconds"], ".1f"), ">7"),
        ("rss MB", lambda r, n: _fmt(r["peak_rss_mb"], ".0f"), ">6"),
        ("cost", lambda r, n: _fmt(r["plan_cost"], ",.0f"), ">12"),
        ("cost-short", lambda r, n: _fmt(r["plan_cost_without_shortfall"], ",.0f"), ">10"),
        ("greedy c-s", lambda r, n: _fmt(r["greedy_plan_cost_without_shortfall"], ",.0f"), ">10"),
        ("ratio", lambda r, n: _fmt(r["cost_without_shortfall_ratio_vs_greedy"], ".3f"), ">5"),
        (
            "short c/h/n/l",
            lambda r, n: "/".join(str(r["uncovered_by_priority"][p]) for p in PRIORITIES),
            ">15",
        ),
        (
            "greedy c/h/n/l",
            lambda r, n: "/".join(str(r["greedy_uncovered_by_priority"][p]) for p in PRIORITIES),
            ">15",
        ),
        ("gap", lambda r, n: _fmt(r["plan_gap"], ".2%"), ">6"),
        ("coverable", lambda r, n: _fmt(r["coverable_short_tours"]), ">9"),
        ("mismatch", lambda r, n: _fmt(r["explanation_mismatches"]), ">8"),
        ("viol", lambda r, n: f"{r['hard_violations']}/{r['greedy_hard_violations']}", ">5"),
        ("targets", lambda r, n: _targets_text(r["targets"]), "<"),
    )
    lines = [" ".join(format(title, spec) for title, _, spec in columns)]
    for name, row in cases:
        lines.append(" ".join(format(str(get(row, name)), spec) for _, get, spec in columns))
    legend = ["", "targets:"]
    for i, target in enumerate(result["targets"], start=1):
        legend.append(f"  {i}. {target}")
    return "\n".join(lines + legend)


def _targets_text(targets: dict[str, bool | None]) -> str:
    """e.g. "1:yes 2:- 3:NO" in the order of the demo's targets."""
    return " ".join(f"{i}:{_fmt(v)}" for i, v in enumerate(targets.values(), start=1))


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    return execute(parser.parse_args(argv))


def _names(value: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in value.split(",") if name.strip())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--year", type=int, default=2027)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=None, help="solver processes (default: up to 2)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the JSON summary")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--variants",
        type=_names,
        default=DEFAULT_VARIANTS,
        help=f"comma-separated structural variants of the year (default: {','.join(DEFAULT_VARIANTS)})",
    )
    parser.add_argument("--no-variants", action="store_true", help="the demo year only")
    # Smoke runs: every case trimmed to --days days from --start.
    parser.add_argument("--start", type=dt.date.fromisoformat, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--days", type=int, default=None, help=argparse.SUPPRESS)


def execute(args: argparse.Namespace) -> int:
    variants = () if getattr(args, "no_variants", False) else getattr(args, "variants", DEFAULT_VARIANTS)
    result = run(
        year=args.year,
        seed=args.seed,
        workers=args.workers,
        progress=not args.no_progress,
        variants=variants,
        start=getattr(args, "start", None),
        days=getattr(args, "days", None),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(summary_table(result))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
