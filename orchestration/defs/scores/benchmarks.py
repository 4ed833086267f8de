"""The portfolio measured against the usual reference figures in seeds/benchmarks.csv. Informational:
a value outside the expected ranges raises a warning and never blocks publishing."""

import duckdb

from orchestration.defs.scores.outcome import Outcome

SCORES = "marts.account_health_scores"


def _window(con: duckdb.DuckDBPyConnection) -> tuple | None:
    """The last scored day and the window length (the window ends on the last scored day); None while the
    history is empty."""
    days = con.execute("select value from scorecard.check_settings where setting = 'benchmark_window_days'").fetchone()
    if days is None or days[0] is None:
        raise ValueError("seeds/check_settings.csv has no benchmark_window_days")
    last = con.execute("select max(score_date) from marts.account_health_history").fetchone()[0]
    return None if last is None else (last, int(days[0]))


# Benchmarks describe the portfolio; before the first scored day there is none to describe.
NO_HISTORY = Outcome(True, "no scored day in the history yet: nothing to compare", {"value": None, "rating": "no data"})


def _rate(con: duckdb.DuckDBPyConnection, benchmark: str, value: float | None, segment: str = "all") -> dict:
    """The benchmark range a value falls into: its rating, whether it is expected, and the range itself."""
    if value is None:
        return {"value": None, "rating": "no data", "is_expected": True, "range": ""}
    row = con.execute(
        "select rating, is_expected, lower_bound, upper_bound from scorecard.benchmarks "
        "where benchmark = ? and segment = ? and (lower_bound is null or ? >= lower_bound) "
        "and (upper_bound is null or ? < upper_bound)",
        [benchmark, segment, value, value],
    ).fetchone()
    if row is None:
        return {"value": round(value, 4), "rating": "no benchmark", "is_expected": True, "range": ""}
    rating, expected, low, high = row
    bounds = f"{'' if low is None else f'{low:g}'} .. {'' if high is None else f'{high:g}'}"
    return {"value": round(value, 4), "rating": rating, "is_expected": bool(expected), "range": bounds}


def _outcome(name: str, rated: dict, extra: dict | None = None, percent: bool = False) -> Outcome:
    metadata = {**rated, **(extra or {})}
    value = rated["value"]
    if value is None:
        return Outcome(True, f"{name}: no data, nothing to compare", metadata)
    shown = f"{value:.1%}" if percent else f"{value:.1f}"
    return Outcome(rated["is_expected"], f"{name} {shown}: {rated['rating']}", metadata)


def portfolio_nps(con: duckdb.DuckDBPyConnection) -> Outcome:
    window = _window(con)
    if window is None:
        return NO_HISTORY
    last, days = window
    answers, nps = con.execute(
        "select count(*), 100.0 * (count(*) filter (where response_score >= 9) "
        "- count(*) filter (where response_score <= 6)) / nullif(count(*), 0) "
        "from staging.stg_surveys__survey_responses where survey_type = 'nps' "
        "and responded_date > ? - to_days(?) and responded_date <= ?",
        [last, days, last],
    ).fetchone()
    return _outcome("portfolio NPS", _rate(con, "portfolio_nps", nps), {"answers": answers, "window_days": days})


def monthly_churn_rate(con: duckdb.DuckDBPyConnection) -> Outcome:
    """Cancellations in the window per account active at its start, scaled to 30 days, overall and per segment."""
    window = _window(con)
    if window is None:
        return NO_HISTORY
    last, days = window
    rows = con.execute(
        """
        with window_bounds as (select cast(? as date) - to_days(?) as start_day, cast(? as date) as end_day),
        cancellations as (
            select account_id, min(churned_date) as churned_date
            from staging.stg_crm__churn_events where is_cancellation group by account_id
        ),
        active_at_start as (
            select accounts.segment, accounts.account_id, cancellations.churned_date
            from staging.stg_crm__accounts as accounts
            cross join window_bounds
            left join cancellations using (account_id)
            where accounts.contract_start_date <= window_bounds.start_day
              and (cancellations.churned_date is null or cancellations.churned_date > window_bounds.start_day)
        )
        select coalesce(segment, 'all'), count(*) as active_accounts,
               count(*) filter (where churned_date <= (select end_day from window_bounds)) as cancelled
        from active_at_start group by grouping sets ((), (segment))
        """,
        [last, days, last],
    ).fetchall()
    results = {}
    for segment, active, cancelled in rows:
        rate = cancelled / active * 30 / days if active else None
        results[segment] = {
            **_rate(con, "monthly_churn_rate", rate, segment),
            "active_at_start": active,
            "cancelled": cancelled,
        }
    overall = results.pop("all", _rate(con, "monthly_churn_rate", None))
    unexpected = [s for s, r in results.items() if not r["is_expected"]]
    passed = overall["is_expected"] and not unexpected
    per_segment = {s: f"{r['value']:.2%} ({r['rating']})" for s, r in sorted(results.items()) if r["value"] is not None}
    shown = "n/a" if overall["value"] is None else f"{overall['value']:.2%}"
    segments = ", ".join(f"{s} {r['value']:.1%}" for s, r in sorted(results.items()) if r["value"] is not None)
    summary = (
        f"monthly churn {shown}: {overall['rating']}"
        + (f" ({segments})" if segments else "")
        + (f"; outside the usual range: {', '.join(unexpected)}" if unexpected else "")
    )
    return Outcome(passed, summary, {**overall, "per_segment": per_segment, "window_days": days})


def average_health_score(con: duckdb.DuckDBPyConnection) -> Outcome:
    accounts, average = con.execute(
        f"select count(health_score), avg(health_score) from {SCORES} where not is_churned"
    ).fetchone()
    value = None if average is None else float(average)
    return _outcome("average health", _rate(con, "average_health_score", value), {"scored_accounts": accounts})


def ticket_csat(con: duckdb.DuckDBPyConnection) -> Outcome:
    window = _window(con)
    if window is None:
        return NO_HISTORY
    last, days = window
    ratings, satisfied = con.execute(
        "select count(csat_rating), count(*) filter (where csat_rating >= 4) / nullif(count(csat_rating), 0) "
        "from staging.stg_helpdesk__support_tickets where resolved_date > ? - to_days(?) and resolved_date <= ?",
        [last, days, last],
    ).fetchone()
    value = None if satisfied is None else float(satisfied)
    return _outcome(
        "ticket CSAT (ratings 4-5)",
        _rate(con, "ticket_csat", value),
        {"ratings": ratings, "window_days": days},
        percent=True,
    )


def red_account_share(con: duckdb.DuckDBPyConnection) -> Outcome:
    scored, share = con.execute(
        f"select count(health_score), avg(case when health_band = 'red' then 1.0 else 0.0 end) "
        f"from {SCORES} where not is_churned and health_score is not null"
    ).fetchone()
    value = None if share is None else float(share)
    return _outcome("red share", _rate(con, "red_account_share", value), {"scored_accounts": scored}, percent=True)
