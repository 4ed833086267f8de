"""The benchmark floor computes the project's scores: on the small simulated dataset it agrees with the
project's history on every account-day, and the comparison notices when the floor scores differently."""

import csv
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.bench.floor import FloorResult, compare_with_project, run_floor
from orchestration.settings import REPO_ROOT
from tests.conftest import END_DATE, Refresh, copy_project, run_refresh
from tests.test_dbt_checks import edit_seed
from tests.test_scoring_engine import build

SEEDS = REPO_ROOT / "seeds"


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A copy of the scoring seeds to change."""
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS, copy, ignore=shutil.ignore_patterns("landing"))
    return copy


@pytest.fixture(scope="module")
def floor(refreshed, tmp_path_factory: pytest.TempPathFactory) -> FloorResult:
    assert refreshed.result.success
    database = tmp_path_factory.mktemp("floor") / "floor.duckdb"
    return run_floor(refreshed.landing, SEEDS, as_of=None, database=database)


def test_the_floor_agrees_with_the_project_on_every_account_day(refreshed, floor):
    comparison = compare_with_project(floor.database, refreshed.warehouse, sample_size=None)

    assert comparison.project_rows > 0
    assert floor.rows == comparison.floor_rows == comparison.project_rows == comparison.compared
    assert comparison.disagreeing == 0, "\n".join(map(str, comparison.first_disagreements))
    assert comparison.agrees


def test_the_floor_scores_up_to_the_latest_usage_day_like_the_project(refreshed, floor):
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as con:
        last_scored = con.execute("select max(score_date) from marts.account_health_history").fetchone()[0]
    assert floor.last_score_date == last_scored


def test_a_sample_is_drawn_the_same_way_every_time(refreshed, floor):
    first = compare_with_project(floor.database, refreshed.warehouse, sample_size=300, seed=5)
    again = compare_with_project(floor.database, refreshed.warehouse, sample_size=300, seed=5)

    assert first == again
    assert first.compared == 300
    assert first.agrees


def test_an_earlier_as_of_day_and_a_later_history_start_agree(refreshed, tmp_path):
    """Scored up to an earlier day, with the history starting after the reference period: the reference
    days are computed but not kept, and nothing after the as-of day counts."""
    project = copy_project(tmp_path)
    warehouse = tmp_path / "rebuilt.duckdb"
    shutil.copy(refreshed.warehouse, warehouse)
    as_of, history_start = END_DATE - dt.timedelta(days=40), dt.date(2026, 4, 15)
    edit_seed(
        project.parent / "seeds", "scoring_settings", {"setting": "history_start_date"}, {"value": str(history_start)}
    )
    build(project, warehouse, score_as_of_date=str(as_of), rebuild_history=True)

    floor = run_floor(refreshed.landing, project.parent / "seeds", as_of=as_of, database=tmp_path / "floor.duckdb")
    comparison = compare_with_project(floor.database, warehouse, sample_size=None)

    assert floor.last_score_date == as_of
    with duckdb.connect(str(floor.database), read_only=True) as con:
        assert con.execute("select min(score_date) from floor_scores").fetchone()[0] == history_start
    assert comparison.compared == comparison.project_rows == comparison.floor_rows
    assert comparison.disagreeing == 0, "\n".join(map(str, comparison.first_disagreements))


def test_a_weighted_comment_sentiment_agrees(refreshed, tmp_path):
    """comment_sentiment has weight 0 as shipped, so the comparison cannot see how the floor computes it;
    weighted (taken from NPS, so each level still sums to 1), the scores move and the floor follows them."""
    project = copy_project(tmp_path)
    seeds = project.parent / "seeds"
    warehouse = tmp_path / "weighted.duckdb"
    shutil.copy(refreshed.warehouse, warehouse)
    with (seeds / "scorecard_measure_weights.csv").open() as f:
        nps = {row["scorecard"]: float(row["weight"]) for row in csv.DictReader(f) if row["measure"] == "nps"}
    for scorecard, weight in nps.items():
        edit_seed(
            seeds,
            "scorecard_measure_weights",
            {"scorecard": scorecard, "measure": "nps"},
            {"weight": f"{weight - 0.1:.2f}"},
        )
        edit_seed(
            seeds,
            "scorecard_measure_weights",
            {"scorecard": scorecard, "measure": "comment_sentiment"},
            {"weight": "0.1"},
        )
    build(project, warehouse, rebuild_history=True)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(f"attach '{refreshed.warehouse}' as shipped (read_only)")
        moved = con.execute(
            "select count(*) from marts.account_health_history as weighted "
            "inner join shipped.marts.account_health_history as shipped using (account_id, score_date) "
            "where weighted.health_score is distinct from shipped.health_score"
        ).fetchone()[0]
    assert moved > 0, "a weighted comment sentiment must change scores, or this test shows nothing"

    floor = run_floor(refreshed.landing, seeds, as_of=None, database=tmp_path / "floor.duckdb")
    comparison = compare_with_project(floor.database, warehouse, sample_size=None)

    assert comparison.compared == comparison.project_rows == comparison.floor_rows
    assert comparison.disagreeing == 0, "\n".join(map(str, comparison.first_disagreements))


def test_the_comparison_fails_when_the_floor_weighs_differently(refreshed, seeds, tmp_path):
    # Usage and support swap weight in the mid-market scorecard; each level still sums to 1.
    edit_seed(seeds, "scorecard_components", {"scorecard": "mid_market", "component": "usage"}, {"weight": "0.3"})
    edit_seed(seeds, "scorecard_components", {"scorecard": "mid_market", "component": "support"}, {"weight": "0.4"})

    changed = run_floor(refreshed.landing, seeds, as_of=None, database=tmp_path / "floor.duckdb")
    comparison = compare_with_project(changed.database, refreshed.warehouse, sample_size=None)

    assert comparison.compared == comparison.project_rows
    assert comparison.disagreeing > 0
    assert not comparison.agrees
    assert all(disagreement.reason.startswith(("score", "band")) for disagreement in comparison.first_disagreements)


def test_a_normalisation_the_floor_does_not_implement_stops_it(refreshed, seeds, tmp_path):
    edit_seed(seeds, "measures", {"measure": "active_days"}, {"normalisation": "percentile"})

    with pytest.raises(duckdb.Error, match="floor.sql scores measure active_days as usage / linear"):
        run_floor(refreshed.landing, seeds, as_of=None, database=tmp_path / "floor.duckdb")


@pytest.fixture(scope="module")
def overlapping(small_landing: Path, dbt_manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Refresh:
    """The small landing with exports that overlap as real ones do, refreshed by the project: a later Parquet
    part re-sends usage events with other users and days (an event counts once per day), a later invoice file
    voids or settles invoices, a ticket export in a folder (sorting after the single file) changes resolutions
    and ratings, and a later survey export repeats answers with other scores. The later row always wins."""
    landing = tmp_path_factory.mktemp("overlapping")
    shutil.copytree(small_landing, landing, dirs_exist_ok=True)

    first_part = sorted((landing / "usage_events").glob("*.parquet"))[0]
    events = pd.read_parquet(first_part)
    resent = events.iloc[::3].copy()
    resent["user_id"] = resent["user_id"].str[:-1] + "9"
    resent["occurred_at"] = resent["occurred_at"] + pd.Timedelta(days=1)
    resent.to_parquet(landing / "usage_events" / "usage_events_zz-resent.parquet", index=False)

    invoices = pd.concat(
        pd.read_csv(path, dtype=str, keep_default_na=False) for path in sorted((landing / "invoices").glob("*.csv"))
    )
    corrected = invoices.iloc[::4].copy()
    corrected.loc[corrected.index[::2], "status"] = "void"
    corrected.loc[corrected.index[1::2], "paid_date"] = ""
    corrected.to_csv(landing / "invoices" / "invoices_zz-corrections.csv", index=False)

    tickets = pd.read_csv(landing / "support_tickets.csv", dtype=str, keep_default_na=False)
    updated = tickets[tickets["resolved_at"] != ""].iloc[::3].copy()
    updated["resolved_at"] = (pd.to_datetime(updated["resolved_at"]) + pd.Timedelta(hours=30)).dt.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    updated["csat_rating"] = "1"
    (landing / "support_tickets").mkdir()
    updated.to_csv(landing / "support_tickets" / "support_tickets_update.csv", index=False)

    # A later export repeats answers with other scores. (Within one file the loader sets conflicting
    # repeats aside, since nothing says which is right; across files the later file wins.)
    responses = pd.read_csv(landing / "survey_responses.csv", dtype=str, keep_default_na=False)
    repeated = responses.iloc[::2].copy()
    repeated["score"] = "1"
    (landing / "survey_responses").mkdir()
    repeated.to_csv(landing / "survey_responses" / "survey_responses_update.csv", index=False)

    warehouse = tmp_path_factory.mktemp("overlapping-warehouse") / "healthscore.duckdb"
    result = run_refresh(warehouse, landing)
    assert result.success
    return Refresh(warehouse=warehouse, landing=landing, result=result)


def test_overlapping_exports_resolve_as_in_staging(refreshed, overlapping, tmp_path):
    with duckdb.connect(str(overlapping.warehouse), read_only=True) as con:
        con.execute(f"attach '{refreshed.warehouse}' as plain (read_only)")
        changed_days = con.execute(
            "select count(*) from marts.account_health_history as overlapped "
            "inner join plain.marts.account_health_history as plain using (account_id, score_date) "
            "where overlapped.health_score is distinct from plain.health_score"
        ).fetchone()[0]
    assert changed_days > 0, "the later exports must change scores, or this test shows nothing"

    floor = run_floor(overlapping.landing, SEEDS, as_of=None, database=tmp_path / "floor.duckdb")
    comparison = compare_with_project(floor.database, overlapping.warehouse, sample_size=None)

    assert comparison.compared == comparison.project_rows == comparison.floor_rows
    assert comparison.disagreeing == 0, "\n".join(map(str, comparison.first_disagreements))
