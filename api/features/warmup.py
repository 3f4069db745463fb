"""Warm the bounded read paths before a process takes traffic.

The first request of each kind pays one-off costs (ORM mapper set-up, SQL compilation, result
processors, the read pool's connections). A burst of first requests right after a start or deploy
would queue behind them all at once, so the lifespan runs each list and single-record read once
(results thrown away) as many times at once as the read pool has connections, before the server
accepts connections, so that they spread over the pool (a PostgreSQL backend loads its catalog caches
on its first use of each table, and prepares each statement on first use)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from api.db.engine import Reader
from api.features.events import services as events
from api.features.officers import services as officers
from api.features.plans import services as plans
from api.features.policy import services as policy
from api.problems import ProblemError

log = logging.getLogger("api")
WARM_UP_SECONDS = 10.0


async def warm_read_paths(reader: Reader) -> None:
    """Never stops the start, nor holds it longer than WARM_UP_SECONDS: a database that is down or not
    migrated yet shows in /health instead."""
    started = time.perf_counter()
    try:
        parallel = getattr(reader, "size", 1)  # statements the reader runs at once
        warm_all = asyncio.gather(*(_read_each_kind_once(reader) for _ in range(parallel)))
        await asyncio.wait_for(warm_all, WARM_UP_SECONDS)  # an unreachable host must not hold the start
    except Exception as error:  # noqa: BLE001
        log.warning("read paths not warmed: %s", error)
        return
    log.info("read paths warmed in %.0f ms", 1000 * (time.perf_counter() - started))


async def _read_each_kind_once(reader: Reader) -> None:
    no_filter = {"start": None, "end": None, "borough": None, "kind": None, "priority": None, "status": None}
    await events.list_events(reader, **no_filter, limit=1, offset=0)
    first = await officers.list_officers(
        reader, unit=None, rank=None, duty_role=None, skill=None, limit=1, offset=0, after=None
    )
    await officers.list_officers(
        reader, unit=None, rank=None, duty_role=None, skill=None, limit=1, offset=0, after=""
    )
    await plans.list_jobs(reader, None, limit=1, offset=0)
    service_number = first.items[0].service_number if first.items else ""
    with contextlib.suppress(ProblemError):  # nothing stored yet: the statement still ran
        await events.load(reader, "")
    with contextlib.suppress(ProblemError):
        await officers.get_officer(reader, service_number)
    with contextlib.suppress(ProblemError):
        await policy.get_version(reader, None)
