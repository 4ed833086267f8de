"""What a failed run says: the step's own error, what each failed test found, the checks the run never got to,
and what BI still sees."""

import re
import subprocess
import sys
from decimal import Decimal

import dagster as dg
import duckdb
import pytest
from dagster._utils.error import SerializableErrorInfo

from orchestration.cli import user_error
from orchestration.defs.dbt.failures import explain_failures, problem_sentence
from orchestration.settings import REPO_ROOT, SAMPLE_LANDING_DIR
from tests.conftest import cli_environment


def test_a_step_error_is_reported_as_raised_not_as_dagsters_wrapper():
    raised = SerializableErrorInfo(
        "orchestration.defs.privacy.keys.PseudonymisationKeyError: the key is too short\n",
        [],
        "PseudonymisationKeyError",
    )
    wrapper = SerializableErrorInfo(
        'dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op "raw__accounts":\n',
        [],
        "DagsterExecutionStepExecutionError",
        cause=raised,
    )
    assert user_error(wrapper) == "PseudonymisationKeyError: the key is too short"
    # An error of Dagster's own with nothing underneath is the message itself.
    alone = SerializableErrorInfo("dagster._core.errors.DagsterInvariantViolationError: odd\n", [], "X")
    assert user_error(alone) == "dagster._core.errors.DagsterInvariantViolationError: odd"


def test_a_run_that_fails_at_once_names_the_error_counts_every_check_skipped_and_says_nothing_was_published(tmp_path):
    """A key too short stops the first ingestion step: the terminal gets that error, not Dagster's "Error occurred
    while executing op", every planned check counted as skipped, and that BI has nothing yet."""
    serving = tmp_path / "serving" / "healthscore.duckdb"
    env = cli_environment(tmp_path / "dagster", tmp_path / "healthscore.duckdb", SAMPLE_LANDING_DIR, serving)
    env["HEALTHSCORE_PSEUDONYMISATION_KEY"] = "too short"
    run = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run"], env=env, cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "PseudonymisationKeyError: HEALTHSCORE_PSEUDONYMISATION_KEY must be at least 32 characters" in run.stderr
    assert "DagsterExecutionStepExecutionError" not in run.stderr
    counts = re.search(
        r"^Checks: 0 run, 0 failed, 0 warnings, (\d+) skipped \(0 dbt tests, 0 Python checks\)\.$",
        run.stdout,
        re.MULTILINE,
    )
    assert counts and int(counts.group(1)) > 400, run.stdout[:3000]
    assert f"Skipped: {counts.group(1)} planned checks were not evaluated" in run.stdout
    assert "  marts/score_backtest: red_band_churns_more_than_green, score_predicts_churn\n" in run.stdout
    assert f"Nothing was ever published: BI tools have no scores yet ({serving} does not exist)." in run.stderr


def _generic_test(name: str, **kwargs) -> dict:
    return {
        "name": f"{name}_scorecards",
        "attached_node": "seed.healthscore.scorecards",
        "test_metadata": {"name": name, "kwargs": {"column_name": "scorecard", **kwargs}},
    }


SEEDS = {
    "nodes": {"seed.healthscore.scorecards": {"resource_type": "seed", "original_file_path": "../seeds/scorecards.csv"}}
}


@pytest.mark.parametrize(
    ("test", "row", "sentence"),
    [
        (
            _generic_test("not_null"),
            {"scorecard": None, "min_coverage": Decimal("0.500000"), "description": "x" * 60},
            "seeds/scorecards.csv: scorecard is empty in the row scorecard (empty), min_coverage 0.5",
        ),
        (
            _generic_test("unique"),
            {"unique_field": "smb", "n_records": 2},
            "seeds/scorecards.csv: scorecard smb occurs in 2 rows",
        ),
        (
            _generic_test("accepted_values", values=["smb", "enterprise"]),
            {"value_field": "smbb", "n_records": 1},
            "seeds/scorecards.csv: scorecard smbb (1 row) is not one of smb, enterprise",
        ),
        (
            _generic_test("relationships", to="ref('scorecard_assignments')", field="scorecard"),
            {"from_field": "smbb"},
            "seeds/scorecards.csv: scorecard smbb has no match in scorecard_assignments.scorecard",
        ),
        (
            _generic_test("accepted_range", min_value=0, inclusive=False),
            {"out_of_range_value": 0.0, "scorecard": "smb", "min_coverage": 0.0},
            "seeds/scorecards.csv: scorecard 0 is not above 0 in the row scorecard smb, min_coverage 0",
        ),
        (
            # A singular test reading several seeds blames none of them.
            {"name": "a_singular_test", "depends_on": {"nodes": ["seed.healthscore.scorecards", "seed.x.y"]}},
            {"scorecard": "smb", "description": "free text"},
            "a_singular_test fails for scorecard smb",
        ),
        (
            _generic_test("some_new_test"),
            {"scorecard": "smb"},
            "seeds/scorecards.csv: some_new_test_scorecards fails for scorecard smb",
        ),
    ],
)
def test_a_generic_tests_failing_row_becomes_a_sentence_naming_the_seed_and_values(test, row, sentence):
    assert problem_sentence(SEEDS, test, row) == sentence


def test_failing_rows_that_cannot_be_read_back_leave_the_result_failed_with_the_reason(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    streamed = dg.AssetCheckResult(
        asset_key=["scorecard", "scorecards"], check_name="t", passed=False, metadata={"unique_id": "test.x.t"}
    )
    run_results = {"results": [{"unique_id": "test.x.t", "failures": 3, "compiled_code": "select * from gone"}]}
    [result] = explain_failures([streamed], {"nodes": {"test.x.t": {"name": "t"}}}, run_results, warehouse)
    assert not result.passed
    assert result.description.startswith("3 failing rows, which could not be read back: CatalogException")
    assert "problems_unavailable" in result.metadata
