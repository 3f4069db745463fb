"""Abstraction fairness: the day's highest load on a borough (officers sent to events, whether
on duty or called in from a rest day, per officer on duty) is a variable with a cost, so the
model spreads abstraction instead of emptying one borough. Rest-day call-ins count too, so that
fairness never makes cancelling rest days look cheaper than using officers on duty."""

from __future__ import annotations

from collections import defaultdict

from solver.allocation.inputs import DayInput
from solver.allocation.variables import AllocationVariables

NAME = "Abstraction fairness"


def add(day: DayInput, v: AllocationVariables) -> None:
    by_borough: dict[str, list[int]] = defaultdict(list)
    for key, var in v.posts.items():
        source = day.classes[key.cls].source
        if source in day.borough_on_duty:
            by_borough[source].append(var)
    if not by_borough:
        return
    # The share is in per mille, so every row has whole-number coefficients:
    # 1000 * sent(borough) <= on_duty(borough) * max_share. The cost is per percentage point.
    v.max_share = v.model.add_var(0.0, float("inf"), day.fairness_per_point / 10.0, integer=False)
    for borough, columns in by_borough.items():
        on_duty = float(day.borough_on_duty[borough])
        v.model.add_row(
            NAME, [*columns, v.max_share], [1000.0] * len(columns) + [-on_duty], -float("inf"), 0.0
        )
