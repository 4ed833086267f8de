"""Checks on what landed. Freshness of each raw source: a warning when its newest row is older than expected.
The landing directory: a warning naming every file that belongs to no source. Neither blocks: a quiet
helpdesk week or a stray file is not an error, but either should be visible before anyone trusts the scores."""

import datetime as dt
from pathlib import Path

import dagster as dg

from orchestration.defs.checks.outcome import MAX_LISTED, Outcome
from orchestration.defs.checks.results import check_result, evaluate
from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.ingestion.freshness import FreshnessExpectation, load_expectations, source_freshness
from orchestration.defs.ingestion.landing import stray_landing_files
from orchestration.defs.ingestion.raw_store import ACCOUNT_SOURCE
from orchestration.defs.resources import LandingResource, WarehouseResource


def build_freshness_check(expectation: FreshnessExpectation) -> dg.AssetChecksDefinition:
    spec = dg.AssetCheckSpec(
        "source_is_fresh",
        asset=dg.AssetKey(["raw", expectation.source]),
        description=(
            f"Newest {expectation.timestamp_column} is at most {expectation.max_age_days} days old "
            "(seeds/source_freshness.csv); a warning when older, never blocking publishing."
            if expectation.max_age_days is not None
            else "Reports the newest row; no age expectation."
        ),
    )

    @dg.multi_asset_check(specs=[spec], name=f"{expectation.source}_freshness")
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


def landing_directory_is_recognised(landing_dir: Path, sources: list[str]) -> Outcome:
    """Every file in the landing directory belongs to a source. A misnamed export ('tickets_export.csv',
    'invoices.xlsx') is not loaded, and its source then looks empty or stale: name the file instead."""
    stray = stray_landing_files(landing_dir, sources)
    metadata = {
        "landing_dir": str(landing_dir),
        "stray_files": stray,
        "stray_file_count": len(stray),
        "expected_names": ", ".join(f"{source}.csv, {source}.parquet or {source}/" for source in sources),
    }
    if not stray:
        return Outcome(True, "every file in the landing directory belongs to a source", metadata)
    shown = ", ".join(stray[:MAX_LISTED]) + (f" and {len(stray) - MAX_LISTED} more" if len(stray) > MAX_LISTED else "")
    files = "1 file belongs" if len(stray) == 1 else f"{len(stray)} files belong"
    return Outcome(
        False, f"{files} to no source and {'is' if len(stray) == 1 else 'are'} not loaded: {shown}", metadata
    )


# The landing directory is no asset of its own. The check sits on raw/accounts, the one source every refresh
# must load (and loads first), so it runs, and is seen, in every refresh.
LANDING_DIRECTORY_SPEC = dg.AssetCheckSpec(
    "landing_directory_is_recognised",
    asset=dg.AssetKey(["raw", ACCOUNT_SOURCE]),
    description=" ".join(landing_directory_is_recognised.__doc__.split()),
)


@dg.multi_asset_check(specs=[LANDING_DIRECTORY_SPEC], name="landing_directory_check")
def landing_directory_check(landing: LandingResource):
    outcome = evaluate(
        LANDING_DIRECTORY_SPEC.name, landing_directory_is_recognised, landing.path, list(load_contracts())
    )
    yield check_result(LANDING_DIRECTORY_SPEC, outcome, dg.AssetCheckSeverity.WARN)
