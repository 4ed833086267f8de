"""What a report shows, read from the published serving file (read-only; only checked scores reach it).

Only the account's own rows are read, and of them only the columns a customer may see: never the CSM, the
contact, survey comments, internal action wording, churn probabilities or any other account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

# The published tables the report reads (each must be in PUBLISHED_TABLES of orchestration/defs/serving/publish.py).
READ_TABLES = [
    "account_health_scores",
    "account_health_history",
    "fct_health_score_contributions",
    "scorecard_config_versions",
    "account_actions",
]


class ReportDataError(LookupError):
    """The serving file cannot give a report for this account; the message says why."""


@dataclass(frozen=True)
class Band:
    band: str
    min_score: float
    max_score: float


@dataclass(frozen=True)
class MeasureResult:
    measure: str
    unit: str
    window_days: int
    measure_value: float
    measure_points: float
    contribution: float
    points_lost: float


@dataclass(frozen=True)
class NextStep:
    priority: int
    customer_step: str
    due_date: dt.date | None


@dataclass(frozen=True)
class AccountReportData:
    account_id: str
    account_name: str
    country_code: str | None
    language: str
    health_score: float
    health_band: str
    trend: str
    change_30d: float | None
    score_date: dt.date
    bands: list[Band]
    # (score_date, health_score or None) for every day of the chart's period the history holds.
    history: list[tuple[dt.date, float | None]]
    measures: list[MeasureResult]
    next_steps: list[NextStep]


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` months earlier (the month's last day when it has fewer days)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    next_month = dt.date(year + (month == 12), month % 12 + 1, 1)
    return dt.date(year, month, min(day.day, (next_month - dt.timedelta(days=1)).day))


def connect(serving: Path) -> duckdb.DuckDBPyConnection:
    if not serving.is_file():
        raise ReportDataError(f"no serving file at {serving}: run `make run` first (it publishes the checked scores)")
    con = duckdb.connect(str(serving), read_only=True)
    present = {
        row[0] for row in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
    }
    if missing := [table for table in READ_TABLES if table not in present]:
        con.close()
        raise ReportDataError(
            f"the serving file {serving} has no marts.{', marts.'.join(missing)}: publish it with `make run` "
            "(orchestration/defs/serving/publish.py, PUBLISHED_TABLES)"
        )
    return con


def current_accounts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The accounts a report can be made for: customers today (not churned) with a score."""
    return [
        row[0]
        for row in con.execute(
            "select account_id from marts.account_health_scores "
            "where not is_churned and health_score is not null order by account_id"
        ).fetchall()
    ]


def _config_rows(con: duckdb.DuckDBPyConnection, config_version: str, seed: str, fields: int) -> list[list[str]]:
    """The first `fields` columns of a seed's rows in the configuration that computed the score. The columns
    read are identifiers and numbers, which never hold the separator; later free-text columns may."""
    rows = con.execute(
        "select config_row from marts.scorecard_config_versions where config_version = ? and seed_name = ?",
        [config_version, seed],
    ).fetchall()
    if not rows:
        raise ReportDataError(f"configuration {config_version} has no {seed} rows in marts.scorecard_config_versions")
    return [row[0].split("|")[:fields] for row in rows]


def load_account(
    con: duckdb.DuckDBPyConnection, account_id: str, chart_months: int, language_for: Callable[[str | None], str]
) -> AccountReportData:
    """Everything the report of `account_id` shows, for its latest published score date, in the language
    `language_for` picks from its country."""
    account = con.execute(
        "select account_name, country_code, health_score, health_band, trend, change_30d, score_date, is_churned, "
        "config_version, status_reason from marts.account_health_scores where account_id = ?",
        [account_id],
    ).fetchone()
    if account is None:
        raise ReportDataError(f"no account {account_id} in marts.account_health_scores")
    name, country, score, band, trend, change_30d, score_date, is_churned, config_version, status_reason = account
    if is_churned:
        raise ReportDataError(f"{account_id} is no longer a customer (churned); a health report is for customers")
    if score is None:
        raise ReportDataError(f"{account_id} has no health score: {status_reason}")

    # Bands: band|min_score|max_score|description; measures: measure|component|window_days|direction|
    # normalisation|floor_value|target_value|unit|label|...
    bands = sorted(
        (
            Band(band_name, float(low), float(high))
            for band_name, low, high in _config_rows(con, config_version, "health_bands", 3)
        ),
        key=lambda b: b.min_score,
    )
    measure_config = {
        fields[0]: (int(fields[2]), fields[7]) for fields in _config_rows(con, config_version, "measures", 8)
    }

    start = months_before(score_date, chart_months)
    history = con.execute(
        "select score_date, cast(health_score as double) from marts.account_health_history "
        "where account_id = ? and score_date > ? and score_date <= ? order by score_date",
        [account_id, start, score_date],
    ).fetchall()

    # Measures that count in the account's scorecard and had data on the score date; points lost as dbt's
    # top-driver rule counts them: effective weight x (100 - points).
    contributions = con.execute(
        "select measure, measure_value, cast(measure_points as double), cast(contribution as double), "
        "cast(effective_weight * (100 - measure_points) as double) "
        "from marts.fct_health_score_contributions "
        "where account_id = ? and score_date = ? and has_data and scorecard_weight > 0 order by measure",
        [account_id, score_date],
    ).fetchall()
    measures = []
    for measure, value, points, contribution, lost in contributions:
        if measure not in measure_config:
            raise ReportDataError(f"measure {measure} is not in configuration {config_version}")
        window_days, unit = measure_config[measure]
        measures.append(MeasureResult(measure, unit, window_days, value, points, contribution, lost))

    language = language_for(country)
    step_column = f"customer_step_{language}"
    columns = {row[0] for row in con.execute("describe marts.account_actions").fetchall()}
    if step_column not in columns:
        raise ReportDataError(f"marts.account_actions has no column {step_column} for reports in {language!r}")
    steps = con.execute(
        f"select priority, {step_column}, due_date from marts.account_actions "
        "where account_id = ? and score_date = ? order by priority, account_action_id",
        [account_id, score_date],
    ).fetchall()
    next_steps = [NextStep(priority, text, due) for priority, text, due in steps if text and text.strip()]

    return AccountReportData(
        account_id=account_id,
        account_name=name,
        country_code=country,
        language=language,
        health_score=float(score),
        health_band=band,
        trend=trend,
        change_30d=None if change_30d is None else float(change_30d),
        score_date=score_date,
        bands=bands,
        history=[(day, value) for day, value in history],
        measures=measures,
        next_steps=next_steps,
    )
