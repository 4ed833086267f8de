"""What a validation check found, independent of Dagster, so the logic can be tested on plain tables."""

from dataclasses import dataclass, field

import duckdb

MAX_LISTED = 10


@dataclass(frozen=True)
class Outcome:
    passed: bool
    summary: str
    metadata: dict = field(default_factory=dict)


def listed(rows: list[tuple], columns: list[str]) -> list[dict]:
    """The first offending rows as dicts, for metadata a person can act on."""
    return [
        dict(zip(columns, (str(v) if v is not None else None for v in row), strict=True)) for row in rows[:MAX_LISTED]
    ]


def violations(con: duckdb.DuckDBPyConnection, query: str, columns: list[str], what: str, limit: str) -> Outcome:
    """Runs a query returning offending rows; passes when there are none."""
    rows = con.execute(query).fetchall()
    if not rows:
        return Outcome(True, f"no {what}", {"failing_rows": 0, "limit": limit})
    return Outcome(
        False,
        f"{len(rows)} {what}",
        {"failing_rows": len(rows), "limit": limit, "examples": listed(rows, columns)},
    )
