"""Job kinds: what a job of each kind solves, the result type its child sends back, and how that
result is stored. Every kind shares the lifecycle (claim, heartbeat, cancel, reclaim, exactly one
result); only these three things differ.

    plan      solver.solve (or the configured solver) -> PlanResult: the plan and its analysis
              (evaluation, explanations, impact: analysis.py), stored with every query row the
              result pages read
    frontier  solver.frontier -> FrontierResult: the points as stage statistics, no query rows

A new kind (the coming "replan") adds a result Struct, a `JobKind` with its `produce` and `store`,
and an entry in KINDS; the worker needs no change."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Connection

from api.db.engine import utcnow
from api.db.repositories import dumps
from api.jobs import store
from api.jobs.analysis import PlanAnalysis, analyse
from api.jobs.snapshot import Snapshot
from planner.domain import PlanningProblem
from planner.plan import Plan, PlanQuality

Solve = Callable[..., Any]  # (problem, *, progress, cancel, workers) -> the solver's output


class PlanResult(msgspec.Struct, tag="plan", frozen=True):
    plan: Plan
    analysis: PlanAnalysis  # its evaluation included


class FrontierResult(msgspec.Struct, tag="frontier", frozen=True):
    plan: Plan  # solver.frontier.frontier_plan: one stage per point, no assignments


@dataclass(frozen=True)
class JobKind:
    name: str  # plan_jobs.kind
    result_type: type[msgspec.Struct]
    # in the solve child: the solver's output -> this kind's result
    produce: Callable[[PlanningProblem, Any], msgspec.Struct]
    # in the worker, inside the storing transaction: False if a result was already stored
    store: Callable[[Connection, str, Snapshot, Any, float], bool]
    # the solver's "module:function" from the job's options and the worker's configured plan solver
    solver: Callable[[dict[str, Any], str], str]

    def quality(self, result: Any) -> PlanQuality | None:
        plan = getattr(result, "plan", None)
        return plan.quality if isinstance(plan, Plan) else None


def _produce_plan(problem: PlanningProblem, plan: Plan) -> PlanResult:
    return PlanResult(plan=plan, analysis=analyse(problem, plan))


def _store_plan(conn: Connection, job_id: str, snap: Snapshot, result: PlanResult, seconds: float) -> bool:
    evaluation = result.analysis.evaluation
    if not store.insert_record(
        conn, job_id, snap, result.plan, dumps(evaluation.summary), seconds, utcnow(), result.analysis
    ):
        return False
    store.insert_plan_rows(conn, job_id, result.plan, evaluation)
    return True


def _store_frontier(
    conn: Connection, job_id: str, snap: Snapshot, result: FrontierResult, seconds: float
) -> bool:
    return store.insert_record(conn, job_id, snap, result.plan, "{}", seconds, utcnow())


# A frontier's options say which sweep it runs; a solver is chosen from this table (or the worker's
# configured solver for plans), never from a path a client sent.
FRONTIER_SOLVERS = {
    "frontier": "solver.frontier:solve_frontier",
    "frontier-named": "solver.frontier:solve_frontier_named",
}


def _frontier_solver(options: dict[str, Any], _plan_solver: str) -> str:
    return FRONTIER_SOLVERS.get(str(options.get("kind", "")), FRONTIER_SOLVERS["frontier"])


PLAN = JobKind("plan", PlanResult, _produce_plan, _store_plan, lambda _options, configured: configured)
FRONTIER = JobKind(
    "frontier",
    FrontierResult,
    lambda _problem, plan: FrontierResult(plan=plan),
    _store_frontier,
    _frontier_solver,
)
KINDS = {kind.name: kind for kind in (PLAN, FRONTIER)}


def kind_of(name: str) -> JobKind:
    """The kind of a queued job (LookupError for a kind this worker does not know)."""
    if name not in KINDS:
        raise LookupError(f"this worker runs no job of kind {name!r} (it runs {', '.join(KINDS)})")
    return KINDS[name]


def load_callable(path: str) -> Solve:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name or "solve")  # type: ignore[no-any-return]


def encode_result(result: msgspec.Struct) -> bytes:
    return msgspec.msgpack.encode(result)


def decode_result(kind: JobKind, data: bytes) -> Any:
    return msgspec.msgpack.decode(data, type=kind.result_type)
