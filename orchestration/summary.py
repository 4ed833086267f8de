"""The short report `make run` prints: what was scored, how the portfolio splits, who needs help first."""

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.score_display import cut_to_one_decimal

SCORES = "marts.account_health_scores"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float | Decimal):
        return str(cut_to_one_decimal(value))
    return str(value)


def _table(headers: list[str], rows: list[tuple]) -> str:
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def render_summary(warehouse_path: Path) -> str:
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        total, scored, churned, as_of, average, history_days = con.execute(
            f"select count(*), count(health_score) filter (where not is_churned), count(*) filter (where is_churned), "
            f"max(score_date), avg(health_score) filter (where not is_churned), "
            f"(select count(*) from marts.account_health_history) from {SCORES}"
        ).fetchone()
        bands = con.execute(
            f"select coalesce(health_band, '(no score)'), count(*), "
            f"round(100.0 * count(*) / sum(count(*)) over (), 1) "
            f"from {SCORES} where not is_churned group by 1 order by min(coalesce(health_score, -1))"
        ).fetchall()
        unscored = con.execute(
            f"select status_reason, count(*) from {SCORES} where not is_churned and health_score is null "
            f"group by 1 order by 2 desc"
        ).fetchall()
        loads = con.execute(
            "select source_name, count(*), sum(rows_read), sum(rows_loaded), sum(rows_rejected), "
            "string_agg(main_reasons, '; ' order by rows_rejected desc) filter (where main_reasons is not null) "
            "from marts.landed_file_loads group by 1 order by sum(rows_read) desc"
        ).fetchall()
        lowest = con.execute(
            f"select account_id, account_name, segment, health_score, health_band, trend, weakest_component, "
            f"top_driver_reason "
            f"from {SCORES} where not is_churned and health_score is not null "
            f"order by health_score, account_id limit 10"
        ).fetchall()
    current = total - churned
    set_aside = sum(row[4] for row in loads)
    lines = [
        "Landed files (rows read = loaded + set aside):",
        _table(
            ["source", "files", "read", "loaded", "set aside", "main reasons"],
            [(s, f, f"{r:,}", f"{ld:,}", f"{x:,}", reasons or "") for s, f, r, ld, x, reasons in loads],
        ),
        *(
            [f"The {set_aside:,} rows set aside, with file, line and reason: marts.rejected_rows.", ""]
            if set_aside
            else [""]
        ),
        f"Health scores as of {as_of}: {scored} of {current} current accounts scored; "
        f"{history_days:,} account-days of history ({churned} churned accounts keep their last score).",
        f"Average health of current accounts: {average:.1f} / 100" if average is not None else "No account scored.",
        "",
        "Current accounts by band:",
        _table(["band", "accounts", "share %"], bands),
    ]
    if unscored:
        lines += ["", "Not scored:", _table(["reason", "accounts"], unscored)]
    lines += [
        "",
        "Ten lowest current accounts and what drags them down:",
        _table(["account", "name", "segment", "score", "band", "trend", "weakest", "top driver"], lowest),
    ]
    lines += render_configuration_change(warehouse_path)
    lines += render_actions(warehouse_path)
    lines += render_backtest(warehouse_path)
    return "\n".join(lines)


