"""The OpenAPI document says what the server does (issue 10, item 7), checked on the document and
against the server's answers. schemathesis (test_schemathesis.py) probes the same at random; these
name each promise."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import msgspec
import pytest

from api.features.common import MAX_OFFSET
from api.problems import PROBLEM_JSON
from tests.api import data
from tests.api.conftest import Service

P = "planner"
METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture
def document(service: Service) -> dict[str, Any]:
    return service.client.get("/schema/openapi.json").json()  # type: ignore[no-any-return]


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, m, op) for path, item in document["paths"].items() for m, op in item.items() if m in METHODS
    ]


def is_aware(value: str) -> bool:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def test_every_error_is_documented_as_problem_details(document: dict[str, Any]) -> None:
    for path, method, op in operations(document):
        for code, response in op["responses"].items():
            if int(code) >= 400:
                assert list(response["content"]) == [PROBLEM_JSON], (method, path, code)


def test_keyed_operations_document_401_and_403_and_public_ones_need_no_key(document: dict[str, Any]) -> None:
    public = {"/", "/health"}
    for path, method, op in operations(document):
        if path in public:
            assert op["security"] == [], path
            assert "401" not in op["responses"]
        else:
            assert op["security"] == [{"ApiKey": []}], path
            assert {"401", "403"} <= set(op["responses"]), (method, path)
        if any(p["in"] == "path" for p in op.get("parameters", [])):
            assert "404" in op["responses"], (method, path)
        if op.get("parameters") or op.get("requestBody"):
            assert "400" in op["responses"], (method, path)


def test_the_server_answers_a_missing_key_with_the_documented_problem(service: Service) -> None:
    response = service.client.get("/events")
    assert response.status_code == 401 and response.headers["content-type"].startswith(PROBLEM_JSON)
    assert service.client.get("/health").status_code == 200


def test_structs_that_refuse_unknown_fields_say_so(service: Service, document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in ("EventCreate", "EventOut", "PlanRequest", "PolicyUpdate", "Policy", "KeyCreate", "JobOut"):
        assert schemas[name]["additionalProperties"] is False, name
    body = {"start": str(data.DAY), "end": str(data.DAY), "surprise": 1}
    assert service.client.post("/plans", json=body, headers=service.h(P)).status_code == 400


def test_page_bounds_in_the_document_are_the_servers(service: Service, document: dict[str, Any]) -> None:
    for path, _, op in operations(document):
        params = {p["name"]: p["schema"] for p in op.get("parameters", [])}
        if "offset" in params:
            assert params["offset"]["minimum"] == 0 and params["offset"]["maximum"] == MAX_OFFSET, path
        if "limit" in params and path in ("/events", "/officers", "/plans"):
            assert params["limit"]["maximum"] == service.settings.server.max_page_size
            assert params["limit"]["minimum"] == 1


def test_encoded_analysis_bodies_are_declared_as_their_objects(document: dict[str, Any]) -> None:
    for name, schema in (("overview", "Overview"), ("heatmap", "Heatmap"), ("impact", "Impact")):
        ok = document["paths"][f"/analysis/plans/{{job_id}}/{name}"]["get"]["responses"]["200"]
        assert ok["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{schema}"}


def test_timestamps_carry_an_offset_and_offsets_are_accepted(service: Service) -> None:
    c, h = service.client, service.h(P)
    event = json.loads(data.events_json())[0]
    event.update(start="2027-07-01T11:00:00Z", end="2027-07-01T15:00:00+01:00")  # London is UTC+1 then
    created = c.post("/events", json=event, headers=h)
    assert created.status_code == 201, created.text
    out = created.json()
    assert out["start"] == "2027-07-01T12:00:00+01:00" and out["end"] == "2027-07-01T15:00:00+01:00"
    assert all(is_aware(out[k]) for k in ("created_at", "updated_at"))
    job = c.post("/plans", json={"start": "2027-07-01", "end": "2027-07-01"}, headers=h).json()
    assert is_aware(job["created_at"])
    assert is_aware(c.get("/policy", headers=h).json()["created_at"])
    key = c.post("/keys", json={"role": "analyst"}, headers=service.h("admin")).json()
    assert is_aware(key["created_at"])


def test_a_naive_event_time_is_london_local(service: Service) -> None:
    event = json.loads(data.events_json())[0]
    event.update(start="2027-03-28T00:30:00", end="2027-03-28T03:00:00")  # the clocks go forward at 01:00
    created = service.client.post("/events", json=event, headers=service.h(P))
    assert created.status_code == 201, created.text
    assert created.json()["start"] == "2027-03-28T00:30:00Z"
    assert created.json()["end"] == "2027-03-28T03:00:00+01:00"


def test_the_root_points_at_the_dashboard_and_the_docs(service: Service) -> None:
    index = service.client.get("/")
    assert index.status_code == 200
    assert index.json()["dashboard"] == "/dashboard" and index.json()["api_docs"] == "/schema"
    assert service.client.get(index.json()["dashboard"]).status_code == 200


def test_options_names_every_method_of_a_path(service: Service) -> None:
    allow = service.client.options("/plans/x", headers=service.h(P)).headers["allow"]
    assert set(allow.split(", ")) == {"GET", "DELETE", "OPTIONS"}


def test_health_is_a_503_problem_when_the_database_is_unreachable(service: Service) -> None:
    state = service.client.app.state

    class Down:
        def connect(self) -> Any:
            raise OSError("connection refused")

    engine, state.engine = state.engine, Down()
    try:
        response = service.client.get("/health")
    finally:
        state.engine = engine
    assert response.status_code == 503 and response.headers["content-type"].startswith(PROBLEM_JSON)


def test_the_document_is_valid_json_with_every_schema_referenced_defined(document: dict[str, Any]) -> None:
    text = msgspec.json.encode(document).decode()
    names = set(document["components"]["schemas"])
    for ref in {part.split('"')[0] for part in text.split('"#/components/schemas/')[1:]}:
        assert ref in names, ref
