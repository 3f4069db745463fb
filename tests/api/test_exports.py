"""CSV exports: no cell a spreadsheet would run as a formula (OWASP CSV injection), and a stored plan
exports what it stored (officer names as the plan was made with, whatever the records say now)."""

from __future__ import annotations

import csv
import io

from api.features.common import FORMULA_LEADS, csv_cell
from tests.api import data
from tests.api.conftest import Service

P, A = "planner", "analyst"
LEADS = ("=HYPERLINK(http://evil.example) ", "+1+2 ", "@SUM(1) ", "-2+3 ", "\tTab ", "\rCR ")


def test_csv_cell_escapes_every_formula_lead_and_leaves_numbers() -> None:
    for lead in FORMULA_LEADS:
        assert csv_cell(f"{lead}x") == f"'{lead}x"
    assert csv_cell("Arsenal v Spurs") == "Arsenal v Spurs"
    assert csv_cell(-3) == -3 and csv_cell(-0.5) == -0.5  # numbers are not formulas


def rows_of(response: object) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    return list(csv.DictReader(io.StringIO(response.text, newline="")))  # type: ignore[attr-defined]


def plan_with_formula_names(service: Service) -> str:
    c, h = service.client, service.h(P)
    officers = data.officers_rows()
    for i, o in enumerate(officers):
        o["name"] = LEADS[i % len(LEADS)] + o["name"]
    header = list(officers[0])
    body = "\n".join([",".join(header)] + [",".join(f'"{o[k]}"' for k in header) for o in officers]) + "\n"
    assert c.post("/officers/import/csv", content=body.encode(), headers=h).status_code == 200
    events = data.events_rows()
    for i, e in enumerate(events):
        e["name"] = LEADS[i % len(LEADS)].strip() + " " + e["name"]
    lines = [",".join(events[0])] + [",".join(f'"{e[k]}"' for k in events[0]) for e in events]
    assert (
        c.post("/events/import/csv", content=("\n".join(lines) + "\n").encode(), headers=h).status_code == 200
    )
    job = c.post("/plans", json={"start": str(data.DAY), "end": "2027-03-03"}, headers=h).json()
    assert service.run_jobs() == ["succeeded"]
    return str(job["id"])


def assert_no_formula(rows: list[dict[str, str]]) -> None:
    cells = [v for r in rows for v in r.values()]
    assert cells and not [v for v in cells if v.startswith(FORMULA_LEADS)]


def test_every_csv_export_escapes_formula_cells(service: Service) -> None:
    c = service.client
    job = plan_with_formula_names(service)
    events = rows_of(c.get(f"/plans/{job}/events.csv", headers=service.h(A)))  # analysts' export too
    assert_no_formula(events)
    assert {r["name"][:2] for r in events} >= {"'=", "'+", "'@", "'-"}
    assignments = rows_of(c.get(f"/plans/{job}/assignments.csv", headers=service.h(P)))
    assert_no_formula(assignments)
    assert any(r["name"].startswith("'") for r in assignments)
    officer = assignments[0]["service_number"]
    roster = rows_of(c.get(f"/plans/{job}/officers/{officer}/roster.csv", headers=service.h(P)))
    assert_no_formula(roster)
    assert roster and roster[0]["name"] == assignments[0]["name"]
    for name in ("shortfalls", "units", "bcus"):
        assert_no_formula(rows_of(c.get(f"/plans/{job}/{name}.csv", headers=service.h(A))) or [{"x": "x"}])


def test_a_stored_plan_exports_the_names_it_was_made_with(service: Service) -> None:
    c, h = service.client, service.h(P)
    assert c.post("/officers/import/csv", content=data.officers_csv(), headers=h).status_code == 200
    assert c.post("/events/import/csv", content=data.events_csv(), headers=h).status_code == 200
    job = c.post("/plans", json={"start": str(data.DAY), "end": "2027-03-03"}, headers=h).json()["id"]
    assert service.run_jobs() == ["succeeded"]
    before = rows_of(c.get(f"/plans/{job}/assignments.csv", headers=h))
    officer = before[0]["service_number"]
    roster_before = c.get(f"/plans/{job}/officers/{officer}", headers=h).json()
    renamed = data.officers_rows()
    for o in renamed:
        o["name"] = "Renamed " + o["name"]
    header = list(renamed[0])
    body = "\n".join([",".join(header)] + [",".join(o[k] for k in header) for o in renamed]) + "\n"
    report = c.post("/officers/import/csv", content=body.encode(), headers=h).json()
    assert report["updated"] == len(renamed)
    assert c.get(f"/officers/{officer}", headers=h).json()["name"].startswith("Renamed ")
    assert rows_of(c.get(f"/plans/{job}/assignments.csv", headers=h)) == before
    roster = c.get(f"/plans/{job}/officers/{officer}", headers=h).json()
    assert roster == roster_before and not roster["name"].startswith("Renamed")
    event = before[0]["event_id"]
    detail = c.get(f"/plans/{job}/events/{event}", headers=h).json()
    assert detail["assignments"] and not any(a["name"].startswith("Renamed") for a in detail["assignments"])
