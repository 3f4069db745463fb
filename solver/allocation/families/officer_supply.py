"""Officer supply: no class of officers is used beyond those free today, on duty or lawfully
callable from a rest day (or released from a neighbouring day's duty), in total and for each tour
window (rest and leave rules decide who can work which hours)."""

from __future__ import annotations

from collections import defaultdict

from solver.allocation.inputs import DayInput
from solver.allocation.variables import AllocationVariables

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
        cap = day.classes[cls].count(status, window)
        v.rows[("supply", cls, status, window)] = v.model.add_row(
            NAME, columns, [1.0] * len(columns), 0.0, float(cap)
        )
    statuses: dict[int, list[int]] = defaultdict(list)
    kinds: dict[int, int] = defaultdict(int)
    for (cls, status), columns in total.items():
        supply = day.classes[cls]
        statuses[cls].extend(columns)
        kinds[cls] += 1
        if len(windows[(cls, status)]) > 1:  # one window's row already bounds the total
            v.rows[("total", cls, status)] = v.model.add_row(
                NAME, columns, [1.0] * len(columns), 0.0, float(supply.total(status))
            )
    # An officer counted on duty for one window may be counted as released for another: the
    # class as a whole never gives more officers than it has.
    for cls, columns in statuses.items():
        supply = day.classes[cls]
        if supply.usable and kinds[cls] > 1:
            v.rows[("usable", cls)] = v.model.add_row(
                NAME, columns, [1.0] * len(columns), 0.0, float(supply.usable)
            )
