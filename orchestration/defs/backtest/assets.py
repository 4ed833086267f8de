"""Predictive validity as assets: every refresh backtests the score against real churn, proposes learned
weights, and fits the churn probability the churn-risk marts apply. Their checks warn and never block
publishing: they judge how well yesterday's configuration foresaw churn, not whether today's scores were
computed correctly, and withholding today's at-risk list because the score could predict better would
hurt the people it is for."""

from pathlib import Path

import dagster as dg
import pandas as pd

from orchestration.defs.backtest.evaluation import SKILL, BacktestSettings
from orchestration.defs.backtest.runs import (
    ALL,
    COMPARISON_FIGURES,
    PRIMARY_OUTCOME,
    BacktestResult,
    WeightProposal,
    propose_weights,
    read_settings,
    run_backtest,
)
from orchestration.defs.dbt.project import SEEDS_DIR
from orchestration.defs.resources import WarehouseResource

OBSERVATIONS_KEY = dg.AssetKey(["intermediate", "int_backtest_observations_labelled"])
BANDS_KEY = dg.AssetKey(["marts", "score_backtest_bands"])
BACKTEST_KEY = dg.AssetKey(["marts", "score_backtest"])
CALIBRATION_KEY = dg.AssetKey(["marts", "score_backtest_calibration"])
COEFFICIENTS_KEY = dg.AssetKey(["backtest", "churn_model_coefficients"])
PROPOSAL_KEY = dg.AssetKey(["marts", "weight_proposal"])
PROPOSAL_BACKTEST_KEY = dg.AssetKey(["marts", "weight_proposal_backtest"])
CONTRIBUTIONS_KEY = dg.AssetKey(["marts", "fct_health_score_contributions"])
SETTINGS_KEY = dg.AssetKey(["scorecard", "backtest_settings"])


def backtest_dir(warehouse: WarehouseResource) -> Path:
    """Plots and the weight proposal live beside the warehouse (they are outputs, not configuration)."""
    return warehouse.file.parent / "backtest"


def _table(key: dg.AssetKey, deps: list[dg.AssetKey], description: str) -> dg.AssetSpec:
    """A table the backtest writes into the warehouse."""
    return dg.AssetSpec(key, deps=deps, description=description, group_name="backtest", kinds={"python", "duckdb"})


def _warning(name: str, key: dg.AssetKey, passed: bool, summary: str, metadata: dict) -> dg.AssetCheckResult:
    """A check result that warns: the backtest's checks never block publishing."""
    return dg.AssetCheckResult(
        check_name=name,
        asset_key=key,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=summary,
        metadata={**{k: v for k, v in metadata.items() if v is not None}, "result": summary},
    )


def _markdown(frame: pd.DataFrame, columns: list[str]) -> str:
    shown = frame[columns].copy()
    for column in shown.columns:
        if pd.api.types.is_float_dtype(shown[column]):
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
    header = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    return header + "\n".join("| " + " | ".join(str(v) for v in row) + " |" for row in shown.itertuples(index=False))


def _figure(row: dict | None, key: str) -> float | None:
    value = None if row is None else row.get(key)
    return None if value is None or pd.isna(value) else round(float(value), 4)


