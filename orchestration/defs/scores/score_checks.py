"""Invariants of the published scores. Each returns an Outcome; any failure blocks publishing."""

import functools
from collections.abc import Callable

import duckdb

from orchestration.defs.scores.outcome import Outcome, violations

HISTORY = "marts.account_health_history"
COMPONENTS = ("usage", "support", "payment", "feedback", "milestones")


def _needs_history(check: Callable[[duckdb.DuckDBPyConnection], Outcome]):
    """An empty history passes every invariant vacuously; say so instead of reporting "no problems"."""

    @functools.wraps(check)
    def checked(con: duckdb.DuckDBPyConnection) -> Outcome:
        if not con.execute(f"select count(*) from {HISTORY}").fetchone()[0]:
            return Outcome(True, "the history holds no rows yet: nothing to check", {"history_rows": 0})
        return check(con)

    return checked


@_needs_history
def scores_within_range(con: duckdb.DuckDBPyConnection) -> Outcome:
    columns = ("health_score", *(f"{c}_score" for c in COMPONENTS))
    checks = " union all ".join(
        f"select account_id, score_date, '{column}', {column} from {HISTORY} where {column} < 0 or {column} > 100"
        for column in columns
    )
    return violations(
        con, checks, ["account_id", "score_date", "column", "value"], "scores outside 0-100", "0 <= score <= 100"
    )


@_needs_history
def bands_match_thresholds(con: duckdb.DuckDBPyConnection) -> Outcome:
    query = f"""
        select history.account_id, history.score_date, history.health_score, history.health_band,
               expected.band as expected_band
        from {HISTORY} as history
        left join scorecard.health_bands as expected
            on history.health_score >= expected.min_score
            and (history.health_score < expected.max_score
                 or (expected.max_score = 100 and history.health_score = 100))
        where history.health_band is distinct from expected.band
    """
    return violations(
        con,
        query,
        ["account_id", "score_date", "health_score", "health_band", "expected_band"],
        "scores labelled with the wrong band",
        "band = seeds/health_bands.csv range of the score",
    )


@_needs_history
def contributions_add_up(con: duckdb.DuckDBPyConnection) -> Outcome:
    parts = " + ".join(f"{c}_contribution" for c in COMPONENTS)
    query = f"""
        select account_id, score_date, health_score, {parts} + cap_adjustment as contribution_sum
        from {HISTORY}
        where health_score is not null and health_score <> {parts} + cap_adjustment
    """
    return violations(
        con,
        query,
        ["account_id", "score_date", "health_score", "contribution_sum"],
        "scores whose contributions do not add up",
        "health_score = contributions + cap_adjustment",
    )


@_needs_history
def every_account_scored_once_per_day(con: duckdb.DuckDBPyConnection) -> Outcome:
    """Each account has exactly one row per day from its first to its last scored day, and every current
    account reaches the last scored day (churned accounts stop the day before their cancellation)."""
    query = f"""
        with per_account as (
            select account_id, count(*) as rows_, count(distinct score_date) as days,
                   min(score_date) as first_day, max(score_date) as last_day
            from {HISTORY} group by account_id
        ),
        latest as (select max(score_date) as last_day from {HISTORY}),
        current_accounts as (
            select scores.account_id from marts.account_health_scores as scores where not scores.is_churned
        )
        select per_account.account_id, 'duplicate days' as problem, per_account.rows_ - per_account.days as amount
        from per_account where per_account.rows_ <> per_account.days
        union all
        select account_id, 'missing days', datediff('day', first_day, last_day) + 1 - days
        from per_account where datediff('day', first_day, last_day) + 1 <> days
        union all
        select current_accounts.account_id, 'not scored on the last day', 1
        from current_accounts
        cross join latest
        left join per_account on current_accounts.account_id = per_account.account_id
        where per_account.last_day is null or per_account.last_day < latest.last_day
    """
    outcome = violations(
        con,
        query,
        ["account_id", "problem", "amount"],
        "gaps or duplicates in the daily history",
        "one row per account and day",
    )
    coverage = con.execute(
        f"select count(*), count(health_score), avg(coverage), min(coverage) from {HISTORY} "
        f"where score_date = (select max(score_date) from {HISTORY})"
    ).fetchone()
    metadata = {
        **outcome.metadata,
        "accounts_on_last_day": coverage[0],
        "scored_on_last_day": coverage[1],
        "average_coverage": round(float(coverage[2] or 0), 4),
        "lowest_coverage": round(float(coverage[3] or 0), 4),
    }
    return Outcome(outcome.passed, outcome.summary, metadata)


@_needs_history
def portfolio_moves_plausibly(con: duckdb.DuckDBPyConnection) -> Outcome:
    """A broken feed looks like a mass churn event: flag a day-over-day jump of the portfolio average or of
    the share of red accounts beyond the limits in seeds/check_settings.csv."""
    limits = dict(con.execute("select setting, value from scorecard.check_settings").fetchall())
    rows = con.execute(f"""
        select score_date, count(health_score), avg(health_score),
               avg(case when health_band = 'red' then 1.0 else 0.0 end) filter (where health_score is not null)
        from {HISTORY}
        where score_date >= (select max(score_date) - interval 1 day from {HISTORY})
        group by score_date order by score_date
    """).fetchall()
    if len(rows) < 2:
        return Outcome(
            True, f"no day before {rows[0][0]} in the history: nothing to compare yet", {"days_compared": len(rows)}
        )
    (previous_day, previous_scored, previous_mean, previous_red), (day, scored, mean, red) = rows
    counts = {"day": str(day), "scored_accounts": scored, "previously_scored_accounts": previous_scored}
    if not scored and previous_scored:
        # Every score vanishing overnight is the broken feed this check exists for, not "nothing to compare".
        return Outcome(False, f"no account has a score on {day}; {previous_scored} had one on {previous_day}", counts)
    if not scored and not previous_scored:
        return Outcome(True, f"no account has a score on {previous_day} or {day}: nothing to compare", counts)
    if not previous_scored:
        return Outcome(True, f"no account had a score on {previous_day}: nothing to compare {day} with", counts)
    missing = [name for name in ("max_daily_average_shift_points", "max_daily_red_share_shift") if name not in limits]
    if missing:
        return Outcome(False, f"seeds/check_settings.csv has no {' and no '.join(missing)}", counts)
    mean_shift = float(mean - previous_mean)
    red_shift = float(red - previous_red)
    mean_limit = limits["max_daily_average_shift_points"]
    red_limit = limits["max_daily_red_share_shift"]
    metadata = {
        **counts,
        "average_score": round(float(mean), 2),
        "previous_average_score": round(float(previous_mean), 2),
        "average_shift_points": round(mean_shift, 2),
        "average_shift_limit": mean_limit,
        "red_share": round(float(red), 4),
        "previous_red_share": round(float(previous_red), 4),
        "red_share_shift": round(red_shift, 4),
        "red_share_shift_limit": red_limit,
    }
    problems = []
    if abs(mean_shift) > mean_limit:
        problems.append(
            f"average score moved {mean_shift:+.1f} points from {previous_day} to {day} (limit {mean_limit:g})"
        )
    if abs(red_shift) > red_limit:
        problems.append(f"red share moved {red_shift:+.1%} from {previous_day} to {day} (limit {red_limit:.0%})")
    if problems:
        return Outcome(False, "; ".join(problems), metadata)
    return Outcome(
        True, f"average {float(mean):.1f} ({mean_shift:+.2f}), red share {float(red):.1%} ({red_shift:+.2%})", metadata
    )
