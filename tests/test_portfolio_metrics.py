"""The portfolio metrics, defined once (marts.portfolio_daily and the dbt semantic layer on it), against the same
figures computed by hand from the account-level marts, staging and the seeds of the sample's warehouse:
MetricFlow on the published file for one segment and day, and marts.portfolio_benchmarks for the portfolio."""

import datetime as dt

import duckdb
import pytest

from orchestration.semantic_layer import query_metrics

SEGMENT = "SMB"


def _window_days(con: duckdb.DuckDBPyConnection) -> int:
    return int(
        con.execute("select value from scorecard.check_settings where setting = 'benchmark_window_days'").fetchone()[0]
    )


def _segment_filter(segment: str | None, alias: str) -> str:
    return "" if segment is None else f" and {alias}.segment = '{segment}'"


def hand_figures(con: duckdb.DuckDBPyConnection, day: dt.date, segment: str | None) -> dict:
    """The figures of `day` for a segment (None: the portfolio) straight from history, account versions, staging
    and the seeds: every account or answer in the segment of its account version of the day it counts on."""
    days = _window_days(con)
    version_on = (
        "v.account_id = {a}.account_id and (v.version_number = 1 or {d} >= v.valid_from_date) "
        "and (v.valid_to_date is null or {d} <= v.valid_to_date)"
    )
    scored = con.execute(
        "select count(health_score), avg(health_score), avg(case when health_band = 'red' then 1.0 else 0.0 end) "
        "from marts.account_health_history as h where score_date = ? and health_score is not null"
        + _segment_filter(segment, "h"),
        [day],
    ).fetchone()
    # ARR of the red accounts in the reporting currency: each account's ARR through the euro at the seed's rate
    # valid on the day, to the cent.
    arr_at_risk = con.execute(
        f"""
        with rates as (
            select currency_code, units_per_eur,
                   row_number() over (partition by currency_code order by valid_from_date desc) as recency
            from scorecard.exchange_rates where valid_from_date <= ?
        ),
        reporting as (
            select units_per_eur from rates
            where recency = 1 and currency_code = (select value from scorecard.currency_settings
                                                   where setting = 'reporting_currency_code')
        )
        select coalesce(sum(round(cast(v.arr_amount as double) / r.units_per_eur
                                  * (select units_per_eur from reporting), 2)), 0)
        from marts.account_health_history as h
        join marts.dim_account_versions as v on {version_on.format(a="h", d="h.score_date")}
        join rates as r on r.currency_code = v.currency_code and r.recency = 1
        where h.score_date = ? and h.health_band = 'red'{_segment_filter(segment, "v")}
        """,
        [day, day],
    ).fetchone()[0]
    nps = con.execute(
        f"""
        select 100.0 * (count(*) filter (where s.response_score >= 9) - count(*) filter (where s.response_score <= 6))
               / count(*)
        from staging.stg_surveys__survey_responses as s
        join marts.dim_account_versions as v on {version_on.format(a="s", d="s.responded_date")}
        where s.survey_type = 'nps' and s.response_score is not null
          and s.responded_date > cast(? as date) - to_days(?) and s.responded_date <= ?{_segment_filter(segment, "v")}
        """,
        [day, days, day],
    ).fetchone()[0]
    csat = con.execute(
        f"""
        select count(*) filter (where t.csat_rating >= 4) / count(*)
        from staging.stg_helpdesk__support_tickets as t
        join marts.dim_account_versions as v on {version_on.format(a="t", d="t.resolved_date")}
        where t.csat_rating is not null
          and t.resolved_date > cast(? as date) - to_days(?) and t.resolved_date <= ?{_segment_filter(segment, "v")}
        """,
        [day, days, day],
    ).fetchone()[0]
    # Customers on the day before the window (first cancellation ends a contract), and who of them cancelled in it.
    active, cancelled = con.execute(
        f"""
        with start_day as (select cast(? as date) - to_days(?) as day),
        cancellations as (
            select account_id, min(churned_date) as churned_date
            from staging.stg_crm__churn_events where churn_type = 'cancellation' group by account_id
        )
        select count(*), count(*) filter (where c.churned_date <= ?)
        from staging.stg_crm__accounts as a
        cross join start_day
        left join cancellations as c on a.account_id = c.account_id
        join marts.dim_account_versions as v on {version_on.format(a="a", d="start_day.day")}
        where a.contract_start_date <= start_day.day
          and (c.churned_date is null or c.churned_date > start_day.day){_segment_filter(segment, "v")}
        """,
        [day, days, day],
    ).fetchone()
    return {
        "scored_accounts": scored[0],
        "average_health_score": float(scored[1]),
        "red_share": float(scored[2]),
        "arr_at_risk": float(arr_at_risk),
        "nps": float(nps),
        "ticket_csat": float(csat),
        "monthly_churn_rate": cancelled / active * 30 / days,
    }


