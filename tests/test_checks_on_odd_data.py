"""Every Python check returns a result, with a message saying so, when there is nothing to compare: an empty
warehouse, a history of one day, days without any score, NULL averages, empty configuration tables. A check
that raises anyway fails as a check, naming itself and the error, instead of crashing its step."""

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.ingestion.freshness import FreshnessExpectation, load_expectations, source_freshness
from orchestration.defs.scores import benchmarks, config_checks, score_checks
from orchestration.defs.scores.checks import BENCHMARKS, CONFIGURATION, SCORE_INVARIANTS
from orchestration.defs.scores.dagster_checks import run_checks
from orchestration.defs.scores.outcome import Outcome

EVERY_CHECK = {**SCORE_INVARIANTS, **CONFIGURATION, **BENCHMARKS}
TODAY = dt.date(2026, 11, 1)
LAST_DAY = "(select max(score_date) from marts.account_health_history)"


@pytest.fixture
def warehouse(refreshed, tmp_path: Path):
    copy = tmp_path / "odd.duckdb"
    shutil.copy(refreshed.warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        yield con


def empty_every_model(con) -> None:
    """The warehouse as after a refresh of exports without rows: every raw view, model and mart exists with
    its columns but holds nothing. The scoring configuration (schema scorecard) stays."""
    views = con.execute(
        "select schema_name, view_name from duckdb_views() "
        "where not internal and schema_name in ('raw', 'staging', 'intermediate', 'marts')"
    ).fetchall()
    for schema, view in views:
        con.execute(f"create table {schema}.{view}__empty as select * from {schema}.{view} limit 0")
    for schema, view in views:
        con.execute(f"drop view {schema}.{view}")
        con.execute(f"alter table {schema}.{view}__empty rename to {view}")
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where schema_name in ('raw', 'staging', 'intermediate', 'marts')"
    ).fetchall()
    for schema, table in tables:
        con.execute(f"delete from {schema}.{table}")


def run_every_check(con) -> dict[str, Outcome]:
    """Every score, configuration and benchmark check and every freshness check, called as Dagster calls
    them; any exception fails the test."""
    outcomes = {name: function(con) for name, (_, function) in EVERY_CHECK.items()}
    for source, expectation in load_expectations().items():
        outcomes[f"{source}_is_fresh"] = source_freshness(con, expectation, TODAY)
    for name, outcome in outcomes.items():
        assert isinstance(outcome, Outcome) and outcome.summary, name
    return outcomes


def test_every_check_returns_a_result_on_an_empty_warehouse(warehouse):
    empty_every_model(warehouse)
    outcomes = run_every_check(warehouse)
    for name in SCORE_INVARIANTS:
        assert outcomes[name].passed, (name, outcomes[name].summary)
        assert outcomes[name].summary == "the history holds no rows yet: nothing to check", name
    for name in ("benchmark_portfolio_nps", "benchmark_monthly_churn_rate", "benchmark_ticket_csat"):
        assert outcomes[name].summary == "no scored day in the history yet: nothing to compare", name
    assert outcomes["benchmark_average_health_score"].summary == "average health: no data, nothing to compare"
    assert outcomes["benchmark_red_account_share"].summary == "red share: no data, nothing to compare"
    assert all(outcomes[name].passed for name in CONFIGURATION), "the configuration is untouched"
    assert outcomes["usage_events_is_fresh"].summary == "usage_events is empty (expected rows no older than 2 days)"
    assert outcomes["churn_events_is_fresh"].summary == "churn_events has no rows; no age expectation"


def test_every_check_returns_a_result_on_a_one_day_history(warehouse):
    warehouse.execute(f"delete from marts.account_health_history where score_date < {LAST_DAY}")
    outcomes = run_every_check(warehouse)
    plausible = outcomes["portfolio_moves_plausibly"]
    assert plausible.passed and plausible.summary.endswith("in the history: nothing to compare yet")
    assert plausible.metadata == {"days_compared": 1}
    for name in SCORE_INVARIANTS:
        assert outcomes[name].passed, (name, outcomes[name].summary)


def test_days_without_any_score_are_compared_without_crashing(warehouse):
    """The issue's TypeError (NoneType - NoneType): the average of a day without scores is NULL."""
    warehouse.execute(
        f"update marts.account_health_history set health_score = null, health_band = null "
        f"where score_date >= {LAST_DAY} - interval 1 day"
    )
    both_days = score_checks.portfolio_moves_plausibly(warehouse)
    assert both_days.passed and both_days.summary.startswith("no account has a score on")
    assert both_days.summary.endswith(": nothing to compare")
    assert both_days.metadata["scored_accounts"] == both_days.metadata["previously_scored_accounts"] == 0


