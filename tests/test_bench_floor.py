"""The benchmark floor computes the project's scores: on the small simulated dataset it agrees with the
project's history on every account-day, and the comparison notices when the floor scores differently."""

import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.bench.floor import FloorResult, compare_with_project, run_floor
from orchestration.settings import REPO_ROOT
from tests.test_dbt_checks import edit_seed

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