@dg.multi_asset(
    specs=[
        _table(
            BACKTEST_KEY,
            [OBSERVATIONS_KEY, BANDS_KEY, SETTINGS_KEY],
            "ROC AUC (bootstrap interval), decile lifts and verdict of the score, each component, the "
            "plain formula and the churn probability, per outcome, configuration version and segment.",
        ),
        _table(
            CALIBRATION_KEY,
            [OBSERVATIONS_KEY],
            "Predicted churn probability against the observed churn rate in ten bins per outcome "
            "(cross-validated by account).",
        ),
        _table(
            COEFFICIENTS_KEY,
            [OBSERVATIONS_KEY],
            "Logistic coefficients turning the score and its components into a churn probability, "
            "per outcome; applied to every account-day by marts.account_churn_risk.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "score_predicts_churn",
            asset=BACKTEST_KEY,
            description="The score of the current configuration ranks accounts that churn within the horizon "
            "below those that stay: enough churned accounts, an AUC interval above 0.5 and an AUC of at least "
            "`min_auc` (seeds/backtest_settings.csv). Warns; never blocks publishing.",
        ),
        dg.AssetCheckSpec(
            "red_band_churns_more_than_green",
            asset=BACKTEST_KEY,
            description="Accounts observed in the red band churn within the horizon more often than those in "
            "the green band. Warns; never blocks publishing.",
        ),
    ],
)
def score_backtest(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect() as con:
        result = run_backtest(con, backtest_dir(warehouse))
        settings, _ = read_settings(con)
    headline = result.headline()
    metrics = result.metrics
    shown = metrics[(metrics["segment"] == ALL) & (metrics["config_version"] == result.current_config_version)]
    plot_metadata = {f"plot_{name}": dg.MetadataValue.path(str(path)) for name, path in result.plots.items()}
    yield dg.MaterializeResult(
        asset_key=BACKTEST_KEY,
        metadata={
            "roc_auc": _figure(headline, "roc_auc"),
            "roc_auc_low": _figure(headline, "roc_auc_low"),
            "roc_auc_high": _figure(headline, "roc_auc_high"),
            "bottom_decile_lift": _figure(headline, "bottom_decile_lift"),
            "verdict": headline["verdict"] if headline else "no observations",
            "figures": dg.MetadataValue.md(
                _markdown(
                    shown,
                    ["outcome", "predictor", *COMPARISON_FIGURES],
                )
            ),
            "churn_rate_by_band": dg.MetadataValue.md(
                _markdown(
                    result.bands[
                        (result.bands["segment"] == ALL)
                        & (result.bands["config_version"] == result.current_config_version)
                    ].sort_values(["outcome", "health_band"]),
                    ["outcome", "health_band", "observations", "churned_observations", "churn_rate"],
                )
            ),
            **plot_metadata,
            "dagster/row_count": len(metrics),
        },
    )
    yield dg.MaterializeResult(
        asset_key=CALIBRATION_KEY,
        metadata={
            "calibration": dg.MetadataValue.md(
                _markdown(
                    result.calibration,
                    ["outcome", "bin", "observations", "mean_predicted_probability", "observed_churn_rate"],
                )
            )
            if len(result.calibration)
            else "no calibration: too few churned observations",
        },
    )
    yield dg.MaterializeResult(
        asset_key=COEFFICIENTS_KEY,
        metadata={
            "coefficients": dg.MetadataValue.md(_markdown(result.coefficients, ["outcome", "feature", "coefficient"]))
        }
        if len(result.coefficients)
        else {"coefficients": "none: no outcome has both churned and staying observations"},
    )
    yield _score_predicts_churn(result, settings)
    yield _red_churns_more_than_green(result)


def _score_predicts_churn(result: BacktestResult, settings: BacktestSettings) -> dg.AssetCheckResult:
    headline = result.headline()
    renewal = result.headline(outcome="churn_at_renewal")
    metadata = {
        "config_version": str(result.current_config_version),
        "roc_auc": _figure(headline, "roc_auc"),
        "roc_auc_low": _figure(headline, "roc_auc_low"),
        "roc_auc_high": _figure(headline, "roc_auc_high"),
        "churned_accounts": int(headline["churned_accounts"]) if headline else 0,
        "min_churn_events": settings.min_churn_events,
        "min_auc": settings.min_auc,
        "verdict_at_renewal": renewal["verdict"] if renewal else "no observations",
    }
    if headline is None:
        passed, summary = (
            False,
            (
                "no backtest observations scored by the current configuration: its history does not yet reach "
                "a month end with a closed outcome window (make run REBUILD_HISTORY=1 rescores the history with it)"
            ),
        )
    elif headline["verdict"] != SKILL:
        passed, summary = (
            False,
            (
                f"{headline['verdict']}: AUC {_figure(headline, 'roc_auc')} "
                f"(95% interval {_figure(headline, 'roc_auc_low')}-{_figure(headline, 'roc_auc_high')}) from "
                f"{int(headline['churned_accounts'])} churned accounts; the score shows no skill at foreseeing churn"
            ),
        )
    elif headline["roc_auc"] < settings.min_auc:
        passed, summary = False, f"AUC {_figure(headline, 'roc_auc')} is below the expected {settings.min_auc}"
    else:
        passed, summary = (
            True,
            (
                f"AUC {_figure(headline, 'roc_auc')} (95% interval {_figure(headline, 'roc_auc_low')}-"
                f"{_figure(headline, 'roc_auc_high')}) from {int(headline['churned_accounts'])} churned accounts"
            ),
        )
    return _warning("score_predicts_churn", BACKTEST_KEY, passed, summary, metadata)


def _red_churns_more_than_green(result: BacktestResult) -> dg.AssetCheckResult:
    bands = result.bands[
        (result.bands["segment"] == ALL)
        & (result.bands["outcome"] == PRIMARY_OUTCOME)
        & (result.bands["config_version"] == result.current_config_version)
    ].set_index("health_band")
    rates = {band: float(bands.loc[band, "churn_rate"]) for band in ("red", "yellow", "green") if band in bands.index}
    if "red" not in rates or "green" not in rates:
        passed, summary = False, f"cannot compare: observations only in {sorted(rates) or 'no band'}"
    elif rates["red"] > rates["green"]:
        passed, summary = True, f"red accounts churned at {rates['red']:.1%}, green ones at {rates['green']:.1%}"
    else:
        passed, summary = (
            False,
            (f"red accounts churned at {rates['red']:.1%}, not more than green ones at {rates['green']:.1%}"),
        )
    metadata = {f"churn_rate_{band}": round(rate, 4) for band, rate in rates.items()}
    return _warning("red_band_churns_more_than_green", BACKTEST_KEY, passed, summary, metadata)


@dg.multi_asset(
    specs=[
        _table(
            PROPOSAL_KEY,
            [OBSERVATIONS_KEY, CONTRIBUTIONS_KEY, SETTINGS_KEY],
            "Component and measure weights per scorecard learned from earlier churn (regularised "
            "logistic regression on the measure points), next to the configured ones. Proposed, never applied: "
            "`make apply-weights` copies them over the seeds for review.",
        ),
        _table(
            PROPOSAL_BACKTEST_KEY,
            [OBSERVATIONS_KEY],
            "Out-of-time ROC AUC of the learned and the configured weights on the latest observation "
            "dates, which the learned weights never saw.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "configured_weights_hold_their_own",
            asset=PROPOSAL_KEY,
            description="The learned weights do not beat the configured ones by more than `proposal_margin_auc` "
            "ROC AUC out of time; when they do, the proposal is worth a review. Warns; never blocks publishing.",
        ),
    ],
)
def weight_proposal(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect() as con:
        proposal = propose_weights(con, SEEDS_DIR, backtest_dir(warehouse) / "weight_proposal")
        settings, _ = read_settings(con)
    yield dg.MaterializeResult(
        asset_key=PROPOSAL_KEY,
        metadata={
            "proposal": "made" if proposal.made else f"none: {proposal.reason}",
            **{f"file_{path.stem}": dg.MetadataValue.path(str(path)) for path in proposal.files},
            "weights": dg.MetadataValue.md(
                _markdown(
                    proposal.weights[proposal.weights["measure"].isna()],
                    ["scorecard", "component", "configured_weight", "proposed_weight", "basis"],
                )
            )
            if proposal.made
            else "",
        },
    )
    yield dg.MaterializeResult(
        asset_key=PROPOSAL_BACKTEST_KEY,
        metadata={
            "out_of_time": dg.MetadataValue.md(
                _markdown(
                    proposal.comparison,
                    [
                        "weights",
                        "test_from_date",
                        "test_to_date",
                        "observations",
                        "churned_accounts",
                        "roc_auc",
                        "roc_auc_low",
                        "roc_auc_high",
                        "verdict",
                    ],
                )
            )
            if proposal.made
            else f"none: {proposal.reason}",
        },
    )
    yield _configured_weights_hold_their_own(proposal, settings)


def _configured_weights_hold_their_own(proposal: WeightProposal, settings: BacktestSettings) -> dg.AssetCheckResult:
    configured, proposed = proposal.auc("configured"), proposal.auc("proposed")
    if not proposal.made or configured is None or proposed is None:
        passed, summary = True, f"no proposal to compare: {proposal.reason or 'no churn among the test observations'}"
    elif proposed - configured > settings.proposal_margin_auc:
        passed, summary = (
            False,
            (
                f"learned weights reach AUC {proposed:.3f} out of time against {configured:.3f} for the configured "
                f"ones (+{proposed - configured:.3f}); review them with `make apply-weights` and git diff"
            ),
        )
    else:
        passed, summary = (
            True,
            (
                f"configured weights AUC {configured:.3f}, learned {proposed:.3f} out of time "
                f"(margin {settings.proposal_margin_auc})"
            ),
        )
    metadata = {"configured_roc_auc": configured, "proposed_roc_auc": proposed}
    return _warning("configured_weights_hold_their_own", PROPOSAL_KEY, passed, summary, metadata)


backtest_assets = [score_backtest, weight_proposal]
