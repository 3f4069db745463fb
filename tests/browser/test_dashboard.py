"""The dashboard in a real headless Chromium (Debian's chromium + chromedriver, driven by Selenium),
against the real service started with uvicorn on a random port and a real (small) stored plan.

Skips only if Chromium or its driver is genuinely not installed (.ci/run installs them)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.auth import insert_key_statement
from api.db.engine import make_sync_engine
from api.db.migrate import migrate
from api.jobs import Worker
from api.settings import DatabaseSettings, Settings, WorkerSettings
from bench.browser import find_chromium, headless_chromium
from tests.api import data
from tests.api.test_analysis import BIG

pytestmark = pytest.mark.browser

CHROMIUM, DRIVER = find_chromium()
if CHROMIUM is None or DRIVER is None:
    pytest.skip("Debian chromium and chromium-driver are not installed", allow_module_level=True)

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never fetch a browser or driver
from selenium import webdriver  # noqa: E402  (only once we know a browser exists)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(settings: Settings) -> dict[str, str]:
    """A stored plan (2 boroughs, 3 days, one event left short), a frontier, and keys per role."""
    from litestar.testing import TestClient

    migrate(settings.db)
    engine = make_sync_engine(settings.db, pooled=False)
    keys = {}
    with engine.begin() as conn:
        for role in ("planner", "analyst"):
            full, _id, stmt = insert_key_statement(role, "browser")
            conn.execute(stmt)
            keys[role] = full
    engine.dispose()
    with TestClient(create_app(settings, migrate=False)) as client:
        h = {"X-API-Key": keys["planner"]}
        assert client.post("/officers/import/csv", content=data.officers_csv(), headers=h).status_code == 200
        assert client.post("/events/import/csv", content=data.events_csv(), headers=h).status_code == 200
        assert client.post("/events", json=BIG, headers=h).status_code == 201
        plan = client.post("/plans", json={"start": "2027-03-01", "end": "2027-03-03"}, headers=h).json()
        frontier = client.post(
            "/analysis/frontiers", json={"start": "2027-03-01", "end": "2027-03-03"}, headers=h
        )
        assert frontier.status_code == 202
    worker = Worker(settings)
    try:
        assert [worker.run_once(), worker.run_once()] == ["succeeded", "succeeded"]
    finally:
        worker.engine.dispose()
    keys["plan"] = plan["id"]
    # Publish it, then answer a short-notice event with a re-plan: version 2.
    with TestClient(create_app(settings, migrate=False)) as client:
        h = {"X-API-Key": keys["planner"]}
        assert client.post(f"/plans/{plan['id']}/publish", json={"reason": "as briefed"}, headers=h).status_code == 201
        short_notice = {
            "external_id": "SN-B1",
            "name": "Short-notice vigil",
            "kind": "demonstration",
            "borough": data.WESTMINSTER,
            "start": "2027-03-02T13:00:00",
            "end": "2027-03-02T15:00:00",
            "priority": "high",
            "demand": [{"role": "constable", "count": 2}],
            "notified": "2027-03-01",
        }
        assert client.post("/events", json=short_notice, headers=h).status_code == 201
        r = client.post(
            f"/plans/{plan['id']}/versions/1/replan",
            json={"reason": "vigil notified", "as_of": "2027-03-01T06:00:00+00:00"},
            headers=h,
        )
        assert r.status_code == 201, r.text
    return keys


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, dict[str, str]]]:
    tmp = Path(tempfile.mkdtemp(prefix="dashboard-"))
    url = f"sqlite:///{tmp}/planner.sqlite3"
    settings = Settings(
        db=DatabaseSettings(url=url),
        worker=WorkerSettings(mode="off", poll_seconds=0.05, solver_workers=1),
    )
    keys = _seed(settings)
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "PLANNER_WORKER": "off"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.app:app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                up = httpx.get(f"{base}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                up = False  # not listening yet: the deadline below decides
            if up:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"service did not start: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}"
                )
            time.sleep(0.2)
        yield base, keys
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    assert CHROMIUM is not None and DRIVER is not None
    with headless_chromium(CHROMIUM, DRIVER) as driver:
        yield driver


def _connect(driver: webdriver.Chrome, base: str, key: str) -> WebDriverWait:  # type: ignore[type-arg]
    driver.get(f"{base}/dashboard")
    wait = WebDriverWait(driver, 30)
    driver.find_element(By.ID, "key").send_keys(key)
    driver.find_element(By.ID, "connect").click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded-ms"))
    return wait


def test_analyst_sees_charts_drill_down_and_no_officer_names(
    server: tuple[str, dict[str, str]], browser: webdriver.Chrome
) -> None:
    base, keys = server
    wait = _connect(browser, base, keys["analyst"])
    body = browser.find_element(By.TAG_NAME, "body")
    assert body.get_attribute("data-plan") == keys["plan"]
    # the charts are drawn as SVG with data in them
    assert len(browser.find_elements(By.CSS_SELECTOR, "#year-chart svg rect.demand-bar")) == 3
    assert browser.find_elements(By.CSS_SELECTOR, "#year-chart svg rect.short-bar")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#heat-abstraction svg rect.heat-cell")) == 32
    assert len(browser.find_elements(By.CSS_SELECTOR, "#heat-retained svg rect.heat-cell")) == 32
    assert browser.find_elements(By.CSS_SELECTOR, "#delay-chart svg polyline.delay-plan")
    wait.until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#frontier-chart svg circle.frontier-point")) == 6
    )
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#rules-table table"))
    # comparison with a second plan (here: the plan with itself, so every delta is zero)
    Select(browser.find_element(By.ID, "plan-b-select")).select_by_value(keys["plan"])
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#compare-table table"))
    # drill down into the short event: explanation and assignments, without names
    item = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#short-events li[data-event='BIG-1']")))
    item.click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#drill .explain"))
    assert "Level 2 serial" in browser.find_element(By.CSS_SELECTOR, "#drill .explain").text
    # the measured counts per source, folded under the sentence
    assert browser.find_elements(By.CSS_SELECTOR, "#drill details table.sources tbody tr")
    browser.find_element(By.ID, "event-id").send_keys("EV-0-A")
    browser.find_element(By.CSS_SELECTOR, "#event-form button").click()
    wait.until(lambda d: "Rally 0" in d.find_element(By.ID, "drill").text)
    rows = browser.find_elements(By.CSS_SELECTOR, "#drill-assignments tbody tr")
    assert rows
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "names withheld" in page
    assert not re.search(r"Officer \d+|T\d{5}", page)  # no names ("Officer 12"), no service numbers
    assert "Service no." not in page


def test_planner_sees_officer_names_in_the_drill_down(
    server: tuple[str, dict[str, str]], browser: webdriver.Chrome
) -> None:
    base, keys = server
    wait = _connect(browser, base, keys["planner"])
    browser.find_element(By.ID, "event-id").send_keys("EV-0-A")
    browser.find_element(By.CSS_SELECTOR, "#event-form button").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#drill-assignments tbody tr"))
    assert re.search(r"Officer \d+", browser.find_element(By.ID, "drill-assignments").text)


def test_planner_sees_versions_their_diff_and_the_notification_list(
    server: tuple[str, dict[str, str]], browser: webdriver.Chrome
) -> None:
    base, keys = server
    wait = _connect(browser, base, keys["planner"])
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#versions-table table.versions tbody tr")) == 2)
    rows = browser.find_elements(By.CSS_SELECTOR, "#versions-table table.versions tbody tr")
    assert "vigil notified" in rows[1].text and "event SN-B1 added" in rows[1].text
    browser.find_element(By.CSS_SELECTOR, "#versions-table a[data-version='2']").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#version-detail table.notifications tbody tr"))
    notes = browser.find_elements(By.CSS_SELECTOR, "#version-detail table.notifications tbody tr")
    assert len(notes) == 2 and all("SN-B1" in n.text for n in notes)
    assert re.search(r"Officer \d+", notes[0].text)  # planners see who to tell
    cover = browser.find_element(By.CSS_SELECTOR, "#version-detail table.version-coverage tbody tr").text
    assert "SN-B1" in cover


def test_analyst_sees_version_summaries_but_no_named_changes(
    server: tuple[str, dict[str, str]], browser: webdriver.Chrome
) -> None:
    base, keys = server
    wait = _connect(browser, base, keys["analyst"])
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#versions-table table.versions tbody tr")) == 2)
    browser.find_element(By.CSS_SELECTOR, "#versions-table a[data-version='2']").click()
    wait.until(lambda d: "Named changes are for planners" in d.find_element(By.ID, "version-detail").text)
    assert not re.search(r"Officer \d+|T\d{5}", browser.find_element(By.ID, "versions").text)
