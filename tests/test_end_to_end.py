"""One refresh through Dagster on a small simulated dataset, checked against the seeds by hand."""

import csv

import dagster as dg
import duckdb
import pytest

from orchestration.settings import REPO_ROOT
from tests.conftest import SMALL_ACCOUNTS, run_refresh


def component_weights() -> dict[str, float]:
    with (REPO_ROOT / "seeds" / "scorecard_components.csv").open() as f:
        return {row["component"]: float(row["weight"]) for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def scores(refreshed):
    assert refreshed.result.success
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as con:
        frame = con.sql("select * from marts.account_health_scores").df()
    numeric = [c for c in frame.columns if c.endswith("_score") or c == "coverage"]
    return frame.astype({c: "float64" for c in numeric})


def test_one_score_row_per_account(scores):
    assert len(scores) == SMALL_ACCOUNTS
    assert scores["account_id"].is_unique


def test_scores_within_0_and_100(scores):
    scored = scores["health_score"].dropna()
    assert len(scored) > 0.9 * SMALL_ACCOUNTS
    assert scored.between(0, 100).all()
    for component in component_weights():
        assert scores[f"{component}_score"].dropna().between(0, 100).all()


def test_score_is_the_weighted_sum_of_its_components(scores):
    weights = component_weights()
    for row in scores.itertuples():
        present = {c: w for c, w in weights.items() if getattr(row, f"{c}_score") == getattr(row, f"{c}_score")}
        if not any(present.values()):
            assert row.health_score != row.health_score  # NaN: no data, no score
            continue
        expected = sum(getattr(row, f"{c}_score") * w for c, w in present.items()) / sum(present.values())
        # Fixed-point: each of at most five contributions is rounded at the sixth decimal.
        assert row.health_score == pytest.approx(expected, abs=1e-5), row.account_id


def test_ingestion_reports_rows_and_files(refreshed):
    materialization = refreshed.result.asset_materializations_for_node("raw__accounts")[0]
    assert materialization.metadata["dagster/row_count"].value == SMALL_ACCOUNTS
    assert materialization.metadata["file_count"].value == 1


def test_dbt_tests_ran_as_passing_asset_checks(refreshed):
    evaluations = refreshed.result.get_asset_check_evaluations()
    assert len(evaluations) > 50
    failed = [e.check_name for e in evaluations if not e.passed]
    assert failed == []


def test_a_second_refresh_gives_the_same_tables(refreshed, tmp_path):
    """Rerunning is safe: raw tables are replaced, not appended, and the scores do not move."""
    copy = tmp_path / "again.duckdb"
    copy.write_bytes(refreshed.warehouse.read_bytes())
    with duckdb.connect(str(copy), read_only=True) as con:
        before = con.execute("select account_id, health_score from marts.account_health_scores order by 1").fetchall()
        raw_before = con.execute("select count(*) from raw.usage_events").fetchone()
    result = run_refresh(copy, refreshed.landing)
    assert result.success
    with duckdb.connect(str(copy), read_only=True) as con:
        assert (
            con.execute("select account_id, health_score from marts.account_health_scores order by 1").fetchall()
            == before
        )
        assert con.execute("select count(*) from raw.usage_events").fetchone() == raw_before


def test_required_source_missing_fails_the_run_with_a_clear_message(dbt_manifest, small_landing, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    for path in small_landing.iterdir():
        if path.name != "accounts.csv":
            (landing / path.name).symlink_to(path)
    result = run_refresh(tmp_path / "w.duckdb", landing)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert "Required source missing: no accounts.csv, accounts.parquet or accounts/ folder" in str(
        failure.step_failure_data.error.message
    ) or "Required source missing" in str(failure.step_failure_data.user_failure_data)
