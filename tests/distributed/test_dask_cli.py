"""`planner plan --dask ADDR` plans through the cluster at ADDR, and says so plainly (exit 2,
the address in the message) when no scheduler answers there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import msgspec

from bench.cluster import Cluster
from planner.domain import PlanningProblem
from planner.plan import Plan
from planner.validate import validate
from tests.distributed.conftest import free_port
from tests.solver.test_executor import rows


def write_inputs(problem: PlanningProblem, folder: Path) -> None:
    (folder / "events.json").write_bytes(msgspec.json.encode(problem.events))
    (folder / "officers.json").write_bytes(msgspec.json.encode(problem.officers))
    (folder / "policy.json").write_bytes(msgspec.json.encode(problem.policy))


def plan_command(folder: Path, address: str, problem: PlanningProblem) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PLANNER_DASK_SCHEDULER"}
    env["PLANNER_DASK_TIMEOUT"] = "2"
    return subprocess.run(
        [
            sys.executable, "-m", "api.cli", "plan", "--data", str(folder), "--dask", address,
            "--start", str(problem.start), "--end", str(problem.end),
            "--no-progress", "--out", str(folder / "plan.json"),
        ],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_plan_command_through_dask_writes_the_local_plan(
    cluster: Cluster,
    instance: PlanningProblem,
    local_plan: Plan,
    tmp_path: Path,
) -> None:
    write_inputs(instance, tmp_path)
    done = plan_command(tmp_path, cluster.address, instance)
    assert done.returncode == 0, done.stderr
    plan = msgspec.json.decode((tmp_path / "plan.json").read_bytes(), type=Plan)
    assert rows(plan) == rows(local_plan)
    assert validate(instance, plan) == []


def test_plan_command_names_an_unreachable_scheduler(instance: PlanningProblem, tmp_path: Path) -> None:
    write_inputs(instance, tmp_path)
    address = f"tcp://127.0.0.1:{free_port()}"
    done = plan_command(tmp_path, address, instance)
    assert done.returncode == 2
    assert address in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "plan.json").exists()
