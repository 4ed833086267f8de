"""What a report shows, read from the published serving file (read-only; only checked scores reach it).

Only the account's own rows are read, and of them only the columns a customer may see: never the CSM, the
contact, survey comments, internal action wording, churn probabilities or any other account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
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
    # None without a comparable score 30 days earlier: none yet, or one of another configuration version.
    trend: str | None
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


@dataclass(frozen=True)
class _Configuration:
    bands: list[Band]
    measures: dict[str, tuple[int, str]]  # measure -> (window_days, unit)


def _configuration(con: duckdb.DuckDBPyConnection, config_version: str) -> _Configuration:
    # Bands: band|min_score|max_score|description; measures: measure|component|window_days|direction|
    # normalisation|floor_value|target_value|unit|label|...
    bands = sorted(
        (
            Band(name, float(low), float(high))
            for name, low, high in _config_rows(con, config_version, "health_bands", 3)
        ),
        key=lambda band: band.min_score,
    )
    measures = {fields[0]: (int(fields[2]), fields[7]) for fields in _config_rows(con, config_version, "measures", 8)}
    return _Configuration(bands, measures)


# The batch's accounts with their score date and the first day of their chart, as a table to join with.
_BATCH = "(select unnest(?::varchar[]) as account_id, unnest(?::date[]) as score_date, unnest(?::date[]) as first_day)"
# Accounts read per set of queries: large enough that a report of every account is a few scans of the history
# and contribution tables, small enough that one batch's history (365 rows an account) stays a few MB.
BATCH_SIZE = 1000


def _grouped(rows: list[tuple]) -> dict[str, list[tuple]]:
    grouped: dict[str, list[tuple]] = {}
    for account_id, *rest in rows:
        grouped.setdefault(account_id, []).append(tuple(rest))
    return grouped


def load_accounts(
    con: duckdb.DuckDBPyConnection,
    account_ids: list[str],
    chart_months: int,
    language_for: Callable[[str | None], str],
    batch_size: int = BATCH_SIZE,
) -> Iterator[tuple[str, AccountReportData | ReportDataError]]:
    """Everything the reports of `account_ids` show, each for its latest published score date, in the language
    `language_for` picks from the account's country; a ReportDataError instead for an account that cannot have
    a report. Read in batches with one query per table, not one per account: at 10,000 accounts the
    contribution table holds some 55 M rows."""
    configurations: dict[str, _Configuration] = {}
    step_columns = {row[0] for row in con.execute("describe marts.account_actions").fetchall()}
    for offset in range(0, len(account_ids), batch_size):
        batch = account_ids[offset : offset + batch_size]
        accounts = {
            row[0]: row[1:]
            for row in con.execute(
                "select account_id, account_name, country_code, cast(health_score as double), health_band, trend, "
                "cast(change_30d as double), score_date, is_churned, config_version, status_reason "
                "from marts.account_health_scores where account_id in (select unnest(?::varchar[]))",
                [batch],
            ).fetchall()
        }
        reportable = []
        for account_id in batch:
            if account_id not in accounts:
                yield account_id, ReportDataError(f"no account {account_id} in marts.account_health_scores")
                continue
            _, _, score, _, _, _, _, is_churned, _, status_reason = accounts[account_id]
            if is_churned:
                yield (
                    account_id,
                    ReportDataError(
                        f"{account_id} is no longer a customer (churned); a health report is for customers"
                    ),
                )
            elif score is None:
                yield account_id, ReportDataError(f"{account_id} has no health score: {status_reason}")
            else:
                reportable.append(account_id)
        if not reportable:
            continue
        score_dates = [accounts[a][6] for a in reportable]
        parameters = [reportable, score_dates, [months_before(day, chart_months) for day in score_dates]]
        history = _grouped(
            con.execute(
                "select h.account_id, h.score_date, cast(h.health_score as double) "
                f"from marts.account_health_history as h inner join {_BATCH} as b on h.account_id = b.account_id "
                "and h.score_date > b.first_day and h.score_date <= b.score_date order by h.account_id, h.score_date",
                parameters,
            ).fetchall()
        )
        # Measures that count in the account's scorecard and had data on its score date; points lost as dbt's
        # top-driver rule counts them: effective weight x (100 - points).
        contributions = _grouped(
            con.execute(
                "select c.account_id, c.measure, c.measure_value, cast(c.measure_points as double), "
                "cast(c.contribution as double), cast(c.effective_weight * (100 - c.measure_points) as double) "
                f"from marts.fct_health_score_contributions as c inner join {_BATCH} as b "
                "on c.account_id = b.account_id and c.score_date = b.score_date "
                "where c.has_data and c.scorecard_weight > 0 order by c.account_id, c.measure",
                parameters,
            ).fetchall()
        )
        languages = {a: language_for(accounts[a][1]) for a in reportable}
        steps: dict[str, list[NextStep]] = {}
        for language in sorted(set(languages.values())):
            step_column = f"customer_step_{language}"
            if step_column not in step_columns:
                raise ReportDataError(f"marts.account_actions has no column {step_column} for reports in {language!r}")
            rows = con.execute(
                f"select a.account_id, a.priority, a.{step_column}, a.due_date from marts.account_actions as a "
                f"inner join {_BATCH} as b on a.account_id = b.account_id and a.score_date = b.score_date "
                "order by a.account_id, a.priority, a.account_action_id",
                parameters,
            ).fetchall()
            for account_id, priority, text, due in rows:
                # Two actions may ask the same of the customer (an alert and the driver behind it): said once.
                shown = steps.setdefault(account_id, [])
                if (
                    languages[account_id] == language
                    and text
                    and text.strip()
                    and text not in {s.customer_step for s in shown}
                ):
                    shown.append(NextStep(priority, text, due))

        for account_id in reportable:
            name, country, score, band, trend, change_30d, score_date, _, config_version, _ = accounts[account_id]
            if config_version not in configurations:
                configurations[config_version] = _configuration(con, config_version)
            configuration = configurations[config_version]
            measures = []
            unknown = None
            for measure, value, points, contribution, lost in contributions.get(account_id, []):
                if measure not in configuration.measures:
                    unknown = measure
                    break
                window_days, unit = configuration.measures[measure]
                measures.append(MeasureResult(measure, unit, window_days, value, points, contribution, lost))
            if unknown:
                yield account_id, ReportDataError(f"measure {unknown} is not in configuration {config_version}")
                continue
            yield (
                account_id,
                AccountReportData(
                    account_id=account_id,
                    account_name=name,
                    country_code=country,
                    language=languages[account_id],
                    health_score=score,
                    health_band=band,
                    trend=trend,
                    change_30d=change_30d,
                    score_date=score_date,
                    bands=configuration.bands,
                    history=history.get(account_id, []),
                    measures=measures,
                    next_steps=steps.get(account_id, []),
                ),
            )


def load_account(
    con: duckdb.DuckDBPyConnection, account_id: str, chart_months: int, language_for: Callable[[str | None], str]
) -> AccountReportData:
    """The report data of one account; ReportDataError when it cannot have a report."""
    [(_, data)] = list(load_accounts(con, [account_id], chart_months, language_for))
    if isinstance(data, ReportDataError):
        raise data
    return data
