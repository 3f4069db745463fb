"""Every route x every role (and no key) against one explicit permission table."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from litestar.handlers import HTTPRouteHandler

from tests.api import data
from tests.api.conftest import Service

PUBLIC = "public"
P, S, A, ADMIN = "planner", "scheduler", "analyst", "admin"
READERS = {P, S, A}

# (method, route path) -> roles admitted. Anything not admitted gets 403 (with a key) or 401 (without).
PERMISSIONS: dict[tuple[str, str], set[str] | str] = {
    ("GET", "/"): PUBLIC,
    ("GET", "/health"): PUBLIC,
    ("GET", "/schema"): PUBLIC,
    ("GET", "/schema/openapi.json"): PUBLIC,
    ("GET", "/schema/swagger"): PUBLIC,
    ("GET", "/schema/oauth2-redirect.html"): PUBLIC,
    ("GET", "/schema/{path:str}"): PUBLIC,
    **{
        ("GET", f"/reference/{name}"): {P, S, A, ADMIN}
        for name in (
            "boroughs",
            "bcus",
            "central-units",
            "skills",
            "ranks",
            "duty-roles",
            "event-kinds",
            "deployable-roles",
            "priorities",
        )
    },
    ("POST", "/keys"): {ADMIN},
    ("GET", "/keys"): {ADMIN},
    ("DELETE", "/keys/{key_id:str}"): {ADMIN},
    ("POST", "/officers/import/csv"): {P},
    ("POST", "/officers/import/json"): {P},
    ("GET", "/officers"): {P},
    ("GET", "/officers/{service_number:str}"): {P},
    ("POST", "/events/import/csv"): {P, S},
    ("POST", "/events/import/json"): {P, S},
    ("POST", "/events/import/ics"): {P, S},
    ("GET", "/events"): READERS,
    ("POST", "/events"): {P, S},
    ("GET", "/events/{external_id:path}"): READERS,
    ("PUT", "/events/{external_id:path}"): {P, S},
    ("DELETE", "/events/{external_id:path}"): {P, S},
    ("GET", "/policy"): READERS,
    ("PUT", "/policy"): {P},
    ("GET", "/policy/versions"): READERS,
    ("GET", "/policy/versions/{version:int}"): READERS,
    ("POST", "/plans"): {P, S},
    ("GET", "/plans"): READERS,
    ("GET", "/plans/{job_id:str}"): READERS,
    ("DELETE", "/plans/{job_id:str}"): {P, S},
    ("GET", "/plans/{job_id:str}/summary"): READERS,
    ("GET", "/plans/{job_id:str}/events"): READERS,
    ("GET", "/plans/{job_id:str}/events.csv"): READERS,
    ("GET", "/plans/{job_id:str}/shortfalls"): READERS,
    ("GET", "/plans/{job_id:str}/shortfalls.csv"): READERS,
    ("GET", "/plans/{job_id:str}/units"): READERS,
    ("GET", "/plans/{job_id:str}/units.csv"): READERS,
    ("GET", "/plans/{job_id:str}/bcus"): READERS,
    ("GET", "/plans/{job_id:str}/bcus.csv"): READERS,
    # named officers: never analysts
    ("GET", "/plans/{job_id:str}/events/{event_path:path}"): {P, S},
    ("GET", "/plans/{job_id:str}/assignments.csv"): {P, S},
    ("GET", "/plans/{job_id:str}/officers/{service_number:str}"): {P, S},
    ("GET", "/plans/{job_id:str}/officers/{service_number:str}/roster.csv"): {P, S},
    # analysis: every reader (the drill-down withholds officer names from analysts)
    ("GET", "/analysis/plans/{job_id:str}/overview"): READERS,
    ("GET", "/analysis/plans/{job_id:str}/heatmap"): READERS,
    ("GET", "/analysis/plans/{job_id:str}/impact"): READERS,
    ("GET", "/analysis/plans/{job_id:str}/explanations"): READERS,
    ("GET", "/analysis/plans/{job_id:str}/rules"): READERS,
    ("GET", "/analysis/plans/{job_id:str}/events/{event_path:path}"): READERS,
    ("POST", "/analysis/plans/{job_id:str}/what-if"): READERS,
    ("GET", "/analysis/compare/{job_id:str}/{other_id:str}"): READERS,
    ("POST", "/analysis/frontiers"): READERS,
    ("GET", "/analysis/frontiers"): READERS,
    ("GET", "/analysis/frontiers/{frontier_id:str}"): READERS,
    # published plans and their versions: summaries for every reader, named changes not for analysts
    ("POST", "/plans/{plan_id:str}/publish"): {P, S},
    ("GET", "/plans/{plan_id:str}/versions"): READERS,
    ("GET", "/plans/{plan_id:str}/versions/{number:int}"): READERS,
    ("POST", "/plans/{plan_id:str}/versions/{number:int}/replan"): {P, S},
    ("GET", "/plans/{plan_id:str}/versions/{number:int}/diff"): {P, S},
    ("GET", "/plans/{plan_id:str}/versions/{number:int}/notifications"): {P, S},
    ("GET", "/plans/{plan_id:str}/versions/{number:int}/notifications.csv"): {P, S},
    ("GET", "/plans/{plan_id:str}/versions/{number:int}/assignments"): {P, S},
    ("GET", "/plans/{plan_id:str}/versions/{number:int}/recommendations"): {P, S},
    ("GET", "/plans/{plan_id:str}/changes"): {P, S},
    ("POST", "/plans/{plan_id:str}/pins"): {P, S},
    ("GET", "/plans/{plan_id:str}/pins"): {P, S},
    ("DELETE", "/plans/{plan_id:str}/pins/{pin_id:int}"): {P, S},
    ("POST", "/officers/{service_number:str}/absences"): {P, S},
    ("GET", "/dashboard"): PUBLIC,
    ("GET", "/dashboard/{name:str}"): PUBLIC,
}


def app_routes(service: Service) -> set[tuple[str, str]]:
    out = set()
    for route in service.client.app.routes:
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler):
                out |= {(m, route.path) for m in handler.http_methods if m not in ("OPTIONS", "HEAD")}
    return out


class Fixtures:
    """Builds a valid request for each route; some routes need a fresh target per call."""

    def __init__(self, service: Service) -> None:
        self.s = service
        self.counter = itertools.count()
        c, h = service.client, service.h(P)
        assert c.post("/officers/import/csv", content=data.officers_csv(), headers=h).status_code == 200
        assert c.post("/events/import/csv", content=data.events_csv(), headers=h).status_code == 200
        job = c.post("/plans", json={"start": str(data.DAY), "end": "2027-03-07"}, headers=h).json()
        assert service.run_jobs() == ["succeeded"]
        self.job_id = job["id"]
        self.policy = c.get("/policy", headers=h).json()["policy"]
        frontier = c.post("/analysis/frontiers", json={"start": "2027-03-01", "end": "2027-03-02"}, headers=h)
        self.frontier_id = frontier.json()["job"]["id"]
        # Plans to publish (one per call that may succeed), and the first one published.
        unpublished = [
            c.post("/plans", json={"start": str(data.DAY), "end": "2027-03-03"}, headers=h).json()["id"]
            for _ in range(3)
        ]
        assert service.run_jobs() == ["succeeded"] * 4  # the three plans and the frontier
        assert c.post(f"/plans/{self.job_id}/publish", json={}, headers=h).status_code == 201
        self.unpublished = unpublished

    def fresh_queued_job(self) -> str:
        # submitted by the scheduler: a scheduler may cancel its own jobs, a planner any job
        # (who may cancel whose job: tests/api/test_job_lifecycle.py)
        r = self.s.client.post(
            "/plans", json={"start": "2027-03-01", "end": "2027-03-02"}, headers=self.s.h(S)
        )
        return r.json()["id"]  # type: ignore[no-any-return]

    def latest_version(self) -> str:
        return str(self.s.client.get(f"/plans/{self.job_id}/versions", headers=self.s.h(P)).json()["latest"])

    def fresh_pin(self) -> str:
        r = self.s.client.post(f"/plans/{self.job_id}/pins", json={"event_id": "EV-1-A"}, headers=self.s.h(P))
        return str(r.json()["id"])

    def request(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        n = next(self.counter)
        params = {
            "{plan_id:str}": (lambda: self.unpublished.pop() if self.unpublished else self.job_id)
            if path.endswith("/publish")
            else (lambda: self.job_id),
            "{number:int}": self.latest_version,
            "{pin_id:int}": self.fresh_pin,
            "{key_id:str}": lambda: self.s.new_key(A)[1],
            "{service_number:str}": lambda: "T00001",
            "{external_id:path}": lambda: "EV-0-A",
            "{version:int}": lambda: "1",
            "{event_path:path}": lambda: "EV-0-A",
            "{path:str}": lambda: "swagger",
            "{other_id:str}": lambda: self.job_id,
            "{frontier_id:str}": lambda: self.frontier_id,
            "{name:str}": lambda: "app.js",
            "{job_id:str}": (lambda: self.fresh_queued_job())
            if method == "DELETE"
            else (lambda: self.job_id),
        }
        url = path
        for token, make in params.items():
            if token in url:
                url = url.replace(token, make())
        kwargs: dict[str, Any] = {}
        bodies: dict[tuple[str, str], Any] = {
            ("POST", "/keys"): {"json": {"role": "analyst", "label": f"walk {n}"}},
            ("POST", "/officers/import/csv"): {"content": data.officers_csv()},
            ("POST", "/officers/import/json"): {"content": b"[]"},
            ("POST", "/events/import/csv"): {"content": data.events_csv()},
            ("POST", "/events/import/json"): {"content": data.events_json()},
            ("POST", "/events/import/ics"): {"content": data.events_ics()},
            ("POST", "/events"): {
                "json": {
                    "external_id": f"WALK-{n}",
                    "name": "Walk",
                    "kind": "other",
                    "borough": data.CAMDEN,
                    "start": "2027-03-03T10:00:00",
                    "end": "2027-03-03T12:00:00",
                }
            },
            ("PUT", "/events/{external_id:path}"): {
                "json": {
                    "name": "Rally 0",
                    "kind": "demonstration",
                    "borough": data.WESTMINSTER,
                    "start": "2027-03-01T12:00:00",
                    "end": "2027-03-01T16:00:00",
                    "priority": "high",
                    "demand": [{"role": "constable", "count": 3}, {"role": "bronze", "count": 1}],
                    "venue": "Parliament Square",
                    "notified": "2027-01-10",
                }
            },
            ("PUT", "/policy"): {"json": {"policy": self.policy, "note": f"walk {n}"}},
            ("POST", "/plans"): {"json": {"start": "2027-03-01", "end": "2027-03-02"}},
            ("POST", "/analysis/frontiers"): {"json": {"start": "2027-03-01", "end": "2027-03-02"}},
            ("POST", "/plans/{plan_id:str}/versions/{number:int}/replan"): {
                "json": {"reason": f"walk {n}", "as_of": "2027-03-01T06:00:00+00:00"}
            },
            ("GET", "/plans/{plan_id:str}/versions/{number:int}/recommendations"): {
                "params": {"event_id": "EV-2-A", "role": "constable"}
            },
            ("POST", "/plans/{plan_id:str}/pins"): {"json": {"event_id": "EV-0-A"}},
            ("POST", "/plans/{plan_id:str}/publish"): {"json": {"reason": f"walk {n}"}},
            ("POST", "/officers/{service_number:str}/absences"): {
                "json": {"start": "2027-03-06", "end": "2027-03-06", "reason": "court"}
            },
            ("POST", "/analysis/plans/{job_id:str}/what-if"): {
                "json": {"event_id": "EV-0-A", "demand": [{"role": "constable", "count": 4}]}
            },
        }
        kwargs.update(bodies.get((method, path), {}))
        return url, kwargs


@pytest.mark.parametrize("dummy", [None])
def test_every_route_every_role(service: Service, dummy: None) -> None:
    routes = app_routes(service)
    assert routes == set(PERMISSIONS), (
        f"routes missing from the table: {sorted(routes - set(PERMISSIONS))}; "
        f"table entries with no route: {sorted(set(PERMISSIONS) - routes)}"
    )
    fixtures = Fixtures(service)
    failures = []
    checked = 0
    personal = [r["service_number"] for r in data.officers_rows()] + [r["name"] for r in data.officers_rows()]
    for (method, path), allowed in sorted(PERMISSIONS.items()):
        for role in [None, P, S, A, ADMIN]:
            url, kwargs = fixtures.request(method, path)
            response = service.client.request(method, url, headers=service.h(role), **kwargs)
            checked += 1
            if allowed == PUBLIC or (role is not None and role in allowed):
                ok = 200 <= response.status_code < 300
                expected = "2xx"
            elif role is None:
                ok, expected = response.status_code == 401, "401"
            else:
                ok, expected = response.status_code == 403, "403"
            if not ok:
                failures.append(
                    f"{method} {url} as {role or 'no key'}: {response.status_code} "
                    f"(expected {expected}) {response.text[:200]}"
                )
            elif role == A and method == "GET" and response.status_code == 200:
                leaked = [p for p in personal if p in response.text]
                if leaked:
                    failures.append(f"{method} {url} shows an analyst personal data: {leaked[:3]}")
            elif not (200 <= response.status_code < 300):
                body = response.json()
                assert body["status"] == response.status_code and body["title"]
                assert response.headers["content-type"].startswith("application/problem+json")
    assert not failures, "\n".join(failures)
    assert checked == 5 * len(PERMISSIONS)


def test_bad_keys_are_401(service: Service) -> None:
    c = service.client
    for key in ["", "nonsense", "mep_x_y", service.keys[P] + "x", service.keys[P].replace("mep_", "abc_")]:
        r = c.get("/events", headers={"X-API-Key": key} if key else {})
        assert r.status_code == 401, key
    assert c.get("/events", headers={"Authorization": f"Bearer {service.keys[P]}"}).status_code == 200


def test_revoked_key_stops_working(service: Service) -> None:
    c = service.client
    full, key_id = service.new_key(A)
    assert c.get("/events", headers={"X-API-Key": full}).status_code == 200
    assert c.delete(f"/keys/{key_id}", headers=service.h(ADMIN)).status_code == 200
    assert c.get("/events", headers={"X-API-Key": full}).status_code == 401


def test_created_key_is_shown_once(service: Service) -> None:
    c = service.client
    created = c.post("/keys", json={"role": "scheduler", "label": "ci"}, headers=service.h(ADMIN)).json()
    assert created["key"].startswith("mep_")
    assert c.get("/plans", headers={"X-API-Key": created["key"]}).status_code == 200
    listed = c.get("/keys", headers=service.h(ADMIN)).text
    assert created["key"] not in listed and created["id"] in listed
    assert created["key"].split("_", 2)[2] not in json.dumps(listed)