def test_every_score_vanishing_overnight_fails_as_a_broken_feed(warehouse):
    warehouse.execute(
        f"update marts.account_health_history set health_score = null, health_band = null where score_date = {LAST_DAY}"
    )
    outcome = score_checks.portfolio_moves_plausibly(warehouse)
    assert not outcome.passed
    assert outcome.summary.startswith("no account has a score on ") and "had one on" in outcome.summary
    assert outcome.metadata["scored_accounts"] == 0 and outcome.metadata["previously_scored_accounts"] > 0


def test_scores_coming_back_after_a_day_without_any_are_not_compared(warehouse):
    warehouse.execute(
        f"update marts.account_health_history set health_score = null, health_band = null "
        f"where score_date = {LAST_DAY} - interval 1 day"
    )
    outcome = score_checks.portfolio_moves_plausibly(warehouse)
    assert outcome.passed and outcome.summary.startswith("no account had a score on ")


def test_benchmarks_report_null_averages_as_no_data(warehouse):
    warehouse.execute("update marts.account_health_scores set health_score = null, health_band = null")
    for function in (benchmarks.average_health_score, benchmarks.red_account_share):
        outcome = function(warehouse)
        assert outcome.passed and outcome.summary.endswith(": no data, nothing to compare")
        assert outcome.metadata["value"] is None and outcome.metadata["scored_accounts"] == 0


def test_churn_benchmark_without_accounts_in_the_window_reports_no_data(warehouse):
    warehouse.execute("create table staging.no_accounts as select * from staging.stg_crm__accounts limit 0")
    warehouse.execute("drop view staging.stg_crm__accounts")
    warehouse.execute("alter table staging.no_accounts rename to stg_crm__accounts")
    outcome = benchmarks.monthly_churn_rate(warehouse)
    assert outcome.passed and outcome.summary == "monthly churn n/a: no data"


@pytest.mark.parametrize(
    ("table", "function", "seed"),
    [
        ("scorecard_components", config_checks.weights_are_valid, "scorecard_components"),
        ("measures", config_checks.measures_map_to_components, "measures"),
        ("health_bands", config_checks.bands_cover_0_to_100, "health_bands"),
    ],
)
def test_an_empty_configuration_table_fails_instead_of_passing_vacuously(warehouse, table, function, seed):
    assert function(warehouse).passed
    warehouse.execute(f"delete from scorecard.{table}")
    outcome = function(warehouse)
    assert not outcome.passed
    assert outcome.summary == f"seeds/{seed}.csv has no rows: nothing can be scored"


def test_a_missing_check_setting_is_named(warehouse):
    warehouse.execute("delete from scorecard.check_settings where setting = 'max_daily_red_share_shift'")
    outcome = score_checks.portfolio_moves_plausibly(warehouse)
    assert not outcome.passed and outcome.summary == "seeds/check_settings.csv has no max_daily_red_share_shift"


def test_freshness_of_a_source_that_never_loaded_is_a_result(warehouse):
    warehouse.execute("drop view raw.csm_ratings")
    outcome = source_freshness(warehouse, FreshnessExpectation("csm_ratings", "rated_on", 90), TODAY)
    assert not outcome.passed and outcome.summary == "raw.csm_ratings does not exist: the source has never loaded"


def crashing_check(con) -> Outcome:
    """Fails the way the issue saw portfolio_moves_plausibly fail."""
    return None - None


def test_a_check_that_raises_fails_as_a_check_naming_itself_and_the_error():
    """Through Dagster: the step succeeds and the crash is the check's failed result, next to the results of
    the other checks in the same step."""
    asset = dg.AssetKey(["marts", "anything"])
    checks = {
        name: (dg.AssetCheckSpec(name, asset=asset), function)
        for name, function in {"crashes": crashing_check, "passes": lambda con: Outcome(True, "fine")}.items()
    }

    @dg.asset(key=asset)
    def anything() -> None:
        return None

    @dg.multi_asset_check(specs=[spec for spec, _ in checks.values()], can_subset=True)
    def guarded(context: dg.AssetCheckExecutionContext):
        with duckdb.connect() as con:
            yield from run_checks(con, checks, dg.AssetCheckSeverity.ERROR, context)

    result = dg.materialize([anything, guarded], raise_on_error=False)
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["passes"].passed
    crashed = evaluations["crashes"]
    assert not crashed.passed and crashed.severity == dg.AssetCheckSeverity.ERROR
    assert crashed.description == (
        "crashes could not run: TypeError: unsupported operand type(s) for -: 'NoneType' and 'NoneType'"
    )
    assert crashed.metadata["error_type"].value == "TypeError"
