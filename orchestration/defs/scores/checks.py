"""Python asset checks on the score marts and the scorecard configuration. Invariants are errors and
block publishing; benchmarks are warnings that inform and never block."""

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from orchestration.defs.scores import benchmarks, config_checks, score_checks
from orchestration.defs.scores.dagster_checks import run_checks

HISTORY = dg.AssetKey(["marts", "account_health_history"])
CURRENT = dg.AssetKey(["marts", "account_health_scores"])


def _specs(asset: dg.AssetKey, functions: dict, blocking: bool) -> dict:
    return {
        name: (dg.AssetCheckSpec(name, asset=asset, blocking=blocking, description=function.__doc__), function)
        for name, function in functions.items()
    }


SCORE_INVARIANTS = _specs(
    HISTORY,
    {
        "scores_within_range": score_checks.scores_within_range,
        "bands_match_thresholds": score_checks.bands_match_thresholds,
        "contributions_add_up": score_checks.contributions_add_up,
        "every_account_scored_once_per_day": score_checks.every_account_scored_once_per_day,
        "portfolio_moves_plausibly": score_checks.portfolio_moves_plausibly,
    },
    blocking=True,
)

CONFIGURATION = {
    **_specs(
        dg.AssetKey(["scorecard", "scorecard_components"]),
        {"weights_are_valid": config_checks.weights_are_valid},
        blocking=True,
    ),
    **_specs(
        dg.AssetKey(["scorecard", "measures"]),
        {"measures_map_to_components": config_checks.measures_map_to_components},
        blocking=True,
    ),
    **_specs(
        dg.AssetKey(["scorecard", "measure_bands"]),
        {"thresholds_are_monotonic": config_checks.thresholds_are_monotonic},
        blocking=True,
    ),
    **_specs(
        dg.AssetKey(["scorecard", "health_bands"]),
        {"bands_cover_0_to_100": config_checks.bands_cover_0_to_100},
        blocking=True,
    ),
}

BENCHMARKS = _specs(
    CURRENT,
    {
        "benchmark_portfolio_nps": benchmarks.portfolio_nps,
        "benchmark_monthly_churn_rate": benchmarks.monthly_churn_rate,
        "benchmark_average_health_score": benchmarks.average_health_score,
        "benchmark_ticket_csat": benchmarks.ticket_csat,
        "benchmark_red_account_share": benchmarks.red_account_share,
    },
    blocking=False,
)


@dg.multi_asset_check(specs=[spec for spec, _ in SCORE_INVARIANTS.values()], can_subset=True)
def score_invariant_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect(read_only=True) as con:
        yield from run_checks(con, SCORE_INVARIANTS, dg.AssetCheckSeverity.ERROR, context)


@dg.multi_asset_check(specs=[spec for spec, _ in CONFIGURATION.values()], can_subset=True)
def scorecard_configuration_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect(read_only=True) as con:
        yield from run_checks(con, CONFIGURATION, dg.AssetCheckSeverity.ERROR, context)


@dg.multi_asset_check(specs=[spec for spec, _ in BENCHMARKS.values()], can_subset=True)
def benchmark_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect(read_only=True) as con:
        yield from run_checks(con, BENCHMARKS, dg.AssetCheckSeverity.WARN, context)


score_checks_defs = [score_invariant_checks, scorecard_configuration_checks, benchmark_checks]
