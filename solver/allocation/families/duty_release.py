"""Duty release: an officer whose published duty the day before (or after) leaves less than the
minimum rest before a tour can still work it if that duty is replaced by an event tour which ends
(starts) early (late) enough. Posts filled this way are limited, per rank and tour window, by what
the neighbouring day can absorb: its remaining posts for that rank at compatible tours.

This is how the allocation trades a Saturday night turn against Carnival on Sunday morning: the
night officers work a Saturday day-time event instead and are lawfully rested for Sunday.
"""

from __future__ import annotations

from collections import defaultdict

from solver.allocation.inputs import DayInput
from solver.allocation.variables import AllocationVariables, release_side

NAME = "Duty release"
# DayInput.release_cost (1.0 by default) prices a release: replacing a neighbouring day's duty
# changes an officer's roster, so the model prefers officers who are free anyway.


def capacity(day: DayInput, status: str, rank: str, window: int) -> int:
    side = release_side(status)
    if side is None:
        return 0
    caps = day.release_capacity.get(f"{side}|{rank}")
    return caps[window] if caps else 0


def add(day: DayInput, v: AllocationVariables) -> None:
    rows: dict[tuple[str, str, int], list[int]] = defaultdict(list)
    for key, var in v.posts.items():
        side = release_side(key.status)
        if side is not None:
            rank = day.classes[key.cls].rank
            rows[(side, rank, day.tours[key.unit.tour].window)].append(var)
    for (side, rank, window), columns in rows.items():
        cap = day.release_capacity[f"{side}|{rank}"][window]
        v.rows[("release", side, rank, window)] = v.model.add_row(
            NAME, columns, [1.0] * len(columns), 0.0, float(cap)
        )
    # One post on the neighbouring day frees one officer, whichever of today's windows they work.
    totals: dict[tuple[str, str], list[int]] = defaultdict(list)
    for (side, rank, _window), columns in rows.items():
        totals[(side, rank)].extend(columns)
    for (side, rank), columns in totals.items():
        if len({w for s, r, w in rows if (s, r) == (side, rank)}) > 1:
            cap = max(day.release_capacity[f"{side}|{rank}"])
            v.rows[("release_total", side, rank)] = v.model.add_row(
                NAME, columns, [1.0] * len(columns), 0.0, float(cap)
            )
