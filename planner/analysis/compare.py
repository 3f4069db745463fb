"""Two plans side by side: headline figures and per-borough / per-BCU totals, with deltas (B - A)."""

from __future__ import annotations

from collections import defaultdict

from planner.domain import Organisation, Record, Struct
from planner.evaluate import CapacityKPI, Evaluation, PlanSummary

# Per unit totals over the horizon: what an analyst argues about.
TOTALS = (
    "abstracted",
    "rest_day_called",
    "investigators_abstracted",
    "investigators_retained",
    "floor_violations",
    "cost",
    "travel_minutes",
)


class Delta(Record, frozen=True):
    name: str
    a: float
    b: float
    delta: float  # b - a


class AreaDelta(Struct):
    code: str
    name: str
    figures: list[Delta]


class Comparison(Struct):
    summary: list[Delta]
    boroughs: list[AreaDelta]
    bcus: list[AreaDelta]


def _delta(name: str, a: float, b: float) -> Delta:
    return Delta(name=name, a=round(a, 4), b=round(b, 4), delta=round(b - a, 4))


def summary_deltas(a: PlanSummary, b: PlanSummary) -> list[Delta]:
    out = []
    for name in a.__struct_fields__:
        va, vb = getattr(a, name), getattr(b, name)
        if isinstance(va, int | float) and not isinstance(va, bool):
            out.append(_delta(name, float(va), float(vb)))
    return out


def _totals(rows: list[CapacityKPI], key: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(TOTALS, 0.0))
    for row in rows:
        bucket = out[getattr(row, key)]
        for name in TOTALS:
            bucket[name] += float(getattr(row, name))
    return out


def _areas(
    codes: list[tuple[str, str]], ta: dict[str, dict[str, float]], tb: dict[str, dict[str, float]]
) -> list[AreaDelta]:
    zero = dict.fromkeys(TOTALS, 0.0)
    return [
        AreaDelta(
            code=code,
            name=name,
            figures=[_delta(n, ta.get(code, zero)[n], tb.get(code, zero)[n]) for n in TOTALS],
        )
        for code, name in codes
    ]


def compare(organisation: Organisation, a: Evaluation, b: Evaluation) -> Comparison:
    """Plan B against plan A: every numeric headline figure, and unit totals per borough and BCU."""
    boroughs = [(x.code, x.name) for x in organisation.boroughs]
    bcus = [(x.code, x.name) for x in organisation.bcus]
    return Comparison(
        summary=summary_deltas(a.summary, b.summary),
        boroughs=_areas(boroughs, _totals(a.units, "unit"), _totals(b.units, "unit")),  # type: ignore[arg-type]
        bcus=_areas(bcus, _totals(a.bcus, "bcu"), _totals(b.bcus, "bcu")),  # type: ignore[arg-type]
    )
