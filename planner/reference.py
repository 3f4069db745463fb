"""London reference data shipped in planner/data (sources and licences in planner/data/SOURCES.md)."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

from planner.domain import BCU, Borough, CentralUnit, Organisation

DATA_DIR = Path(__file__).parent / "data"

WESTMINSTER = "E09000033"
LAMBETH = "E09000022"
BROMLEY = "E09000006"
HOUNSLOW = "E09000018"
SOUTHWARK = "E09000028"

CENTRAL_UNITS: tuple[CentralUnit, ...] = (
    CentralUnit(code="TSG", name="Territorial Support Group", base_borough=LAMBETH),
    CentralUnit(code="MOUNTED", name="Mounted Branch", base_borough=LAMBETH),
    CentralUnit(code="DOGS", name="Dog Support Unit", base_borough=BROMLEY),
    CentralUnit(code="RTPC", name="Roads and Transport Policing Command", base_borough=SOUTHWARK),
    CentralUnit(code="SPEC", name="Specialist Crime and Operations", base_borough=WESTMINSTER),
)


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def latest_full_year_crime() -> dict[str, int]:
    """Recorded offences per borough name in the latest year with 12 months of data."""
    rows = _rows("crime_yearly_borough_total.csv")
    full_years = [int(r["year"]) for r in rows if r["months_covered"] == "12"]
    year = max(full_years)
    return {r["borough"]: int(r["total_offences"]) for r in rows if int(r["year"]) == year}


@functools.cache
def london() -> Organisation:
    """The 32 Met-policed boroughs, their 12 BCUs, central units and estimated travel times."""
    crime = latest_full_year_crime()
    boroughs: list[Borough] = []
    bcu_names: dict[str, str] = {}
    for row in _rows("london_boroughs.csv"):
        if row["met_policed"] != "1":
            continue
        boroughs.append(
            Borough(
                code=row["ons_code"],
                name=row["borough"],
                bcu=row["bcu_code"],
                inner=row["inner_outer"].startswith("Inner"),
                population=int(row["pop_census2021"]),
                lat=float(row["centroid_lat"]),
                lon=float(row["centroid_lon"]),
                yearly_crime=crime[row["borough"]],
            )
        )
        bcu_names[row["bcu_code"]] = row["bcu_name"]
    codes = {b.code for b in boroughs}
    bcus = tuple(
        BCU(code=code, name=name, boroughs=tuple(b.code for b in boroughs if b.bcu == code))
        for code, name in sorted(bcu_names.items())
    )
    travel: dict[str, dict[str, float]] = {code: {} for code in codes}
    for row in _rows("borough_distance_matrix.csv"):
        if row["from_code"] in codes and row["to_code"] in codes:
            travel[row["from_code"]][row["to_code"]] = float(row["est_drive_min_interpeak"])
    return Organisation(
        boroughs=tuple(boroughs), bcus=bcus, central_units=CENTRAL_UNITS, travel_minutes=travel
    )


def borough_officer_estimates() -> dict[str, tuple[int, int]]:
    """(officers, detectives) per borough ONS code, from the modelled BCU split."""
    return {
        r["ons_code"]: (int(r["est_borough_officers"]), int(r["est_borough_detectives_22pct"]))
        for r in _rows("met_bcu_officers_and_borough_split_ESTIMATE.csv")
    }
