"""Concurrent overlapping imports of the same ids end in a state some serial order of them gives.

A real `planner serve` with two API processes; each round posts 20 event imports at once, each
setting a random subset of the round's ids to one of two venues (so that an import often finds a
row unchanged, where the lost update hid). The check replays the imports serially and compares the
reports and the final rows.

Why one replay order is enough: an import's report is part of what a serial execution must
reproduce, and its `version` is the calendar version after it. Serially, each import that changes
something moves the version on by one, and one that changes nothing reports the version it found.
So the reported versions fix the only possible order of the changing imports (start + 1, + 2, ...),
and put each unchanged import after the changer whose version it reports; unchanged imports with
the same version commute (they write nothing). If that replay does not reproduce every report and
the final rows, no serial order does."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from api.db.engine import make_sync_engine
from api.db.models import EventRow
from api.settings import DatabaseSettings
from tests.api import data
from tests.api.live import live_server

ROUNDS = 20
IMPORTS = 20
IDS_PER_ROUND = 30
IDS_PER_IMPORT = 18
VENUES = ("North gate", "South gate")
HEADER = "external_id,name,kind,borough,start,end,priority,demand,venue"


@dataclass(frozen=True)
class Import:
    rows: dict[str, str]  # external id -> venue

    def csv(self) -> bytes:
        when = f"{data.DAY}T12:00,{data.DAY}T14:00"
        lines = [HEADER] + [
            f"{eid},Vigil {eid},demonstration,{data.WESTMINSTER},{when},normal,constable:1,{venue}"
            for eid, venue in self.rows.items()
        ]
        return ("\n".join(lines) + "\n").encode()


@dataclass(frozen=True)
class Report:
    inserted: int
    updated: int
    unchanged: int
    version: int


def serial_replay(
    imports: list[Import], reports: list[Report], start_version: int, final: dict[str, str]
) -> str | None:
    """None if replaying the imports in the order their versions fix reproduces every report and the
    final rows; otherwise what differs."""
    changers = sorted((r.version, i) for i, r in enumerate(reports) if r.inserted or r.updated)
    expected_versions = list(range(start_version + 1, start_version + 1 + len(changers)))
    if [v for v, _ in changers] != expected_versions:
        return f"changing imports report versions {[v for v, _ in changers]}, not {expected_versions}"
    order = sorted(
        range(len(imports)),
        key=lambda i: (reports[i].version, not (reports[i].inserted or reports[i].updated)),
    )
    state: dict[str, str] = {}
    for i in order:
        inserted = updated = unchanged = 0
        for eid, venue in imports[i].rows.items():
            if eid not in state:
                inserted += 1
            elif state[eid] != venue:
                updated += 1
            else:
                unchanged += 1
            state[eid] = venue
        seen = Report(inserted, updated, unchanged, reports[i].version)
        if seen != reports[i]:
            return f"import {i} reported {reports[i]} but serially after its predecessors it is {seen}"
    if state != final:
        differ = sorted(k for k in state.keys() | final.keys() if state.get(k) != final.get(k))
        return f"final rows differ from the serial replay at {differ[:5]}"
    return None


def test_serial_replay_finds_a_lost_update() -> None:
    """The checker itself: two imports that both found the row absent cannot both have inserted it,
    and one that found it unchanged after another changed it must have updated it."""
    a, b = Import({"x": VENUES[0]}), Import({"x": VENUES[1]})
    assert serial_replay([a, b], [Report(1, 0, 0, 1), Report(0, 1, 0, 2)], 0, {"x": VENUES[1]}) is None
    assert serial_replay([a, b], [Report(1, 0, 0, 1), Report(1, 0, 0, 2)], 0, {"x": VENUES[1]}) is not None
    c = Import({"x": VENUES[0]})
    # c read x == North (a's value) and wrote nothing, yet the final row is b's: c cannot be placed
    assert (
        serial_replay(
            [a, b, c], [Report(1, 0, 0, 1), Report(0, 1, 0, 2), Report(0, 0, 1, 2)], 0, {"x": VENUES[1]}
        )
        is not None
    )


def _imports(rng: random.Random, round_no: int) -> list[Import]:
    ids = [f"R{round_no:02d}-E{n:02d}" for n in range(IDS_PER_ROUND)]
    return [
        Import({eid: rng.choice(VENUES) for eid in sorted(rng.sample(ids, IDS_PER_IMPORT))})
        for _ in range(IMPORTS)
    ]


async def _post_all(base_url: str, key: str, bodies: list[bytes]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies))
    async with httpx.AsyncClient(
        base_url=base_url, headers={"X-API-Key": key}, timeout=60, limits=limits
    ) as c:
        return await asyncio.gather(*(c.post("/events/import/csv", content=b) for b in bodies))


def _final_rows(database_url: str, round_no: int) -> tuple[dict[str, str], int]:
    engine = make_sync_engine(DatabaseSettings(url=database_url), pooled=False)
    with engine.connect() as conn:
        rows = conn.execute(
            select(EventRow.external_id, EventRow.venue).where(
                EventRow.external_id.like(f"R{round_no:02d}-%")
            )
        ).all()
    engine.dispose()
    return {r.external_id: r.venue for r in rows}, len(rows)


@pytest.mark.slow
def test_concurrent_overlapping_imports_are_serializable(database_url: str, tmp_path: Path) -> None:
    rng = random.Random(20271)
    problems: list[str] = []
    server_errors = 0
    with live_server(database_url, tmp_path, processes=2) as server:
        key = server.keys["planner"]
        header_only = (HEADER + "\n").encode()
        for round_no in range(ROUNDS):
            imports = _imports(rng, round_no)
            before = httpx.post(
                f"{server.base_url}/events/import/csv", content=header_only, headers={"X-API-Key": key}
            )
            assert before.status_code == 200, before.text
            responses = asyncio.run(_post_all(server.base_url, key, [i.csv() for i in imports]))
            server_errors += sum(r.status_code >= 500 for r in responses)
            bad = [r for r in responses if r.status_code != 200]
            if bad:
                problems.append(f"round {round_no}: {bad[0].status_code} {bad[0].text[:300]}")
                continue
            reports = [
                Report(**{k: r.json()[k] for k in ("inserted", "updated", "unchanged", "version")})
                for r in responses
            ]
            final, row_count = _final_rows(database_url, round_no)
            union = set().union(*(i.rows for i in imports))
            if row_count != len(union) or set(final) != union:
                problems.append(
                    f"round {round_no}: {row_count} rows for {len(union)} ids (lost or duplicated)"
                )
                continue
            found = serial_replay(imports, reports, before.json()["version"], final)
            if found:
                problems.append(f"round {round_no}: not serializable: {found}")
    assert server_errors == 0
    assert problems == [], f"{len(problems)} of {ROUNDS} rounds failed:\n" + "\n".join(problems)
