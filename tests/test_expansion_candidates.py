"""Expansion candidates follow their rules: recomputed here from the score marts and the settings seed."""

import csv
import math
import shutil
from decimal import ROUND_HALF_UP, Decimal

import duckdb

from orchestration.settings import REPO_ROOT
from tests.conftest import copy_project, dbt
from tests.test_dbt_checks import failing_tests


def expansion_settings() -> dict[str, float]:
    with (REPO_ROOT / "seeds" / "expansion_settings.csv").open(newline="") as f:
        return {row["setting"]: float(row["value"]) for row in csv.DictReader(f)}


def expected_candidates(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, Decimal]]:
    """Account -> (suggested seats, estimated expansion), from the current scores and the latest measure values."""
    settings = expansion_settings()
    rows = con.execute(
        """
        select scores.account_id, scores.licensed_seats, scores.arr_amount,
            map_from_entries(list((contributions.measure, contributions.measure_value)))
        from marts.account_health_scores as scores
        inner join marts.fct_health_score_contributions as contributions
            on contributions.account_id = scores.account_id and contributions.score_date = scores.score_date
        where not scores.is_churned and scores.health_band = 'green' and scores.trend <> 'declining'
        group by all
        """
    ).fetchall()
    expected = {}
    for account_id, seats, arr, values in rows:
        ratio, growth = values.get("active_user_ratio"), values.get("active_users_trend")
        nps, csats = values.get("latest_nps_score"), [values.get("ticket_csat"), values.get("survey_csat")]
        usage_signals = [
            ratio is not None and ratio >= settings["min_seat_utilisation"],
            growth is not None and growth >= settings["min_active_users_growth"],
        ]
        other_signals = [
            nps is not None and nps >= settings["promoter_min_score"],
            max((c for c in csats if c is not None), default=0) >= settings["high_csat_min"],
        ]
        if sum(usage_signals + other_signals) < settings["min_signals"]:
            continue
        if settings["require_usage_signal"] == 1 and not any(usage_signals):
            continue
        active_users = round(ratio * seats)
        seats_to_add = max(0, math.ceil(active_users / settings["target_seat_utilisation"]) - seats)
        price = (Decimal(arr) / seats).quantize(Decimal("0.01"), ROUND_HALF_UP)
        expected[account_id] = (seats_to_add, seats_to_add * price)
    return expected


def test_candidates_are_the_accounts_the_rules_select(sample_run):
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        expected = expected_candidates(con)
        actual = {
            account_id: (seats, amount)
            for account_id, seats, amount in con.execute(
                "select account_id, suggested_additional_seats, estimated_expansion_arr from marts.expansion_candidates"
            ).fetchall()
        }
        evidence = dict(con.execute("select account_id, evidence from marts.expansion_candidates").fetchall())
    # The sample has both kinds: accounts that need more seats and ones that are candidates for other signals.
    assert len(expected) >= 10
    assert any(seats > 0 for seats, _ in expected.values()) and any(seats == 0 for seats, _ in expected.values())
    assert actual == expected
    assert all(text and "n/a" not in text for text in evidence.values())


def test_broken_candidates_fail_their_tests(sample_run, tmp_path):
    """Each corruption on a different candidate; every one of them is caught."""
    warehouse = tmp_path / "corrupt.duckdb"
    shutil.copy(sample_run.warehouse, warehouse)
    project = copy_project(tmp_path)
    shipped = dbt(["test", "--select", "expansion_candidates"], project, warehouse)
    assert shipped.returncode == 0, shipped.stdout[-3000:]
    corruptions = [
        "set estimated_expansion_arr = estimated_expansion_arr + 1",  # not seats x price
        "set trend = 'declining'",  # not stable
        "set signal_count = signal_count + 1",  # not the signals it shows
        "set evidence = null",
    ]
    with duckdb.connect(str(warehouse)) as con:
        accounts = [
            row[0] for row in con.execute("select account_id from marts.expansion_candidates order by 1").fetchall()
        ]
        for corruption, account_id in zip(corruptions, accounts, strict=False):
            con.execute(f"update marts.expansion_candidates {corruption} where account_id = ?", [account_id])
    result = dbt(["test", "--select", "expansion_candidates"], project, warehouse)
    assert result.returncode != 0
    failed = failing_tests(result)
    assert len([name for name in failed if name.startswith("expression_is_true_expansion_candidates")]) == 3, failed
    assert "not_null_expansion_candidates_evidence" in failed
