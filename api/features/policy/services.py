"""Policy rules: checks, and versioned storage (every update is a new immutable version)."""

from __future__ import annotations

import math

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.db.engine import Reader, utcnow
from api.db.models import PolicyVersion
from api.db.repositories import bump_dataset, dumps, lock_dataset, policy_version
from api.features.common import utc
from api.features.policy.schemas import PolicyOut, PolicyUpdate, PolicyVersionOut
from api.problems import ProblemError
from planner.domain import Floors, Policy
from planner.rules import REST

MAX_SLOT_COUNT = 100  # officers in one slot of a role (a PSU has 16 constables)
MAX_CYCLE_DAYS = 366


def _bounded(problems: list[str], where: str, value: float, low: float, high: float) -> None:
    """`value` must be a finite number from `low` to `high` (JSON's 1e999 decodes as infinity)."""
    if not (math.isfinite(value) and low <= value <= high):
        problems.append(f"{where} must be from {low:g} to {high:g}")


def check_policy(policy: Policy) -> list[str]:
    """Every bound a plan relies on: a value outside these makes plans meaningless or the solver's
    integer models overflow, so it is refused here, naming the field, before any plan uses it."""
    problems: list[str] = []
    floors: list[tuple[str, Floors]] = [("floors", policy.floors)]
    floors += [(f"borough_floors.{k}", v) for k, v in policy.borough_floors.items()]
    for where, f in floors:
        for role in ("investigation", "response", "neighbourhood", "central"):
            _bounded(problems, f"{where}.{role}", f.share(role), 0.0, 1.0)  # a share
    for name, pattern in policy.shift_patterns.items():
        bad = {c for c in pattern.cycle if c != REST and c not in policy.tour_times}
        if not pattern.cycle or bad:
            problems.append(f"shift_patterns.{name} uses unknown tour code(s) {sorted(bad)}")
        if len(pattern.cycle) > MAX_CYCLE_DAYS:
            problems.append(f"shift_patterns.{name} cycle may be at most {MAX_CYCLE_DAYS} days")
    for code, tour in policy.tour_times.items():
        _bounded(problems, f"tour_times.{code}.start_minute", tour.start_minute, 0, 24 * 60 - 1)
        _bounded(problems, f"tour_times.{code}.hours", tour.hours, 0.5, 24)
    for code, spec in policy.roles.items():
        if not spec.slots or any(not 1 <= s.count <= MAX_SLOT_COUNT for s in spec.slots):
            problems.append(f"roles.{code} needs slots with counts from 1 to {MAX_SLOT_COUNT}")
    wt = policy.working_time
    _bounded(problems, "working_time.min_rest_hours", wt.min_rest_hours, 0, 24)
    _bounded(problems, "working_time.max_tour_hours", wt.max_tour_hours, 1, 24)
    _bounded(problems, "working_time.max_consecutive_work_days", wt.max_consecutive_work_days, 1, 28)
    _bounded(problems, "working_time.max_average_weekly_hours", wt.max_average_weekly_hours, 1, 168)
    _bounded(problems, "working_time.reference_weeks", wt.reference_weeks, 1, 52)
    _bounded(problems, "working_time.briefing_minutes", wt.briefing_minutes, 0, 240)
    c = policy.costs
    _bounded(problems, "costs.short_notice_days", c.short_notice_days, 0, 366)
    _bounded(problems, "costs.short_notice_min_hours", c.short_notice_min_hours, 0, 24)
    for name in (
        "short_notice_multiplier",
        "long_notice_multiplier",
        "public_holiday_multiplier",
        "overtime_multiplier",
    ):
        _bounded(problems, f"costs.{name}", getattr(c, name), 0, 100)
    w = policy.weights
    for priority, weight in w.uncovered.items():
        _bounded(problems, f"weights.uncovered.{priority}", weight, 0, 1e9)
    _bounded(problems, "weights.travel_per_officer_minute", w.travel_per_officer_minute, 0, 1e6)
    _bounded(problems, "weights.fairness_per_point", w.fairness_per_point, 0, 1e6)
    _bounded(problems, "weights.fairness_threshold", w.fairness_threshold, 0, 1)
    _bounded(problems, "weights.fairness_per_point_above", w.fairness_per_point_above, 0, 1e6)
    r = policy.replanning
    _bounded(problems, "replanning.frozen_hours", r.frozen_hours, 0, 24 * 366)
    _bounded(problems, "replanning.due_notice_hours", r.due_notice_hours, 0, 24 * 366)
    _bounded(problems, "replanning.change_weight", r.change_weight, 0, 1e6)
    return problems


async def get_version(conn: Reader, version: int | None) -> PolicyOut:
    """A stored version, or the latest when `version` is None."""
    found = await policy_version(conn, version)
    if found is None:
        raise ProblemError(404, f"No policy version {version}.")
    number, policy, row = found
    return PolicyOut(version=number, created_at=utc(row.created_at), note=row.note, policy=policy)


async def list_versions(conn: Reader) -> list[PolicyVersionOut]:
    rows = await conn.execute(
        select(PolicyVersion.version, PolicyVersion.created_at, PolicyVersion.note).order_by(
            PolicyVersion.version.desc()
        )
    )
    return [PolicyVersionOut(version=r.version, created_at=utc(r.created_at), note=r.note) for r in rows]


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
