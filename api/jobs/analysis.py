"""A plan's analysis, computed once by the job that made the plan and stored with it.

The analysis endpoints need, per plan, its evaluation, the investigators per borough and day, every
shortfall's explanation, the per-rule analysis and the default investigation impact. For a full
year that is tens of seconds of CPU: done in an API process it starves that process's event loop
(every process did it again for every new plan, the reads' p99 went to seconds). The solve child
computes it instead, at the solve's niceness, and the API processes only decode it.

Decoding is gentle too: a full year's plan and problem are a few hundred thousand records, and one
msgpack decode of them holds the GIL for seconds. `decode_gently` decodes lists of records one
record at a time and hands the interpreter over every few hundred, so the event loop thread of the
API process doing it waits about a millisecond, not seconds."""

from __future__ import annotations

import time
import typing
from functools import cache
from typing import Any, TypeVar

import msgspec

from planner.analysis.explain import RuleImpact, TourExplanation, explain_plan, rule_analysis
from planner.analysis.impact import Impact, ImpactSettings, InvestigatorDays, investigator_days, project
from planner.domain import PlanningProblem
from planner.evaluate import Evaluation, evaluate
from planner.plan import Plan

T = TypeVar("T")
YIELD_EVERY = 256  # records decoded between hand-overs of the interpreter (about a millisecond)


class PlanAnalysis(msgspec.Struct, frozen=True):
    evaluation: Evaluation
    investigators: InvestigatorDays
    explanations: list[TourExplanation]
    rules: list[RuleImpact]
    impact: Impact  # with the default settings


def analyse(problem: PlanningProblem, plan: Plan, evaluation: Evaluation | None = None) -> PlanAnalysis:
    evaluation = evaluation or evaluate(problem, plan)
    investigators = investigator_days(problem, plan)
    explanations = explain_plan(problem, plan)  # one roster for the plan, one measurement per short tour
    return PlanAnalysis(
        evaluation=evaluation,
        investigators=investigators,
        explanations=explanations,
        rules=rule_analysis(problem, plan, evaluation, explanations=explanations),
        impact=project(problem.organisation, investigators, ImpactSettings()),
    )


def _is_struct(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, msgspec.Struct)


@cache
def _hints(struct: type) -> dict[str, Any]:
    return typing.get_type_hints(struct)


@cache
def _decoder(hint: Any) -> msgspec.msgpack.Decoder[Any]:
    return msgspec.msgpack.Decoder(hint)


def decode_gently(data: bytes | msgspec.Raw, hint: type[T]) -> T:
    """msgpack of `hint` (a Struct encoded as a map), decoded field by field, and lists of records
    one record at a time (each record in one short C call)."""
    if _is_struct(hint):
        parts = msgspec.msgpack.decode(data, type=dict[str, msgspec.Raw])
        hints = _hints(hint)  # type: ignore[arg-type]
        return hint(**{name: decode_gently(raw, hints[name]) for name, raw in parts.items()})
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (list, tuple) and args and _is_struct(args[0]) and (origin is list or args[1:] == (...,)):
        item = _decoder(args[0])
        raws = msgspec.msgpack.decode(data, type=list[msgspec.Raw])
        records: list[Any] = []
        for start in range(0, len(raws), YIELD_EVERY):
            records.extend(item.decode(raw) for raw in raws[start : start + YIELD_EVERY])
            time.sleep(0)  # hand the interpreter to a waiting thread (the event loop) at once
        return tuple(records) if origin is tuple else records  # type: ignore[return-value]
    return _decoder(hint).decode(data)  # type: ignore[arg-type, no-any-return]
