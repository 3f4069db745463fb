"""Officer and calendar imports: all-or-nothing with every bad row listed; idempotent re-imports;
single event edits; filters, pagination and request bounds."""

from __future__ import annotations

import json
from urllib.parse import quote

from tests.api import data
from tests.api.conftest import Service

P = "planner"


def _count(service: Service, path: str) -> int:
    return service.client.get(path, params={"limit": 1}, headers=service.h(P)).json()["page"]["total"]  # type: ignore[no-any-return]


def test_officers_csv_import_then_reimport_changes_nothing(service: Service) -> None:
    c, h = service.client, service.h(P)
    first = c.post("/officers/import/csv", content=data.officers_csv(), headers=h)
    assert first.status_code == 200, first.text
    n = len(data.officers_rows())
    assert first.json() == {"received": n, "inserted": n, "updated": 0, "unchanged": 0, "version": 1}
    again = c.post("/officers/import/csv", content=data.officers_csv(), headers=h).json()
    assert again == {"received": n, "inserted": 0, "updated": 0, "unchanged": n, "version": 1}
    one = c.get("/officers/T00003", headers=h).json()
    assert one["rank"] == "PS" and one["skills"] == ["PO_L2"] and one["name"] == "Officer 3"


def test_officers_upsert_updates_changed_rows_only(service: Service) -> None:
    c, h = service.client, service.h(P)
    c.post("/officers/import/csv", content=data.officers_csv(), headers=h)
    rows = data.officers_rows()[:3]
    rows[0]["rank"] = "PS"
    rows[1]["leave"] = "2027-03-01/2027-03-05"
    items = [
        {
            "service_number": r["service_number"],
            "unit": r["unit"],
            "rank": r["rank"],
            "duty_role": r["duty_role"],
            "skills": [s for s in r["skills"].split(";") if s],
            "shift_pattern": r["shift_pattern"],
            "pattern_offset": int(r["pattern_offset"]),
            "name": r["name"],
            "leave": [{"start": "2027-03-01", "end": "2027-03-05"}] if r["leave"] else [],
        }
        for r in rows
    ]
    report = c.post("/officers/import/json", content=json.dumps(items), headers=h).json()
    assert (report["inserted"], report["updated"], report["unchanged"], report["version"]) == (0, 2, 1, 2)
    assert c.get("/officers/T00001", headers=h).json()["rank"] == "PS"
    assert c.get("/officers/T00002", headers=h).json()["leave"] == [
        {"start": "2027-03-01", "end": "2027-03-05"}
    ]


def test_bad_officer_rows_reject_the_whole_file(service: Service) -> None:
    c, h = service.client, service.h(P)
    text = data.officers_csv().decode().splitlines()
    text[3] = text[3].replace(",PS,", ",SERGEANT,")  # line 4: bad rank
    text[10] = text[10].replace("E09000033", "NOWHERE")  # line 11: bad unit
    text[20] = text[20].replace("PO_L2", "JUGGLING")  # line 21: bad skill
    text.append(text[1])  # last line: duplicate service number
    r = c.post("/officers/import/csv", content="\n".join(text).encode(), headers=h)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    lines = sorted({e["line"] for e in body["errors"]})
    assert lines == [4, 11, 21, len(text)]
    assert {e["field"] for e in body["errors"]} == {"rank", "unit", "skills", "service_number"}
    assert "4 bad row(s)" in body["detail"] and "nothing was imported" in body["detail"]
    assert _count(service, "/officers") == 0


def test_bad_json_items_are_reported_with_their_lines(service: Service) -> None:
    c, h = service.client, service.h(P)
    body = b"""[
  {"service_number": "J1", "unit": "TSG", "rank": "PC", "duty_role": "central"},
  {"service_number": "J2", "unit": "TSG", "rank": "PC", "duty_role": "pilot"},
  {"service_number": "J3", "unit": "TSG", "rank": "PC", "duty_role": "central",
   "favourite_colour": "blue"}
]"""
    r = c.post("/officers/import/json", content=body, headers=h)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert [(e["line"], e["key"]) for e in errors] == [(3, "J2"), (4, "J3")]
    assert "favourite_colour" in errors[1]["reason"]
    assert _count(service, "/officers") == 0
    assert c.post("/officers/import/json", content=b"{not json", headers=h).status_code == 422