def test_metricflow_on_the_published_file_equals_the_figures_by_hand(sample_run):
    assert sample_run.run.returncode == 0, sample_run.run.stdout[-3000:] + sample_run.run.stderr[-3000:]
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as working:
        day = working.execute("select max(score_date) from marts.account_health_history").fetchone()[0]
        earlier = day - dt.timedelta(days=45)
        expected = {when: hand_figures(working, when, SEGMENT) for when in (day, earlier)}
    metrics = list(expected[day])
    with duckdb.connect(str(sample_run.serving), read_only=True) as published:
        rows = query_metrics(
            published,
            metrics,
            group_by=["metric_time__day"],
            where=[
                "{{ Dimension('portfolio_day__dimension') }} = 'segment'",
                f"{{{{ Dimension('portfolio_day__dimension_value') }}}} = '{SEGMENT}'",
                f"{{{{ TimeDimension('metric_time', 'day') }}}} in ('{earlier}', '{day}')",
            ],
        )
    by_day = {row["metric_time__day"].date(): row for row in rows}
    assert set(by_day) == {day, earlier}
    for when, figures in expected.items():
        assert figures["scored_accounts"] > 0
        for metric, value in figures.items():
            assert float(by_day[when][metric]) == pytest.approx(value, rel=1e-9, abs=1e-6), (when, metric)


def test_portfolio_benchmarks_rate_the_figures_by_hand(sample_run):
    """Every figure the benchmark checks judge has its row, with the value computed by hand and the rating of
    the seed's range it falls into."""
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as working:
        day = working.execute("select max(score_date) from marts.account_health_history").fetchone()[0]
        segments = [
            row[0] for row in working.execute("select distinct segment from marts.account_health_history").fetchall()
        ]
        expected = {("all", None): hand_figures(working, day, None)}
        expected.update({(segment, segment): hand_figures(working, day, segment) for segment in segments})
        names = {
            "portfolio_nps": "nps",
            "monthly_churn_rate": "monthly_churn_rate",
            "average_health_score": "average_health_score",
            "ticket_csat": "ticket_csat",
            "red_account_share": "red_share",
        }
        rows = working.execute(
            "select benchmark, segment, value, rating, is_expected, lower_bound, upper_bound, score_date "
            "from marts.portfolio_benchmarks"
        ).fetchall()
        ranges = working.execute(
            "select benchmark, segment, rating, is_expected, lower_bound, upper_bound from scorecard.benchmarks"
        ).fetchall()
    rated = {(benchmark, segment): rest for benchmark, segment, *rest in rows}
    assert set(rated) == {(benchmark, key[0]) for benchmark in names for key in expected}
    for benchmark, figure in names.items():
        for (segment, _), figures in expected.items():
            value, rating, is_expected, low, high, score_date = rated[(benchmark, segment)]
            assert score_date == day
            assert value == pytest.approx(figures[figure], rel=1e-9, abs=1e-6), (benchmark, segment)
            matching = [
                (r, e, lo, hi)
                for b, s, r, e, lo, hi in ranges
                if b == benchmark and s == segment and (lo is None or value >= lo) and (hi is None or value < hi)
            ]
            assert [(rating, is_expected, low, high)] == (matching or [("no benchmark", True, None, None)])
