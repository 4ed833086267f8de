"""The backtest and the learned weights, run against the warehouse: read the labelled observations (dbt,
models/intermediate/backtest), compute what SQL cannot (AUC with intervals, lifts, models), and write the
results as tables and files. Independent of Dagster; the assets in assets.py call these."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from orchestration.defs.backtest import plots
from orchestration.defs.backtest.evaluation import BacktestSettings, calibration_table, evaluate_predictor
from orchestration.defs.backtest.models import (
    COMPONENTS,
    cross_validated_probability,
    fit_churn_probability,
    has_both_outcomes,
    measure_importance,
    proposed_weights,
    reweighted_score,
    time_split,
)

OBSERVATIONS = "intermediate.int_backtest_observations_labelled"
PRIMARY_OUTCOME = "churn_within_horizon"
ALL = "all"
# The score, each component alone, the plain formula and the probability: every single predictor is a
# baseline the score has to beat.
SCORE_PREDICTORS = ["health_score", *[f"{c}_score" for c in COMPONENTS], "plain_formula_score"]
PROBABILITY = "churn_probability"
# What an evaluation reads of an observation. The cancellation day itself is left out of the fingerprints: a
# cancellation landed today changes it on earlier observations of that account without changing any label.
EVALUATED_COLUMNS = [
    "observation_id",
    "account_id",
    "segment",
    "scorecard",
    "config_version",
    *SCORE_PREDICTORS,
    "is_churned",
]


def read_settings(con: duckdb.DuckDBPyConnection) -> tuple[BacktestSettings, dict[str, float]]:
    rows = dict(con.execute("select setting, value from scorecard.backtest_settings").fetchall())
    return BacktestSettings.from_rows(rows), rows


# The code that computes the results is part of what they depend on: a changed method recomputes them.
METHOD = hashlib.sha256(
    b"".join((Path(__file__).parent / name).read_bytes() for name in ("evaluation.py", "models.py", "runs.py"))
).hexdigest()


def fingerprint(*parts: object) -> str:
    """A digest of everything a result depends on: frames by their content, anything else by its text, and
    the method."""
    digest = hashlib.sha256(METHOD.encode())
    for part in parts:
        if isinstance(part, pd.DataFrame):
            digest.update(pd.util.hash_pandas_object(part, index=False).to_numpy().tobytes())
            digest.update(",".join(map(str, part.columns)).encode())
        else:
            digest.update(repr(part).encode())
    return digest.hexdigest()


def _stored(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame | None:
    schema, name = table.split(".")
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()[0]
    return con.execute(f"select * from {table}").df() if exists else None


def stored_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """What each backtest result was last computed from (backtest.evaluation_fingerprints)."""
    stored = _stored(con, "backtest.evaluation_fingerprints")
    return {} if stored is None else dict(zip(stored["result"], stored["fingerprint"], strict=True))


def store_fingerprints(con: duckdb.DuckDBPyConnection, fingerprints: dict[str, str]) -> None:
    merged = {**stored_fingerprints(con), **fingerprints}
    write_table(
        con,
        "backtest.evaluation_fingerprints",
        pd.DataFrame({"result": list(merged), "fingerprint": list(merged.values())}),
    )


def write_table(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    schema = table.split(".")[0]
    con.execute(f"create schema if not exists {schema}")
    con.register("frame_to_write", frame)
    try:
        con.execute(f"create or replace table {table} as select * from frame_to_write")
    finally:
        con.unregister("frame_to_write")


@dataclass
class BacktestResult:
    metrics: pd.DataFrame
    bands: pd.DataFrame
    calibration: pd.DataFrame
    coefficients: pd.DataFrame
    current_config_version: str | None
    plots: dict[str, Path] = field(default_factory=dict)
    # Outcomes whose figures were computed in this run (the others were unchanged and kept).
    evaluated: list[str] = field(default_factory=list)

    def headline(self, outcome: str = PRIMARY_OUTCOME, predictor: str = "health_score") -> dict | None:
        """The figures of `predictor` for `outcome`, over the whole portfolio, for the configuration that
        scored the latest day."""
        rows = self.metrics[
            (self.metrics["outcome"] == outcome)
            & (self.metrics["predictor"] == predictor)
            & (self.metrics["segment"] == ALL)
            & (self.metrics["config_version"] == self.current_config_version)
        ]
        return rows.iloc[0].to_dict() if len(rows) else None


def _groups(frame: pd.DataFrame):
    """(config_version, segment, rows) for every version and segment, and `all` for each."""
    versions = [ALL, *sorted(frame["config_version"].unique())] if frame["config_version"].nunique() > 1 else None
    for version in versions or [frame["config_version"].iloc[0]]:
        by_version = frame if version == ALL else frame[frame["config_version"] == version]
        yield version, ALL, by_version
        for segment in sorted(by_version["segment"].dropna().unique()):
            yield version, segment, by_version[by_version["segment"] == segment]


def run_backtest(con: duckdb.DuckDBPyConnection, out_dir: Path) -> BacktestResult:
    """Evaluates the score and every baseline per outcome, configuration version and segment; fits the churn
    probability; writes marts.score_backtest, marts.score_backtest_calibration,
    backtest.churn_model_coefficients and the plots in `out_dir`.

    An outcome whose observations, labels and settings are the same as when it was last evaluated keeps its
    stored figures: month-end observations change once a month (when another outcome window closes), so
    the daily refresh does not repeat thousands of bootstrap resamples to reach the same numbers."""
    settings, setting_rows = read_settings(con)
    baseline = con.execute("select component, weight from scorecard.backtest_baseline_weights order by 1").fetchall()
    observations = con.execute(f"select * from {OBSERVATIONS} order by observation_id").df()
    current = con.execute(
        "select config_version from marts.account_health_history order by score_date desc limit 1"
    ).fetchone()
    previous = {
        "metrics": _stored(con, "marts.score_backtest"),
        "calibration": _stored(con, "marts.score_backtest_calibration"),
        "coefficients": _stored(con, "backtest.churn_model_coefficients"),
    }
    known = stored_fingerprints(con)
    metrics, calibrations, coefficients, fingerprints, evaluated = [], [], [], {}, []
    for outcome, frame in observations.groupby("outcome", sort=True):
        frame = frame.reset_index(drop=True)
        key = f"score_backtest:{outcome}"
        fingerprints[key] = fingerprint(frame[EVALUATED_COLUMNS], sorted(setting_rows.items()), baseline)
        if known.get(key) == fingerprints[key] and all(
            stored is not None and (stored["outcome"] == outcome).any() for stored in previous.values()
        ):
            metrics.append(previous["metrics"][previous["metrics"]["outcome"] == outcome][METRIC_COLUMNS])
            calibrations.append(previous["calibration"][previous["calibration"]["outcome"] == outcome])
            coefficients.append(previous["coefficients"][previous["coefficients"]["outcome"] == outcome])
            continue
        evaluated.append(outcome)
        probability = cross_validated_probability(frame, settings.regularisation_c)
        metrics.append(_evaluate_outcome(outcome, frame, probability, settings))
        if probability is not None:
            table = calibration_table(frame["is_churned"].to_numpy(), probability)
            table.insert(0, "outcome", outcome)
            calibrations.append(table)
        if has_both_outcomes(frame["is_churned"]):
            fitted = fit_churn_probability(frame, settings.regularisation_c)
            fitted.insert(0, "outcome", outcome)
            fitted["observations"] = len(frame)
            fitted["churned_accounts"] = int(frame.loc[frame["is_churned"], "account_id"].nunique())
            coefficients.append(fitted)

    metrics_frame = pd.concat(metrics) if metrics else pd.DataFrame(columns=METRIC_COLUMNS)
    metrics_frame = metrics_frame[METRIC_COLUMNS].reset_index(drop=True)
    metrics_frame.insert(0, "backtest_id", _ids(metrics_frame, ["outcome", "config_version", "segment", "predictor"]))
    calibration = pd.concat(calibrations) if calibrations else pd.DataFrame(columns=CALIBRATION_COLUMNS)
    calibration = calibration[CALIBRATION_COLUMNS].reset_index(drop=True)
    coefficient_frame = pd.concat(coefficients) if coefficients else pd.DataFrame(columns=COEFFICIENT_COLUMNS)
    coefficient_frame = coefficient_frame[COEFFICIENT_COLUMNS].reset_index(drop=True)
    # Stamped on every probability computed with these coefficients, as config_version is on every score.
    coefficient_frame["model_version"] = fingerprint(coefficient_frame)[:16]
    write_table(con, "marts.score_backtest", metrics_frame)
    write_table(con, "marts.score_backtest_calibration", calibration)
    write_table(con, "backtest.churn_model_coefficients", coefficient_frame)
    store_fingerprints(con, fingerprints)
    bands = con.execute("select * from marts.score_backtest_bands").df()
    result = BacktestResult(metrics_frame, bands, calibration, coefficient_frame, current[0] if current else None)
    result.evaluated = evaluated
    expected_plots = plots.expected(observations, calibration, out_dir)
    if evaluated or not all(path.exists() for path in expected_plots.values()):
        result.plots = plots.draw(observations, calibration, out_dir)
    else:
        result.plots = expected_plots
    return result


def _evaluate_outcome(
    outcome: str, frame: pd.DataFrame, probability: np.ndarray | None, settings: BacktestSettings
) -> pd.DataFrame:
    """The figures of every predictor for one outcome, per configuration version and segment. The churn
    probability is judged by its cross-validated values (a model never judged on accounts it saw)."""
    # Probabilities rise with risk; negated they rank like a score, so the same AUC applies.
    frame = frame.assign(**{PROBABILITY: -probability if probability is not None else np.nan})
    rows = []
    for version, segment, subset in _groups(frame):
        for predictor in [*SCORE_PREDICTORS, PROBABILITY]:
            figures = evaluate_predictor(subset, predictor, settings)
            rows.append({"outcome": outcome, "config_version": version, "segment": segment, **figures})
    return pd.DataFrame(rows, columns=METRIC_COLUMNS)


METRIC_COLUMNS = [
    "outcome",
    "config_version",
    "segment",
    "predictor",
    "observations",
    "accounts",
    "churned_observations",
    "churned_accounts",
    "churn_rate",
    "roc_auc",
    "roc_auc_low",
    "roc_auc_high",
    "bottom_decile_lift",
    "top_decile_lift",
    "verdict",
]
CALIBRATION_COLUMNS = [
    "outcome",
    "bin",
    "observations",
    "mean_predicted_probability",
    "observed_churn_rate",
    "min_predicted_probability",
    "max_predicted_probability",
]
COEFFICIENT_COLUMNS = ["outcome", "feature", "coefficient", "observations", "churned_accounts"]


def _ids(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    if frame.empty:
        return pd.Series([], dtype=str)
    return frame[columns].fillna("").astype(str).agg("|".join, axis=1)


# ---------------------------------------------------------------------------------------------------------
# Learned weights


@dataclass
class WeightProposal:
    """Learned weights per scorecard and their out-of-time comparison with the configured ones."""

    made: bool
    reason: str
    weights: pd.DataFrame
    comparison: pd.DataFrame
    files: list[Path] = field(default_factory=list)

    def auc(self, weights: str) -> float | None:
        rows = self.comparison[self.comparison["weights"] == weights]
        return float(rows["roc_auc"].iloc[0]) if len(rows) and pd.notna(rows["roc_auc"].iloc[0]) else None


def _measure_points(con: duckdb.DuckDBPyConnection, observations: pd.DataFrame) -> pd.DataFrame:
    """Points of every measure on each observed account-day, wide; no data is NaN."""
    con.register("observed_days", observations[["account_id", "observed_date"]].drop_duplicates())
    try:
        long = con.execute(
            """
            select contributions.account_id, contributions.score_date as observed_date, contributions.measure,
                   case when contributions.has_data then cast(contributions.measure_points as double) end as points
            from marts.fct_health_score_contributions as contributions
            semi join observed_days
                on contributions.account_id = observed_days.account_id
                and contributions.score_date = observed_days.observed_date
            """
        ).df()
    finally:
        con.unregister("observed_days")
    wide = long.pivot_table(index=["account_id", "observed_date"], columns="measure", values="points", dropna=False)
    return wide


def _seed(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    return con.execute(f"select * from scorecard.{name}").df()


def propose_weights(con: duckdb.DuckDBPyConnection, seeds_dir: Path, out_dir: Path) -> WeightProposal:
    """Fits measure weights per scorecard on earlier observations (churn within the horizon), tests them and
    the configured weights on later ones, and writes the proposal as seed files in `out_dir` plus
    marts.weight_proposal and marts.weight_proposal_backtest. Never touches seeds/: applying a proposal is
    a reviewed act (`make apply-weights`)."""
    settings, rows = read_settings(con)
    observations = con.execute(
        f"select * from {OBSERVATIONS} where outcome = ? order by observation_id", [PRIMARY_OUTCOME]
    ).df()
    components = _seed(con, "scorecard_components")
    measure_weights = _seed(con, "scorecard_measure_weights")
    measures = _seed(con, "measures").set_index("measure")["component"]
    empty = WeightProposal(False, "", pd.DataFrame(columns=PROPOSAL_COLUMNS), pd.DataFrame(columns=COMPARISON_COLUMNS))

    outcome_days = int(rows.get("horizon_days", 90)) + int(rows.get("horizon_lead_days", 0))
    split = time_split(observations["observed_date"], settings.test_share, outcome_days)
    if observations.empty or split is None:
        return _no_proposal(con, empty, "too few observation dates for a time split")
    # The points of an observed day are fixed with its score (the history keeps both), so the observations,
    # the configuration and the settings decide the proposal: reading the points is skipped when unchanged.
    key = "weight_proposal"
    digest = fingerprint(observations[EVALUATED_COLUMNS], components, measure_weights, sorted(rows.items()))
    reused = _stored_proposal(con, out_dir) if stored_fingerprints(con).get(key) == digest else None
    if reused is not None:
        return reused
    points = _measure_points(con, observations).reindex(columns=measures.index)
    keyed = observations.set_index(["account_id", "observed_date"])
    features = points.reindex(keyed.index)
    dates = pd.to_datetime(observations["observed_date"]).dt.date
    train = (dates.isin(split.train_dates)).to_numpy()
    test = (dates.isin(split.test_dates)).to_numpy()
    churned = observations["is_churned"].astype(bool)
    if not has_both_outcomes(churned[train]):
        return _no_proposal(con, empty, "no churn (or only churn) among the training observations")

    configured_effective = {}
    for scorecard in sorted(components["scorecard"].unique()):
        configured_components = components[components["scorecard"] == scorecard].set_index("component")["weight"]
        configured_measures = measure_weights[measure_weights["scorecard"] == scorecard].set_index("measure")["weight"]
        configured_effective[scorecard] = _effective(configured_components.astype(float), configured_measures, measures)

    def learn(excluded: tuple[str, ...] = ()) -> tuple[list[tuple], dict[str, pd.Series]]:
        """Weight rows and effective weights per scorecard, learned without the `excluded` measures."""
        used = features.drop(columns=list(excluded))
        pooled = measure_importance(used[train], churned[train], settings.regularisation_c)
        rows_learned, effective = [], {}
        for scorecard in sorted(components["scorecard"].unique()):
            own = train & (observations["scorecard"] == scorecard).to_numpy()
            own_churned = observations.loc[own & churned.to_numpy(), "account_id"].nunique()
            if own_churned >= settings.min_churn_events and has_both_outcomes(churned[own]):
                importance = measure_importance(used[own], churned[own], settings.regularisation_c)
                basis = "own fit"
            else:
                importance, basis = pooled, f"pooled fit ({own_churned} churned accounts of its own in training)"
            importance = importance.reindex(measures.index, fill_value=0.0)
            configured_components = components[components["scorecard"] == scorecard].set_index("component")["weight"]
            configured_measures = measure_weights[measure_weights["scorecard"] == scorecard].set_index("measure")[
                "weight"
            ]
            new_components, new_measures = proposed_weights(importance, measures, configured_measures.astype(float))
            effective[scorecard] = _effective(new_components, new_measures, measures)
            for component in configured_components.index:
                configured, proposed = float(configured_components[component]), float(new_components[component])
                rows_learned.append((scorecard, component, None, configured, proposed, basis))
            for measure in configured_measures.index:
                configured, proposed = float(configured_measures[measure]), float(new_measures[measure])
                rows_learned.append((scorecard, measures[measure], measure, configured, proposed, basis))
        return rows_learned, effective

    try:
        weights_rows, proposed_effective = learn()
    except ValueError as error:
        return _no_proposal(con, empty, str(error))
    # A measure no scorecard weighs yet (a new one, such as comment_sentiment) earns a weight only if the
    # proposal does better with it than without it, out of time: the proposal is also learned without it.
    unweighted = [
        measure for measure, weight in measure_weights.groupby("measure")["weight"].max().items() if float(weight) == 0
    ]
    ablations = {}
    for measure in unweighted:
        try:
            ablations[f"proposed without {measure}"] = learn((measure,))[1]
        except ValueError:
            continue
    weights = pd.DataFrame(weights_rows, columns=PROPOSAL_COLUMNS)

    tested = observations[test].reset_index(drop=True)
    tested_features = features[test].reset_index(drop=True)
    comparison = []
    candidates = {"configured": configured_effective, "proposed": proposed_effective, **ablations}
    for number, (name, effective) in enumerate(candidates.items()):
        score = pd.Series(np.nan, index=tested.index)
        for scorecard, weights_of_card in effective.items():
            rows_of_card = tested["scorecard"] == scorecard
            score[rows_of_card] = reweighted_score(tested_features[rows_of_card], weights_of_card)
        tested[f"candidate_{number}"] = score
        comparison.append((name, f"candidate_{number}"))
    comparison.append(("configured, as scored", "health_score"))
    comparison_rows = []
    for name, column in comparison:
        figures = evaluate_predictor(tested, column, settings)
        comparison_rows.append(
            {
                "weights": name,
                "train_from_date": min(split.train_dates),
                "train_to_date": max(split.train_dates),
                "test_from_date": min(split.test_dates),
                "test_to_date": max(split.test_dates),
                **{key: figures[key] for key in COMPARISON_FIGURES},
            }
        )
    proposal = WeightProposal(True, "", weights, pd.DataFrame(comparison_rows, columns=COMPARISON_COLUMNS))
    proposal.files = write_seed_files(weights, seeds_dir, out_dir)
    _write_proposal_tables(con, proposal)
    store_fingerprints(con, {key: digest})
    return proposal


def _stored_proposal(con: duckdb.DuckDBPyConnection, out_dir: Path) -> WeightProposal | None:
    """The proposal made from the same observations, points and configuration, if its tables and files are
    still there."""
    weights, comparison = _stored(con, "marts.weight_proposal"), _stored(con, "marts.weight_proposal_backtest")
    files = [out_dir / f"{name}.csv" for name in ("scorecard_components", "scorecard_measure_weights")]
    if weights is None or comparison is None or weights.empty or not all(path.exists() for path in files):
        return None
    return WeightProposal(True, "", weights[PROPOSAL_COLUMNS], comparison[COMPARISON_COLUMNS], files)


PROPOSAL_COLUMNS = ["scorecard", "component", "measure", "configured_weight", "proposed_weight", "basis"]
COMPARISON_FIGURES = [
    "observations",
    "churned_accounts",
    "roc_auc",
    "roc_auc_low",
    "roc_auc_high",
    "bottom_decile_lift",
    "top_decile_lift",
    "verdict",
]
COMPARISON_COLUMNS = [
    "weights",
    "train_from_date",
    "train_to_date",
    "test_from_date",
    "test_to_date",
    *COMPARISON_FIGURES,
]


def _effective(component_weights: pd.Series, measure_weights: pd.Series, measures: pd.Series) -> pd.Series:
    return pd.Series(
        {
            measure: float(component_weights.get(measures[measure], 0.0)) * float(weight)
            for measure, weight in measure_weights.items()
        }
    )


def _no_proposal(con: duckdb.DuckDBPyConnection, empty: WeightProposal, reason: str) -> WeightProposal:
    empty.reason = reason
    _write_proposal_tables(con, empty)
    return empty


def _write_proposal_tables(con: duckdb.DuckDBPyConnection, proposal: WeightProposal) -> None:
    weights = proposal.weights.copy()
    weights.insert(0, "weight_proposal_id", _ids(weights, ["scorecard", "component", "measure"]))
    write_table(con, "marts.weight_proposal", weights)
    write_table(con, "marts.weight_proposal_backtest", proposal.comparison)


def _format_weight(weight: float) -> str:
    return f"{weight:.2f}".rstrip("0").rstrip(".") if weight else "0"


def write_seed_files(weights: pd.DataFrame, seeds_dir: Path, out_dir: Path) -> list[Path]:
    """The proposal in the shape of seeds/scorecard_components.csv and seeds/scorecard_measure_weights.csv:
    the configured files with only the weights replaced (rows, order and descriptions kept), so applying it
    shows a diff of exactly the weights that change."""
    out_dir.mkdir(parents=True, exist_ok=True)
    proposed = {
        (row.scorecard, row.measure if isinstance(row.measure, str) else row.component): row.proposed_weight
        for row in weights.itertuples()
    }
    written = []
    for name in ("scorecard_components", "scorecard_measure_weights"):
        lines = (seeds_dir / f"{name}.csv").read_text().splitlines()
        # scorecard, component or measure, weight[, description]: only the third field changes; the rest of
        # each line is kept byte for byte (quoting included).
        replaced = [lines[0]]
        for line in lines[1:]:
            scorecard, key, weight, *rest = line.split(",", 3)
            if float(weight) != proposed[(scorecard, key)]:
                weight = _format_weight(proposed[(scorecard, key)])
            replaced.append(",".join([scorecard, key, weight, *rest]))
        target = out_dir / f"{name}.csv"
        target.write_text("\n".join(replaced) + "\n")
        written.append(target)
    return written
