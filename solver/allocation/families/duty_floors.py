"""Investigation floor and Response floor: each source keeps at least the policy's share of its
on-duty investigators (and response officers, and any other duty role with a floor) on core
duty; events may only take the rest. Officers called in from rest days do not count against it."""

from __future__ import annotations

from collections import defaultdict

from solver.allocation.inputs import DayInput
from solver.allocation.variables import AllocationVariables, on_duty


def name(duty_role: str) -> str:
    return f"{duty_role.capitalize()} floor"


def add(day: DayInput, v: AllocationVariables) -> None:
    by_group: dict[str, list[int]] = defaultdict(list)
    for key, var in v.posts.items():
        if on_duty(key.status):
            supply = day.classes[key.cls]
            by_group[f"{supply.source}|{supply.duty_role}"].append(var)
    for group, columns in by_group.items():
        headroom = day.floors.get(group)
        if headroom is not None:
            duty_role = group.split("|")[1]
            v.rows[("floor", group)] = v.model.add_row(
                name(duty_role), columns, [1.0] * len(columns), 0.0, float(headroom)
            )
