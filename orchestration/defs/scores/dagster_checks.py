"""Turns Outcomes into Dagster asset check results."""

from collections.abc import Callable

import dagster as dg
import duckdb

from orchestration.defs.scores.outcome import Outcome


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
        try:
            outcome = function(con)
        except duckdb.Error as error:
            outcome = Outcome(False, f"{name} could not run: {error}")
        yield check_result(spec, outcome, severity)
