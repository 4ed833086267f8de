"""What a failed dbt test found, in sentences that name the configuration rows and their values.

dbt reports a failed test as a name and a count of failing rows. The rows themselves say what is wrong: the
singular tests on configuration select a `problem` sentence ("seeds/scorecard_components.csv: the component
weights of scorecard smb sum to 1.3, not 1"), and the rows of a generic test (not_null, accepted_range, ...)
are turned into one here. The rows are read back by running the failed test's compiled query again once dbt
has released the warehouse (DuckDB lets no other process open a file while dbt writes to it). This is dbt's
`store_failures` without its cost: storing every test's rows as a table costs a statement per test on every
refresh, while reading back costs nothing until a test fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

# Sentences kept per failed test: enough to see the pattern, few enough to read in a terminal.
MAX_PROBLEMS = 20
# Free text (descriptions, customer steps, templates) says nothing about what is wrong and would bury the values.
FREE_TEXT_COLUMNS = {"description", "customer_step_en", "customer_step_de", "driver_template"}
# A singular test on configuration selects a `problem` sentence that starts with the seed file it blames.
CONFIGURATION_FOLDER = "seeds/"


def _value(value: object) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    if re.fullmatch(r"-?\d+\.\d*?0+", text):  # decimals as the seed wrote them: 0.450000 -> 0.45
        text = text.rstrip("0").rstrip(".")
    return text


def row_text(row: Mapping[str, Any]) -> str:
    """A failing row as "column value, column value", without long free text."""
    return ", ".join(f"{column} {_value(value)}" for column, value in row.items() if column not in FREE_TEXT_COLUMNS)


def tested_relation(manifest: Mapping[str, Any], test: Mapping[str, Any]) -> str:
    """Where the tested rows live, as a user finds them: the seed file, or the relation BI and analysts query."""
    # A generic test is attached to its model or seed; a singular test names one only if it reads one alone.
    depends_on = test.get("depends_on", {}).get("nodes", [])
    attached = test.get("attached_node") or (depends_on[0] if len(depends_on) == 1 else None)
    node = manifest["nodes"].get(attached) if attached else None
    if node is None:
        return test["name"]
    if node["resource_type"] == "seed":
        return re.sub(r"^(\.\./)+", "", node["original_file_path"])
    return f"{node['schema']}.{node['alias'] or node['name']}"


def _referenced_name(expression: str) -> str:
    """The model a relationships test points to: "ref('measures')" -> measures."""
    match = re.search(r"ref\(\s*['\"]([^'\"]+)['\"]\s*\)", expression or "")
    return match.group(1) if match else str(expression)


def _range_text(kwargs: Mapping[str, Any]) -> str:
    """What an accepted_range test asks for: "is outside 0 to 1", "is below 0", ..."""
    low, high, inclusive = kwargs.get("min_value"), kwargs.get("max_value"), kwargs.get("inclusive", True)
    if low is not None and high is not None:
        return f"is outside {low} to {high}" + ("" if inclusive else " (both excluded)")
    if low is not None:
        return f"is below {low}" if inclusive else f"is not above {low}"
    return f"is above {high}" if inclusive else f"is not below {high}"


def problem_sentence(manifest: Mapping[str, Any], test: Mapping[str, Any], row: Mapping[str, Any]) -> str:
    """One failing row of `test` as a sentence naming where it is and what is wrong."""
    where = tested_relation(manifest, test)
    problem = row.get("problem")
    others = {k: v for k, v in row.items() if k not in ("problem", "out_of_range_value", "n_records", "occurrences")}
    if problem and str(problem).startswith(CONFIGURATION_FOLDER):
        return str(problem)  # a configuration test's sentence names the seed file and the values itself
    if problem:
        # The row's other values, where the sentence does not already name them (an account, a day).
        unnamed = {column: value for column, value in others.items() if _value(value) not in str(problem)}
        return f"{where}: {problem}" + (f" ({row_text(unnamed)})" if unnamed else "")
    metadata = test.get("test_metadata") or {}
    kwargs = metadata.get("kwargs") or {}
    column = kwargs.get("column_name")
    match metadata.get("name"):
        case "not_null":
            return f"{where}: {column} is empty in the row {row_text(others)}"
        case "unique":
            return f"{where}: {column} {_value(row.get('unique_field'))} occurs in {row.get('n_records')} rows"
        case "accepted_values":
            values = ", ".join(str(v) for v in kwargs.get("values", []))
            rows = row.get("n_records")
            return (
                f"{where}: {column} {_value(row.get('value_field'))} ({rows} row{'' if rows == 1 else 's'}) "
                f"is not one of {values}"
            )
        case "relationships":
            return (
                f"{where}: {column} {_value(row.get('from_field'))} has no match in "
                f"{_referenced_name(kwargs.get('to'))}.{kwargs.get('field')}"
            )
        case "accepted_range":
            return f"{where}: {column} {_value(row.get('out_of_range_value'))} {_range_text(kwargs)}" + (
                f" in the row {row_text(others)}" if others else ""
            )
        case "unique_combination":
            return f"{where}: {row_text(others)} occurs in {row.get('occurrences')} rows"
        case "expression_is_true":
            return f"{where}: the row {row_text(others)} breaks {kwargs.get('expression')}"
    failing = f"{test['name']} fails for {row_text(row)}"
    return failing if where == test["name"] else f"{where}: {failing}"


def failing_rows(con: duckdb.DuckDBPyConnection, compiled_sql: str, limit: int) -> list[dict[str, Any]]:
    """The first `limit` rows the test's query returns, sentences first in a stable order."""
    query = f"select * from (\n{compiled_sql}\n) as failing_rows"
    columns = [column[0] for column in con.execute(f"{query} limit 0").description]
    order = " order by problem" if "problem" in columns else ""
    rows = con.execute(f"{query}{order} limit {limit}").fetchall()
    return [dict(zip(columns, row, strict=True)) for row in rows]


