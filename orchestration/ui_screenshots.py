"""Screenshots of the Dagster UI for the docs: the asset lineage from the landed files to the raw tables, and the
check pages of two configuration mistakes, each naming the scorecard or measure and its values.

python -m orchestration.ui_screenshots [--out docs/images] [--landing DIR]   (make ui-screenshots)

Builds a throw-away copy of the project whose seeds carry both mistakes (a scorecard whose component weights sum
to 1.3, a measure band with inverted thresholds), refreshes it once on a temporary Dagster home (the refresh
fails its blocking checks and publishes nothing), starts dagster-webserver on that home and photographs the
pages in the local Chromium, headless (nothing is downloaded). The repository's own warehouse, seeds and
Dagster home are not touched.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from orchestration.settings import REPO_ROOT, SAMPLE_LANDING_DIR

# The two mistakes: smb's usage weight raised from 0.45 to 0.75 makes its components sum to 1.3; the second
# tickets_per_seat band (0.05 to 0.15) given as 0.15 to 0.05.
BROKEN_WEIGHT = {"scorecard": "smb", "component": "usage", "weight": "0.75"}
INVERTED_BAND = {"measure": "tickets_per_seat", "lower_bound": "0.05", "upper_bound": "0.15"}


@dataclass(frozen=True)
class CheckPage:
    """A check's page in the UI and the picture of it."""

    asset: str
    check: str
    image: str

    def path(self) -> str:
        return f"/assets/{self.asset}?view=checks&checkDetail={self.check}"


ASSET_GRAPH_IMAGE = "dagster_asset_graph.png"
CHECK_PAGES = (
    CheckPage("scorecard/scorecard_components", "scorecard_weights_sum_to_one", "dagster_check_broken_weight.png"),
    CheckPage(
        "scorecard/measure_bands", "measure_bands_are_contiguous_and_monotonic", "dagster_check_inverted_band.png"
    ),
)
# The lineage picture: the landed files and the raw tables loaded from them (one group, drawn without group boxes).
LINEAGE_SELECTION = "group:ingestion"
# Below some zoom the graph draws names only: this size keeps the whole group at a zoom that shows each asset.
LINEAGE_VIEWPORT = {"width": 1400, "height": 1500}
CHECK_VIEWPORT = {"width": 1600, "height": 1100}
# The community dialog appears within this after the first page loads, or not at all.
WELCOME_MILLISECONDS = 10_000
# A cold webserver and the first GraphQL queries on a busy two-core machine.
SERVER_START_SECONDS = 180
PAGE_SECONDS = 120
# Whatever the UI still animates (the graph's layout, a fading spinner) has settled after this.
SETTLE_MILLISECONDS = 3000
# Copied into the throw-away project: what a refresh reads (the landing files come from --landing).
PROJECT_PARTS = ("orchestration", "dbt_project", "seeds")
NOT_COPIED = shutil.ignore_patterns("target", "logs", "dbt_packages", "landing", "landing_truth", "__pycache__")


def _rewrite_seed(path: Path, matches: dict[str, str], changes: dict[str, str]) -> None:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    hits = [row for row in rows if all(row[key] == value for key, value in matches.items())]
    if len(hits) != 1:
        raise ValueError(f"{path.name}: expected one row matching {matches}, found {len(hits)}")
    hits[0].update(changes)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def broken_project(root: Path) -> Path:
    """A copy of the project under `root` whose seeds carry both configuration mistakes; returns its root."""
    for part in PROJECT_PARTS:
        shutil.copytree(REPO_ROOT / part, root / part, ignore=NOT_COPIED)
    seeds = root / "seeds"
    _rewrite_seed(
        seeds / "scorecard_components.csv",
        {"scorecard": BROKEN_WEIGHT["scorecard"], "component": BROKEN_WEIGHT["component"]},
        {"weight": BROKEN_WEIGHT["weight"]},
    )
    _rewrite_seed(
        seeds / "measure_bands.csv",
        {key: INVERTED_BAND[key] for key in ("measure", "lower_bound", "upper_bound")},
        {"lower_bound": INVERTED_BAND["upper_bound"], "upper_bound": INVERTED_BAND["lower_bound"]},
    )
    return root


