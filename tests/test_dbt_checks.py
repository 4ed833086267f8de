"""The dbt tests that guard configuration and arithmetic fail on data that breaks them."""

import csv
import datetime as dt
import json
import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.dbt.failures import explain_failures
from orchestration.summary import render_checks
from tests.conftest import dbt

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
def project(project_copy: Path) -> Path:
    return project_copy


def failing_tests(result) -> list[str]:
    """Names of the tests dbt reported as failed ("3 of 26 FAIL 1 some_test ....")."""
    return re.findall(r"\d+ of \d+ FAIL (?:\d+ )?(\S+)", result.stdout)


def test_shipped_configuration_passes(project, scratch_warehouse):
    result = dbt(["build", *CONFIG_SELECTION], project, scratch_warehouse)
    assert result.returncode == 0, result.stdout
    for test in (
        "scorecard_weights_sum_to_one",
        "health_bands_cover_0_to_100",
        "measure_bands_are_contiguous_and_monotonic",
    ):
        assert f"PASS {test}" in result.stdout, test


@pytest.mark.parametrize(
    ("seed", "match", "changes", "expected_failure", "finding"),
    [
        (
            "scorecard_components",
            {"scorecard": "mid_market", "component": "usage"},
            {"weight": "0.5"},
            "scorecard_weights_sum_to_one",
            "seeds/scorecard_components.csv: the component weights of scorecard mid_market sum to 1.1, not 1",
        ),
        (
            # The case of the issue: a weight raised without lowering another.
            "scorecard_components",
            {"scorecard": "smb", "component": "usage"},
            {"weight": "0.75"},
            "scorecard_weights_sum_to_one",
            "seeds/scorecard_components.csv: the component weights of scorecard smb sum to 1.3, not 1",
        ),
        (
            "scorecard_measure_weights",
            {"scorecard": "smb", "measure": "nps"},
            {"weight": "0.6"},
            "scorecard_weights_sum_to_one",
            "seeds/scorecard_measure_weights.csv: the weights of scorecard smb for the measures of feedback sum to "
            "1.2, not 1",
        ),
        (
            "scorecard_components",
            {"scorecard": "smb", "component": "milestones"},
            {"weight": "-0.1"},
            "accepted_range_scorecard_components_weight__1__0",
            "seeds/scorecard_components.csv: weight -0.1 is outside 0 to 1 in the row scorecard smb, "
            "component milestones, weight -0.1",
        ),
        (
            "scorecard_measure_weights",
            {"scorecard": "onboarding", "measure": "nps"},
            None,
            "scorecards_weigh_every_measure",
            "seeds/scorecard_measure_weights.csv: scorecard onboarding has no row for measure nps",
        ),
        (
            "scorecard_assignments",
            {"segment": "SMB", "lifecycle_stage": "renewal"},
            None,
            "scorecard_assignments_cover_every_segment_and_stage",
            "seeds/scorecard_assignments.csv: no scorecard for segment SMB in lifecycle stage renewal",
        ),
        (
            "health_bands",
            {"band": "yellow"},
            {"max_score": "65"},
            "health_bands_cover_0_to_100",
            "seeds/health_bands.csv: band green starts at 70 but band yellow below it ends at 65 (a gap or an overlap)",
        ),
        (
            "health_bands",
            {"band": "green"},
            {"max_score": "90"},
            "health_bands_cover_0_to_100",
            "seeds/health_bands.csv: the highest band, green, ends at 90, not 100",
        ),
        (
            "measures",
            {"measure": "active_days"},
            {"target_value": "2"},
            "linear_ramps_follow_their_direction",
            "seeds/measures.csv: measure active_days is higher_is_better with a linear ramp from floor_value 2 to "
            "target_value 2: the target must be above the floor",
        ),
        (
            "measures",
            {"measure": "urgent_ticket_share"},
            {"direction": "higher_is_better"},
            "linear_ramps_follow_their_direction",
            "seeds/measures.csv: measure urgent_ticket_share is higher_is_better with a linear ramp from floor_value "
            "0.6 to target_value 0.1: the target must be above the floor",
        ),
        (
            "measure_bands",
            {"measure": "tickets_per_seat", "lower_bound": "0.15"},
            {"lower_bound": "0.2"},
            "measure_bands_are_contiguous_and_monotonic",
            "seeds/measure_bands.csv: measure tickets_per_seat, range from lower_bound 0.2 to upper_bound 0.3: "
            "the range below ends at 0.15 (a gap or an overlap)",
        ),
        (
            # The case of the issue: a range's bounds swapped.
            "measure_bands",
            {"measure": "tickets_per_seat", "lower_bound": "0.15"},
            {"lower_bound": "0.3", "upper_bound": "0.15"},
            "measure_bands_are_contiguous_and_monotonic",
            "seeds/measure_bands.csv: measure tickets_per_seat, range from lower_bound 0.3 to upper_bound 0.15: "
            "empty or inverted (upper_bound must be above lower_bound)",
        ),
        (
            "measure_bands",
            {"measure": "nps", "lower_bound": "70"},
            {"points": "40"},
            "measure_bands_are_contiguous_and_monotonic",
            "seeds/measure_bands.csv: measure nps, range from lower_bound 70 to upper_bound (empty): 40 points "
            "against 90 for the range below, but the measure is higher_is_better (points must not rise as the value "
            "gets worse)",
        ),
        (
            "scorecard_measure_weights",
            {"scorecard": "smb", "measure": "nps"},
            {"weight": "-0.1"},
            "accepted_range_scorecard_measure_weights_weight__1__0",
            "seeds/scorecard_measure_weights.csv: weight -0.1 is outside 0 to 1 in the row scorecard smb, measure nps",
        ),
        (
            "scorecard_components",
            {"scorecard": "enterprise", "component": "feedback"},
            None,
            "scorecards_weigh_every_measure",
            "seeds/scorecard_components.csv: scorecard enterprise has no row for component feedback",
        ),
        (
            "score_caps",
            {"cap": "payment_collection_risk"},
            {"max_score": "120"},
            "accepted_range_score_caps_max_score__100__0",
            "seeds/score_caps.csv: max_score 120 is outside 0 to 100 in the row cap payment_collection_risk",
        ),
        (
            "backtest_baseline_weights",
            {"component": "usage"},
            {"weight": "1.4"},
            "accepted_range_backtest_baseline_weights_weight__1__0",
            "seeds/backtest_baseline_weights.csv: weight 1.4 is outside 0 to 1 in the row component usage",
        ),
        (
            "backtest_settings",
            {"setting": "min_churn_events"},
            {"value": "-30"},
            "accepted_range_backtest_settings_value__0",
            "seeds/backtest_settings.csv: value -30 is below 0 in the row setting min_churn_events",
        ),
        (
            "expansion_settings",
            {"setting": "target_seat_utilisation"},
            {"value": "0"},
            "expression_is_true_expansion_settings_",
            "seeds/expansion_settings.csv: the row setting target_seat_utilisation, value 0 breaks setting not in",
        ),
    ],
)
def test_broken_configuration_fails_the_right_test_naming_the_rows(
    project, seed, match, changes, expected_failure, finding, scratch_warehouse
):
    """Each broken seed fails its test, and the refresh says what is wrong where: the check result (description
    and metadata, as the Dagster UI shows them) and the CLI's list of findings name the seed file and values."""
    edit_seed(project.parent / "seeds", seed, match, changes)
    warehouse = scratch_warehouse
    result = dbt(["build", *CONFIG_SELECTION], project, warehouse)
    assert result.returncode != 0
    assert any(name.startswith(expected_failure) for name in failing_tests(result)), result.stdout

    check = explained_check_result(project, warehouse, expected_failure)
    assert any(problem.startswith(finding) for problem in check.metadata["problems"].value), check.description
    assert finding in check.description
    assert check.metadata["problem"].value == check.description.splitlines()[0]
    evaluation = dg.AssetCheckEvaluation(
        asset_key=check.asset_key,
        check_name=check.check_name,
        passed=False,
        metadata=check.metadata,
        severity=check.severity,
        description=check.description,
    )
    cli_output = render_checks([evaluation])
    assert f"FAILED {check.check_name} (" in cli_output and f"\n  {finding}" in cli_output, cli_output


