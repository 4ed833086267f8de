"""The dashboard: every page opens in headless Chromium on the sample's published scores without an error, an
empty chart or an empty table, and nothing is fetched from outside this machine; it reads the serving file
read-only and sees a newly published one. Takes a screenshot of every page: into a temporary directory, or into
docs/images/dashboard_<page>.png with `make dashboard-screenshots` (the sidebar shows the publication time, so
every run would change the committed pictures)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from orchestration.customer_reports import browser
from orchestration.dashboard.__main__ import streamlit_arguments
from orchestration.settings import REPO_ROOT

PAGES = ["Portfolio overview", "At-risk accounts", "Account drill-down", "Benchmarks", "Account hierarchies"]
# `make dashboard-screenshots` points this at docs/images.
SCREENSHOT_DIR_VARIABLE = "HEALTHSCORE_DASHBOARD_SCREENSHOTS"
SCREENSHOT_WIDTH = 1440
# A cold Streamlit start and the first queries on a busy two-core machine.
SERVER_START_SECONDS = 90
PAGE_SECONDS = 90
TABLE_SECONDS = 20
STABLE_SECONDS = 2
POLL_MILLISECONDS = 200
# Per table of the page: whether the grid's accessible mirror of its visible rows holds any text (an empty
# frame shows one row of blank cells there).
TABLES_FILLED = """[...document.querySelectorAll('[data-testid="stDataFrame"]')].map(table =>
    [...table.querySelectorAll('tbody [role="gridcell"]')].some(cell => cell.textContent.trim() !== ''))"""


def chromium_or_skip() -> str:
    try:
        return browser.find_chromium()
    except browser.ChromiumMissing as missing:
        pytest.skip(f"no Chromium on this machine, the dashboard is untested in a browser: {missing}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Dashboard:
    url: str
    log: Path


@pytest.fixture(scope="module")
def dashboard(sample_run, tmp_path_factory) -> Iterator[Dashboard]:
    """`python -m orchestration.dashboard` as `make dashboard` starts it, on the sample's serving file."""
    assert sample_run.run.returncode == 0, sample_run.run.stdout[-3000:] + sample_run.run.stderr[-3000:]
    chromium_or_skip()
    port = free_port()
    log = tmp_path_factory.mktemp("dashboard") / "server.log"
    env = {**os.environ, "HEALTHSCORE_SERVING": str(sample_run.serving), "HOME": str(log.parent)}
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "orchestration.dashboard", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as health:
                    if health.read() == b"ok":
                        break
            except OSError:
                pass
            assert server.poll() is None, f"the dashboard stopped: {log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"the dashboard did not start: {log.read_text()[-3000:]}"
            time.sleep(0.5)
        yield Dashboard(url, log)
    finally:
        server.terminate()
        server.wait(timeout=30)


def page_problems(page) -> list[str]:
    """What is wrong on the page shown: exceptions, messages (the pages show one only when data is missing),
    charts without a drawn mark, tables without a row."""
    problems = [f"exception: {text[:500]}" for text in page.locator('[data-testid="stException"]').all_inner_texts()]
    problems += [f"message: {text[:300]}" for text in page.locator('[data-testid="stAlert"]').all_inner_texts()]
    # Charts render as SVG (charts.SVG): every data mark of a chart must have drawn something.
    chart_marks = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].map(chart =>
            [...chart.querySelectorAll('svg g.role-mark')].map(marks => marks.childElementCount))"""
    )
    for number, marks in enumerate(chart_marks, start=1):
        if not marks or min(marks) == 0:
            problems.append(f"chart {number} draws nothing (data marks per layer: {marks})")
    tables_filled = page.evaluate(f"() => {TABLES_FILLED}")
    for number, filled in enumerate(tables_filled, start=1):
        if not filled:
            problems.append(f"table {number} has no row")
    if not chart_marks and not tables_filled:
        problems.append("neither a chart nor a table")
    return problems


def open_page(page, title: str) -> None:
    """Follows the page's link in the sidebar, as a user does, and waits until it has run and drawn."""
    # Following the link of the page shown would run it again while it is being judged.
    if title not in page.locator("h1").all_inner_texts():
        page.get_by_role("link", name=title, exact=True).click()
    page.wait_for_function(
        """title => [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === title)
            && !document.querySelector('[data-testid="stStatusWidget"]')
            && [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].every(c => c.querySelector('svg'))""",
        arg=title,
        timeout=PAGE_SECONDS * 1000,
    )
    # The grid fills its cells after drawing them blank, and a page may run twice as it opens: judged once every
    # table has shown rows for STABLE_SECONDS on end. A table still blank by then (an empty one looks the same)
    # is reported by page_problems.
    page.evaluate("() => { window.dashboardTestSettled = 0; }")
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(
            f"""() => {{
                const settled = !document.querySelector('[data-testid="stStatusWidget"]')
                    && ({TABLES_FILLED}).every(Boolean);
                window.dashboardTestSettled = settled ? window.dashboardTestSettled + 1 : 0;
                return window.dashboardTestSettled * {POLL_MILLISECONDS} >= {STABLE_SECONDS * 1000};
            }}""",
            polling=POLL_MILLISECONDS,
            timeout=TABLE_SECONDS * 1000,
        )
    # Vega draws into the SVG after creating it.
    page.wait_for_timeout(1500)


