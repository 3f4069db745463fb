"""Publishing and re-planning through the API, on both databases: versions, least-disruption
re-plans of real input changes, the diff and notification list, the change log, optimistic
concurrency, idempotent retries, pins, recommendations and absences."""

from __future__ import annotations

import csv
import io
import threading
from typing import Any

from tests.api import data
from tests.api.conftest import Service
from tests.api.test_jobs import REQUEST, _load

P, S, A = "planner", "scheduler", "analyst"
AS_OF = "2027-03-01T06:00:00+00:00"  # before the calendar's first tour


def _published(service: Service) -> str:
    _load(service)
    r = service.client.post("/plans", json=REQUEST, headers=service.h(S))
    assert r.status_code == 202, r.text
    plan_id = r.json()["id"]
    assert "succeeded" in service.run_jobs()
    r = service.client.post(
        f"/plans/{plan_id}/publish", json={"reason": "weekly roster"}, headers=service.h(P)
    )
    assert r.status_code == 201, r.text
    assert r.json()["number"] == 1 and r.json()["kind"] == "published"
    return plan_id  # type: ignore[no-any-return]


def _add_event(service: Service, eid: str, **fields: Any) -> None:
    body = {
        "external_id": eid,
        "name": "Short-notice protest",
        "kind": "demonstration",
        "borough": data.WESTMINSTER,
        "start": "2027-03-02T13:00:00",
        "end": "2027-03-02T16:00:00",
        "priority": "high",
        "demand": [{"role": "constable", "count": 2}],
        "notified": "2027-03-01",
        **fields,
    }
    r = service.client.post("/events", json=body, headers=service.h(P))
    assert r.status_code == 201, r.text


def _replan(service: Service, plan_id: str, number: int, **headers: str) -> Any:
    return service.client.post(
        f"/plans/{plan_id}/versions/{number}/replan",
        json={"reason": "short-notice change", "as_of": AS_OF},
        headers={**service.h(P), **headers},
    )


def test_a_new_event_is_answered_by_a_version_that_only_adds_its_officers(service: Service) -> None:
    plan_id = _published(service)
    before = service.client.get(
        f"/plans/{plan_id}/versions/1/assignments?limit=500", headers=service.h(P)
    ).json()
    _add_event(service, "SN-1")
    r = _replan(service, plan_id, 1)
    assert r.status_code == 201, r.text
    version = r.json()
    assert version["number"] == 2 and version["parent"] == 1 and "event SN-1 added" in version["inputs"]
    diff = service.client.get(f"/plans/{plan_id}/versions/2/diff", headers=service.h(P)).json()
    added = [c for c in diff["changes"] if c["kind"] == "added"]
    assert len(added) == 2 and all(c["after"]["event_id"] == "SN-1" for c in added)
    assert not [c for c in diff["changes"] if c["kind"] != "added"]  # nobody else was disturbed
    [cover] = [c for c in diff["coverage"] if c["event_id"] == "SN-1"]
    assert (cover["before"], cover["after"], cover["required"]) == (0, 2, 2)
    after = service.client.get(
        f"/plans/{plan_id}/versions/2/assignments?limit=500", headers=service.h(P)
    ).json()
    assert after["page"]["total"] == before["page"]["total"] + 2
    # Version 1 still reads as published.
    again = service.client.get(
        f"/plans/{plan_id}/versions/1/assignments?limit=500", headers=service.h(P)
    ).json()
    assert again["items"] == before["items"]
    # The notification list: one row per officer told, JSON and CSV agree.
    notes = service.client.get(f"/plans/{plan_id}/versions/2/notifications", headers=service.h(P)).json()
    assert sorted(n["service_number"] for n in notes["items"]) == sorted(c["service_number"] for c in added)
    text = service.client.get(f"/plans/{plan_id}/versions/2/notifications.csv", headers=service.h(P)).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["service_number"] for r in rows) == sorted(n["service_number"] for n in notes["items"])
    assert all(r["notice_days"] == "1" for r in rows)
    log = service.client.get(f"/plans/{plan_id}/changes?event_id=SN-1", headers=service.h(P)).json()
    assert log["page"]["total"] == 2


