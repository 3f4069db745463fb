"""The stage-1 day model: integer plans from a fractional LP, bounds, and what it leaves out."""

from __future__ import annotations

from planner.domain import Policy
from planner.roster import Roster, officer_classes
from solver.allocation.inputs import SupplyIndex, build_day_input
from solver.allocation.model import build, solve_day
from solver.allocation.rounding import round_and_repair
from solver.pipeline import tours_by_day
from tests.solver.factory import CAMDEN, DAY, KENSINGTON, WESTMINSTER, event, officers, problem


def day_input(p):  # type: ignore[no-untyped-def]
    roster = Roster(p)
    keys, class_of = officer_classes(p)
    return build_day_input(p, roster, SupplyIndex(p, keys, class_of), DAY, tours_by_day(p)[DAY])


def serial_crew(unit: str) -> list:  # type: ignore[type-arg]
    return (
        officers(unit, 1, rank="PS", skills=["PO_L2"])
        + officers(unit, 6, skills=["PO_L2"])
        + officers(unit, 1, skills=["PO_L2", "DRIVER"])
        + officers(unit, 12)
    )


def fractional_case():  # type: ignore[no-untyped-def]
    # Two boroughs could each send the one serial; the LP halves it between them for fairness.
    p = problem(
        serial_crew(KENSINGTON) + serial_crew(CAMDEN),
        [event("E1", borough=WESTMINSTER, serial_l2=1)],
        policy=Policy(),
    )
    return day_input(p)


def test_a_fractional_lp_becomes_a_whole_serial_with_a_valid_bound() -> None:
    result = solve_day(fractional_case())
    assert not result.lp_integral
    [alloc] = result.allocations
    assert alloc.units == 1
    assert sum(p.count for p in alloc.posts) == 8
    assert result.objective >= result.bound - 1e-6
    assert result.shortfalls == []


def test_round_and_repair_is_feasible_for_every_row() -> None:
    day = fractional_case()
    v = build(day)
    lp = v.model.solve(relax=True)
    assert lp.values is not None
    values = round_and_repair(day, v, lp.values)
    assert all(
        abs(x - round(x)) < 1e-9 for x, integer in zip(values, v.model.integer, strict=True) if integer
    )
    activity = v.model.matrix() @ values
    for a, lo, hi in zip(activity, v.model.row_lower, v.model.row_upper, strict=True):
        assert lo - 1e-6 <= a <= hi + 1e-6
    units = sum(values[var] for var in v.units.values())
    assert units == 1  # the repair re-forms the serial the rounding dropped


def test_posts_are_only_created_for_classes_that_fit_and_can_work() -> None:
    crew = serial_crew(KENSINGTON) + officers(CAMDEN, 5, role="investigation", skills=["DETECTIVE"])
    p = problem(crew, [event("E1", borough=WESTMINSTER, serial_l2=1)])
    day = day_input(p)
    v = build(day)
    for key in v.posts:
        supply = day.classes[key.cls]
        slot = day.roles[key.unit.role].slots[key.slot]
        assert supply.rank in slot.ranks and set(slot.skills) <= set(supply.skills)
    assert {day.classes[k.cls].source for k in v.posts} == {KENSINGTON}
