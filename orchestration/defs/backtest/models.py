"""The two models the backtest fits with scikit-learn: the churn probability behind the 0-100 score, and the
measure weights the history suggests.

Both are logistic regressions on points (0-100, divided by 100), because a weight is what a logistic
regression on points estimates: how much one point of a measure lowers the log-odds of churn. Both are
regularised (L2, `regularisation_c`) so a measure with little evidence stays near zero rather than swinging.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_predict

COMPONENTS = ["usage", "support", "payment", "feedback", "milestones"]
# The churn probability is read from the score and its components; a component without data stands at the
# score itself, so it moves the probability neither way.
PROBABILITY_FEATURES = ["health_score", *[f"{component}_score" for component in COMPONENTS]]


def probability_inputs(frame: pd.DataFrame) -> pd.DataFrame:
    """Score and component scores as model inputs in [0, 1]; a missing component takes the score's value."""
    inputs = pd.DataFrame(index=frame.index)
    for feature in PROBABILITY_FEATURES:
        inputs[feature] = frame[feature].fillna(frame["health_score"]).astype(float) / 100.0
    return inputs


def _logistic(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=2000)


def has_both_outcomes(churned: pd.Series) -> bool:
    return bool(churned.any()) and not bool(churned.all())


def fit_churn_probability(frame: pd.DataFrame, c: float) -> pd.DataFrame:
    """Coefficients (feature, coefficient; the intercept as feature `intercept`) of the churn probability
    for one outcome, fitted on all its observations. The marts apply them to every account-day in SQL
    (models/marts/backtest/account_churn_risk.sql), so the formula that turns scores into a probability is
    written once and readable there."""
    model = _logistic(c).fit(probability_inputs(frame), frame["is_churned"].astype(bool))
    rows = [("intercept", float(model.intercept_[0]))]
    coefficients = zip(PROBABILITY_FEATURES, model.coef_[0], strict=True)
    rows += [(feature, float(coefficient)) for feature, coefficient in coefficients]
    return pd.DataFrame(rows, columns=["feature", "coefficient"])


def cross_validated_probability(frame: pd.DataFrame, c: float, folds: int = 5) -> np.ndarray | None:
    """The probability each observation gets from a model that never saw its account (folds by account):
    an honest basis for the calibration table and for the probability's own AUC."""
    accounts = frame["account_id"].to_numpy()
    folds = min(folds, len(np.unique(accounts)))
    churned = frame["is_churned"].astype(bool)
    if folds < 2 or churned.sum() < folds:
        return None
    predicted = cross_val_predict(
        _logistic(c),
        probability_inputs(frame),
        churned,
        groups=accounts,
        cv=GroupKFold(n_splits=folds),
        method="predict_proba",
    )
    return predicted[:, 1]


@dataclass(frozen=True)
class TimeSplit:
    train_dates: list
    test_dates: list


def time_split(observed_dates: pd.Series, test_share: float, horizon_days: int) -> TimeSplit | None:
    """Test on the latest `test_share` of observation dates; train on earlier dates whose outcome window had
    closed by the first test date, so no training label comes from the test period."""
    dates = sorted(pd.to_datetime(observed_dates).dt.date.unique())
    test_count = max(1, round(len(dates) * test_share))
    if len(dates) <= test_count:
        return None
    test = dates[-test_count:]
    first_test = pd.Timestamp(test[0])
    train = [d for d in dates[:-test_count] if pd.Timestamp(d) + pd.Timedelta(days=horizon_days) <= first_test]
    return TimeSplit(train, test) if train else None


def measure_importance(points: pd.DataFrame, churned: pd.Series, c: float) -> pd.Series:
    """How much each measure's points protect against churn: the negated logistic coefficient per 100
    points, floored at 0 (a weight cannot be negative: a measure that seems to raise churn with better
    points earns nothing rather than a reversed sign). Points of a measure without data stand at 50."""
    model = _logistic(c).fit(points.fillna(50.0) / 100.0, churned.astype(bool))
    return pd.Series(np.clip(-model.coef_[0], 0, None), index=points.columns)


def rounded_shares(values: pd.Series, decimals: int = 2) -> pd.Series:
    """Shares of `values` rounded so that they still sum to exactly 1 (largest remainder)."""
    unit = 10**decimals
    shares = values / values.sum() * unit
    floors = np.floor(shares)
    remainder = int(round(unit - floors.sum()))
    order = (shares - floors).sort_values(ascending=False, kind="stable").index[:remainder]
    floors[order] += 1
    return floors / unit


def proposed_weights(
    importance: pd.Series, measure_components: pd.Series, configured_measure_weights: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """Component weights (by component) and measure weights (by measure) of one scorecard from measure
    importances: a component weighs the sum of its measures' importance, a measure its share within the
    component. A component whose measures all earn nothing gets weight 0 and keeps its configured measure
    weights (they must still sum to 1)."""
    by_component = importance.groupby(measure_components).sum().reindex(COMPONENTS, fill_value=0.0)
    if by_component.sum() <= 0:
        raise ValueError("no measure protects against churn in the training data")
    component_weights = rounded_shares(by_component)
    measure_weights = {}
    for component in COMPONENTS:
        members = measure_components.index[measure_components == component]
        if len(members) == 0:
            continue
        member_importance = importance.reindex(members, fill_value=0.0)
        if component_weights[component] > 0 and member_importance.sum() > 0:
            measure_weights.update(rounded_shares(member_importance).to_dict())
        else:
            measure_weights.update(configured_measure_weights.reindex(members, fill_value=0.0).to_dict())
    return component_weights, pd.Series(measure_weights)


def reweighted_score(points: pd.DataFrame, effective_weights: pd.Series) -> pd.Series:
    """The score the given effective weights (component weight x measure weight) give, over the measures
    with data, before caps: how the engine combines points, used to compare two sets of weights on the same
    observations."""
    weights = effective_weights.reindex(points.columns, fill_value=0.0)
    has_data = points.notna()
    numerator = (points.fillna(0.0) * weights).sum(axis=1)
    denominator = (has_data * weights).sum(axis=1)
    return (numerator / denominator.replace(0, np.nan)).astype(float)
