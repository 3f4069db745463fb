"""From the LP optimum to an integer allocation: round down, then repair.

Rounding every unit and post down keeps each capacity, floor and window row satisfied (their
coefficients are non-negative) but drops the units the LP only half-sent. The repair then adds
whole units back, most valuable shortfall first and cheapest source first, wherever every row
still has room. The result is feasible by construction and usually within a fraction of a percent
of the LP bound; a MIP on the remainder (see model.py) can only improve on it.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from solver.allocation.families import fairness
from solver.allocation.inputs import DayInput
from solver.allocation.variables import AllocationVariables, UnitKey

FloatArray = npt.NDArray[np.float64]
TOLERANCE = 1e-6
# Rows the repair keeps exact itself (equalities).
SELF_MANAGED = frozenset({"Demand cover", "Unit composition"})


class _RowRoom:
    """Slack of the limiting rows (supply, floors; and fairness at the LP's highest share, while
    `keep_fair`) as units are added."""

    def __init__(self, v: AllocationVariables, values: FloatArray, keep_fair: bool) -> None:
        matrix = v.model.matrix()
        self.activity = matrix @ values
        self.upper = np.asarray(v.model.row_upper, dtype=np.float64)
        skip = SELF_MANAGED if keep_fair else SELF_MANAGED | {fairness.NAME}
        limiting = np.asarray([f not in skip for f in v.model.row_family], dtype=np.bool_)
        self.columns = sp.csc_matrix(matrix[limiting] if limiting.any() else matrix[:0])
        self.rows = np.flatnonzero(limiting)

    def room(self, var: int) -> float:
        """How many more of `var` every limiting row would accept."""
        start, end = self.columns.indptr[var], self.columns.indptr[var + 1]
        if start == end:
            return float("inf")
        rows = self.rows[self.columns.indices[start:end]]
        coefficients = self.columns.data[start:end]
        return float(np.min(np.floor((self.upper[rows] - self.activity[rows] + TOLERANCE) / coefficients)))

    def add(self, var: int, amount: float) -> None:
        start, end = self.columns.indptr[var], self.columns.indptr[var + 1]
        rows = self.rows[self.columns.indices[start:end]]
        self.activity[rows] += amount * self.columns.data[start:end]


def round_and_repair(day: DayInput, v: AllocationVariables, lp_values: FloatArray) -> FloatArray:
    model = v.model
    cost = np.asarray(model.cost, dtype=np.float64)
    upper = np.asarray(model.upper, dtype=np.float64)
    posts: dict[tuple[UnitKey, int], list[int]] = defaultdict(list)
    for key, var in v.posts.items():
        posts[(key.unit, key.slot)].append(var)
    for columns in posts.values():
        columns.sort(key=lambda j: cost[j])  # cheapest class first

    values = np.zeros_like(lp_values)
    sent: dict[tuple[int, str], int] = defaultdict(int)
    for unit, var in v.units.items():
        slots = day.roles[unit.role].slots
        floors = {i: np.floor(lp_values[posts[(unit, i)]] + TOLERANCE) for i in range(len(slots))}
        units = int(np.floor(lp_values[var] + TOLERANCE))
        units = min([units, *(int(floors[i].sum()) // slot.count for i, slot in enumerate(slots))])
        values[var] = units
        sent[(unit.tour, unit.role)] += units
        for i, slot in enumerate(slots):
            need = slot.count * units
            for j, column in enumerate(posts[(unit, i)]):
                take = min(need, int(floors[i][j]))
                values[column] = take
                need -= take

    if v.max_share is not None and v.share_above is not None:
        values[v.max_share] = lp_values[v.max_share]
        values[v.share_above] = lp_values[v.share_above]
    # First add units without raising any borough above the LP's highest share; then anywhere.
    for keep_fair in (True, False):
        _repair(day, v, values, posts, sent, cost, upper, keep_fair)
    for (t, role), var in v.shortfall.items():
        values[var] = dict(day.tours[t].demands)[role] - sent[(t, role)]
    if v.max_share is not None and v.share_above is not None:
        values[v.max_share] = highest_share(v, values)
        values[v.share_above] = max(0.0, values[v.max_share] - 1000.0 * day.fairness_threshold)
    return values


def highest_share(v: AllocationVariables, values: FloatArray) -> float:
    """The smallest max-share value the fairness rows allow for these posts."""
    assert v.max_share is not None
    matrix = v.model.matrix()
    rows = np.asarray([f == fairness.NAME for f in v.model.row_family], dtype=np.bool_)
    if v.share_above is not None:  # the threshold row is not a borough's
        rows &= np.asarray(matrix[:, v.share_above].toarray().ravel() == 0, dtype=np.bool_)
    fair = matrix[rows]
    share_coefficients = -fair[:, v.max_share].toarray().ravel()  # on-duty officers per borough
    without_share = values.copy()
    without_share[v.max_share] = 0.0
    sent_per_mille = fair @ without_share
    return float(np.max(sent_per_mille / share_coefficients)) if len(share_coefficients) else 0.0


def _repair(
    day: DayInput,
    v: AllocationVariables,
    values: FloatArray,
    posts: dict[tuple[UnitKey, int], list[int]],
    sent: dict[tuple[int, str], int],
    cost: FloatArray,
    upper: FloatArray,
    keep_fair: bool,
) -> None:
    """Add whole units back, most valuable shortfall first; each unit from the source where it
    is cheapest given the room left (so one source's rest days are not cancelled while another
    source still has officers on duty)."""
    room = _RowRoom(v, values, keep_fair)
    units_of: dict[tuple[int, str], list[tuple[UnitKey, int]]] = defaultdict(list)
    for unit, var in v.units.items():
        units_of[(unit.tour, unit.role)].append((unit, var))

    order = sorted(
        v.shortfall,
        key=lambda k: -day.uncovered_weight[day.tours[k[0]].priority] * day.roles[k[1]].size,
    )
    for key in order:
        demand = dict(day.tours[key[0]].demands)[key[1]]
        candidates = units_of[key]
        while sent[key] < demand and candidates:
            best: tuple[float, int, list[tuple[int, float]]] | None = None
            for unit, var in candidates:
                if values[var] >= upper[var]:
                    continue
                plan = _cheapest_unit(day, unit, posts, values, room, upper, cost)
                if plan is not None and (best is None or plan[0] < best[0]):
                    best = (plan[0], var, plan[1])
            if best is None:
                break
            _, var, additions = best
            for column, take in additions:
                room.add(column, take)
                values[column] += take
            values[var] += 1
            sent[key] += 1


def _cheapest_unit(
    day: DayInput,
    unit: UnitKey,
    posts: dict[tuple[UnitKey, int], list[int]],
    values: FloatArray,
    room: _RowRoom,
    upper: FloatArray,
    cost: FloatArray,
) -> tuple[float, list[tuple[int, float]]] | None:
    """The cheapest posts with room for one whole unit from this source, without taking them.

    Posts are taken tentatively as they are chosen (two slots may share a class, and so its
    supply row) and always given back before returning."""
    additions: list[tuple[int, float]] = []
    total = 0.0
    complete = True
    for i, slot in enumerate(day.roles[unit.role].slots):
        need = float(slot.count)
        for column in posts[(unit, i)]:  # cheapest first
            take = min(need, room.room(column), upper[column] - values[column])
            if take >= 1:
                room.add(column, take)
                values[column] += take
                additions.append((column, take))
                total += take * cost[column]
                need -= take
            if need <= 0:
                break
        if need > 0:
            complete = False
            break
    for column, take in additions:
        room.add(column, -take)
        values[column] -= take
    return (total, additions) if complete else None
