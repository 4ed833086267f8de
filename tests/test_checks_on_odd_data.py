"""Every Python check returns a result, with a message saying so, when there is nothing to compare: an empty
warehouse, a source that never loaded. A check that raises anyway fails as a check, naming itself and the
error, instead of crashing its step."""

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.checks.benchmarks import BENCHMARKS
from orchestration.defs.checks.outcome import Outcome
from orchestration.defs.checks.results import run_checks
from orchestration.defs.ingestion.freshness import FreshnessExpectation, load_expectations, source_freshness

TODAY = dt.date(2026, 11, 1)


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
    """Every benchmark check and every freshness check, called as Dagster calls them; any exception fails
    the test."""
    outcomes = {name: function(con) for name, (_, function) in BENCHMARKS.items()}
    for source, expectation in load_expectations().items():
        outcomes[f"{source}_is_fresh"] = source_freshness(con, expectation, TODAY)
    for name, outcome in outcomes.items():
        assert isinstance(outcome, Outcome) and outcome.summary, name
    return outcomes


def test_every_check_returns_a_result_on_an_empty_warehouse(warehouse):
    empty_every_model(warehouse)
    outcomes = run_every_check(warehouse)
    for name in BENCHMARKS:
        assert outcomes[name].passed and outcomes[name].summary.endswith(": no data, nothing to compare"), name
    assert outcomes["usage_events_is_fresh"].summary == "usage_events is empty (expected rows no older than 2 days)"
    assert outcomes["churn_events_is_fresh"].summary == "churn_events has no rows; no age expectation"


def test_freshness_of_a_source_that_never_loaded_is_a_result(warehouse):
    warehouse.execute("drop view raw.csm_ratings")
    outcome = source_freshness(warehouse, FreshnessExpectation("csm_ratings", "rated_on", 90), TODAY)
    assert not outcome.passed and outcome.summary == "raw.csm_ratings does not exist: the source has never loaded"


def crashing_check(con) -> Outcome:
    """Fails the way an issue once saw a check on the portfolio's daily averages fail."""
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
