"""The Dagster UI in headless Chromium, on a copy of the project with two configuration mistakes refreshed once
(orchestration/ui_screenshots.py, as `make ui-screenshots` runs it but on the small landing directory and into
a temporary directory): the lineage starts at the landed files, each mistake's check page names the scorecard
or measure and its values, and a run launched from the UI carries Dagster's tag saying so."""

from __future__ import annotations

import re
import time

import dagster as dg
import pytest

from orchestration import ui_screenshots
from orchestration.customer_reports import browser
from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.jobs import STARTED_BY_TAG

FROM_UI_TAG = "dagster/from_ui"
# The UI creates the run within a second or two; a loaded machine gets more.
LAUNCH_SECONDS = 60


@pytest.fixture(scope="module")
def ui(small_landing, tmp_path_factory):
    try:
        browser.find_chromium()
    except browser.ChromiumMissing as missing:
        pytest.skip(f"no Chromium on this machine, the Dagster UI is untested in a browser: {missing}")
    root = tmp_path_factory.mktemp("dagster_ui")
    project = ui_screenshots.broken_project(root / "project")
    env = ui_screenshots.project_environment(project, root / "dagster", small_landing)
    run = ui_screenshots.refresh(project, env)
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    with ui_screenshots.webserver(project, env, root / "webserver.log") as url:
        yield url, root


def test_lineage_and_the_pages_of_two_configuration_mistakes(ui, tmp_path):
    url, _ = ui
    taken = ui_screenshots.take_screenshots(url, tmp_path)
    assert sorted(taken) == sorted(
        [ui_screenshots.ASSET_GRAPH_IMAGE, *(page.image for page in ui_screenshots.CHECK_PAGES)]
    )
    assert all(shot.path.stat().st_size > 10_000 for shot in taken.values())
    texts = {name: shot.text for name, shot in taken.items()}
    # Each source twice: its landed files (landing/<source>) and its raw table (raw/<source>).
    lineage = texts[ui_screenshots.ASSET_GRAPH_IMAGE]
    assert all(lineage.count(source) == 2 for source in load_contracts()), lineage
    weight = texts["dagster_check_broken_weight.png"]
    assert "Failed" in weight and ui_screenshots.BROKEN_WEIGHT["scorecard"] in weight and "1.3" in weight
    band = texts["dagster_check_inverted_band.png"]
    band_values = (ui_screenshots.INVERTED_BAND["lower_bound"], ui_screenshots.INVERTED_BAND["upper_bound"])
    assert "Failed" in band and ui_screenshots.INVERTED_BAND["measure"] in band
    assert all(value in band for value in band_values)


def test_a_run_launched_from_the_ui_says_so(ui, monkeypatch):
    """The UI adds dagster/from_ui=true to every run it launches. Without a daemon the run stays queued."""
    url, root = ui
    monkeypatch.setenv("DAGSTER_HOME", str(root / "dagster"))  # where the run history storage looks
    with dg.DagsterInstance.from_config(str(root / "dagster")) as instance:
        before = {run.run_id for run in instance.get_runs()}
        with ui_screenshots.chromium_page() as page:
            page.goto(f"{url}/assets/raw/accounts")
            ui_screenshots.dismiss_welcome(page)
            page.get_by_role("button", name=re.compile(r"Materialize$")).first.click(
                timeout=ui_screenshots.PAGE_SECONDS * 1000
            )
            deadline = time.monotonic() + LAUNCH_SECONDS
            while not (launched := [run for run in instance.get_runs() if run.run_id not in before]):
                assert time.monotonic() < deadline, "no run was launched"
                page.wait_for_timeout(500)
        refresh = [run for run in instance.get_runs() if run.run_id in before]
    assert [run.tags.get(FROM_UI_TAG) for run in launched] == ["true"]
    assert [run.tags.get(STARTED_BY_TAG) for run in refresh] == ["make run"]
    assert FROM_UI_TAG not in refresh[0].tags
