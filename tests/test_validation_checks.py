"""Every Python check passes on the refreshed sample and fails, with metadata a person can act on, on
data that breaks it."""

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.ingestion.freshness import FreshnessExpectation, source_freshness
from orchestration.defs.scores import benchmarks, config_checks, score_checks
from orchestration.defs.scores.checks import BENCHMARKS, CONFIGURATION, SCORE_INVARIANTS
from tests.conftest import make_raw_editable


@pytest.fixture
def warehouse(refreshed, tmp_path: Path):
    copy = tmp_path / "checks.duckdb"
    shutil.copy(refreshed.warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        yield con


def replace_view(con, view: str, select: str) -> None:
    """Staging models are views; swapping one for a table with altered rows is the quickest fake feed."""
    con.execute(f"create table {view}_altered as {select}")
    con.execute(f"drop view {view}")
    con.execute(f"alter table {view}_altered rename to {view.split('.')[1]}")


def one_scored_row(con) -> tuple[str, dt.date]:
    return con.execute(
        "select account_id, score_date from marts.account_health_history where health_score is not null "
        "order by account_id, score_date limit 1 offset 100"
    ).fetchone()


@pytest.mark.parametrize("checks", [SCORE_INVARIANTS, CONFIGURATION])
def test_invariants_pass_on_the_refreshed_sample(warehouse, checks):
    for name, (_, function) in checks.items():
        outcome = function(warehouse)
        assert outcome.passed, (name, outcome.summary, outcome.metadata)


def test_benchmarks_pass_on_a_healthy_portfolio(warehouse):
    """With happy requesters and no cancellations in the window every benchmark passes (the small test
    portfolio is too noisy for its mid-market churn to stay in range)."""
    replace_view(warehouse, "staging.stg_crm__churn_events", "select * from staging.stg_crm__churn_events where false")
    replace_view(
        warehouse,
        "staging.stg_helpdesk__support_tickets",
        "select * replace (case when csat_rating is null then null else 5 end as csat_rating) "
        "from staging.stg_helpdesk__support_tickets",
    )
    for name, (_, function) in BENCHMARKS.items():
        outcome = function(warehouse)
        assert outcome.passed, (name, outcome.summary)


def test_benchmarks_run_on_the_refreshed_sample_and_report_their_figures(warehouse):
    for name, (_, function) in BENCHMARKS.items():
        outcome = function(warehouse)
        assert outcome.metadata["rating"] != "no benchmark", name
        assert "value" in outcome.metadata and outcome.summary, name


def test_score_out_of_range_fails_and_names_the_row(warehouse):
    account, day = one_scored_row(warehouse)
    warehouse.execute(
        "update marts.account_health_history set support_score = 120 where account_id = ? and score_date = ?",
        [account, day],
    )
    outcome = score_checks.scores_within_range(warehouse)
    assert not outcome.passed and outcome.metadata["failing_rows"] == 1
    assert outcome.metadata["examples"][0] == {
        "account_id": account,
        "score_date": str(day),
        "column": "support_score",
        "value": "120.000000",
    }


def test_band_inconsistent_with_thresholds_fails(warehouse):
    account, day = one_scored_row(warehouse)
    warehouse.execute(
        "update marts.account_health_history set health_score = 20, "
        "usage_contribution = usage_contribution - (health_score - 20), health_band = 'green' "
        "where account_id = ? and score_date = ?",
        [account, day],
    )
    outcome = score_checks.bands_match_thresholds(warehouse)
    assert not outcome.passed
    assert outcome.metadata["examples"][0]["expected_band"] == "red"
    assert score_checks.contributions_add_up(warehouse).passed


def test_contributions_not_adding_up_fail(warehouse):
    account, day = one_scored_row(warehouse)
    warehouse.execute(
        "update marts.account_health_history set health_score = health_score + 0.5 "
        "where account_id = ? and score_date = ?",
        [account, day],
    )
    outcome = score_checks.contributions_add_up(warehouse)
    assert not outcome.passed and outcome.metadata["examples"][0]["account_id"] == account


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("delete from marts.account_health_history where account_id = ? and score_date = ?", "missing days"),
        (
            "insert into marts.account_health_history select * from marts.account_health_history "
            "where account_id = ? and score_date = ?",
            "duplicate days",
        ),
    ],
)
def test_gaps_and_duplicates_in_the_history_fail(warehouse, change, problem):
    account, day = one_scored_row(warehouse)
    warehouse.execute(change, [account, day])
    outcome = score_checks.every_account_scored_once_per_day(warehouse)
    assert not outcome.passed
    assert {"account_id": account, "problem": problem, "amount": "1"} in outcome.metadata["examples"]


def test_current_account_missing_on_the_last_day_fails(warehouse):
    account = warehouse.execute(
        "select account_id from marts.account_health_scores where not is_churned order by 1 limit 1"
    ).fetchone()[0]
    warehouse.execute(
        "delete from marts.account_health_history where account_id = ? "
        "and score_date = (select max(score_date) from marts.account_health_history)",
        [account],
    )
    outcome = score_checks.every_account_scored_once_per_day(warehouse)
    assert not outcome.passed
    assert {"account_id": account, "problem": "not scored on the last day", "amount": "1"} in outcome.metadata[
        "examples"
    ]