def test_calendar_csv_json_ics_imports_are_idempotent(service: Service) -> None:
    c, h = service.client, service.h(P)
    r = c.post("/events/import/csv", content=data.events_csv(), headers=h).json()
    assert (r["inserted"], r["version"]) == (6, 1)
    # the same calendar as JSON: nothing changes, the version stays
    r = c.post("/events/import/json", content=data.events_json(), headers=h).json()
    assert (r["inserted"], r["updated"], r["unchanged"], r["version"]) == (0, 0, 6, 1)
    r = c.post("/events/import/ics", content=data.events_ics(), headers=h).json()
    assert (r["inserted"], r["version"]) == (2, 2)
    r = c.post("/events/import/ics", content=data.events_ics(), headers=h).json()
    assert (r["inserted"], r["updated"], r["unchanged"], r["version"]) == (0, 0, 2, 2)
    march = c.get("/events/ics-0@tests", headers=h).json()
    assert (
        march["kind"] == "march"
        and march["priority"] == "high"
        and march["start"] == "2027-03-08T11:00:00Z"  # London in March: UTC
    )
    assert march["demand"] == [{"role": "constable", "count": 2}]


def test_bad_calendar_rows_reject_the_whole_file(service: Service) -> None:
    c, h = service.client, service.h(P)
    rows = data.events_rows()
    rows[1]["end"] = "2027-03-01T17:00"  # ends before it starts (18:00)
    rows[2]["demand"] = "hovercraft:2"
    rows[3]["borough"] = "Atlantis"
    rows[4]["kind"] = "picnic"
    r = c.post("/events/import/csv", content=data.events_csv(rows), headers=h)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert sorted({e["line"] for e in errors}) == [3, 4, 5, 6]
    reasons = " ".join(e["reason"] for e in errors)
    assert "not after start" in reasons and "hovercraft" in reasons and "Atlantis" in reasons
    assert _count(service, "/events") == 0


def test_bad_ics_event_is_rejected_with_its_line(service: Service) -> None:
    c, h = service.client, service.h(P)
    ics = data.events_ics().decode().replace("X-MET-DEMAND:constable:2", "X-MET-DEMAND:constable:x", 1)
    r = c.post("/events/import/ics", content=ics.encode(), headers=h)
    assert r.status_code == 422
    assert [e["line"] for e in r.json()["errors"]] == [4]
    assert _count(service, "/events") == 0


