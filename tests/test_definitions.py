"""The Dagster definitions load, and the lineage runs from landing files to the score mart."""

import datetime as dt
import json
import os
from argparse import Namespace

import dagster as dg
import pytest

from orchestration.defs.dbt.assets import DbtBuildConfig, dbt_build_args, prune_earlier_targets
from orchestration.defs.ingestion.assets import landing_key, landing_observation
from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.ingestion.landing import find_landing_files
from orchestration.defs.jobs import STARTED_BY_SCHEDULE, STARTED_BY_TAG
from orchestration.defs.resources import WarehouseResource


@pytest.fixture(scope="module")
def defs(dbt_manifest):
    from orchestration.definitions import defs

    return defs


def test_definitions_validate(defs):
    dg.Definitions.validate_loadable(defs)


def test_one_ingestion_asset_per_raw_source(defs):
    keys = {key for key in defs.resolve_asset_graph().get_all_asset_keys() if key.path[0] == "raw"}
    assert keys == {dg.AssetKey(["raw", name]) for name in load_contracts()}


def test_dbt_sources_hang_off_the_ingestion_assets(defs):
    graph = defs.resolve_asset_graph()
    for name in load_contracts():
        downstream = graph.get(dg.AssetKey(["raw", name])).child_keys
        assert any(key.path[-1].startswith("stg_") for key in downstream), name
    upstream_of_mart = graph.get(dg.AssetKey(["marts", "account_health_scores"])).parent_keys
    assert dg.AssetKey(["marts", "account_health_history"]) in upstream_of_mart


def test_dbt_tests_are_asset_checks(defs):
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert "unique_account_health_scores_account_id" in checks
    assert "contributions_add_up_to_the_score" in checks
    assert "scorecard_weights_sum_to_one" in checks


def test_assets_are_grouped_by_layer(defs):
    graph = defs.resolve_asset_graph()
    group = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert group["raw/accounts"] == "ingestion"
    assert group["staging/stg_crm__accounts"] == "staging"
    assert group["intermediate/int_account_health_scored"] == "intermediate"
    assert group["marts/account_health_scores"] == "marts"
    assert group["scorecard/scorecard_components"] == "scorecard_config"


def test_refresh_job_runs_in_one_process_and_is_scheduled_daily(defs):
    job = defs.resolve_job_def("refresh_all")
    assert job.executor_def is dg.in_process_executor
    schedule = defs.resolve_schedule_def("daily_refresh")
    assert schedule.cron_schedule == "0 5 * * *" and schedule.job_name == "refresh_all"


def test_dbt_build_args(tmp_path):
    warehouse = WarehouseResource(path=str(tmp_path / "w.duckdb"), raw_dir=str(tmp_path / "raw"), memory_limit="1GB")
    profile = {
        "warehouse_path": str(tmp_path / "w.duckdb"),
        "memory_limit": "1GB",
        "spill_dir": str(tmp_path / "spill"),
    }
    assert dbt_build_args(DbtBuildConfig(), warehouse) == [
        "build",
        "--exclude",
        "test_type:unit",
        "--vars",
        json.dumps(profile),
    ]
    assert dbt_build_args(DbtBuildConfig(score_as_of_date="2026-06-30"), warehouse)[-1] == json.dumps(
        {**profile, "score_as_of_date": "2026-06-30"}
    )
    assert dbt_build_args(DbtBuildConfig(rebuild_history=True), warehouse)[-1] == json.dumps(
        {**profile, "rebuild_history": True}
    )


def test_dbt_opens_the_warehouse_of_the_resource_whatever_the_environment_says(tmp_path, monkeypatch):
    """The profile takes the warehouse from the vars of the invocation; the environment variable is only the
    fallback for dbt started by hand, and loading the settings no longer rewrites it."""
    from dbt.config.runtime import load_profile
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context

    from orchestration.settings import DBT_PROJECT_DIR, load_settings

    monkeypatch.setenv("HEALTHSCORE_WAREHOUSE", "relative/elsewhere.duckdb")
    load_settings()
    assert os.environ["HEALTHSCORE_WAREHOUSE"] == "relative/elsewhere.duckdb"
    warehouse = WarehouseResource(path=str(tmp_path / "w.duckdb"), raw_dir=str(tmp_path / "raw"), memory_limit="1GB")
    cli_vars = json.loads(dbt_build_args(DbtBuildConfig(), warehouse)[-1])
    # What dbt does when it starts: the environment and the profiles directory of the invocation.
    set_invocation_context(os.environ.copy())
    set_from_args(Namespace(profiles_dir=str(DBT_PROJECT_DIR)), None)
    credentials = load_profile(str(DBT_PROJECT_DIR), cli_vars).credentials
    assert credentials.path == str(tmp_path / "w.duckdb")
    assert credentials.config_options["memory_limit"] == "1GB"
    assert credentials.config_options["temp_directory"] == str(tmp_path / "spill")
    by_hand = load_profile(str(DBT_PROJECT_DIR), {}).credentials
    assert by_hand.path == "relative/elsewhere.duckdb"


