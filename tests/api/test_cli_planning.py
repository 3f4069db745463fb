"""`planner plan` prints the delivered plan's cost, bound and gap as its headline, and the solve's
stage figures as stage statistics."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path

import msgspec

from api.cli import main
from api.cli_planning import quality_line
from planner.plan import Plan, PlanQuality
from tests.solver.factory import WESTMINSTER, event, officers


def test_the_headline_gap_is_the_delivered_plans(tmp_path: Path) -> None:
    (tmp_path / "officers.json").write_bytes(msgspec.json.encode(officers(WESTMINSTER, 4)))
    (tmp_path / "events.json").write_bytes(msgspec.json.encode([event("E1", constable=6)]))
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["plan", "--data", str(tmp_path), "--out", str(tmp_path / "plan.json"), "--no-progress"])
    assert code == 0
    plan = msgspec.json.decode((tmp_path / "plan.json").read_bytes(), type=Plan)
    assert plan.quality is not None
    text = out.getvalue()
    assert f"delivered plan: cost {plan.quality.objective:,.1f}" in text
    assert f"gap {plan.quality.gap:.4%}" in text
    headline, stages = text.index("delivered plan:"), text.index("stage statistics")
    assert headline < stages


def test_a_plan_without_a_bound_says_its_gap_is_unknown() -> None:
    assert "gap is unknown" in quality_line(Plan())
    q = PlanQuality(objective=100.0, bound=90.0, gap=0.1)
    assert "cost 100.0, lower bound 90.0, gap 10.0000%" in quality_line(Plan(quality=q))