def explained_check_result(project: Path, warehouse: Path, failed_test: str) -> dg.AssetCheckResult:
    """The check result the refresh's dbt step yields for the failed test whose name starts with `failed_test`:
    as dagster-dbt streams it, then with the failing rows read back from the warehouse."""
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    run_results = json.loads((project / "target" / "run_results.json").read_text())
    result = next(
        r
        for r in run_results["results"]
        if r["status"] == "fail" and manifest["nodes"][r["unique_id"]]["name"].startswith(failed_test)
    )
    test = manifest["nodes"][result["unique_id"]]
    streamed = dg.AssetCheckResult(
        asset_key=["scorecard", "configuration"],
        check_name=test["name"],
        passed=False,
        metadata={"unique_id": result["unique_id"], "dagster_dbt/failed_row_count": result["failures"]},
    )
    [explained] = explain_failures([streamed], manifest, run_results, warehouse)
    return explained


@pytest.mark.parametrize(
    ("seed", "expected_failure"),
    [
        ("health_bands", "health_bands_cover_0_to_100"),
        ("measures", "measures_are_implemented"),
        ("scorecard_components", "scorecard_weights_sum_to_one"),
    ],
)
def test_an_empty_configuration_seed_fails_instead_of_passing_vacuously(
    project, seed, expected_failure, scratch_warehouse
):
    path = project.parent / "seeds" / f"{seed}.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    result = dbt(["build", *CONFIG_SELECTION], project, scratch_warehouse)
    assert result.returncode != 0
    assert expected_failure in failing_tests(result), result.stdout[-3000:]


