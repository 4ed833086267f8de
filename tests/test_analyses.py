"""The analyses an analyst starts from compile with dbt and answer on the published file, read-only."""

import duckdb
import pytest

from orchestration.analyses import analysis_names, compile_analyses, connect_read_only, question

STARTING_POINTS = {
    "portfolio_overview",
    "arr_at_risk_by_csm",
    "biggest_score_drops",
    "health_by_cohort_and_segment",
    "account_history",
    "churned_accounts_by_band",
}


@pytest.fixture(scope="module")
def published(sample_run):
    assert sample_run.run.returncode == 0, sample_run.run.stderr
    return sample_run


@pytest.fixture
def compile_for(published, monkeypatch):
    """Compiles analyses as `make analysis` does, against the sample run's warehouse name."""
    monkeypatch.setenv("HEALTHSCORE_WAREHOUSE", str(published.warehouse))
    return compile_analyses


def answer(published, sql: str) -> list[tuple]:
    # A fresh read-only connection per analysis, as a BI tool or `make analysis` opens the serving file.
    with connect_read_only(published.serving, published.warehouse.stem) as con:
        return con.sql(sql).fetchall()


def test_every_analysis_compiles_and_answers_on_the_published_file(published, compile_for):
    names = analysis_names()
    assert set(names) >= STARTING_POINTS
    for name, sql in compile_for(names).items():
        assert question(name), name
        assert answer(published, sql), f"{name} returned no rows"


def test_one_accounts_history_is_that_account_day_by_day(published, compile_for):
    with duckdb.connect(str(published.serving), read_only=True) as con:
        account_id, days = con.execute(
            "select account_id, count(*) from marts.account_health_history group by account_id "
            "order by count(*) desc, account_id limit 1"
        ).fetchone()
    rows = answer(published, compile_for(["account_history"], {"account_id": account_id})["account_history"])
    assert {row[0] for row in rows} == {account_id} and len(rows) == days
    # An account the file does not hold gives nothing, which the test above would report.
    unknown = compile_for(["account_history"], {"account_id": "no-such-account"})["account_history"]
    assert answer(published, unknown) == []


def test_biggest_drops_are_drops_in_order(published, compile_for):
    rows = answer(published, compile_for(["biggest_score_drops"])["biggest_score_drops"])
    changes = [row[7] for row in rows]
    assert changes == sorted(changes) and all(change < 0 for change in changes)
