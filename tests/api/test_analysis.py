"""Analysis endpoints on a real (small) plan, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.api import data
from tests.api.conftest import Service

BIG = {
    "external_id": "BIG-1",
    "name": "Big rally",
    "kind": "demonstration",
    "borough": data.WESTMINSTER,
    "start": "2027-03-01T10:00:00",
    "end": "2027-03-01T16:00:00",
    "priority": "critical",
    "demand": [{"role": "serial_l2", "count": 6}],
    "notified": "2027-02-25",
}


def planned(service: Service) -> str:
    c, h = service.client, service.h("planner")
    assert c.post("/officers/import/csv", content=data.officers_csv(), headers=h).status_code == 200
    assert c.post("/events/import/csv", content=data.events_csv(), headers=h).status_code == 200
    assert c.post("/events", json=BIG, headers=h).status_code == 201
    job = c.post("/plans", json={"start": "2027-03-01", "end": "2027-03-03"}, headers=h).json()
    assert service.run_jobs() == ["succeeded"]
    return job["id"]  # type: ignore[no-any-return]


def get(service: Service, url: str, role: str = "analyst", **kwargs: Any) -> Any:
    r = service.client.get(url, headers=service.h(role), **kwargs)
    assert r.status_code == 200, r.text
    return r.json()


def test_overview_heatmaps_impact_rules_and_explanations(service: Service) -> None:
    plan = planned(service)
    base = f"/analysis/plans/{plan}"
    overview = get(service, f"{base}/overview")
    assert overview["daily"]["days"] == ["2027-03-01", "2027-03-02", "2027-03-03"]
    assert overview["daily"]["demand_officers"][0] >= 48  # the big rally alone asks for 48
    assert overview["short_events"][0]["event_id"] == "BIG-1"

    heat = get(service, f"{base}/heatmap", params={"metric": "retained"})
    west = heat["boroughs"].index(data.WESTMINSTER)
    assert heat["weeks"] == ["2027-03-01"] and 0 <= heat["values"][west][0] <= 1
    assert (
        service.client.get(
            f"{base}/heatmap", params={"metric": "x"}, headers=service.h("analyst")
        ).status_code
        == 400
    )

    impact = get(service, f"{base}/impact")
    assert len(impact["days"]) == 3 and len(impact["boroughs"]) == 32 and len(impact["bcus"]) == 12
    row = next(s for s in impact["boroughs"] if s["code"] == data.WESTMINSTER)
    assert len(row["delay_plan"]) == 3
    # a crime override and a tiny capacity push Westminster's delay up, and the breach is named
    heavy = get(
        service,
        f"{base}/impact",
        params={"crime": f"{data.WESTMINSTER}:400000", "rate": 0.5, "threshold": 0.5, "series": "false"},
    )
    west_heavy = next(s for s in heavy["boroughs"] if s["code"] == data.WESTMINSTER)
    assert west_heavy["intake_per_day"] > row["intake_per_day"] and west_heavy["delay_plan"] == []
    bad = service.client.get(f"{base}/impact", params={"crime": "x:y"}, headers=service.h("analyst"))
    assert bad.status_code == 400

    explained = get(service, f"{base}/explanations", params={"event_id": "BIG-1"})
    assert explained["total"] >= 1
    first = explained["items"][0]
    assert first["role"] == "serial_l2" and first["officers_short"] > 0 and "Level 2 serial" in first["text"]
    # measured per source, nearest first: Westminster's own officers, then Lambeth's
    sources = first["sources"]
    assert [s["source"] for s in sources] == [data.WESTMINSTER, data.LAMBETH]
    assert all(s["kind"] == "borough" and s["minutes"] >= 0 for s in sources)
    assert first["suitable"] == sum(s["suitable"] for s in sources) > 0
    for s in sources:
        ruled_out = sum(s["held_back"].values())
        assert s["suitable"] == ruled_out + s["lawful_on_duty"] + s["lawful_rest_day"]
    assert first["coverable_units"] == 0  # the solver leaves no lawful cover unused
    # analysts never see a name or a service number in an explanation
    raw = service.client.get(f"{base}/explanations", headers=service.h("analyst")).text
    assert "Officer " not in raw and "T0000" not in raw

    rules = {r["rule"]: r for r in get(service, f"{base}/rules")}
    assert rules["Demand cover"]["value"] > 0
    assert rules["Demand cover"]["top_events"][0]["key"] == "BIG-1"


def test_drill_down_hides_names_from_analysts(service: Service) -> None:
    plan = planned(service)
    url = f"/analysis/plans/{plan}/events/EV-0-A"
    analyst = get(service, url)
    assert analyst["names_hidden"] is True and analyst["assignments"]
    assert all(a["service_number"] is None and a["name"] is None for a in analyst["assignments"])
    assert "Officer " not in service.client.get(url, headers=service.h("analyst")).text
    planner = get(service, url, role="planner")
    assert planner["names_hidden"] is False
    assert all(a["name"].startswith("Officer ") for a in planner["assignments"])
    big = get(service, f"/analysis/plans/{plan}/events/BIG-1")
    assert big["explanations"] and big["tours"][0]["short"] > 0
    assert (
        service.client.get(f"/analysis/plans/{plan}/events/NOPE", headers=service.h("analyst")).status_code
        == 404
    )


def test_compare_and_what_if(service: Service) -> None:
    plan = planned(service)
    same = get(service, f"/analysis/compare/{plan}/{plan}")
    assert all(d["delta"] == 0 for d in same["summary"])
    assert len(same["boroughs"]) == 32 and len(same["bcus"]) == 12

    r = service.client.post(
        f"/analysis/plans/{plan}/what-if",
        json={"event_id": "BIG-1", "demand": [{"role": "constable", "count": 2}]},
        headers=service.h("analyst"),
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["days"] == ["2027-03-01"]
    deltas = {d["name"]: d["delta"] for d in result["comparison"]["summary"]}
    assert deltas["demand_officers"] == 2 - 48
    assert result["after"]["uncovered_critical"] < result["before"]["uncovered_critical"]
    bad = service.client.post(
        f"/analysis/plans/{plan}/what-if",
        json={"borough": "nowhere", "investigation_floor": 0.5},
        headers=service.h("analyst"),
    )
    assert bad.status_code == 422
    unknown = service.client.post(
        f"/analysis/plans/{plan}/what-if", json={"colour": "red"}, headers=service.h("analyst")
    )
    assert unknown.status_code == 400

    # a second stored plan with a different calendar compares with deltas
    c, h = service.client, service.h("planner")
    assert c.delete("/events/BIG-1", headers=h).status_code in (200, 204)
    second = c.post("/plans", json={"start": "2027-03-01", "end": "2027-03-03"}, headers=h).json()["id"]
    assert service.run_jobs() == ["succeeded"]
    diff = get(service, f"/analysis/compare/{plan}/{second}")
    summary = {d["name"]: d for d in diff["summary"]}
    assert summary["demand_officers"]["delta"] == -48


def test_frontier_is_a_durable_job_with_six_points(service: Service) -> None:
    planned(service)
    r = service.client.post(
        "/analysis/frontiers", json={"start": "2027-03-01", "end": "2027-03-02"}, headers=service.h("analyst")
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["job"]["id"]
    assert r.headers["location"] == f"/analysis/frontiers/{job_id}"
    assert service.run_jobs() == ["succeeded"]
    out = get(service, f"/analysis/frontiers/{job_id}")
    assert out["job"]["status"] == "succeeded"
    floors = [p["investigation_floor"] for p in out["points"]]
    assert floors == [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    covered = [p["covered_officers"] for p in out["points"]]
    assert covered == sorted(covered, reverse=True)  # a higher floor never covers more
    listed = get(service, "/analysis/frontiers")
    assert [f["job"]["id"] for f in listed["items"]] == [job_id]
    plans = get(service, "/plans")["items"]  # plan jobs only: the frontier is not among them
    assert plans and job_id not in [p["id"] for p in plans]
    # a frontier is not a plan to analyse, and a plan is not a frontier
    assert (
        service.client.get(f"/analysis/plans/{job_id}/overview", headers=service.h("analyst")).status_code
        == 409
    )
    bad = service.client.post(
        "/analysis/frontiers", json={"start": "2027-03-02", "end": "2027-03-01"}, headers=service.h("analyst")
    )
    assert bad.status_code == 422


def test_dashboard_is_served_without_a_key_and_holds_no_data(service: Service) -> None:
    page = service.client.get("/dashboard")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "X-API-Key" in service.client.get("/dashboard/app.js").text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN: the machine is offline
    assert service.client.get("/dashboard/nope.js").status_code == 404
    assert service.client.get("/dashboard/..%2Fservices.py").status_code == 404
    assert service.client.get("/analysis/frontiers").status_code == 401


def test_a_finished_plan_is_analysed_before_the_first_request(service: Service) -> None:
    import asyncio

    from api.db.engine import make_async_engine
    from api.features.analysis.services import CACHE, warm_newest_plan

    plan = planned(service)
    CACHE.clear()

    async def warm_twice() -> tuple[str | None, str | None]:
        engine = make_async_engine(service.settings.db)
        try:
            return await warm_newest_plan(engine), await warm_newest_plan(engine)
        finally:
            await engine.dispose()

    first, second = asyncio.run(warm_twice())
    assert first == plan and CACHE.has(plan)
    assert second is None  # already analysed: nothing to do
    assert get(service, f"/analysis/plans/{plan}/overview")["daily"]["days"][0] == "2027-03-01"