AUDIT_SCHEMA = "dbt_test__audit"  # where --store-failures keeps each test's failing rows


def test_broken_score_history_fails_the_right_dbt_test_naming_the_row(refreshed, project, scratch_warehouse):
    """The score invariants the Python checks repeated are dbt tests: one corruption per account, one dbt run,
    and each test fails naming its account (or value) alone."""
    warehouse = scratch_warehouse
    shutil.copy(refreshed.warehouse, warehouse)
    history = "marts.account_health_history"
    with duckdb.connect(str(warehouse)) as con:
        last_day = con.execute(f"select max(score_date) from {history}").fetchone()[0]
        day = last_day - dt.timedelta(days=10)
        accounts = [
            row[0]
            for row in con.execute(
                f"select account_id from {history} where score_date = ? and health_score is not null "
                "and account_id in (select account_id from marts.account_health_scores where not is_churned) "
                "order by account_id limit 6",
                [day],
            ).fetchall()
        ]
        corruptions = {
            "accepted_range_account_health_history_support_score__100__0": [
                f"update {history} set support_score = 120 where account_id = ? and score_date = ?"
            ],
            "health_bands_match_the_scores": [
                f"update {history} set health_band = case when health_band = 'green' then 'red' else 'green' end "
                "where account_id = ? and score_date = ?"
            ],
            # A score without its measure rows went unchecked: the test joined the history to their sums.
            "contributions_add_up_to_the_score": [
                f"update {history} set health_score = health_score + 0.5 where account_id = ? and score_date = ?",
                "delete from intermediate.int_account_measure_contributions where account_id = ? and score_date = ?",
            ],
            "history_has_every_account_day": [f"delete from {history} where account_id = ? and score_date = ?"],
            "unique_combination_account_health_history_account_id__score_date": [
                f"insert into {history} select * from {history} where account_id = ? and score_date = ?"
            ],
        }
        for account, statements in zip(accounts, corruptions.values(), strict=False):
            for statement in statements:
                con.execute(statement, [account, day])
        not_on_last_day = accounts[5]
        con.execute(f"delete from {history} where account_id = ? and score_date = ?", [not_on_last_day, last_day])
    result = dbt(["test", "--select", "account_health_history", "--store-failures"], project, warehouse)
    assert result.returncode != 0
    failed = failing_tests(result)
    assert set(corruptions) <= set(failed), failed
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for account, test in zip(accounts, corruptions, strict=False):
            if test.startswith(("history_has_every_account_day", "unique_combination")):
                continue  # the first names two accounts, checked below; the second counts duplicates
            # accepted_range keeps only the offending value; the other tests name the account.
            column, expected = (
                ("out_of_range_value", 120) if test.startswith("accepted_range") else ("account_id", account)
            )
            named = [row[0] for row in con.execute(f'select {column} from {AUDIT_SCHEMA}."{test}"').fetchall()]
            assert named == [expected], (test, named)
        gaps = dict(
            con.execute(f"select account_id, problem from {AUDIT_SCHEMA}.history_has_every_account_day").fetchall()
        )
    assert gaps == {
        accounts[3]: "missing days",
        accounts[4]: "duplicate days",
        not_on_last_day: "not scored on the last day",
    }


