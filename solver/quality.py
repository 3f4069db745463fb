"""The delivered plan's quality: its cost, scored by the one evaluator, against the bound of
solver/bound.py. That gap is the headline gap everywhere (CLI, API jobs, plan results)."""

from __future__ import annotations

from planner.domain import PlanningProblem
from planner.evaluate import evaluate
from planner.plan import Plan, PlanQuality
from solver.bound import Bound

BOUND_METHOD = (
    "sum over days of the LP relaxation of the day's allocation over all sources, with officers "
    "counted against the published roster and rest rules relaxed where another day's deployment "
    "could lift them (solver/bound.py)"
)


def measure_quality(problem: PlanningProblem, plan: Plan, bound: Bound, bound_wait: float) -> PlanQuality:
    objective = evaluate(problem, plan).summary.plan_cost
    return PlanQuality(
        objective=objective,
        bound=bound.total,
        gap=gap(objective, bound.total),
        bound_seconds=bound_wait,
        bound_solve_seconds=bound.solve_seconds,
        method=BOUND_METHOD,
    )


def gap(objective: float, bound: float) -> float:
    return max(0.0, objective - bound) / max(abs(objective), 1e-9)


__all__ = ["BOUND_METHOD", "PlanQuality", "gap", "measure_quality"]
