"""Policy: floors, working-time rules, cost tiers and weights. Versioned: every update adds a version,
and a plan records the version it used."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, get, put
from litestar.di import NamedDependency
from litestar.params import Body, PathParameter
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import allow, principal
from api.db.engine import utcnow
from api.db.models import PolicyVersion
from api.db.repositories import bump_dataset, dumps, policy_version
from api.features.common import Schema, problem_responses
from api.problems import ProblemError
from planner.domain import Floors, Policy
from planner.rules import REST


class PolicyUpdate(Schema):
    policy: Policy
    note: str = ""


class PolicyOut(Schema):
    version: int
    created_at: dt.datetime
    note: str
    policy: Policy


class PolicyVersionOut(Schema):
    version: int
    created_at: dt.datetime
    note: str


def check_policy(policy: Policy) -> list[str]:
    problems = []
    floors: list[tuple[str, Floors]] = [("floors", policy.floors)]
    floors += [(f"borough_floors.{k}", v) for k, v in policy.borough_floors.items()]
    for where, f in floors:
        for role in ("investigation", "response", "neighbourhood", "central"):
            if not 0.0 <= f.share(role) <= 1.0:
                problems.append(f"{where}.{role} must be a share between 0 and 1")
    for name, pattern in policy.shift_patterns.items():
        bad = {c for c in pattern.cycle if c != REST and c not in policy.tour_times}
        if not pattern.cycle or bad:
            problems.append(f"shift_patterns.{name} uses unknown tour code(s) {sorted(bad)}")
    for code, spec in policy.roles.items():
        if not spec.slots or any(s.count < 1 for s in spec.slots):
            problems.append(f"roles.{code} needs slots with count >= 1")
    wt = policy.working_time
    if wt.min_rest_hours < 0 or wt.max_tour_hours <= 0 or wt.max_consecutive_work_days < 1:
        problems.append("working_time values must be positive")
    return problems


READ = allow("planner", "scheduler", "analyst")


class PolicyController(Controller):
    path = "/policy"
    tags = ["policy"]
    responses = problem_responses(400, 401, 403)

    @get("/", operation_id="getPolicy", summary="The current policy", guards=[READ])
    async def current(self, conn: NamedDependency[AsyncConnection]) -> PolicyOut:
        """The latest policy version."""
        return await self._version(conn, None)

    @get("/versions", operation_id="listPolicyVersions", summary="Every policy version", guards=[READ])
    async def versions(self, conn: NamedDependency[AsyncConnection]) -> list[PolicyVersionOut]:
        """Policy versions, newest first (without bodies)."""
        rows = await conn.execute(
            select(PolicyVersion.version, PolicyVersion.created_at, PolicyVersion.note).order_by(
                PolicyVersion.version.desc()
            )
        )
        return [PolicyVersionOut(version=r.version, created_at=r.created_at, note=r.note) for r in rows]

    @get(
        "/versions/{version:int}",
        operation_id="getPolicyVersion",
        summary="One policy version",
        guards=[READ],
        responses=problem_responses(404),
    )
    async def one(
        self, conn: NamedDependency[AsyncConnection], version: Annotated[int, PathParameter(ge=1)]
    ) -> PolicyOut:
        """A past (or the current) policy version."""
        return await self._version(conn, version)

    @put(
        "/",
        operation_id="updatePolicy",
        summary="Store a new policy version",
        guards=[allow("planner")],
        status_code=201,
        responses=problem_responses(422),
    )
    async def update(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[AsyncConnection],
        data: Annotated[PolicyUpdate, Body(title="New policy")],
    ) -> PolicyOut:
        """Stores the whole policy as a new version; earlier versions (and plans made with them) stay."""
        problems = check_policy(data.policy)
        if problems:
            raise ProblemError(422, "The policy is not valid.", errors=problems, kind="invalid-policy")
        async with conn.begin():
            latest = (await conn.execute(select(func.max(PolicyVersion.version)))).scalar_one() or 0
            await conn.execute(
                insert(PolicyVersion).values(
                    version=latest + 1,
                    body=dumps(data.policy),
                    note=data.note[:500],
                    created_at=utcnow(),
                    created_by=principal(request).key_id,
                )
            )
            await bump_dataset(conn, "policy")
        return await self._version(conn, latest + 1)

    async def _version(self, conn: NamedDependency[AsyncConnection], version: int | None) -> PolicyOut:
        found = await policy_version(conn, version)
        if found is None:
            raise ProblemError(404, f"No policy version {version}.")
        number, policy, row = found
        return PolicyOut(version=number, created_at=row.created_at, note=row.note, policy=policy)
