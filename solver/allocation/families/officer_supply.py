"""Officer supply: no class of officers is used beyond those free today, on duty or lawfully
callable from a rest day, in total and for each tour window (rest and leave rules decide who
can work which hours)."""

from __future__ import annotations

from collections import defaultdict

from solver.allocation.inputs import DayInput
from solver.allocation.variables import ON_DUTY, AllocationVariables

NAME = "Officer supply"


def add(day: DayInput, v: AllocationVariables) -> None:
    total: dict[tuple[int, str], list[int]] = defaultdict(list)
    windows: dict[tuple[int, str], set[int]] = defaultdict(set)
    by_window: dict[tuple[int, str, int], list[int]] = defaultdict(list)
    for key, var in v.posts.items():
        window = day.tours[key.unit.tour].window
        total[(key.cls, key.status)].append(var)
        windows[(key.cls, key.status)].add(window)
        by_window[(key.cls, key.status, window)].append(var)
    for (cls, status, window), columns in by_window.items():
        supply = day.classes[cls]
        cap = (supply.on_by_window if status == ON_DUTY else supply.rest_by_window)[window]
        v.model.add_row(NAME, columns, [1.0] * len(columns), 0.0, float(cap))
    for (cls, status), columns in total.items():
        supply = day.classes[cls]
        if len(windows[(cls, status)]) > 1:  # one window's row already bounds the total
            cap = supply.on if status == ON_DUTY else supply.rest
            v.model.add_row(NAME, columns, [1.0] * len(columns), 0.0, float(cap))