def project_environment(project: Path, dagster_home: Path, landing: Path) -> dict[str, str]:
    """The environment of the copy's refresh and webserver: its own Dagster home and warehouse files."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(project / "orchestration" / "dagster.yaml", dagster_home / "dagster.yaml")
    warehouse = dagster_home.parent / "warehouse"
    derived = ("HEALTHSCORE_RAW_DIR", "HEALTHSCORE_SPILL_DIR", "HEALTHSCORE_CRM_EXPORT_DIR", "HEALTHSCORE_SERVING")
    return {
        **{key: value for key, value in os.environ.items() if key not in derived},
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
        "DAGSTER_HOME": str(dagster_home),
        "HEALTHSCORE_WAREHOUSE": str(warehouse / "healthscore.duckdb"),
        "HEALTHSCORE_SERVING": str(warehouse / "serving" / "healthscore.duckdb"),
        "HEALTHSCORE_LANDING_DIR": str(landing),
        # The copy's code, not the checkout the environment's path file names.
        "PYTHONPATH": str(project),
    }


def refresh(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`make run` in the copy: fails on the two mistakes (nothing is published), leaving the check results."""
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run"], cwd=project, env=env, capture_output=True, text=True
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def webserver(project: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """dagster-webserver on the copy's definitions and Dagster home; yields its URL. No daemon runs: a run
    launched from this UI is queued (orchestration/dagster.yaml) and never executes."""
    port = _free_port()
    with log.open("w") as output:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "dagster-webserver"),
                "-m",
                "orchestration.definitions",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=project,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/server_info", timeout=5) as info:
                if info.status == 200:
                    break
            if server.poll() is not None:
                raise RuntimeError(f"dagster-webserver stopped: {log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"dagster-webserver did not start in {SERVER_START_SECONDS} s: {log}")
            time.sleep(1)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


@contextlib.contextmanager
def chromium_page() -> Iterator:
    """A page of the local Chromium, headless (playwright drives it; no browser is downloaded)."""
    from playwright.sync_api import sync_playwright

    from orchestration.customer_reports.browser import find_chromium

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=find_chromium(),
            args=["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [],
        )
        try:
            yield browser.new_page(viewport=CHECK_VIEWPORT)
        finally:
            browser.close()


def dismiss_welcome(page) -> None:
    """Dagster's community dialog, shown once per Dagster home, would cover the first picture."""
    skip = page.get_by_role("button", name="Skip")
    with contextlib.suppress(PlaywrightTimeout):
        skip.wait_for(timeout=WELCOME_MILLISECONDS)
        skip.click()


def show_lineage(page, url: str) -> None:
    """The ingestion group of the global asset lineage: the landed files (dashed: external assets, which Dagster
    observes but does not materialise) and the raw tables loaded from them, without the navigation panes."""
    page.set_viewport_size(LINEAGE_VIEWPORT)
    page.goto(f"{url}/asset-groups~{urllib.parse.quote(LINEAGE_SELECTION, safe='')}/")
    dismiss_welcome(page)
    page.get_by_text("Hide navigation").click(timeout=PAGE_SECONDS * 1000)
    page.get_by_role("button").filter(has=page.locator("[aria-label='panel_show_right']")).click()
    page.get_by_text("Materialized").first.wait_for(timeout=PAGE_SECONDS * 1000)
    # Each node fetches its own latest events: the picture waits until none says "Loading..." any more.
    page.wait_for_function("() => !document.body.innerText.includes('Loading...')", timeout=PAGE_SECONDS * 1000)
    page.wait_for_timeout(SETTLE_MILLISECONDS)


def show_check(page, url: str, check: CheckPage) -> None:
    """A check's page: its description and its latest evaluation with the result's metadata."""
    page.set_viewport_size(CHECK_VIEWPORT)
    page.goto(url + check.path())
    dismiss_welcome(page)
    page.get_by_text("Latest execution").first.wait_for(timeout=PAGE_SECONDS * 1000)
    page.get_by_text("Metadata", exact=True).first.wait_for(timeout=PAGE_SECONDS * 1000)
    page.wait_for_timeout(SETTLE_MILLISECONDS)


@dataclass(frozen=True)
class Screenshot:
    path: Path
    text: str
    """What the page said when it was taken (its visible text)."""


def take_screenshots(url: str, out: Path) -> dict[str, Screenshot]:
    """The lineage and the two check pages as PNGs in `out`, by file name."""
    out.mkdir(parents=True, exist_ok=True)
    taken = {}

    def take(page, name: str) -> None:
        page.screenshot(path=str(out / name))
        taken[name] = Screenshot(out / name, page.inner_text("body"))

    with chromium_page() as page:
        show_lineage(page, url)
        take(page, ASSET_GRAPH_IMAGE)
        for check in CHECK_PAGES:
            show_check(page, url, check)
            take(page, check.image)
    return taken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "images", help="where the PNGs go")
    parser.add_argument("--landing", type=Path, default=SAMPLE_LANDING_DIR, help="landing directory to refresh")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="healthscore-ui-") as temporary:
        root = Path(temporary)
        project = broken_project(root / "project")
        env = project_environment(project, root / "dagster", args.landing.resolve())
        print(f"Refreshing a copy of the project with a broken weight and an inverted band in {root} ...")
        run = refresh(project, env)
        if run.returncode == 0:
            print(run.stdout[-2000:], file=sys.stderr)
            print("The refresh passed although its configuration is broken; no screenshots.", file=sys.stderr)
            return 1
        with webserver(project, env, root / "webserver.log") as url:
            for shot in take_screenshots(url, args.out.resolve()).values():
                print(f"Wrote {shot.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