@pytest.mark.parametrize(
    "corruption",
    [
        "update marts.account_health_history set health_score = health_score * 0.6, health_band = 'red' "
        "where score_date = {last_day}",
        "update marts.account_health_history set health_score = null, health_band = null where score_date = {last_day}",
    ],
    ids=["a sudden portfolio drop", "every score vanishing overnight"],
)
def test_an_implausible_overnight_move_fails_the_plausibility_test(refreshed, corruption, project, scratch_warehouse):
    warehouse = scratch_warehouse
    shutil.copy(refreshed.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(corruption.format(last_day="(select max(score_date) from marts.account_health_history)"))
    result = dbt(["test", "--select", "portfolio_moves_plausibly"], project, warehouse)
    assert result.returncode != 0
    assert failing_tests(result) == ["portfolio_moves_plausibly"], result.stdout[-3000:]


def test_corrupted_score_fails_the_arithmetic_test(refreshed, project, scratch_warehouse):
    warehouse = scratch_warehouse
    shutil.copy(refreshed.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update marts.account_health_history set health_score = health_score + 0.5 "
            "where account_day_id = (select min(account_day_id) from marts.account_health_history "
            "where health_score is not null)"
        )
    result = dbt(["test", "--select", "contributions_add_up_to_the_score"], project, warehouse)
    assert result.returncode != 0
    assert failing_tests(result) == ["contributions_add_up_to_the_score"]


def test_unit_tests_catch_a_wrong_ramp(refreshed, project, scratch_warehouse):
    """Pinned arithmetic fails when the model changes: a ramp scaled to 99 instead of 100 points."""
    warehouse = scratch_warehouse
    shutil.copy(refreshed.warehouse, warehouse)
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
def test_overlapping_or_open_account_versions_fail_the_contiguity_test(
    refreshed, corruption, project, scratch_warehouse
):
    warehouse = scratch_warehouse
    shutil.copy(refreshed.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(corruption.format(table="intermediate.int_account_versions_recorded"))
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
def test_broken_backtest_tables_fail_their_tests(
    refreshed, corruption, selection, expected_failure, project, scratch_warehouse
):
    warehouse = scratch_warehouse
    shutil.copy(refreshed.warehouse, warehouse)
    shipped = dbt(["test", "--select", selection], project, warehouse)
    assert shipped.returncode == 0, shipped.stdout[-3000:]
    with duckdb.connect(str(warehouse)) as con:
        con.execute(corruption)
    result = dbt(["test", "--select", selection], project, warehouse)
    assert result.returncode != 0
    assert any(name.startswith(expected_failure) for name in failing_tests(result)), result.stdout[-3000:]