def explained(
    result: dg.AssetCheckResult, problems: list[str], failed_rows: int | None, error: str | None = None
) -> dg.AssetCheckResult:
    """`result` with its problems as description and metadata, for the check page and the run summary."""
    shown = problems[:MAX_PROBLEMS]
    more = (failed_rows or len(problems)) - len(shown)
    description = "\n".join(shown) + (f"\n... and {more} more failing rows" if more > 0 else "")
    # The first sentence as text shows on the check's page as it is; the others are one click away (JSON).
    extra: dict[str, Any] = {"problem": shown[0], "problems": dg.MetadataValue.json(shown)} if shown else {}
    if error:
        extra["problems_unavailable"] = error
        description = f"{failed_rows} failing rows, which could not be read back: {error}"
    return dg.AssetCheckResult(
        asset_key=result.asset_key,
        check_name=result.check_name,
        passed=result.passed,
        severity=result.severity,
        metadata={**result.metadata, **extra},
        description=description or result.description,
    )


def explain_failures(
    held: Iterable[dg.AssetCheckResult],
    manifest: Mapping[str, Any],
    run_results: Mapping[str, Any],
    warehouse: Path,
) -> list[dg.AssetCheckResult]:
    """The failed check results of a dbt invocation, each with the sentences of its failing rows. A test whose
    rows cannot be read back keeps its result, with the reason instead of sentences."""
    held = list(held)
    if not held:
        return []
    compiled = {result["unique_id"]: result for result in run_results.get("results", [])}
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as error:
        reason = f"{type(error).__name__}: {error}"
        return [explained(result, [], None, reason) for result in held]
    explained_results = []
    with con:
        con.execute("set TimeZone = 'UTC'")  # as dbt's connections (profiles.yml)
        for result in held:
            unique_id = result.metadata["unique_id"].value
            failed_rows = compiled.get(unique_id, {}).get("failures")
            try:
                rows = failing_rows(con, compiled[unique_id]["compiled_code"], MAX_PROBLEMS)
            except (KeyError, duckdb.Error) as error:
                explained_results.append(explained(result, [], failed_rows, f"{type(error).__name__}: {error}"))
                continue
            test = manifest["nodes"][unique_id]
            problems = [problem_sentence(manifest, test, row) for row in rows]
            explained_results.append(explained(result, problems, failed_rows))
    return explained_results