def test_a_sudden_portfolio_drop_is_flagged(warehouse):
    warehouse.execute(
        "update marts.account_health_history set health_score = health_score * 0.6, health_band = 'red' "
        "where score_date = (select max(score_date) from marts.account_health_history)"
    )
    outcome = score_checks.portfolio_moves_plausibly(warehouse)
    assert not outcome.passed
    assert outcome.metadata["average_shift_points"] < -5 and outcome.metadata["red_share_shift"] > 0.05
    assert "average score moved" in outcome.summary and "red share moved" in outcome.summary


@pytest.mark.parametrize(
    ("change", "function", "expected"),
    [
        (
            "update scorecard.scorecard_components set weight = 0.5 where scorecard = 'smb' and component = 'usage'",
            config_checks.weights_are_valid,
            {"scorecard": "smb", "item": "components"},
        ),
        (
            "update scorecard.scorecard_measure_weights set weight = -0.1 where scorecard = 'smb' and measure = 'nps'",
            config_checks.weights_are_valid,
            {"scorecard": "smb", "item": "measure nps", "problem": "negative weight"},
        ),
        (
            "delete from scorecard.scorecard_components where scorecard = 'enterprise' and component = 'feedback'",
            config_checks.measures_map_to_components,
            {"scorecard": "enterprise", "measure": "csm_sentiment"},
        ),
        (
            "update scorecard.measure_bands set points = 100 where measure = 'max_days_overdue' and lower_bound = 60",
            config_checks.thresholds_are_monotonic,
            {"measure": "max_days_overdue", "problem": "points improve as the value gets worse"},
        ),
        (
            "update scorecard.measures set target_value = 0.01 where measure = 'active_user_ratio'",
            config_checks.thresholds_are_monotonic,
            {"measure": "active_user_ratio", "problem": "ramp runs against its direction"},
        ),
        (
            "update scorecard.health_bands set min_score = 45 where band = 'yellow'",
            config_checks.bands_cover_0_to_100,
            {"band": "yellow", "problem": "gap or overlap with the band below"},
        ),
    ],
)
def test_broken_configuration_fails_the_right_check(warehouse, change, function, expected):
    warehouse.execute(change)
    outcome = function(warehouse)
    assert not outcome.passed
    assert any(expected.items() <= example.items() for example in outcome.metadata["examples"]), outcome.metadata


def test_average_health_far_from_the_reference_warns(warehouse):
    warehouse.execute("update marts.account_health_scores set health_score = 95")
    outcome = benchmarks.average_health_score(warehouse)
    assert not outcome.passed and outcome.metadata["value"] == 95
    assert outcome.metadata["rating"] == "well above the reference of 72"


def test_too_many_red_accounts_warns(warehouse):
    warehouse.execute("update marts.account_health_scores set health_band = 'red' where health_score < 80")
    outcome = benchmarks.red_account_share(warehouse)
    assert not outcome.passed and outcome.metadata["value"] > 0.2
    assert outcome.metadata["rating"] == "above policy (more than 20%)"


def test_portfolio_nps_is_rated_on_the_usual_bands(warehouse):
    replace_view(
        warehouse,
        "staging.stg_surveys__survey_responses",
        "select * replace (3 as response_score) from staging.stg_surveys__survey_responses",
    )
    outcome = benchmarks.portfolio_nps(warehouse)
    assert not outcome.passed and outcome.metadata["value"] == -100 and outcome.metadata["rating"] == "poor"


def test_churn_above_the_segment_range_warns(warehouse):
    replace_view(
        warehouse,
        "staging.stg_crm__churn_events",
        "select account_id, 'cancellation' as churn_type, null as churn_reason, 0 as arr_lost_amount, "
        "true as is_cancellation, (select max(score_date) from marts.account_health_history) as churned_date "
        "from staging.stg_crm__accounts where segment = 'Enterprise'",
    )
    outcome = benchmarks.monthly_churn_rate(warehouse)
    assert not outcome.passed
    assert "Enterprise" in outcome.summary and "above the usual 1%" in outcome.metadata["per_segment"]["Enterprise"]


def test_unhappy_ticket_ratings_warn(warehouse):
    replace_view(
        warehouse,
        "staging.stg_helpdesk__support_tickets",
        "select * replace (1 as csat_rating) from staging.stg_helpdesk__support_tickets",
    )
    outcome = benchmarks.ticket_csat(warehouse)
    assert not outcome.passed and outcome.metadata["value"] == 0


def test_stale_source_warns_and_fresh_source_passes(warehouse):
    expectation = FreshnessExpectation("usage_events", "occurred_at", 2)
    newest = warehouse.execute("select cast(max(occurred_at) as date) from raw.usage_events").fetchone()[0]
    assert source_freshness(warehouse, expectation, newest + dt.timedelta(days=2)).passed
    stale = source_freshness(warehouse, expectation, newest + dt.timedelta(days=3))
    assert not stale.passed and stale.metadata["age_days"] == 3 and "is stale" in stale.summary
    make_raw_editable(warehouse, "usage_events")
    warehouse.execute("delete from raw.usage_events")
    assert not source_freshness(warehouse, expectation, newest).passed