def screenshot(page, title: str, directory: Path) -> Path:
    """The whole page (Streamlit scrolls inside its main area, so the window is made as tall as that)."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": SCREENSHOT_WIDTH, "height": max(height, 600)})
    page.wait_for_timeout(1000)
    png = directory / f"dashboard_{title.lower().replace(' ', '_').replace('-', '_')}.png"
    page.screenshot(path=str(png))
    page.set_viewport_size({"width": SCREENSHOT_WIDTH, "height": 900})
    return png


def test_every_page_shows_charts_and_tables_without_errors(dashboard, tmp_path):
    screenshots = Path(os.environ.get(SCREENSHOT_DIR_VARIABLE) or tmp_path)
    screenshots.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[str]] = {}
    browser_errors: list[str] = []
    outside_requests: list[str] = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=browser.find_chromium(),
            args=["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [],
        )
        try:
            page = chromium.new_page(viewport={"width": SCREENSHOT_WIDTH, "height": 900})
            page.on("pageerror", lambda error: browser_errors.append(f"page error: {error}"))
            page.on(
                "console",
                lambda message: (
                    browser_errors.append(f"console {message.type}: {message.text}")
                    if message.type == "error"
                    else None
                ),
            )
            page.on(
                "request",
                lambda request: (
                    outside_requests.append(request.url)
                    if not request.url.startswith((dashboard.url, "data:", "blob:"))
                    else None
                ),
            )
            page.goto(dashboard.url)
            # The first page is the default one: its title shows once it has run.
            page.wait_for_selector(f"h1:has-text('{PAGES[0]}')", timeout=PAGE_SECONDS * 1000)
            for title in PAGES:
                open_page(page, title)
                problems[title] = page_problems(page)
                screenshot(page, title, screenshots)
        finally:
            chromium.close()

    assert {title: found for title, found in problems.items() if found} == {}
    assert browser_errors == []
    assert outside_requests == [], "the dashboard must work without a network"
    server_log = dashboard.log.read_text()
    assert "Traceback" not in server_log and "Error" not in server_log, server_log[-3000:]


def test_app_reads_the_serving_file_read_only_and_sees_a_new_publication(sample_run, tmp_path, monkeypatch):
    """Publishing renames a new file over the old one: the next query reads the new file."""
    from orchestration.dashboard import data

    serving = tmp_path / "serving" / "healthscore.duckdb"
    serving.parent.mkdir()
    shutil.copy(sample_run.serving, serving)
    monkeypatch.setenv("HEALTHSCORE_SERVING", str(serving))
    publication = "select run_id from marts.publication"
    first = data.query(publication).loc[0, "run_id"]

    republished = serving.with_name("next.duckdb")
    shutil.copy(serving, republished)
    with duckdb.connect(str(republished)) as writer:
        writer.execute("update marts.publication set run_id = 'the next run'")
    os.replace(republished, serving)

    assert first != "the next run"
    assert data.query(publication).loc[0, "run_id"] == "the next run"
    with pytest.raises(duckdb.InvalidInputException, match="read-only"):
        data.query("delete from marts.publication")


def test_served_headless_on_this_machine_without_usage_statistics():
    arguments = streamlit_arguments(8600, "127.0.0.1")
    for setting in (
        "--server.port=8600",
        "--server.address=127.0.0.1",
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
    ):
        assert setting in arguments