def test_single_event_create_update_cancel_keeps_history(service: Service) -> None:
    c, h = service.client, service.h("scheduler")
    event = {
        "external_id": "SN-1",
        "name": "Static protest",
        "kind": "demonstration",
        "borough": data.CAMDEN,
        "start": "2027-03-02T10:00:00",
        "end": "2027-03-02T13:00:00",
        "demand": [{"role": "constable", "count": 4}],
        "notified": "2027-03-01",
    }
    r = c.post("/events", json=event, headers=h)
    assert r.status_code == 201, r.text
    assert c.post("/events", json=event, headers=h).status_code == 409
    update = {k: v for k, v in event.items() if k != "external_id"} | {"priority": "high"}
    assert c.put("/events/SN-1", json=update, headers=h).json()["priority"] == "high"
    cancelled = c.delete("/events/SN-1", headers=h)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert c.get("/events/SN-1", headers=h).json()["status"] == "cancelled"
    assert c.get("/events", params={"status": "cancelled"}, headers=h).json()["page"]["total"] == 1
    bad = dict(event, external_id="SN-2", borough="E99999999")
    r = c.post("/events", json=bad, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "borough"
    assert c.put("/events/NOPE", json=update, headers=h).status_code == 404


def test_event_ids_with_slashes_are_addressable(service: Service) -> None:
    c, h = service.client, service.h("scheduler")
    event = {
        "external_id": "FA/2027/0412",
        "name": "Arsenal v Spurs",
        "kind": "football",
        "borough": data.CAMDEN,
        "start": "2027-03-02T15:00:00",
        "end": "2027-03-02T17:00:00",
        "demand": [{"role": "constable", "count": 4}],
    }
    assert c.post("/events", json=event, headers=h).status_code == 201
    assert c.get("/events/FA/2027/0412", headers=h).json()["external_id"] == "FA/2027/0412"
    assert c.get("/events/FA%2F2027%2F0412", headers=h).json()["external_id"] == "FA/2027/0412"
    update = {k: v for k, v in event.items() if k != "external_id"} | {"priority": "high"}
    assert c.put("/events/FA/2027/0412", json=update, headers=h).json()["priority"] == "high"
    assert c.delete("/events/FA/2027/0412", headers=h).json()["status"] == "cancelled"
    assert c.get("/events/FA/2027", headers=h).status_code == 404  # a prefix is not the event


def test_event_ids_a_normalised_path_would_change_still_round_trip(service: Service) -> None:
    c, h = service.client, service.h(P)
    rows = data.events_rows()
    odd = ("https://example.org/match/1", "a//b", "trail/", "x/../y")
    for row, external_id in zip(rows[1:5], odd, strict=True):
        row["external_id"] = external_id
    assert c.post("/events/import/csv", content=data.events_csv(rows), headers=h).status_code == 200
    for external_id in odd:
        r = c.get(f"/events/{quote(external_id, safe='')}", headers=h)
        assert r.status_code == 200 and r.json()["external_id"] == external_id
    # a URL-like id also works with its slashes as they are
    assert c.get("/events/https://example.org/match/1", headers=h).json()["external_id"] == odd[0]
    assert c.get("/events/trail", headers=h).status_code == 404  # "trail/" is not "trail"


def test_event_filters_and_pagination(service: Service) -> None:
    c, h = service.client, service.h("analyst")
    c.post("/events/import/csv", content=data.events_csv(), headers=service.h(P))
    q = {"from": "2027-03-02", "to": "2027-03-02"}
    assert [e["external_id"] for e in c.get("/events", params=q, headers=h).json()["items"]] == [
        "EV-1-A",
        "EV-1-B",
    ]
    assert c.get("/events", params={"borough": data.LAMBETH}, headers=h).json()["page"]["total"] == 3
    assert (
        c.get("/events", params={"kind": "football", "priority": "normal"}, headers=h).json()["page"]["total"]
        == 3
    )
    page = c.get("/events", params={"limit": 4, "offset": 4}, headers=h).json()
    assert len(page["items"]) == 2 and page["page"] == {
        "total": 6,
        "limit": 4,
        "offset": 4,
        "next_offset": None,
        "next_after": None,
    }
    first = c.get("/events", params={"limit": 4}, headers=h).json()["page"]
    assert first["next_offset"] == 4
    # past the last row there is no row to carry the total: it is counted on its own
    beyond = c.get("/events", params={"limit": 4, "offset": 40}, headers=h).json()
    assert beyond["items"] == [] and beyond["page"]["total"] == 6
    none = c.get("/events", params={"borough": data.CAMDEN, "kind": "football"}, headers=h).json()
    assert none["items"] == [] and none["page"]["total"] == 0
    too_big = c.get("/events", params={"limit": 501}, headers=h)
    assert too_big.status_code == 400 and "at most 500" in too_big.json()["detail"]
    assert c.get("/events", params={"kind": "rave"}, headers=h).status_code == 400


def test_request_size_is_bounded_and_unknown_fields_rejected(service: Service) -> None:
    c, h = service.client, service.h(P)
    huge = b"x" * (2 * 1024 * 1024 + 1)
    r = c.post("/events/import/csv", content=huge, headers=h)
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    r = c.post("/plans", json={"start": "2027-03-01", "end": "2027-03-02", "colour": "red"}, headers=h)
    assert r.status_code == 400 and "colour" in r.text
    policy = c.get("/policy", headers=h).json()["policy"]
    policy["floors"]["bogus"] = 1
    assert c.put("/policy", json={"policy": policy}, headers=h).status_code == 400


def test_policy_updates_are_new_versions(service: Service) -> None:
    c, h = service.client, service.h(P)
    current = c.get("/policy", headers=h).json()
    assert current["version"] == 1
    policy = current["policy"]
    policy["floors"]["investigation"] = 0.9
    r = c.put("/policy", json={"policy": policy, "note": "stricter CID floor"}, headers=h)
    assert r.status_code == 201 and r.json()["version"] == 2
    assert c.get("/policy", headers=h).json()["policy"]["floors"]["investigation"] == 0.9
    assert c.get("/policy/versions/1", headers=h).json()["policy"]["floors"]["investigation"] == 0.85
    assert [v["version"] for v in c.get("/policy/versions", headers=h).json()] == [2, 1]
    policy["floors"]["investigation"] = 1.5
    bad = c.put("/policy", json={"policy": policy}, headers=h)
    assert bad.status_code == 422 and "investigation" in bad.json()["errors"][0]
    assert c.get("/policy/versions/9", headers=h).status_code == 404


def test_errors_never_leak_internals(service: Service) -> None:
    r = service.client.get("/plans/does-not-exist/summary", headers=service.h(P))
    assert r.status_code == 404
    assert "Traceback" not in r.text and r.json()["instance"] == "/plans/does-not-exist/summary"


def test_cached_reads_follow_writes(service: Service) -> None:
    """GET responses are cached per data version: a write through the API shows at once, and a write
    by another process (here: straight to the database) shows within the version TTL."""
    from sqlalchemy import update

    from api.db.engine import make_sync_engine
    from api.db.models import DatasetVersion, EventRow

    c, h = service.client, service.h(P)
    c.post("/events/import/csv", content=data.events_csv(), headers=h)
    assert c.get("/events/EV-0-A", headers=h).json()["name"] == "Rally 0"
    assert c.get("/events/EV-0-A", headers=h).json()["name"] == "Rally 0"  # served from the cache
    body = {
        k: v
        for k, v in c.get("/events/EV-0-A", headers=h).json().items()
        if k not in ("external_id", "created_at", "updated_at")
    }
    assert c.put("/events/EV-0-A", json=body | {"name": "Rally zero"}, headers=h).status_code == 200
    assert c.get("/events/EV-0-A", headers=h).json()["name"] == "Rally zero"
    engine = make_sync_engine(service.settings.db, pooled=False)
    with engine.begin() as conn:
        conn.execute(update(EventRow).where(EventRow.external_id == "EV-0-A").values(name="Rally nought"))
        conn.execute(
            update(DatasetVersion)
            .where(DatasetVersion.name == "calendar")
            .values(version=DatasetVersion.version + 1)
        )
    engine.dispose()
    import time

    time.sleep(service.settings.server.version_ttl_seconds + 0.05)
    assert c.get("/events/EV-0-A", headers=h).json()["name"] == "Rally nought"


def test_officer_pages_by_offset_and_by_cursor_agree(service: Service) -> None:
    c, h = service.client, service.h(P)
    c.post("/officers/import/csv", content=data.officers_csv(), headers=h)
    by_offset, offset = [], 0
    while offset is not None:
        page = c.get("/officers", params={"limit": 25, "offset": offset}, headers=h).json()
        by_offset += [o["service_number"] for o in page["items"]]
        offset = page["page"]["next_offset"]
    by_cursor, params, totals = [], {"limit": 25}, []
    while True:
        page = c.get("/officers", params=params, headers=h).json()
        by_cursor += [o["service_number"] for o in page["items"]]
        totals.append(page["page"]["total"])
        if page["page"]["next_after"] is None:
            break
        params = {"limit": 25, "after": page["page"]["next_after"]}
    assert by_offset == by_cursor == sorted(r["service_number"] for r in data.officers_rows())
    # the first page counts; keyset pages skip the count
    assert len(totals) > 1 and totals == [len(by_cursor)] + [None] * (len(totals) - 1)
    assert c.get("/officers", params={"after": "T", "offset": 5}, headers=h).status_code == 400
