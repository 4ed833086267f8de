"""Runs say where they came from, and each refresh records the landed files it found on their landing assets.
(Runs launched from the Dagster UI: tests/test_dagster_ui.py; the schedule's: tests/test_definitions.py.)"""

import dagster as dg

from orchestration.defs.ingestion.assets import landing_key
from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.jobs import STARTED_BY_CLI, STARTED_BY_TAG


def test_make_run_tags_its_run(sample_run, monkeypatch):
    assert sample_run.run.returncode == 0, sample_run.run.stderr[-3000:]
    monkeypatch.setenv("DAGSTER_HOME", str(sample_run.dagster_home))  # where the run history storage looks
    with dg.DagsterInstance.from_config(str(sample_run.dagster_home)) as instance:
        runs = instance.get_runs()
    assert [run.tags.get(STARTED_BY_TAG) for run in runs] == [STARTED_BY_CLI]
    assert "dagster/from_ui" not in runs[0].tags


def test_each_refresh_observes_the_landed_files(refreshed):
    observed = {
        event.asset_key: event.event_specific_data.asset_observation.metadata
        for event in refreshed.result.all_events
        if event.event_type == dg.DagsterEventType.ASSET_OBSERVATION and event.asset_key.path[0] == "landing"
    }
    assert set(observed) == {landing_key(name) for name in load_contracts()}
    usage = observed[landing_key("usage_events")]
    assert usage["file_count"].value > 1 and usage["total_bytes"].value > 0
    assert usage["files"].value.count("| usage_events/") == usage["file_count"].value