def render_configuration_change(warehouse_path: Path) -> list[str]:
    """When the scoring configuration changed without a rebuild of the history: which version scores now and
    since which day, how many accounts' 7- and 30-day changes reach back across it (left empty, as their
    trends, so that no score-drop alert fires on them), and how to rescore the history. Nothing otherwise."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        if not con.execute(
            "select count(*) from duckdb_columns() where schema_name = 'marts' "
            "and table_name = 'account_health_scores' and column_name = 'is_config_changed_30d'"
        ).fetchone()[0]:
            return []  # published by a version without the flags
        change = con.execute(
            """
            with current_version as (
                select config_version from marts.account_health_history order by score_date desc limit 1
            ),
            last_other_day as (
                select max(score_date) as score_date from marts.account_health_history
                where config_version <> (select config_version from current_version)
            )
            select
                (select config_version from current_version),
                min(history.score_date),
                (select any_value(first_as_of_date) from marts.scorecard_config_versions
                 where config_version = (select config_version from current_version)),
                (select any_value(config_version) from marts.account_health_history
                 where score_date = (select score_date from last_other_day)
                   and config_version <> (select config_version from current_version)),
                (select count(distinct config_version) from marts.account_health_history)
            from marts.account_health_history as history
            where history.score_date > (select score_date from last_other_day)
            """
        ).fetchone()
        current_version, since, first_as_of, previous_version, versions = change
        if previous_version is None:
            return []  # one version throughout: never changed, or rebuilt since
        crossing_7d, crossing_30d = con.execute(
            f"select count(*) filter (where is_config_changed_7d), count(*) filter (where is_config_changed_30d) "
            f"from {SCORES} where not is_churned"
        ).fetchone()
    lines = [
        "",
        f"The scoring configuration changed: scores from {since} on use version {current_version} (first used "
        f"for the scores as of {first_as_of}), earlier days {previous_version}"
        + (f" and older ones ({versions} versions in the history)." if versions > 2 else "."),
    ]
    if crossing_7d or crossing_30d:
        lines.append(
            f"The 30-day changes of {crossing_30d} current accounts and the 7-day changes of {crossing_7d} reach "
            "back across it: left empty, as their trends, and no score-drop alert fires on them "
            "(marts.account_score_changes shows the configuration's share of each difference)."
        )
    else:
        lines.append(
            "No current 7- or 30-day change reaches back across it any more; the days before it keep the earlier "
            "version."
        )
    lines.append("To rescore the whole history with the current configuration: make run REBUILD_HISTORY=1.")
    return lines


def render_actions(warehouse_path: Path) -> list[str]:
    """What the customer-success team does next: open alerts, each unhealthy account's next action, and the
    healthy accounts ready to grow."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        alerts = con.execute(
            "select rule, severity, count(*) filter (where is_open), count(*) filter (where is_deliverable) "
            "from marts.health_alerts group by all having count(*) filter (where is_open) > 0 "
            "order by min(severity_rank), 3 desc, rule"
        ).fetchall()
        actions = con.execute(
            "select trigger, count(*), owner_role, action from marts.account_actions where is_primary "
            "group by all order by min(priority), 2 desc, trigger"
        ).fetchall()
        accounts_with_actions = sum(row[1] for row in actions)
        expansion = con.execute(
            "select currency_code, count(*), sum(estimated_expansion_arr) from marts.expansion_candidates "
            "group by 1 order by 3 desc"
        ).fetchall()
        expansion_converted = con.execute(
            "select any_value(reporting_currency_code), sum(estimated_expansion_arr_reporting_amount) "
            "from marts.expansion_candidates"
        ).fetchone()
    lines = [
        "",
        "Open alerts, one per episode (marts.health_alerts; new = raised lately, sent to the rule's webhook):",
        _table(["rule", "severity", "open", "new"], alerts),
        "",
        f"Next actions of the {accounts_with_actions} yellow or red accounts (marts.account_actions, by account):",
        _table(["because of", "accounts", "owner", "action"], actions),
    ]
    if expansion:
        lines += [
            "",
            f"Expansion candidates (marts.expansion_candidates): {sum(n for _, n, _ in expansion)} green accounts; "
            "more seats worth "
            + ", ".join(f"{amount:,.0f} {currency}" for currency, _, amount in expansion)
            + f" a year at today's prices ({expansion_converted[1]:,.0f} {expansion_converted[0]} in all).",
        ]
    return lines


