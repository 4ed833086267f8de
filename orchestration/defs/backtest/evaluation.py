"""How well a predictor ranks churned accounts below the others: ROC AUC with a bootstrap interval, decile
lift, and the verdict that refuses to claim skill without evidence. Plain pandas and scikit-learn, independent
of Dagster, so it can be tested on any table of observations.

Scores are healthy-high, churn is the event: the AUC of a score is the probability that a churned account
had the lower score of a random churned / staying pair (scikit-learn's AUC of the negated score), 0.5 is
chance and 1 a perfect warning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu
from sklearn.metrics import roc_auc_score

SKILL = "skill"
NOT_ENOUGH_EVIDENCE = "not enough evidence"
WORSE_THAN_CHANCE = "worse than chance"


@dataclass(frozen=True)
class BacktestSettings:
    """The evaluation's part of seeds/backtest_settings.csv."""

    min_churn_events: int = 30
    min_auc: float = 0.6
    bootstrap_resamples: int = 200
    proposal_margin_auc: float = 0.03
    test_share: float = 0.34
    regularisation_c: float = 1.0
    seed: int = 20261126

    @classmethod
    def from_rows(cls, rows: dict[str, float]) -> BacktestSettings:
        defaults = cls()
        return cls(
            min_churn_events=int(rows.get("min_churn_events", defaults.min_churn_events)),
            min_auc=float(rows.get("min_auc", defaults.min_auc)),
            bootstrap_resamples=int(rows.get("bootstrap_resamples", defaults.bootstrap_resamples)),
            proposal_margin_auc=float(rows.get("proposal_margin_auc", defaults.proposal_margin_auc)),
            test_share=float(rows.get("test_share", defaults.test_share)),
            regularisation_c=float(rows.get("regularisation_c", defaults.regularisation_c)),
        )


@dataclass(frozen=True)
class RocAuc:
    value: float | None
    low: float | None
    high: float | None


def roc_auc_with_interval(
    churned: np.ndarray, score: np.ndarray, accounts: np.ndarray, resamples: int, seed: int
) -> RocAuc:
    """AUC of a healthy-high score for churn, with a 95% percentile interval from resampling accounts with
    replacement: one account is observed every month, so its observations are not independent and
    resampling them one by one would make the interval look narrower than the evidence is."""
    churned = np.asarray(churned, dtype=bool)
    score = np.asarray(score, dtype=float)
    if churned.all() or not churned.any():
        return RocAuc(None, None, None)
    value = float(roc_auc_score(churned, -score))
    if resamples <= 0:
        return RocAuc(value, None, None)
    codes, inverse = np.unique(np.asarray(accounts), return_inverse=True)
    members = [np.flatnonzero(inverse == code) for code in range(len(codes))]
    rng = np.random.default_rng(seed)
    estimates = []
    for _ in range(resamples):
        drawn = np.concatenate([members[i] for i in rng.integers(0, len(codes), len(codes))])
        positives, negatives = score[drawn][churned[drawn]], score[drawn][~churned[drawn]]
        if len(positives) == 0 or len(negatives) == 0:
            continue
        # The replicate's AUC as the Mann-Whitney U of the two groups over their product (scipy), the same
        # statistic as scikit-learn's ROC AUC at a quarter of its per-call cost, which dominates here.
        u = mannwhitneyu(negatives, positives, method="asymptotic", use_continuity=False).statistic
        estimates.append(u / (len(positives) * len(negatives)))
    if not estimates:
        return RocAuc(value, None, None)
    low, high = np.percentile(estimates, [2.5, 97.5])
    return RocAuc(value, float(low), float(high))


def decile_lifts(churned: np.ndarray, score: np.ndarray) -> tuple[float | None, float | None]:
    """Churn rate among the lowest-scored tenth (bottom decile) and the highest-scored tenth (top decile),
    each divided by the overall rate: a useful score has a bottom lift well above 1 and a top lift below 1.
    Ties are broken by order of appearance so that each decile holds a tenth of the observations."""
    churned = np.asarray(churned, dtype=float)
    rate = churned.mean() if len(churned) else 0.0
    if len(churned) < 10 or rate == 0:
        return None, None
    order = np.argsort(np.asarray(score, dtype=float), kind="stable")
    tenth = len(order) // 10
    bottom = churned[order[:tenth]].mean() / rate
    top = churned[order[-tenth:]].mean() / rate
    return float(bottom), float(top)


def verdict(auc: RocAuc, churned_accounts: int, settings: BacktestSettings) -> str:
    """`skill` only with enough churned accounts and an interval that excludes chance; otherwise the
    backtest claims nothing."""
    if auc.value is None or churned_accounts < settings.min_churn_events:
        return NOT_ENOUGH_EVIDENCE
    if auc.low is None or auc.high is None:
        return NOT_ENOUGH_EVIDENCE
    if auc.high < 0.5:
        return WORSE_THAN_CHANCE
    if auc.low <= 0.5:
        return NOT_ENOUGH_EVIDENCE
    return SKILL


def evaluate_predictor(frame: pd.DataFrame, predictor: str, settings: BacktestSettings) -> dict:
    """One row of the backtest: the figures of `predictor` on the observations of `frame` that have it."""
    known = frame[frame[predictor].notna()]
    churned = known["is_churned"].to_numpy(dtype=bool)
    churned_accounts = int(known.loc[known["is_churned"], "account_id"].nunique())
    auc = roc_auc_with_interval(
        churned,
        known[predictor].to_numpy(),
        known["account_id"].to_numpy(),
        settings.bootstrap_resamples,
        settings.seed,
    )
    bottom, top = decile_lifts(churned, known[predictor].to_numpy())
    return {
        "predictor": predictor,
        "observations": len(known),
        "accounts": int(known["account_id"].nunique()),
        "churned_observations": int(churned.sum()),
        "churned_accounts": churned_accounts,
        "churn_rate": float(churned.mean()) if len(known) else None,
        "roc_auc": auc.value,
        "roc_auc_low": auc.low,
        "roc_auc_high": auc.high,
        "bottom_decile_lift": bottom,
        "top_decile_lift": top,
        "verdict": verdict(auc, churned_accounts, settings),
    }


def calibration_table(churned: np.ndarray, probability: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Observations in (up to) `bins` equally filled bins of predicted probability: the mean prediction
    next to the observed churn rate. Calibrated means the two agree."""
    frame = pd.DataFrame({"churned": np.asarray(churned, dtype=float), "probability": probability})
    frame["bin"] = pd.qcut(frame["probability"].rank(method="first"), q=min(bins, len(frame)), labels=False) + 1
    table = frame.groupby("bin").agg(
        observations=("churned", "size"),
        mean_predicted_probability=("probability", "mean"),
        observed_churn_rate=("churned", "mean"),
        min_predicted_probability=("probability", "min"),
        max_predicted_probability=("probability", "max"),
    )
    return table.reset_index()
