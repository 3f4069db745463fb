"""Policy: floors, working-time rules, cost tiers and weights. Versioned: every update adds a version,
and a plan records the version it used. Thin: the rules live in services."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, put
from litestar.di import NamedDependency
from litestar.params import Body, PathParameter
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import allow, principal
from api.db.engine import Reader
from api.features.common import problem_responses
from api.features.policy import services
from api.features.policy.schemas import PolicyOut, PolicyUpdate, PolicyVersionOut

READ = allow("planner", "scheduler", "analyst")


class PolicyController(Controller):
    path = "/policy"
    tags = ["policy"]
    responses = problem_responses(400, 401, 403)

    @get("/", operation_id="getPolicy", summary="The current policy", guards=[READ])
    async def current(self, reader: NamedDependency[Reader]) -> PolicyOut:
        """The latest policy version."""
        return await services.get_version(reader, None)

    @get("/versions", operation_id="listPolicyVersions", summary="Every policy version", guards=[READ])
    async def versions(self, reader: NamedDependency[Reader]) -> list[PolicyVersionOut]:
        """Policy versions, newest first (without bodies)."""
        return await services.list_versions(reader)

    @get(
        "/versions/{version:int}",
        operation_id="getPolicyVersion",
        summary="One policy version",
        guards=[READ],
        responses=problem_responses(404),
    )
    async def one(
        self,
        reader: NamedDependency[Reader],
        version: Annotated[int, PathParameter(ge=1, le=2**31 - 1, description="A policy version number")],
    ) -> PolicyOut:
        """A past (or the current) policy version."""
        return await services.get_version(reader, version)

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
        return await services.store(conn, data, principal(request).key_id)
