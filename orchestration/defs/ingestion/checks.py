"""Freshness of each raw source: a warning when its newest row is older than expected. Never blocks:
a quiet helpdesk week is not an error, but it should be visible before anyone trusts the scores."""

import datetime as dt

import dagster as dg

from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.ingestion.freshness import FreshnessExpectation, load_expectations, source_freshness
from orchestration.defs.resources import WarehouseResource
from orchestration.defs.scores.dagster_checks import check_result, evaluate


def build_freshness_check(expectation: FreshnessExpectation) -> dg.AssetChecksDefinition:
    spec = dg.AssetCheckSpec(
        "source_is_fresh",
        asset=dg.AssetKey(["raw", expectation.source]),
        description=f"Newest {expectation.timestamp_column} is at most {expectation.max_age_days} days old."
        if expectation.max_age_days is not None
        else "Reports the newest row; no age expectation.",
    )

    @dg.multi_asset_check(specs=[spec], name=f"{expectation.source}_freshness", pool="duckdb_warehouse")
    def freshness(warehouse: WarehouseResource):
        with warehouse.connect(read_only=True) as con:
            outcome = evaluate(spec.name, source_freshness, con, expectation, dt.datetime.now(dt.UTC).date())
        yield check_result(spec, outcome, dg.AssetCheckSeverity.WARN)

    return freshness


freshness_checks = [
    build_freshness_check(expectation)
    for source, expectation in load_expectations().items()
    if source in load_contracts()
]
