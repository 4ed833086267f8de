"""The sample scored on a local Spark (HEALTHSCORE_DBT_TARGET=spark) gives what DuckDB gives: every account-day's
score within 1e-6, its band, driver and every measure's contribution, and the same run summary. Run by
`make test-spark` (needs the spark extra and Java 17), not by `make test`: the Spark build takes minutes."""

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import REPO_ROOT, SAMPLE_LANDING_DIR
from tests.conftest import CliRun, cli_environment

# Scores and contributions are decimals with 6 places: the engines may round the last place differently.
TOLERANCE = Decimal("0.000001")
# Per account-day: what identifies it, then what must agree.
HISTORY_KEY = ("account_id", "score_date")
HISTORY_COLUMNS = (
    "health_score",
    "health_band",
    "score_status",
    "top_driver",
    "top_driver_reason",
    "weakest_component",
    "usage_contribution",
    "support_contribution",
    "payment_contribution",
    "feedback_contribution",
    "milestones_contribution",
)
CONTRIBUTION_KEY = ("account_id", "score_date", "measure")
CONTRIBUTION_COLUMNS = ("measure_value", "measure_points", "effective_weight", "contribution", "has_data")


def differences(
    duckdb_rows: dict[tuple, tuple],
    spark_rows: dict[tuple, tuple],
    columns: tuple[str, ...],
    tolerance: Decimal = TOLERANCE,
) -> list[str]:
    """Where two engines' rows (by key) disagree: a row only one has, or a value; numbers within `tolerance`."""
    found = [f"{key}: only on DuckDB" for key in duckdb_rows.keys() - spark_rows.keys()]
    found += [f"{key}: only on Spark" for key in spark_rows.keys() - duckdb_rows.keys()]
    for key in duckdb_rows.keys() & spark_rows.keys():
        for column, left, right in zip(columns, duckdb_rows[key], spark_rows[key], strict=True):
            numbers = all(isinstance(v, float | int | Decimal) and not isinstance(v, bool) for v in (left, right))
            same = abs(Decimal(str(left)) - Decimal(str(right))) <= tolerance if numbers else left == right
            if not same:
                found.append(f"{key} {column}: DuckDB {left!r}, Spark {right!r}")
    return sorted(found)


def _rows(serving: Path, table: str, key: tuple[str, ...], columns: tuple[str, ...]) -> dict[tuple, tuple]:
    with duckdb.connect(str(serving), read_only=True) as con:
        fetched = con.execute(f"select {', '.join(key + columns)} from marts.{table}").fetchall()
    return {row[: len(key)]: row[len(key) :] for row in fetched}


def summary(run: CliRun) -> str:
    """What `make run` prints after the refresh, without what differs between any two runs (run id, paths)."""
    text = run.run.stdout.split(" succeeded; scores published to ", 1)[1].split("\n", 1)[1]
    return re.sub(re.escape(str(run.serving)), "<serving>", text)


@pytest.fixture(scope="session")
def spark_run(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    """`make run TARGET=spark` of the committed sample."""
    root = tmp_path_factory.mktemp("spark_run")
    warehouse, serving = (
        root / "warehouse" / "healthscore.duckdb",
        root / "warehouse" / "serving" / "healthscore.duckdb",
    )
    env = cli_environment(root / "dagster", warehouse, SAMPLE_LANDING_DIR, serving)
    env["HEALTHSCORE_DBT_TARGET"] = "spark"
    run = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run"], env=env, cwd=REPO_ROOT, capture_output=True, text=True
    )
    return CliRun(warehouse, serving, root / "dagster", run)


def test_both_engines_score_the_sample(sample_run: CliRun, spark_run: CliRun):
    assert sample_run.run.returncode == 0, sample_run.run.stderr[-3000:]
    assert spark_run.run.returncode == 0, spark_run.run.stderr[-3000:]
    # Spark built the tables the serving file was published from.
    assert (spark_run.warehouse.parent / "spark" / "tables" / "marts.db" / "account_health_history").is_dir()


def test_every_account_day_has_the_same_score_band_and_driver(sample_run: CliRun, spark_run: CliRun):
    duckdb_rows = _rows(sample_run.serving, "account_health_history", HISTORY_KEY, HISTORY_COLUMNS)
    spark_rows = _rows(spark_run.serving, "account_health_history", HISTORY_KEY, HISTORY_COLUMNS)
    assert len(duckdb_rows) > 50_000
    assert differences(duckdb_rows, spark_rows, HISTORY_COLUMNS)[:20] == []


def test_every_measure_contributes_the_same(sample_run: CliRun, spark_run: CliRun):
    duckdb_rows = _rows(sample_run.serving, "fct_health_score_contributions", CONTRIBUTION_KEY, CONTRIBUTION_COLUMNS)
    spark_rows = _rows(spark_run.serving, "fct_health_score_contributions", CONTRIBUTION_KEY, CONTRIBUTION_COLUMNS)
    assert differences(duckdb_rows, spark_rows, CONTRIBUTION_COLUMNS)[:20] == []


def test_the_run_summary_is_the_same(sample_run: CliRun, spark_run: CliRun):
    assert summary(spark_run) == summary(sample_run)


def test_differences_are_found():
    """The comparison itself: a score off by more than the tolerance, another band, a missing day."""
    duckdb_rows = {("A", 1): (50.0, "yellow"), ("A", 2): (51.0, "yellow"), ("B", 1): (10.0, "red")}
    spark_rows = {("A", 1): (Decimal("50.000001"), "yellow"), ("A", 2): (51.00001, "green")}
    assert differences(duckdb_rows, spark_rows, ("health_score", "health_band")) == [
        "('A', 2) health_band: DuckDB 'yellow', Spark 'green'",
        "('A', 2) health_score: DuckDB 51.0, Spark 51.00001",
        "('B', 1): only on DuckDB",
    ]
