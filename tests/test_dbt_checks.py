"""The dbt tests that guard configuration and arithmetic fail on data that breaks them."""

import csv
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import copy_project, dbt

CONFIG_SELECTION = ["--select", "resource_type:seed", "--indirect-selection", "cautious"]


def edit_seed(seeds: Path, name: str, match: dict[str, str], changes: dict[str, str] | None) -> None:
    """Changes (or, with changes=None, removes) the one row of a seed that matches."""
    path = seeds / f"{name}.csv"
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    hits = [row for row in rows if all(row[k] == v for k, v in match.items())]
    assert len(hits) == 1, (name, match)
    if changes is None:
        rows.remove(hits[0])
    else:
        hits[0].update(changes)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(hits[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


def failing_tests(result) -> list[str]:
    """Names of the tests dbt reported as failed ("3 of 26 FAIL 1 some_test ....")."""
    return re.findall(r"\d+ of \d+ FAIL (?:\d+ )?(\S+)", result.stdout)


def test_shipped_configuration_passes(project, tmp_path):
    result = dbt(["build", *CONFIG_SELECTION], project, tmp_path / "w.duckdb")
    assert result.returncode == 0, result.stdout
    for test in (
        "scorecard_weights_sum_to_one",
        "health_bands_cover_0_to_100",
        "measure_bands_are_contiguous_and_monotonic",
    ):
        assert f"PASS {test}" in result.stdout, test


@pytest.mark.parametrize(
    ("seed", "match", "changes", "expected_failure"),
    [
        (
            "scorecard_components",
            {"scorecard": "mid_market", "component": "usage"},
            {"weight": "0.5"},
            "scorecard_weights_sum_to_one",
        ),
        (
            "scorecard_measure_weights",
            {"scorecard": "smb", "measure": "nps"},
            {"weight": "0.6"},
            "scorecard_weights_sum_to_one",
        ),
        (
            "scorecard_components",
            {"scorecard": "smb", "component": "milestones"},
            {"weight": "-0.1"},
            "accepted_range_scorecard_components_weight__1__0",
        ),
        (
            "scorecard_measure_weights",
            {"scorecard": "onboarding", "measure": "nps"},
            None,
            "scorecards_weigh_every_measure",
        ),
        (
            "scorecard_assignments",
            {"segment": "SMB", "lifecycle_stage": "renewal"},
            None,
            "scorecard_assignments_cover_every_segment_and_stage",
        ),
        ("health_bands", {"band": "yellow"}, {"max_score": "65"}, "health_bands_cover_0_to_100"),
        ("health_bands", {"band": "green"}, {"max_score": "90"}, "health_bands_cover_0_to_100"),
        ("measures", {"measure": "active_days"}, {"target_value": "2"}, "linear_ramps_follow_their_direction"),
        (
            "measures",
            {"measure": "urgent_ticket_share"},
            {"direction": "higher_is_better"},
            "linear_ramps_follow_their_direction",
        ),
        (
            "measure_bands",
            {"measure": "tickets_per_seat", "lower_bound": "0.15"},
            {"lower_bound": "0.2"},
            "measure_bands_are_contiguous_and_monotonic",
        ),
        (
            "measure_bands",
            {"measure": "nps", "lower_bound": "70"},
            {"points": "40"},
            "measure_bands_are_contiguous_and_monotonic",
        ),
        (
            "score_caps",
            {"cap": "payment_collection_risk"},
            {"max_score": "120"},
            "accepted_range_score_caps_max_score__100__0",
        ),
        (
            "backtest_baseline_weights",
            {"component": "usage"},
            {"weight": "1.4"},
            "accepted_range_backtest_baseline_weights_weight__1__0",
        ),
        (
            "backtest_settings",
            {"setting": "min_churn_events"},
            {"value": "-30"},
            "accepted_range_backtest_settings_value__0",
        ),
        (
            "expansion_settings",
            {"setting": "target_seat_utilisation"},
            {"value": "0"},
            "expression_is_true_expansion_settings_",
        ),
    ],
)
def test_broken_configuration_fails_the_right_test(project, tmp_path, seed, match, changes, expected_failure):
    edit_seed(project.parent / "seeds", seed, match, changes)
    result = dbt(["build", *CONFIG_SELECTION], project, tmp_path / "w.duckdb")
    assert result.returncode != 0
    assert any(name.startswith(expected_failure) for name in failing_tests(result)), result.stdout


def test_corrupted_score_fails_the_arithmetic_test(refreshed, tmp_path):
    warehouse = tmp_path / "corrupt.duckdb"
    shutil.copy(refreshed.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update marts.account_health_history set health_score = health_score + 0.5 "
            "where account_day_id = (select min(account_day_id) from marts.account_health_history "
            "where health_score is not null)"
        )
    project = copy_project(tmp_path)
    result = dbt(["test", "--select", "contributions_add_up_to_the_score"], project, warehouse)
    assert result.returncode != 0
    assert failing_tests(result) == ["contributions_add_up_to_the_score"]


def test_unit_tests_catch_a_wrong_ramp(refreshed, tmp_path):
    """Pinned arithmetic fails when the model changes: a ramp scaled to 99 instead of 100 points."""
    warehouse = tmp_path / "copy.duckdb"
    shutil.copy(refreshed.warehouse, warehouse)
    project = copy_project(tmp_path)
    # Refreshes leave unit tests out (they do not depend on data); here they run, and pass as shipped.
    shipped = dbt(["test", "--select", "test_type:unit"], project, warehouse)
    assert shipped.returncode == 0, shipped.stdout[-3000:]
    model = project / "models" / "intermediate" / "scoring" / "int_account_health_scored.sql"
    original = model.read_text()
    model.write_text(original.replace("else 100.0 * (valued.", "else 99.0 * (valued."))
    assert model.read_text() != original
    result = dbt(["test", "--select", "test_type:unit"], project, warehouse)
    assert result.returncode != 0
    assert "int_account_health_scored::each_normalisation_turns_values_into_points" in failing_tests(result)


@pytest.mark.parametrize(
    "corruption",
    [
        "update {table} set valid_to_date = valid_from_date + 3",  # closed although it is the only version
        "insert into {table} select * replace (valid_from_date - 5 as valid_from_date, 2 as version_number, "
        "false as is_current, valid_from_date - 7 as valid_to_date) from {table}",  # ends before it starts
        "insert into {table} select * replace (valid_from_date - 5 as valid_from_date, 2 as version_number, "
        "false as is_current, valid_from_date as valid_to_date) from {table}",  # overlaps the next version
    ],
)
def test_overlapping_or_open_account_versions_fail_the_contiguity_test(refreshed, tmp_path, corruption):
    warehouse = tmp_path / "corrupt.duckdb"
    shutil.copy(refreshed.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(corruption.format(table="intermediate.int_account_versions_recorded"))
    project = copy_project(tmp_path)
    result = dbt(
        ["test", "--select", "int_account_versions_recorded,test_name:versions_are_contiguous"], project, warehouse
    )
    assert result.returncode != 0
    assert failing_tests(result) == ["versions_are_contiguous_int_account_versions_recorded_"]


@pytest.mark.parametrize(
    ("corruption", "selection", "expected_failure"),
    [
        (
            "update intermediate.int_backtest_observations_labelled set outcome_end_date = observed_date "
            "where observation_id = (select min(observation_id) from intermediate.int_backtest_observations_labelled)",
            "int_backtest_observations_labelled",
            "expression_is_true_int_backtest_observations_labelled_",
        ),
        (
            "update marts.account_churn_risk set churn_probability_horizon = 1.5 "
            "where account_day_id = (select min(account_day_id) from marts.account_churn_risk)",
            "account_churn_risk",
            "accepted_range_account_churn_risk_churn_probability_horizon__1__0",
        ),
    ],
)
def test_broken_backtest_tables_fail_their_tests(refreshed, tmp_path, corruption, selection, expected_failure):
    warehouse = tmp_path / "corrupt.duckdb"
    shutil.copy(refreshed.warehouse, warehouse)
    project = copy_project(tmp_path)
    shipped = dbt(["test", "--select", selection], project, warehouse)
    assert shipped.returncode == 0, shipped.stdout[-3000:]
    with duckdb.connect(str(warehouse)) as con:
        con.execute(corruption)
    result = dbt(["test", "--select", selection], project, warehouse)
    assert result.returncode != 0
    assert any(name.startswith(expected_failure) for name in failing_tests(result)), result.stdout[-3000:]