def test_a_stale_version_gets_409_naming_the_latest_and_a_retry_gets_the_first_answer(
    service: Service,
) -> None:
    plan_id = _published(service)
    _add_event(service, "SN-1")
    first = _replan(service, plan_id, 1, **{"Idempotency-Key": "abc"})
    assert first.status_code == 201, first.text
    retry = _replan(service, plan_id, 1, **{"Idempotency-Key": "abc"})
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
    stale = _replan(service, plan_id, 1)
    assert stale.status_code == 409 and "version 2" in stale.json()["detail"]
    assert stale.headers["content-type"].startswith("application/problem+json")
    versions = service.client.get(f"/plans/{plan_id}/versions", headers=service.h(A)).json()
    assert versions["latest"] == 2 and len(versions["items"]) == 2


def test_two_planners_replanning_one_version_at_once_one_wins(service: Service) -> None:
    plan_id = _published(service)
    _add_event(service, "SN-1")
    results: list[int] = []

    def go() -> None:
        results.append(_replan(service, plan_id, 1).status_code)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409]


def test_sickness_replaces_one_officer_and_a_cancellation_withdraws_its_duties(service: Service) -> None:
    plan_id = _published(service)
    page = service.client.get(
        f"/plans/{plan_id}/versions/1/assignments?event_id=EV-1-B", headers=service.h(P)
    ).json()
    assert page["items"], "the serial of day 1 is deployed"
    sick = page["items"][0]
    r = service.client.post(
        f"/officers/{sick['service_number']}/absences",
        json={"start": sick["day"], "end": sick["day"], "reason": "sickness"},
        headers=service.h(P),
    )
    assert r.status_code == 201, r.text
    r = _replan(service, plan_id, 1)
    assert r.status_code == 201, r.text
    diff = service.client.get(f"/plans/{plan_id}/versions/2/diff", headers=service.h(P)).json()
    withdrawn = [c for c in diff["changes"] if c["kind"] == "withdrawn"]
    assert [c["service_number"] for c in withdrawn] == [sick["service_number"]]
    # Replaced by one officer, or the unit given up: never more officers moved than the unit has.
    assert len(diff["changes"]) <= 2 or all(
        c["after"]["event_id"] in (None, "EV-1-B") for c in diff["changes"]
    )
    r = service.client.delete("/events/EV-2-A", headers=service.h(P))
    assert r.status_code in (200, 204), r.text
    r = _replan(service, plan_id, 2)
    assert r.status_code == 201, r.text
    diff = service.client.get(f"/plans/{plan_id}/versions/3/diff", headers=service.h(P)).json()
    assert diff["changes"] and all(c["kind"] == "withdrawn" for c in diff["changes"])
    assert all(c["before"]["event_id"] == "EV-2-A" for c in diff["changes"])


def test_pins_recommendations_and_roles(service: Service) -> None:
    plan_id = _published(service)
    r = service.client.post(f"/plans/{plan_id}/pins", json={"event_id": "EV-0-A"}, headers=service.h(P))
    assert r.status_code == 201, r.text
    assert (
        service.client.get(f"/plans/{plan_id}/pins", headers=service.h(P)).json()["items"][0]["event_id"]
        == "EV-0-A"
    )
    rec = service.client.get(
        f"/plans/{plan_id}/versions/1/recommendations?event_id=EV-2-A&role=constable&k=3",
        headers=service.h(S),
    )
    assert rec.status_code == 200, rec.text
    body = rec.json()
    assert len(body["candidates"]) <= 3 and body["suitable"] >= body["lawful"]
    costs = [c["cost"] for c in body["candidates"]]
    assert costs == sorted(costs)
    # Analysts see version summaries, never the named diff, notifications or recommendations.
    assert service.client.get(f"/plans/{plan_id}/versions/1", headers=service.h(A)).status_code == 200
    for path in ("versions/1/diff", "versions/1/notifications", "changes", "pins", "versions/1/assignments"):
        assert service.client.get(f"/plans/{plan_id}/{path}", headers=service.h(A)).status_code == 403, path
    assert _replan_as(service, plan_id, A).status_code == 403
    assert service.client.post(f"/plans/{plan_id}/publish", json={}, headers=service.h(P)).status_code == 409


def _replan_as(service: Service, plan_id: str, role: str) -> Any:
    return service.client.post(f"/plans/{plan_id}/versions/1/replan", json={}, headers=service.h(role))


def test_a_new_version_is_read_at_once_not_from_a_cached_page(service: Service) -> None:
    plan_id = _published(service)
    for _ in range(2):  # a second read would come from the response cache if it applied here
        assert service.client.get(f"/plans/{plan_id}/versions", headers=service.h(P)).json()["latest"] == 1
    _add_event(service, "SN-1")
    assert _replan(service, plan_id, 1).status_code == 201
    assert service.client.get(f"/plans/{plan_id}/versions", headers=service.h(P)).json()["latest"] == 2
