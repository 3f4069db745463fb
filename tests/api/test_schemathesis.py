"""schemathesis over every operation of a real `planner serve`, as each role, with every check
(positive and negative data, response conformance, ignored auth, ...): no failure.

The database is seeded with the small London instance and one finished plan, and schemathesis
draws path ids from them part of the time (its dictionaries), so that result pages, exports and
analyses answer with real bodies that are checked against their schemas; the rest of the time it
makes ids up (404s). Settings that allow 422 where JSON Schema cannot state a rule:
tests/api/schemathesis.toml.

SCHEMATHESIS_EXAMPLES (default 100) sets the examples per operation; the run prints the cases
per role and the seconds it took."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from api.auth import ROLES
from api.jobs import Worker
from api.settings import DatabaseSettings, Settings, WorkerSettings
from tests.api import data
from tests.api.live import LiveServer, live_server

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "100"))
SETTINGS = Path(__file__).with_name("schemathesis.toml")
SEED = 20271
CASES = re.compile(r"(\d+) generated(?:, (\d+) found (\d+) unique failures)?")


def seed(server: LiveServer) -> dict[str, list[str]]:
    """Officers, events and one finished plan; the ids schemathesis may draw."""
    h = {"X-API-Key": server.keys["planner"]}
    with httpx.Client(base_url=server.base_url, headers=h, timeout=60) as c:
        assert c.post("/officers/import/csv", content=data.officers_csv()).status_code == 200
        assert c.post("/events/import/csv", content=data.events_csv()).status_code == 200
        job = c.post("/plans", json={"start": str(data.DAY), "end": "2027-03-03"}).json()["id"]
    settings = Settings(db=DatabaseSettings(url=server.database_url))
    worker = Worker(replace(settings, worker=WorkerSettings(mode="off", solver_workers=1)))
    try:
        assert worker.run_once() == "succeeded"
    finally:
        worker.engine.dispose()
    return {
        "plans": [job],
        "officers": [r["service_number"] for r in data.officers_rows()[:20]],
        "events": [r["external_id"] for r in data.events_rows()],
    }


def settings_file(tmp_path: Path, ids: dict[str, list[str]]) -> Path:
    lines = [f"[dictionaries.{name}]\nvalues = {json.dumps(values)}\n" for name, values in ids.items()]
    lines.append("[parameters]")
    for parameter, dictionary in (
        ("path.job_id", "plans"),
        ("path.plan_id", "plans"),
        ("path.other_id", "plans"),
        ("path.service_number", "officers"),
        ("path.external_id", "events"),
        ("path.event_path", "events"),
    ):
        lines.append(f'"{parameter}" = {{ dictionary = "{dictionary}", probability = 0.6 }}')
    path = tmp_path / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n\n" + SETTINGS.read_text())
    return path


def run_schemathesis(server: LiveServer, role: str, config: Path, tmp_path: Path) -> tuple[int, str]:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--no-color",
        "--config-file",
        str(config),
        "run",
        f"{server.base_url}/schema/openapi.json",
        "--header",
        f"X-API-Key: {server.keys[role]}",
        "--max-examples",
        str(EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing",
        "--checks",
        "all",
        "--seed",
        str(SEED),
        "--workers",
        "2",
        "--report-dir",
        str(tmp_path / f"report-{role}"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=tmp_path)
    return done.returncode, done.stdout + done.stderr


def _failures(output: str) -> str:
    """The report's failures and errors sections (each failure with its curl to reproduce) and its
    summary."""
    sections = []
    for title in ("FAILURES", "ERRORS"):
        start = output.find(f" {title} ")
        if start >= 0:
            ends = [
                i for i in (output.find(" WARNINGS ", start), output.find(" SUMMARY ", start)) if i > start
            ]
            sections.append(output[start : min(ends) if ends else start + 6000][:6000])
    return "\n".join(sections) + output[output.find(" SUMMARY ") :]


@pytest.mark.slow
def test_schemathesis_finds_no_failure_as_any_role(database_url: str, tmp_path: Path) -> None:
    outcomes: dict[str, str] = {}
    failed: dict[str, str] = {}
    with live_server(database_url, tmp_path) as server:
        config = settings_file(tmp_path, seed(server))
        for role in ROLES:
            started = time.monotonic()
            code, output = run_schemathesis(server, role, config, tmp_path)
            found = CASES.findall(output)
            cases = found[-1][0] if found else "?"
            outcomes[role] = f"{cases} cases in {time.monotonic() - started:.0f} s, exit {code}"
            if code != 0:
                failed[role] = _failures(output)
    print(f"\nschemathesis ({EXAMPLES} examples per operation):", json.dumps(outcomes, indent=1))
    assert not failed, "\n\n".join(f"--- {role}\n{out}" for role, out in failed.items())