def test_only_the_newest_dbt_target_directories_stay(tmp_path):
    import os

    runs = [tmp_path / f"healthscore_dbt_assets-{n:07d}-abcdef0" for n in range(5)]
    for age, run in enumerate(reversed(runs)):
        run.mkdir()
        os.utime(run, (1_000_000 - age, 1_000_000 - age))
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "compiled").mkdir()

    prune_earlier_targets(runs[-1], keep=3)

    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        ["manifest.json", "compiled", runs[-1].name, runs[-2].name, runs[-3].name]
    )


def test_a_dbt_step_finds_the_parse_of_the_last_step_with_the_same_command_line(tmp_path):
    from pathlib import Path
    from types import SimpleNamespace

    from orchestration.defs.dbt.partial_parse import (
        KEEP_PARSES,
        PARSE_FILE_NAME,
        keep_parse,
        kept_parse,
        restore_parse,
    )

    project = SimpleNamespace(project_dir=tmp_path, target_path=Path("target"))
    build = ["build", "--vars", '{"warehouse_path": "/a.duckdb"}']
    other_warehouse = ["build", "--vars", '{"warehouse_path": "/b.duckdb"}']
    first, second, third = (tmp_path / "target" / name for name in ("step-1", "step-2", "step-3"))
    assert not restore_parse(project, build, first)  # nothing kept yet: dbt parses in full
    first.mkdir(parents=True)
    (first / PARSE_FILE_NAME).write_bytes(b"parse of a.duckdb")
    keep_parse(project, build, first)
    os.utime(kept_parse(project, build), (1, 1))  # the oldest of the parses kept below

    assert restore_parse(project, build, second)
    assert (second / PARSE_FILE_NAME).read_bytes() == b"parse of a.duckdb"
    assert not restore_parse(project, other_warehouse, third)
    assert not (third / PARSE_FILE_NAME).exists()

    for n in range(KEEP_PARSES + 2):
        step = tmp_path / "target" / f"other-{n}"
        step.mkdir()
        (step / PARSE_FILE_NAME).write_bytes(b"other")
        keep_parse(project, [*other_warehouse, str(n)], step)
    assert len(list((tmp_path / "target" / "partial_parse").glob("*.msgpack"))) == KEEP_PARSES
    assert not restore_parse(project, build, third), "the oldest kept parse is dropped"


def test_data_rules_are_dbt_tests_and_python_checks_only_warn(defs):
    """Each rule lives once: the score invariants and the configuration rules are dbt tests (blocking asset
    checks); the Python checks are the warnings dbt cannot express (freshness against the clock, stray
    landing files, benchmarks the portfolio mart rates)."""
    graph = defs.resolve_asset_graph()
    checks = {key: graph.get(key) for key in graph.asset_check_keys}
    by_name = {(key.asset_key.to_user_string(), key.name): node for key, node in checks.items()}
    for name in (
        "accepted_range_account_health_history_support_score__100__0",
        "health_bands_match_the_scores",
        "contributions_add_up_to_the_score",
        "history_has_every_account_day",
        "portfolio_moves_plausibly",
    ):
        assert by_name[("marts/account_health_history", name)].blocking, name
    assert by_name[("scorecard/scorecard_components", "scorecard_weights_sum_to_one")].blocking
    assert by_name[("scorecard/health_bands", "health_bands_cover_0_to_100")].blocking
    removed = {"scores_within_range", "bands_match_thresholds", "contributions_add_up", "weights_are_valid"}
    assert not removed & {key.name for key in checks}
    for name in (
        "benchmark_portfolio_nps",
        "benchmark_monthly_churn_rate",
        "benchmark_average_health_score",
        "benchmark_ticket_csat",
        "benchmark_red_account_share",
    ):
        assert not by_name[("marts/portfolio_benchmarks", name)].blocking, name
    for source in load_contracts():
        assert not by_name[(f"raw/{source}", "source_is_fresh")].blocking, source
    assert not by_name[("raw/accounts", "landing_directory_is_recognised")].blocking


def test_publishing_depends_on_every_public_mart(defs):
    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["serving", "health_score_marts"])).parent_keys
    assert dg.AssetKey(["marts", "account_health_scores"]) in parents
    assert dg.AssetKey(["marts", "account_health_history"]) in parents


