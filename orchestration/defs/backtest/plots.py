"""ROC and calibration plots of the backtest as PNG files beside the warehouse (matplotlib, no display)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402

CURVES = {
    "health_score": "configured score",
    "plain_formula_score": "plain 0.4/0.3/0.2/0.1 formula",
    "usage_score": "usage alone",
    "payment_score": "payment alone",
}


def expected(observations: pd.DataFrame, calibration: pd.DataFrame, out_dir: Path) -> dict[str, Path]:
    """The files `draw` writes for these results."""
    paths = {
        f"roc_{outcome}": out_dir / f"roc_{outcome}.png"
        for outcome, frame in observations.groupby("outcome", sort=True)
        if frame["is_churned"].nunique() == 2
    }
    paths.update(
        {
            f"calibration_{outcome}": out_dir / f"calibration_{outcome}.png"
            for outcome in calibration["outcome"].unique()
        }
    )
    return paths


def draw(observations: pd.DataFrame, calibration: pd.DataFrame, out_dir: Path) -> dict[str, Path]:
    """One ROC plot per outcome (the score and its baselines) and one calibration plot per outcome."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for outcome, frame in observations.groupby("outcome", sort=True):
        if frame["is_churned"].nunique() < 2:
            continue
        figure, axes = plt.subplots(figsize=(5, 5), dpi=100)
        for column, label in CURVES.items():
            known = frame[frame[column].notna()]
            if known["is_churned"].nunique() < 2:
                continue
            false_positive, true_positive, _ = roc_curve(known["is_churned"].astype(bool), -known[column])
            axes.plot(false_positive, true_positive, label=label)
        axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="chance")
        axes.set(
            xlabel="staying accounts flagged (false positive rate)",
            ylabel="churned accounts flagged (true positive rate)",
            title=f"ROC: {outcome.replace('_', ' ')}",
        )
        axes.legend(loc="lower right", fontsize="small")
        written[f"roc_{outcome}"] = _save(figure, out_dir / f"roc_{outcome}.png")
    for outcome, table in calibration.groupby("outcome", sort=True):
        figure, axes = plt.subplots(figsize=(5, 5), dpi=100)
        top = max(table["mean_predicted_probability"].max(), table["observed_churn_rate"].max(), 0.05)
        axes.plot([0, top], [0, top], linestyle=":", color="grey", label="perfect calibration")
        axes.plot(table["mean_predicted_probability"], table["observed_churn_rate"], marker="o", label="churn model")
        axes.set(
            xlabel="predicted churn probability (bin mean)",
            ylabel="observed churn rate",
            title=f"Calibration: {outcome.replace('_', ' ')}",
        )
        axes.legend(loc="upper left", fontsize="small")
        written[f"calibration_{outcome}"] = _save(figure, out_dir / f"calibration_{outcome}.png")
    return written


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
