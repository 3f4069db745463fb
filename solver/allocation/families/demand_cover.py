"""Demand cover: every unit an event tour asks for is either sent by some source or counted short."""

from __future__ import annotations

from collections import defaultdict

from solver.allocation.inputs import DayInput
from solver.allocation.variables import AllocationVariables

NAME = "Demand cover"


def add(day: DayInput, v: AllocationVariables) -> None:
    sent: dict[tuple[int, str], list[int]] = defaultdict(list)
    for key, var in v.units.items():
        sent[(key.tour, key.role)].append(var)
    for (tour, role), short in v.shortfall.items():
        demand = dict(day.tours[tour].demands)[role]
        columns = [*sent[(tour, role)], short]
        v.rows[("demand", tour, role)] = v.model.add_row(NAME, columns, [1.0] * len(columns), demand, demand)
