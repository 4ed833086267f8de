"""The Dagster definitions load, and the lineage runs from landing files to the score mart."""

import json
import os
from argparse import Namespace

import dagster as dg
import pytest

from orchestration.defs.dbt.assets import DbtBuildConfig, dbt_build_args, prune_earlier_targets
from orchestration.defs.ingestion.contract import load_contracts
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
