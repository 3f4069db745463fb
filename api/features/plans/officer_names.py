"""Officer names and units as a stored plan has them: from the plan's input snapshot.

A plan's named outputs (assignments.csv, rosters, event detail) must read as they were made: the
snapshot (`problem_snapshots`, the exact PlanningProblem the job solved, immutable and keyed by the
plan's input hash) holds every officer's name and unit as they were then, for every plan ever
stored, so renaming an officer later changes no stored plan. Only those two fields are decoded
(msgspec skips the rest of the snapshot), once per plan, off the event loop."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import NamedTuple

import anyio.to_thread
import msgspec
from sqlalchemy import select

from api.db.engine import Reader
from api.db.models import PlanRecord, ProblemSnapshot
from api.jobs import decompress

CACHED_PLANS = 4


class OfficerAsPlanned(NamedTuple):
    name: str
    unit: str


class _Officer(msgspec.Struct):
    service_number: str
    unit: str = ""
    name: str = ""


class _Snapshot(msgspec.Struct):
    officers: list[_Officer]


_decoder = msgspec.msgpack.Decoder(_Snapshot)


def _decode(blob: bytes) -> dict[str, OfficerAsPlanned]:
    return {
        o.service_number: OfficerAsPlanned(o.name, o.unit) for o in _decoder.decode(decompress(blob)).officers
    }


class OfficerNames:
    """The last few plans' officers (plans are immutable, so entries never go stale)."""

    def __init__(self, size: int = CACHED_PLANS) -> None:
        self.size = size
        self._plans: OrderedDict[str, dict[str, OfficerAsPlanned]] = OrderedDict()
        self._lock = asyncio.Lock()  # one decode per plan however many ask at once

    async def of(self, conn: Reader, plan_id: str) -> dict[str, OfficerAsPlanned]:
        found = self._plans.get(plan_id)
        if found is not None:
            self._plans.move_to_end(plan_id)
            return found
        async with self._lock:
            found = self._plans.get(plan_id)
            if found is None:
                blob = (
                    await conn.execute(
                        select(ProblemSnapshot.blob)
                        .join(PlanRecord, PlanRecord.input_hash == ProblemSnapshot.hash)
                        .where(PlanRecord.job_id == plan_id)
                    )
                ).scalar_one()
                found = await anyio.to_thread.run_sync(_decode, blob)
                self._plans[plan_id] = found
                while len(self._plans) > self.size:
                    self._plans.popitem(last=False)
        return found


NAMES = OfficerNames()
