"""Comparing two plans: deltas are B - A, overall and per borough and BCU."""

from __future__ import annotations

from planner.analysis.compare import compare
from planner.evaluate import evaluate
from planner.plan import Plan
from solver import solve
from tests.solver.factory import WESTMINSTER, event, officers, problem


def test_deltas_between_an_empty_plan_and_a_solved_one() -> None:
    p = problem(officers(WESTMINSTER, 12), [event("E1", constable=5)])
    empty, solved = evaluate(p, Plan()), evaluate(p, solve(p, workers=1))
    result = compare(p.organisation, empty, solved)
    summary = {d.name: d for d in result.summary}
    assert summary["covered_officers"].a == 0
    assert summary["covered_officers"].b == 5
    assert summary["covered_officers"].delta == 5
    assert summary["uncovered_officers"].delta == -5
    west = next(b for b in result.boroughs if b.code == WESTMINSTER)
    figures = {d.name: d for d in west.figures}
    assert figures["abstracted"].delta == 5
    west_bcu = next(b for b in result.bcus if b.code == "CW")
    assert {d.name: d.delta for d in west_bcu.figures}["abstracted"] == 5
    # a plan compared with itself has no deltas
    same = compare(p.organisation, solved, solved)
    assert all(d.delta == 0 for d in same.summary)
