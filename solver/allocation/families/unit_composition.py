"""Unit composition: a serial or PSU sent by a source has every slot filled by that source's
officers of a fitting rank and skill (a serial is 1 PS + 6 PC + a driver, by default)."""

from __future__ import annotations

from collections import defaultdict

from solver.allocation.inputs import DayInput
from solver.allocation.variables import AllocationVariables, UnitKey

NAME = "Unit composition"


def add(day: DayInput, v: AllocationVariables) -> None:
    posts: dict[tuple[UnitKey, int], list[int]] = defaultdict(list)
    for key, var in v.posts.items():
        posts[(key.unit, key.slot)].append(var)
    for unit, unit_var in v.units.items():
        for slot_index, slot in enumerate(day.roles[unit.role].slots):
            columns = posts[(unit, slot_index)]
            v.model.add_row(NAME, [*columns, unit_var], [1.0] * len(columns) + [-float(slot.count)], 0.0, 0.0)
