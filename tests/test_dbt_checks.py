"""The dbt tests that guard configuration and arithmetic fail on data that breaks them."""

import csv
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import copy_project, dbt

CONFIG_SELECTION = ["--select", "resource_type:seed", "--indirect-selection", "cautious"]


def edit_seed(seeds: Path, name: str, match: dict[str, str], changes: dict[str, str]) -> None:
    path = seeds / f"{name}.csv"
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    hits = [row for row in rows if all(row[k] == v for k, v in match.items())]
    assert len(hits) == 1, (name, match)
    hits[0].update(changes)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
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
    assert "scorecard_weights_sum_to_one" in result.stdout and "health_bands_cover_0_to_100" in result.stdout


@pytest.mark.parametrize(
    ("seed", "match", "changes", "expected_failure"),
    [
        ("scorecard_components", {"component": "usage"}, {"weight": "0.5"}, "scorecard_weights_sum_to_one"),
        ("scorecard_measures", {"measure": "nps"}, {"weight": "0.6"}, "scorecard_weights_sum_to_one"),
        (
            "scorecard_components",
            {"component": "milestones"},
            {"weight": "-0.1"},
            "accepted_range_scorecard_components_weight__1__0",
        ),
        ("health_bands", {"band": "yellow"}, {"max_score": "65"}, "health_bands_cover_0_to_100"),
        ("health_bands", {"band": "green"}, {"max_score": "90"}, "health_bands_cover_0_to_100"),
        (
            "scorecard_measures",
            {"measure": "active_days"},
            {"target_value": "2"},
            "scorecard_measures_have_distinct_floor_and_target",
        ),
        (
            "scorecard_measures",
            {"measure": "ticket_csat"},
            {"component": "suport"},
            "relationships_scorecard_measures_component__component__ref_scorecard_components_",
        ),
    ],
)
def test_broken_configuration_fails_the_right_test(project, tmp_path, seed, match, changes, expected_failure):
    edit_seed(project.parent / "seeds", seed, match, changes)
    result = dbt(["build", *CONFIG_SELECTION], project, tmp_path / "w.duckdb")
    assert result.returncode != 0
    assert expected_failure in failing_tests(result), result.stdout


def test_corrupted_score_fails_the_arithmetic_test(refreshed, tmp_path):
    warehouse = tmp_path / "corrupt.duckdb"
    shutil.copy(refreshed.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update marts.account_health_scores set health_score = health_score + 0.5 "
            "where account_id = (select min(account_id) from marts.account_health_scores "
            "where health_score is not null)"
        )
    project = copy_project(tmp_path)
    result = dbt(["test", "--select", "health_score_equals_weighted_components"], project, warehouse)
    assert result.returncode != 0
    assert failing_tests(result) == ["health_score_equals_weighted_components"]


def test_unit_tests_catch_a_wrong_ramp(refreshed, tmp_path):
    """Pinned arithmetic fails when the model changes: a ramp scaled to 99 instead of 100 points."""
    warehouse = tmp_path / "copy.duckdb"
    shutil.copy(refreshed.warehouse, warehouse)
    project = copy_project(tmp_path)
    model = project / "models" / "intermediate" / "scoring" / "int_account_measures_scored.sql"
    model.write_text(model.read_text().replace("else 100.0 * ramp_position", "else 99.0 * ramp_position"))
    result = dbt(["test", "--select", "test_type:unit"], project, warehouse)
    assert result.returncode != 0
    assert failing_tests(result) == ["int_account_measures_scored::linear_ramp_turns_values_into_clamped_points"]