def test_mart_assets_carry_typed_described_columns(defs):
    """The Dagster catalogue shows each mart's columns with the contract's types and descriptions."""
    node = defs.resolve_asset_graph().get(dg.AssetKey(["marts", "account_health_scores"]))
    schema = node.metadata["dagster/column_schema"]
    columns = {column.name: column for column in schema.columns}
    assert columns["health_score"].type == "decimal(10, 6)"
    assert columns["health_band"].type == "string" and columns["health_band"].description.startswith("red, yellow")
    assert all(column.type != "?" and column.description for column in schema.columns)


def test_every_check_says_what_it_checks(defs):
    """The Dagster UI shows each check's description: the Python checks', the singular dbt tests' YAML, and a
    sentence built from a generic test's name, column and arguments."""
    graph = defs.resolve_asset_graph()
    undescribed = [key.to_user_string() for key in graph.asset_check_keys if not (graph.get(key).description or "")]
    assert not undescribed
    described = {key.name: graph.get(key).description for key in graph.asset_check_keys}
    assert described["unique_account_health_scores_account_id"] == (
        "account_health_scores.account_id is unique: no value occurs twice."
    )
    assert described["scorecard_weights_sum_to_one"].startswith("Guards the scorecard configuration")
    assert "never blocks publishing" in described["hierarchies_fit_max_depth"]
    assert described["versions_are_contiguous_int_account_versions_recorded_"].endswith("current.")


def test_every_singular_dbt_test_is_a_dagster_check(defs, dbt_manifest):
    """A singular test reading several models must name the one it guards (meta.dagster.ref): otherwise
    dagster-dbt logs its result as an observation, and a failure would not stop publishing."""
    manifest = json.loads(dbt_manifest.read_text())
    singular = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and not node.get("test_metadata")
    }
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert singular and not singular - checks


def test_seed_assets_show_their_rows(defs):
    """A seed is a CSV file: its asset shows the rows (a markdown table) instead of an empty SQL block."""
    node = defs.resolve_asset_graph().get(dg.AssetKey(["scorecard", "health_bands"]))
    assert "Raw SQL" not in node.description
    assert "#### Contents of seeds/health_bands.csv" in node.description
    assert "| band | min_score | max_score | description |\n|---|---|---|---|\n| red | 0 | 40 |" in node.description
    assert node.metadata["seed_file"].path == "seeds/health_bands.csv"


def test_lineage_starts_at_the_landing_files(defs):
    """Each source's landed files are an external asset upstream of its ingestion asset, kinds by format."""
    graph = defs.resolve_asset_graph()
    for name in load_contracts():
        landing = graph.get(landing_key(name))
        assert landing.is_external and not landing.is_materializable, name
        assert dg.AssetKey(["raw", name]) in landing.child_keys, name
        assert landing.kinds <= {"csv", "parquet"} and landing.kinds, name
    assert graph.get(landing_key("usage_events")).kinds == {"parquet"}
    assert graph.get(landing_key("accounts")).kinds == {"csv"}


def test_a_landing_observation_names_every_file_with_size_and_time(tmp_path):
    folder = tmp_path / "usage_events"
    folder.mkdir()
    for month, size in (("2026-09", 2048), ("2026-10", 10)):
        (folder / f"usage_events_{month}.parquet").write_bytes(b"x" * size)
    os.utime(folder / "usage_events_2026-10.parquet", (1_790_000_000, 1_790_000_000))
    files = find_landing_files(tmp_path, "usage_events")
    observation = landing_observation("usage_events", files, tmp_path)
    assert observation.asset_key == landing_key("usage_events")
    metadata = observation.metadata
    assert metadata["file_count"].value == 2 and metadata["total_bytes"].value == 2058
    assert "| usage_events/usage_events_2026-09.parquet | 2.0 KiB |" in metadata["files"].value
    assert "| usage_events/usage_events_2026-10.parquet | 10 B | 2026-09-21 14:13:20 |" in metadata["files"].value
    empty = landing_observation("churn_events", [], tmp_path).metadata
    assert empty["file_count"].value == 0 and "newest_modified_at" not in empty


def test_materialize_all_from_the_ui_runs_in_one_process(defs):
    """The UI's "Materialize all" launches the implicit asset job, which takes the Definitions' executor:
    the multi-process default ran every step in a process of its own, 3 min against 38 s for refresh_all."""
    assert defs.resolve_implicit_global_asset_job_def().executor_def is dg.in_process_executor


def test_scheduled_runs_say_they_came_from_the_schedule(defs):
    schedule = defs.resolve_schedule_def("daily_refresh")
    with dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 11, 2, 5, 0)) as context:
        requests = schedule.evaluate_tick(context).run_requests
    assert [request.tags[STARTED_BY_TAG] for request in requests] == [STARTED_BY_SCHEDULE]
