"""Policy rules: checks, and versioned storage (every update is a new immutable version)."""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.db.engine import Reader, utcnow
from api.db.models import PolicyVersion
from api.db.repositories import bump_dataset, dumps, lock_dataset, policy_version
from api.features.policy.schemas import PolicyOut, PolicyUpdate, PolicyVersionOut
from api.problems import ProblemError
from planner.domain import Floors, Policy
from planner.rules import REST


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


async def get_version(conn: Reader, version: int | None) -> PolicyOut:
    """A stored version, or the latest when `version` is None."""
    found = await policy_version(conn, version)
    if found is None:
        raise ProblemError(404, f"No policy version {version}.")
    number, policy, row = found
    return PolicyOut(version=number, created_at=row.created_at, note=row.note, policy=policy)


async def list_versions(conn: Reader) -> list[PolicyVersionOut]:
    rows = await conn.execute(
        select(PolicyVersion.version, PolicyVersion.created_at, PolicyVersion.note).order_by(
            PolicyVersion.version.desc()
        )
    )
    return [PolicyVersionOut(version=r.version, created_at=r.created_at, note=r.note) for r in rows]


async def store(conn: AsyncConnection, data: PolicyUpdate, key_id: str) -> PolicyOut:
    problems = check_policy(data.policy)
    if problems:
        raise ProblemError(422, "The policy is not valid.", errors=problems, kind="invalid-policy")
    async with conn.begin():
        await lock_dataset(conn, "policy")
        latest = (await conn.execute(select(func.max(PolicyVersion.version)))).scalar_one() or 0
        await conn.execute(
            insert(PolicyVersion).values(
                version=latest + 1,
                body=dumps(data.policy),
                note=data.note[:500],
                created_at=utcnow(),
                created_by=key_id,
            )
        )
        await bump_dataset(conn, "policy")
    return await get_version(conn, latest + 1)
