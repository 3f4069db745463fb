"""Abstraction fairness: the day's highest share of a borough's on-duty officers taken off their
core duty for events is a variable with a cost (more per point above the policy's threshold), so
the model spreads abstraction between boroughs, and at a heavily abstracted borough calls
officers in from rest days instead (which takes nobody off core duty, at the rest-day cost).
This is the share the evaluator reports."""

from __future__ import annotations

from collections import defaultdict

from solver.allocation.inputs import DayInput
from solver.allocation.variables import AllocationVariables, on_duty

NAME = "Abstraction fairness"


def add(day: DayInput, v: AllocationVariables) -> None:
    by_borough: dict[str, list[int]] = defaultdict(list)
    for key, var in v.posts.items():
        source = day.classes[key.cls].source
        if on_duty(key.status) and source in day.borough_on_duty:
            by_borough[source].append(var)
    if not by_borough:
        return
    # The share is in per mille, so every row has whole-number coefficients:
    # 1000 * sent(borough) <= on_duty(borough) * max_share. The cost is per percentage point.
    v.max_share = v.model.add_var(0.0, float("inf"), day.fairness_per_point / 10.0, integer=False)
    # Points above the threshold cost extra: share_above >= max_share - threshold.
    v.share_above = v.model.add_var(0.0, float("inf"), day.fairness_per_point_above / 10.0, integer=False)
    threshold = 1000.0 * day.fairness_threshold
    v.model.add_row(NAME, [v.max_share, v.share_above], [1.0, -1.0], -float("inf"), threshold)
    for borough, columns in by_borough.items():
        rostered = float(day.borough_on_duty[borough])
        v.rows[("fair", borough)] = v.model.add_row(
            NAME, [*columns, v.max_share], [1000.0] * len(columns) + [-rostered], -float("inf"), 0.0
        )