def _auc(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def render_backtest(warehouse_path: Path) -> list[str]:
    """How well the score foresaw real churn (marts.score_backtest), the learned weights' out-of-time test
    and the ARR at risk: the lines that say whether the score is worth acting on."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        if not con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'score_backtest'"
        ).fetchone()[0]:
            return []  # published by a version without the backtest
        figures = con.execute(
            """
            select outcome, predictor, churned_accounts, roc_auc, roc_auc_low, roc_auc_high, bottom_decile_lift,
                   verdict
            from marts.score_backtest
            where segment = 'all'
              and predictor in ('health_score', 'plain_formula_score', 'churn_probability')
              and config_version = (select config_version from marts.account_health_scores
                                    where config_version is not null order by score_date desc limit 1)
            order by outcome desc, predictor = 'health_score' desc, predictor
            """
        ).fetchall()
        proposal = con.execute("select weights, roc_auc from marts.weight_proposal_backtest").fetchall()
        at_risk = con.execute(
            "select currency_code, accounts, arr_amount, arr_at_risk_horizon from marts.arr_at_risk "
            "where rollup_level = 'portfolio' order by arr_at_risk_horizon desc"
        ).fetchall()
        at_risk_converted = con.execute(
            "select any_value(reporting_currency_code), sum(arr_reporting_amount), "
            "sum(arr_at_risk_horizon_reporting_amount) from marts.arr_at_risk where rollup_level = 'portfolio'"
        ).fetchone()
    lines = [
        "",
        "Does the score foresee churn? (backtest on the history; AUC 0.5 = chance; marts.score_backtest):",
        _table(
            ["outcome", "predictor", "churned", "AUC", "95% interval", "bottom 10% lift", "verdict"],
            [
                (o, p, n, _auc(a), f"{_auc(lo)}-{_auc(hi)}" if lo is not None else "", _auc(lift), v)
                for o, p, n, a, lo, hi, lift, v in figures
            ],
        ),
    ]
    aucs = dict(proposal)
    if aucs.get("configured") is not None and aucs.get("proposed") is not None:
        lines.append(
            f"Learned weights, out of time: AUC {aucs['proposed']:.3f} against {aucs['configured']:.3f} for the "
            "configured ones (marts.weight_proposal; make apply-weights to review them as a diff)."
        )
        for name, auc in proposal:
            if name.startswith("proposed without ") and auc is not None:
                lines.append(
                    f"Learned {name.removeprefix('proposed ')} (no scorecard weighs it yet): AUC {auc:.3f} "
                    f"against {aucs['proposed']:.3f} with it."
                )
    if at_risk and all(risk is None for *_, risk in at_risk):
        lines.append("ARR at risk: not estimated yet (no churn model: the history holds too little churn to fit one).")
    elif at_risk:
        lines.append(
            "ARR at risk of cancelling within the horizon (marts.arr_at_risk): "
            + ", ".join(f"{risk or 0:,.0f} of {arr:,.0f} {currency}" for currency, _, arr, risk in at_risk)
            + f"; in all {at_risk_converted[2] or 0:,.0f} of {at_risk_converted[1]:,.0f} {at_risk_converted[0]}."
        )
    return lines


def is_dbt_test(evaluation) -> bool:
    """dagster-dbt gives every dbt test's result the test's dbt node id; the Python checks have none."""
    return "unique_id" in evaluation.metadata


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _status(evaluation) -> str:
    if evaluation.passed:
        return "ok"
    return "FAILED" if evaluation.severity.value == "ERROR" else "warning"


# Sentences shown per failed check in the terminal; the check's page in the Dagster UI has up to 20.
PROBLEMS_SHOWN = 5


@dataclass(frozen=True)
class PlannedCheck:
    """A check the run planned to evaluate, and whether it is a dbt test (evaluated by a dbt step)."""

    key: dg.AssetCheckKey
    is_dbt_test: bool


def render_checks(evaluations: list, planned: list[PlannedCheck] | None = None) -> str:
    """Every check of the run: dbt tests counted, Python checks and anything not passing listed, what each
    failed dbt test found, and the checks the run planned but never evaluated (a step before them failed)."""
    dbt_tests = [e for e in evaluations if is_dbt_test(e)]
    python_checks = [e for e in evaluations if not is_dbt_test(e)]
    failed = [e for e in evaluations if not e.passed and e.severity.value == "ERROR"]
    warned = [e for e in evaluations if not e.passed and e.severity.value == "WARN"]
    evaluated = {(e.asset_key, e.check_name) for e in evaluations}
    skipped = [check for check in planned or [] if (check.key.asset_key, check.key.name) not in evaluated]
    listed = sorted(
        python_checks + [e for e in dbt_tests if not e.passed],
        key=lambda e: (e.passed, e.asset_key.to_user_string(), e.check_name),
    )
    lines = [
        f"Checks: {len(evaluations)} run, {len(failed)} failed, {len(warned)} warnings, {len(skipped)} skipped "
        f"({len(dbt_tests)} dbt tests, {len(python_checks)} Python checks)."
    ]
    if listed:
        lines.append(
            _table(
                ["status", "asset", "check", "result"],
                [
                    (
                        _status(e),
                        e.asset_key.to_user_string(),
                        e.check_name,
                        (e.description or "dbt test failed").splitlines()[0],
                    )
                    for e in listed
                ],
            )
        )
    for e in sorted(failed + warned, key=lambda e: (e.severity.value, e.asset_key.to_user_string(), e.check_name)):
        if not is_dbt_test(e) or not e.description:
            continue
        found = e.description.splitlines()
        count = e.metadata.get("dagster_dbt/failed_row_count")
        rows = _plural(count.value if count is not None else len(found), "failing row")
        lines += ["", f"{_status(e)} {e.check_name} ({e.asset_key.to_user_string()}, {rows}):"]
        lines += [f"  {line}" for line in found[:PROBLEMS_SHOWN]]
        if len(found) > PROBLEMS_SHOWN:
            lines.append("  ... more on the check's page in the Dagster UI (make dev)")
    if skipped:
        lines += ["", f"Skipped: {len(skipped)} planned checks were not evaluated ({SKIPPED_BECAUSE}):"]
        lines += _skipped_lines(skipped)
    return "\n".join(lines)


SKIPPED_BECAUSE = "a step before them failed, or dbt skipped the models below a failed test"


def _skipped_lines(skipped: list[PlannedCheck]) -> list[str]:
    """The Python checks by name, per asset; the dbt tests counted (hundreds of generated names say less)."""
    python_checks: dict[str, list[str]] = {}
    for check in skipped:
        if not check.is_dbt_test:
            python_checks.setdefault(check.key.asset_key.to_user_string(), []).append(check.key.name)
    lines = [f"  {asset}: {', '.join(sorted(names))}" for asset, names in sorted(python_checks.items())]
    dbt_tests = [check for check in skipped if check.is_dbt_test]
    if dbt_tests:
        assets = {check.key.asset_key for check in dbt_tests}
        lines.append(f"  {_plural(len(dbt_tests), 'dbt test')} on {_plural(len(assets), 'asset')}")
    return lines


def render_publication(serving_path: Path, failed_run_id: str) -> str:
    """Which published version BI tools read after a failed run: marts.publication of the serving file, or that
    nothing was ever published."""
    if not serving_path.exists():
        return f"Nothing was ever published: BI tools have no scores yet ({serving_path} does not exist)."
    with duckdb.connect(str(serving_path), read_only=True) as con:
        run_id, published_at, last_score_date = con.execute(
            "select run_id, published_at, last_score_date from marts.publication"
        ).fetchone()
    if run_id == failed_run_id:
        return f"This run published its scores (as of {last_score_date}) to {serving_path} before it failed."
    return (
        f"BI tools still see the scores published at {published_at:%Y-%m-%d %H:%M:%S} "
        f"(scores as of {last_score_date}, run {run_id}) in {serving_path}."
    )
