"""Inputs that once answered 500: each now gets a clear 4xx Problem Details, on both databases, and
values outside the domain's bounds are refused at import or policy time with the row and field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.features.common import MAX_OFFSET
from tests.api import data
from tests.api.conftest import Service

P = "planner"
LISTS = ("/events", "/officers", "/plans", "/analysis/plans/x/explanations")
BIG = 2**63


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and "Traceback" not in response.text
    return body  # type: ignore[no-any-return]


def event_row(**changes: str) -> dict[str, str]:
    return {**data.events_rows()[0], **changes}


def import_events(service: Service, rows: list[dict[str, str]]) -> Any:
    return service.client.post("/events/import/csv", content=data.events_csv(rows), headers=service.h(P))


@pytest.mark.parametrize("path", LISTS)
def test_an_offset_past_64_bits_is_a_400_on_every_list(service: Service, path: str) -> None:
    problem(service.client.get(path, params={"offset": BIG}, headers=service.h(P)), 400)


def test_a_nul_character_is_a_400_wherever_it_is_sent(service: Service) -> None:
    """PostgreSQL text cannot hold NUL: it once failed inside the query (500)."""
    c, h = service.client, service.h(P)
    problem(c.get("/events", params={"borough": "E09\x00"}, headers=h), 400)
    problem(c.get("/officers/T%0001", headers=h), 400)
    event = json.loads(data.events_json())[0]
    event.update(start="2027-03-01T12:00:00", end="2027-03-01T16:00:00", name="Rally\x00")
    problem(c.post("/events", json=event, headers=h), 400)
    problem(import_events(service, [event_row(name="Rally\x00")]), 400)
    event["name"] = "Rally"
    assert c.post("/events", json=event, headers=h).status_code == 201  # the body is still read


@pytest.mark.parametrize("value", ["5.0", "1e3", "-0", " 5", "0x10"])
def test_page_numbers_must_be_written_as_integers(service: Service, value: str) -> None:
    for name in ("limit", "offset"):
        problem(service.client.get("/events", params={name: value}, headers=service.h(P)), 400)


def test_the_largest_offset_answers_an_empty_page(service: Service) -> None:
    c, h = service.client, service.h(P)
    assert c.post("/events/import/csv", content=data.events_csv(), headers=h).status_code == 200
    for path in ("/events", "/officers", "/plans"):
        problem(c.get(path, params={"offset": MAX_OFFSET + 1}, headers=h), 400)
        page = c.get(path, params={"offset": MAX_OFFSET}, headers=h)
        assert page.status_code == 200, page.text
        assert page.json()["items"] == []


def test_a_limit_over_the_configured_page_size_is_a_400_and_the_document_says_so(service: Service) -> None:
    c, h = service.client, service.h(P)
    maximum = service.settings.server.max_page_size
    assert c.get("/events", params={"limit": maximum}, headers=h).status_code == 200
    problem(c.get("/events", params={"limit": maximum + 1}, headers=h), 400)
    doc = c.get("/schema/openapi.json").json()
    limit = next(p for p in doc["paths"]["/events"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == maximum


def test_a_csv_field_over_the_csv_modules_limit_is_a_row_error(service: Service) -> None:
    body = problem(import_events(service, [event_row(venue="x" * 131_073)]), 422)
    assert body["errors"][0]["line"] == 2 and "field" in body["errors"][0]["reason"]


def test_a_long_but_readable_field_is_refused_by_its_column_length(service: Service) -> None:
    body = problem(import_events(service, [event_row(name="n" * 301)]), 422)
    assert body["errors"][0]["field"] == "name" and "300" in body["errors"][0]["reason"]


@pytest.mark.parametrize("ending", ["\r", "\r\n"])
def test_csv_with_cr_line_endings_imports(service: Service, ending: str) -> None:
    body = data.events_csv().decode().replace("\n", ending).encode()
    report = service.client.post("/events/import/csv", content=body, headers=service.h(P))
    assert report.status_code == 200, report.text
    assert report.json()["inserted"] == len(data.events_rows())


def test_a_bare_cr_inside_a_row_is_a_row_error_not_a_crash(service: Service) -> None:
    rows = data.events_csv().decode().splitlines()
    rows[1] = rows[1].replace("Parliament Square", "Parliament\rSquare")
    response = service.client.post(
        "/events/import/csv", content=("\n".join(rows) + "\n").encode(), headers=service.h(P)
    )
    problem(response, 422)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/events/import/json"),
        ("post", "/officers/import/json"),
        ("put", "/policy"),
        ("post", "/events"),
        ("post", "/plans"),
    ],
)
def test_json_nested_1000_deep_is_a_4xx(service: Service, method: str, path: str) -> None:
    body = b"[" * 1000 + b"]" * 1000
    response = getattr(service.client, method)(
        path, content=body, headers={**service.h(P), "Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
    problem(response, response.status_code)


def test_a_pattern_offset_outside_the_cycle_is_refused_with_its_field(service: Service) -> None:
    rows = data.officers_rows()[:1]
    rows[0]["pattern_offset"] = str(2**31)
    header = list(rows[0])
    csv = (",".join(header) + "\n" + ",".join(rows[0][h] for h in header) + "\n").encode()
    body = problem(service.client.post("/officers/import/csv", content=csv, headers=service.h(P)), 422)
    assert body["errors"][0]["field"] == "pattern_offset"
    assert "0 to 6" in body["errors"][0]["reason"]  # the 5x2 pattern is a 7-day cycle


def test_an_unknown_shift_pattern_says_to_store_the_policy_first(service: Service) -> None:
    rows = data.officers_rows()[:1]
    rows[0]["shift_pattern"] = "4on4off"
    header = list(rows[0])
    csv = (",".join(header) + "\n" + ",".join(rows[0][h] for h in header) + "\n").encode()
    body = problem(service.client.post("/officers/import/csv", content=csv, headers=service.h(P)), 422)
    assert body["errors"][0]["field"] == "shift_pattern"
    assert "PUT /policy" in body["errors"][0]["reason"] and "5x2" in body["errors"][0]["reason"]


@pytest.mark.parametrize("version", [BIG, 2**31])
def test_a_policy_version_past_the_column_is_a_400(service: Service, version: int) -> None:
    c, h = service.client, service.h(P)
    problem(c.get(f"/policy/versions/{version}", headers=h), 400)
    problem(
        c.post(
            "/plans",
            json={"start": str(data.DAY), "end": str(data.DAY), "policy_version": version},
            headers=h,
        ),
        400,
    )
    frontier = {"start": str(data.DAY), "end": str(data.DAY), "policy_version": version}
    problem(c.post("/analysis/frontiers", json=frontier, headers=h), 400)


@pytest.mark.parametrize("count", ["0", str(2**70), "10001"])
def test_a_demand_count_outside_the_bounds_is_refused_with_its_row(service: Service, count: str) -> None:
    rows = data.events_rows()
    rows[1]["demand"] = f"serial_l2:{count}"
    body = problem(import_events(service, rows), 422)
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(3, "demand")]
    assert service.client.get("/events", headers=service.h(P)).json()["items"] == []  # all or nothing


def test_a_demand_count_outside_the_bounds_is_a_400_on_a_single_event(service: Service) -> None:
    event = json.loads(data.events_json())[0]
    event["demand"] = [{"role": "constable", "count": 2**70}]
    problem(service.client.post("/events", json=event, headers=service.h(P)), 400)


@pytest.mark.parametrize("external_id", ["/starts-with-slash", "x" * 201, "has space", "..", "tab\tinside"])
def test_event_ids_that_cannot_be_addressed_are_refused(service: Service, external_id: str) -> None:
    body = problem(import_events(service, [event_row(external_id=external_id)]), 422)
    assert body["errors"][0]["field"] == "external_id"


def test_event_ids_from_calendars_with_slashes_and_at_signs_are_kept(service: Service) -> None:
    c, h = service.client, service.h(P)
    ids = ["FA/2027/0412", "https://example.org/match/1", "uid-7@calendar.example"]
    assert import_events(service, [event_row(external_id=i) for i in ids]).status_code == 200
    for external_id in ids:
        found = c.get(f"/events/{external_id}", headers=h)
        assert found.status_code == 200 and found.json()["external_id"] == external_id


def test_an_infinite_number_in_a_policy_is_a_400(service: Service) -> None:
    c, h = service.client, service.h(P)
    policy = c.get("/policy", headers=h).json()["policy"]
    policy["costs"]["overtime_multiplier"] = "INFINITY"
    policy = json.dumps({"policy": policy})
    body = policy.replace('"INFINITY"', "1e999")
    assert body != policy
    problem(c.put("/policy", content=body, headers={**h, "Content-Type": "application/json"}), 400)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("working_time", "reference_weeks"), 0, "working_time.reference_weeks"),
        (("working_time", "max_average_weekly_hours"), -1, "working_time.max_average_weekly_hours"),
        (("tour_times", "E", "start_minute"), 2**40, "tour_times.E.start_minute"),
        (("weights", "fairness_threshold"), 1.5, "weights.fairness_threshold"),
        (("costs", "overtime_multiplier"), -0.5, "costs.overtime_multiplier"),
    ],
)
def test_a_policy_outside_its_bounds_is_refused_naming_the_field(
    service: Service, path: tuple[str, ...], value: float, field: str
) -> None:
    c, h = service.client, service.h(P)
    policy = c.get("/policy", headers=h).json()["policy"]
    target = policy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    found = problem(c.put("/policy", json={"policy": policy}, headers=h), 422)
    assert any(field in e for e in found["errors"]), found
    assert c.get("/policy/versions", headers=h).json()[0]["version"] == 1  # nothing stored
