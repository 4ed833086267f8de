"""Turns Outcomes into Dagster asset check results."""

from collections.abc import Callable

import dagster as dg
import duckdb

from orchestration.defs.checks.outcome import Outcome


def check_result(
    spec: dg.AssetCheckSpec, outcome: Outcome, severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR
) -> dg.AssetCheckResult:
    metadata = {
        key: dg.MetadataValue.json(value) if isinstance(value, list | dict) else value
        for key, value in outcome.metadata.items()
        if value is not None
    }
    return dg.AssetCheckResult(
        check_name=spec.name,
        asset_key=spec.asset_key,
        passed=outcome.passed,
        severity=severity,
        description=outcome.summary,
        metadata={**metadata, "result": outcome.summary},
    )


def evaluate(name: str, function: Callable[..., Outcome], *args) -> Outcome:
    """Runs one check. Whatever it raises becomes a failed outcome naming the check and the error: a check
    that cannot run has not vouched for the data, and one crashed check must not hide the results of the
    others in the same step."""
    try:
        return function(*args)
    except Exception as error:
        # DuckDB's messages run over several lines (candidate functions, the query); the first says what failed.
        message = str(error).strip()
        summary = f"{name} could not run: {type(error).__name__}" + (f": {message.splitlines()[0]}" if message else "")
        return Outcome(False, summary, {"error_type": type(error).__name__, "error": message})


def run_checks(
    con: duckdb.DuckDBPyConnection,
    checks: dict[str, tuple[dg.AssetCheckSpec, Callable[[duckdb.DuckDBPyConnection], Outcome]]],
    severity: dg.AssetCheckSeverity,
    context: dg.AssetCheckExecutionContext,
):
    """Runs the selected checks; a check that cannot run at all fails with the error as its result."""
    for name, (spec, function) in checks.items():
        if spec.key not in context.selected_asset_check_keys:
            continue
        yield check_result(spec, evaluate(name, function, con), severity)
