"""One refresh through Dagster on a small simulated dataset, checked against the seeds by hand."""

import csv
from collections import defaultdict
from decimal import Decimal

import dagster as dg
import duckdb
import pytest

from orchestration.settings import REPO_ROOT
from tests.conftest import SMALL_ACCOUNTS, run_refresh

COMPONENTS = ("usage", "support", "payment", "feedback", "milestones")


def read_seed(name: str) -> list[dict[str, str]]:
    with (REPO_ROOT / "seeds" / f"{name}.csv").open() as f:
        return list(csv.DictReader(f))


def scorecard_weights() -> dict[tuple[str, str], Decimal]:
    """(scorecard, measure) -> component weight x measure weight, straight from the seeds."""
    component_of = {row["measure"]: row["component"] for row in read_seed("measures")}
    component_weight = {
        (r["scorecard"], r["component"]): Decimal(r["weight"]) for r in read_seed("scorecard_components")
    }
    return {
        (r["scorecard"], r["measure"]): component_weight[(r["scorecard"], component_of[r["measure"]])]
        * Decimal(r["weight"])
        for r in read_seed("scorecard_measure_weights")
    }


@pytest.fixture(scope="module")
def warehouse(refreshed):
    assert refreshed.result.success
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as con:
        yield con


def test_one_current_score_row_per_account(warehouse):
    rows = warehouse.execute("select account_id from marts.account_health_scores").fetchall()
    assert len(rows) == SMALL_ACCOUNTS == len(set(rows))


def test_every_score_and_component_within_0_and_100(warehouse):
    columns = ["health_score", *(f"{c}_score" for c in COMPONENTS)]
    for column in columns:
        low, high, count = warehouse.execute(
            f"select min({column}), max({column}), count({column}) from marts.account_health_history"
        ).fetchone()
        assert count > 0 and low >= 0 and high <= 100, column


def test_score_is_the_seed_weighted_mean_of_the_points_with_data(warehouse):
    """Recomputes every score of the history from measure points and the seed weights, in Python."""
    weights = scorecard_weights()
    sums: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    rows = warehouse.execute(
        "select account_id, score_date, scorecard, measure, measure_points "
        "from marts.fct_health_score_contributions where has_data"
    ).fetchall()
    for account_id, day, scorecard, measure, points in rows:
        weight = weights[(scorecard, measure)]
        sums[(account_id, day)][0] += weight * points
        sums[(account_id, day)][1] += weight
    history = warehouse.execute(
        "select account_id, score_date, uncapped_score, health_score, cap_adjustment, coverage "
        "from marts.account_health_history where health_score is not null"
    ).fetchall()
    assert len(history) > 0.9 * SMALL_ACCOUNTS * 100
    for account_id, day, uncapped, health, cap_adjustment, coverage in history:
        weighted_points, weight_with_data = sums[(account_id, day)]
        assert abs(uncapped - weighted_points / weight_with_data) <= Decimal("0.000001"), (account_id, day)
        assert health == uncapped + cap_adjustment
        assert coverage == weight_with_data.quantize(Decimal("0.000001"))


def test_history_runs_daily_from_contract_start_to_the_as_of_day(warehouse):
    gaps = warehouse.execute(
        "select account_id, count(*), min(score_date), max(score_date) from marts.account_health_history "
        "group by account_id having count(*) <> datediff('day', min(score_date), max(score_date)) + 1"
    ).fetchall()
    assert gaps == []
    latest = warehouse.execute("select max(score_date) from marts.account_health_history").fetchone()[0]
    assert latest == warehouse.execute("select max(occurred_date) from staging.stg_product__usage_events").fetchone()[0]


def test_ingestion_reports_rows_read_loaded_and_set_aside_per_source(refreshed):
    materialization = refreshed.result.asset_materializations_for_node("raw__accounts")[0]
    metadata = {key: value.value for key, value in materialization.metadata.items()}
    assert metadata["dagster/row_count"] == metadata["rows_loaded"] == metadata["rows_read"] == SMALL_ACCOUNTS
    assert metadata["rows_rejected"] == 0 and metadata["files_loaded_now"] == 1
    assert "| accounts.csv | 40 | 40 | 0 | loaded now |" in metadata["files"]


def test_dbt_tests_ran_as_passing_asset_checks(refreshed):
    evaluations = refreshed.result.get_asset_check_evaluations()
    assert len(evaluations) > 100
    failed = [e.check_name for e in evaluations if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
    assert failed == []


def test_a_second_refresh_gives_the_same_tables(refreshed, tmp_path):
    """Rerunning is safe: raw tables are replaced, not appended, and the scores do not move."""
    copy = tmp_path / "again.duckdb"
    copy.write_bytes(refreshed.warehouse.read_bytes())
    query = "select * from marts.account_health_scores order by account_id"
    with duckdb.connect(str(copy), read_only=True) as con:
        before = con.execute(query).fetchall()
        raw_before = con.execute("select count(*) from raw.usage_events").fetchone()
    result = run_refresh(copy, refreshed.landing)
    assert result.success
    with duckdb.connect(str(copy), read_only=True) as con:
        assert con.execute(query).fetchall() == before
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
        failure.step_failure_data.user_failure_data.description
    )
