"""Copies the public marts into a separate serving DuckDB file, replaced atomically.

BI tools and analysts read only the serving file. DuckDB allows one writer and no other process beside
it, so readers of the working warehouse would block a refresh (and be blocked by it). The serving file is
built next to the old one and moved over it in one rename: a reader sees the old version or the new one,
never a half-written file, and a failed or killed refresh leaves the last good version in place.

The two history tables grow by a day per refresh, so a publication starts from a copy of the previous
serving file and rewrites only the days scored since it (rows carry `scored_at`; the publication records
the newest one it holds). Every other table is small and copied whole. Without a usable previous file, or
when the columns changed, everything is copied.
"""

import os
import re
import shutil
from pathlib import Path

import duckdb

from orchestration.defs.runs.processes import process_is_running

# Public marts by the column that dates their rows, None for tables copied whole on every publication.
PUBLISHED_TABLES = {
    "account_health_scores": None,
    "account_health_history": "score_date",
    "fct_health_score_contributions": "score_date",
    "scorecard_config_versions": None,
    "dim_account_versions": None,
    "landed_file_loads": None,
    "rejected_rows": None,
    "account_churn_risk": "score_date",
    "account_score_changes": "score_date",
    "score_change_drivers": "score_date",
    # The backtest's tables: small, rewritten whole.
    "score_backtest": None,
    "score_backtest_bands": None,
    "score_backtest_calibration": None,
    "score_false_negatives": None,
    "weight_proposal": None,
    "weight_proposal_backtest": None,
    "arr_at_risk": None,
    "expansion_candidates": None,
    "health_alerts": None,
    "account_actions": None,
    "portfolio_daily": "score_date",
    "portfolio_benchmarks": None,
    # The semantic layer's calendar, for MetricFlow on the published file (orchestration/semantic_layer.py).
    "time_spine_daily": None,
}
HISTORY_TABLES = [table for table, day in PUBLISHED_TABLES.items() if day]


def _columns(con: duckdb.DuckDBPyConnection, database: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = ? and schema_name = 'marts' "
        "and table_name = ? order by column_index",
        [database, table],
    ).fetchall()


def _publish_table(con: duckdb.DuckDBPyConnection, published: str, table: str, day_column: str | None) -> None:
    """Brings `marts.<table>` of the file being published in line with the warehouse."""
    source = f"working.marts.{table}"
    continued = (
        day_column is not None
        and _columns(con, published, "publication")
        and _columns(con, published, table) == _columns(con, "working", table)
    )
    if not continued:
        con.execute(f"create or replace table marts.{table} as select * from {source}")
        return
    through = con.execute(f"select max(scored_at) from marts.{table}").fetchone()[0]
    rescored = f"select distinct {day_column} from {source} where scored_at > ?"
    con.execute(f"delete from marts.{table} where {day_column} in ({rescored})", [through])
    # Days the warehouse no longer holds (a history rebuilt up to an earlier day) go too.
    con.execute(
        f"delete from marts.{table} where {day_column} not in "
        f"(select distinct score_date from working.marts.account_health_history)"
    )
    con.execute(f"insert into marts.{table} select * from {source} where {day_column} in ({rescored})", [through])


def partial_file(serving: Path, pid: int) -> Path:
    """Where process `pid` builds the next version of `serving` before renaming it over it."""
    return serving.with_name(f".{serving.name}.{pid}.partial")


def remove_stale_partial_files(serving: Path) -> list[Path]:
    """Removes the half-built versions of `serving` left by processes killed while publishing; returns them."""
    pattern = re.compile(rf"\.{re.escape(serving.name)}\.(\d+)\.partial")
    stale = [
        path
        for path in (serving.parent.iterdir() if serving.parent.is_dir() else [])
        if (match := pattern.fullmatch(path.name)) and not process_is_running(int(match.group(1)))
    ]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def publish(warehouse: Path, serving: Path, run_id: str, memory_limit: str, spill_dir: Path) -> dict[str, int]:
    """Writes the public marts of `warehouse` to `serving`; returns the rows per table. The copy spills to
    `spill_dir` beyond `memory_limit`: unbounded, a first publication of 100 M contribution rows took 5.4 GB."""
    serving.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partial_files(serving)
    staging_file = partial_file(serving, os.getpid())
    staging_file.unlink(missing_ok=True)
    rows: dict[str, int] = {}
    try:
        if serving.exists():
            # A new file, never the one readers have open: they keep reading the old version until the rename.
            shutil.copyfile(serving, staging_file)
        spill_dir.mkdir(parents=True, exist_ok=True)
        limits = {
            "memory_limit": memory_limit,
            "temp_directory": str(spill_dir),
            "preserve_insertion_order": False,
        }
        with duckdb.connect(str(staging_file), config=limits) as con:
            published = con.execute("select current_database()").fetchone()[0]
            con.execute(f"attach '{warehouse}' as working (read_only)")
            # Same schema and table names as in the warehouse, so queries work against either.
            con.execute("create schema if not exists marts")
            for table, day_column in PUBLISHED_TABLES.items():
                _publish_table(con, published, table, day_column)
                rows[table] = con.execute(f"select count(*) from marts.{table}").fetchone()[0]
            con.execute(
                "create or replace table marts.publication as select ? as run_id, "
                "cast(now() as timestamp) as published_at, "
                "(select max(score_date) from marts.account_health_history) as last_score_date",
                [run_id],
            )
            con.execute("detach working")
            con.execute("checkpoint")
        os.replace(staging_file, serving)
    finally:
        staging_file.unlink(missing_ok=True)
    return rows
