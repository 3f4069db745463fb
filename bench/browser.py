"""Headless Debian Chromium through Selenium, for the dashboard's browser tests and its benchmark."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)


def find_chromium() -> tuple[str | None, str | None]:
    """(browser, driver) paths of Debian's chromium and chromium-driver, None where missing."""

    def which(name: str) -> str | None:
        fallback = Path("/usr/bin") / name
        return shutil.which(name) or (str(fallback) if fallback.exists() else None)

    return which("chromium"), which("chromedriver")


@contextmanager
def headless_chromium(chromium: str, driver_path: str) -> Iterator[Any]:
    """A fresh browser with its own throw-away profile, quit and removed afterwards."""
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never fetch a browser or driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
