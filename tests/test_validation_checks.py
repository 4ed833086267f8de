"""The Python checks (what dbt cannot express) pass on good data and fail, with metadata a person can act on,
on data that breaks them. The data rules are dbt tests: tests/test_dbt_checks.py shows them failing."""

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.defs.checks.benchmarks import BENCHMARKS, benchmark_names, rate_benchmark
from orchestration.defs.ingestion.freshness import FreshnessExpectation, source_freshness
from tests.conftest import make_raw_editable

SCORE_DATE = dt.date(2026, 10, 31)


@pytest.fixture
def warehouse(refreshed, tmp_path: Path):
    copy = tmp_path / "checks.duckdb"
    shutil.copy(refreshed.warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        yield con


@pytest.fixture
def rated(con):
    """An empty marts.portfolio_benchmarks with the mart's contract; `rows` adds what the mart would hold."""
    con.execute("create schema marts")
    con.execute(
        "create table marts.portfolio_benchmarks (score_date date, benchmark varchar, segment varchar, "
        "value double, rating varchar, is_expected boolean, lower_bound double, upper_bound double, "
        "observation_count bigint)"
    )

    def rows(*values: tuple) -> duckdb.DuckDBPyConnection:
        for row in values:
            con.execute(
                "insert into marts.portfolio_benchmarks values (?, ?, ?, ?, ?, ?, ?, ?, ?)", [SCORE_DATE, *row, 120]
            )
        return con

    return rows


def test_one_benchmark_check_per_benchmark_of_the_seed():
    assert set(BENCHMARKS) == {f"benchmark_{name}" for name in benchmark_names()}
    assert "benchmark_monthly_churn_rate" in BENCHMARKS and len(BENCHMARKS) == 5


def test_a_benchmark_in_its_expected_range_passes_with_the_marts_figure_and_rating(rated):
    con = rated(("portfolio_nps", "all", 23.5, "good", True, 0, 30))
    outcome = rate_benchmark(con, "portfolio_nps")
    assert outcome.passed and outcome.summary == "portfolio NPS 23.5: good"
    assert outcome.metadata == {
        "value": 23.5,
        "rating": "good",
        "is_expected": True,
        "range": "0 .. 30",
        "observations": 120,
        "score_date": str(SCORE_DATE),
        "per_segment": None,
    }


def test_a_benchmark_outside_its_expected_range_warns(rated):
    con = rated(("red_account_share", "all", 0.25, "above policy (more than 20%)", False, 0.2, None))
    outcome = rate_benchmark(con, "red_account_share")
    assert not outcome.passed
    assert outcome.summary == "red share 25.0%: above policy (more than 20%)"
    assert outcome.metadata["range"] == "0.2 .. "


def test_a_segment_outside_its_range_warns_though_the_portfolio_is_fine(rated):
    con = rated(
        ("monthly_churn_rate", "all", 0.02, "below 5%", True, None, 0.05),
        ("monthly_churn_rate", "Enterprise", 0.015, "above the usual 1%", False, 0.01, None),
        ("monthly_churn_rate", "SMB", 0.04, "usual 3-7%", True, 0.03, 0.07),
    )
    outcome = rate_benchmark(con, "monthly_churn_rate")
    assert not outcome.passed
    assert outcome.summary == (
        "monthly churn 2.0%: below 5% (Enterprise 1.5%, SMB 4.0%); outside the usual range: Enterprise"
    )
    assert outcome.metadata["per_segment"] == {"Enterprise": "1.5% (above the usual 1%)", "SMB": "4.0% (usual 3-7%)"}


@pytest.mark.parametrize(
    "rows",
    [(), (("ticket_csat", "all", None, "no data", True, None, None),)],
    ids=["no row in the mart", "no figure (no ratings in the window)"],
)
def test_a_benchmark_without_a_figure_reports_no_data(rated, rows):
    outcome = rate_benchmark(rated(*rows), "ticket_csat")
    assert outcome.passed and outcome.summary == "ticket CSAT (ratings 4-5): no data, nothing to compare"


def test_a_figure_no_range_holds_is_reported_not_judged_and_unrated_segments_are_left_out(rated):
    con = rated(
        ("average_health_score", "all", 72.0, "no benchmark", True, None, None),
        ("average_health_score", "SMB", 40.0, "no benchmark", True, None, None),
    )
    outcome = rate_benchmark(con, "average_health_score")
    assert outcome.passed and outcome.summary == "average health 72.0: no benchmark"


def test_benchmark_checks_report_the_marts_figures_on_the_refreshed_sample(warehouse):
    """Nothing is computed in Python: each check states the value and rating of the mart's portfolio row."""
    for name, (_, function) in BENCHMARKS.items():
        value, rating = warehouse.execute(
            "select value, rating from marts.portfolio_benchmarks where benchmark = ? and segment = 'all'",
            [name.removeprefix("benchmark_")],
        ).fetchone()
        outcome = function(warehouse)
        assert value is not None and rating not in ("no data", "no benchmark"), name
        assert (outcome.metadata["value"], outcome.metadata["rating"]) == (round(value, 4), rating), name


def test_stale_source_warns_and_fresh_source_passes(warehouse):
    expectation = FreshnessExpectation("usage_events", "occurred_at", 2)
    newest = warehouse.execute("select cast(max(occurred_at) as date) from raw.usage_events").fetchone()[0]
    assert source_freshness(warehouse, expectation, newest + dt.timedelta(days=2)).passed
    stale = source_freshness(warehouse, expectation, newest + dt.timedelta(days=3))
    assert not stale.passed and stale.metadata["age_days"] == 3 and "is stale" in stale.summary
    make_raw_editable(warehouse, "usage_events")
    warehouse.execute("delete from raw.usage_events")
    assert not source_freshness(warehouse, expectation, newest).passed
