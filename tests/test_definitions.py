"""The Dagster definitions load, and the lineage runs from landing files to the score mart."""

import dagster as dg
import pytest

from orchestration.defs.dbt.assets import DbtBuildConfig, dbt_build_args, prune_earlier_targets
from orchestration.defs.ingestion.contract import load_contracts


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


def test_dbt_build_args():
    assert dbt_build_args(DbtBuildConfig()) == ["build", "--exclude", "test_type:unit"]
    assert dbt_build_args(DbtBuildConfig(score_as_of_date="2026-06-30")) == [
        "build",
        "--exclude",
        "test_type:unit",
        "--vars",
        '{"score_as_of_date": "2026-06-30"}',
    ]
    assert dbt_build_args(DbtBuildConfig(rebuild_history=True)) == [
        "build",
        "--exclude",
        "test_type:unit",
        "--vars",
        '{"rebuild_history": true}',
    ]


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


def test_python_checks_sit_next_to_their_assets_and_only_invariants_block(defs):
    graph = defs.resolve_asset_graph()
    checks = {key: graph.get(key) for key in graph.asset_check_keys}
    by_name = {(key.asset_key.to_user_string(), key.name): node for key, node in checks.items()}
    for name in (
        "scores_within_range",
        "bands_match_thresholds",
        "contributions_add_up",
        "every_account_scored_once_per_day",
        "portfolio_moves_plausibly",
    ):
        assert by_name[("marts/account_health_history", name)].blocking, name
    assert by_name[("scorecard/scorecard_components", "weights_are_valid")].blocking
    assert by_name[("scorecard/health_bands", "bands_cover_0_to_100")].blocking
    for name in (
        "benchmark_portfolio_nps",
        "benchmark_monthly_churn_rate",
        "benchmark_average_health_score",
        "benchmark_ticket_csat",
        "benchmark_red_account_share",
    ):
        assert not by_name[("marts/account_health_scores", name)].blocking, name
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
