"""Copies the public score marts into a separate serving DuckDB file, replaced atomically.

BI tools and analysts read only the serving file. DuckDB allows one writer and no other process beside
it, so readers of the working warehouse would block a refresh (and be blocked by it). The serving file is
built next to the old one and moved over it in one rename: a reader sees the old version or the new one,
never a half-written file, and a failed or killed refresh leaves the last good version in place.
"""

import os
import re
from pathlib import Path

import duckdb

from orchestration.defs.runs.processes import process_is_running

PUBLISHED_TABLES = (
    "account_health_scores",
    "account_health_history",
    "fct_health_score_contributions",
    "scorecard_config_versions",
    "dim_account_versions",
)


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


def publish(warehouse: Path, serving: Path, run_id: str) -> dict[str, int]:
    """Writes the public marts of `warehouse` to `serving`; returns the rows per table."""
    serving.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partial_files(serving)
    staging_file = partial_file(serving, os.getpid())
    staging_file.unlink(missing_ok=True)
    rows: dict[str, int] = {}
    try:
        with duckdb.connect(str(staging_file)) as con:
            con.execute(f"attach '{warehouse}' as working (read_only)")
            # Same schema and table names as in the warehouse, so queries work against either.
            con.execute("create schema marts")
            for table in PUBLISHED_TABLES:
                con.execute(f"create table marts.{table} as select * from working.marts.{table}")
                rows[table] = con.execute(f"select count(*) from marts.{table}").fetchone()[0]
            con.execute(
                "create table marts.publication as select ? as run_id, cast(now() as timestamp) as published_at, "
                "(select max(score_date) from marts.account_health_history) as last_score_date",
                [run_id],
            )
            con.execute("detach working")
        os.replace(staging_file, serving)
    finally:
        staging_file.unlink(missing_ok=True)
    return rows
