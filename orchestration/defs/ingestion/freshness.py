"""How old each raw source's newest row is, against the expectation in seeds/source_freshness.csv."""

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.defs.checks.outcome import Outcome
from orchestration.settings import REPO_ROOT

FRESHNESS_SEED = REPO_ROOT / "seeds" / "source_freshness.csv"


@dataclass(frozen=True)
class FreshnessExpectation:
    source: str
    timestamp_column: str
    max_age_days: int | None


def load_expectations(path: Path = FRESHNESS_SEED) -> dict[str, FreshnessExpectation]:
    with path.open(newline="") as f:
        return {
            row["source"]: FreshnessExpectation(
                row["source"], row["timestamp_column"], int(row["max_age_days"]) if row["max_age_days"] else None
            )
            for row in csv.DictReader(f)
        }


def source_freshness(con: duckdb.DuckDBPyConnection, expectation: FreshnessExpectation, today: dt.date) -> Outcome:
    try:
        newest = con.execute(
            f'select cast(max("{expectation.timestamp_column}") as date) from raw."{expectation.source}"'
        ).fetchone()[0]
    except duckdb.CatalogException:
        # Only a source whose first load failed has no view; its failure is reported on the ingestion asset.
        return Outcome(False, f"raw.{expectation.source} does not exist: the source has never loaded", {})
    metadata = {
        "newest": str(newest) if newest else None,
        "checked_on": str(today),
        "max_age_days": expectation.max_age_days,
    }
    if expectation.max_age_days is None:
        shown = f"newest row {newest}" if newest else f"{expectation.source} has no rows"
        return Outcome(True, f"{shown}; no age expectation", metadata)
    if newest is None:
        return Outcome(
            False,
            f"{expectation.source} is empty (expected rows no older than {expectation.max_age_days} days)",
            metadata,
        )
    age = (today - newest).days
    metadata["age_days"] = age
    if age < 0:
        # The loader sets future events aside, so this means a clock or time-zone problem worth a look.
        return Outcome(
            False, f"{expectation.source}: newest row {newest} lies {-age} days after today ({today})", metadata
        )
    if age > expectation.max_age_days:
        return Outcome(
            False,
            f"{expectation.source} is stale: newest row {newest} is {age} days old "
            f"(expected at most {expectation.max_age_days})",
            metadata,
        )
    return Outcome(True, f"newest row {newest} is {age} days old (at most {expectation.max_age_days})", metadata)
