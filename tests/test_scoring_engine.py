"""The scorecard engine's promises, shown on the small simulated dataset: configuration drives the scores,
missing data is never a fake number, history is point-in-time, and incremental equals full."""

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import END_DATE, copy_project, dbt, make_raw_editable
from tests.test_dbt_checks import edit_seed

HISTORY = (
    "select * exclude (config_version, scored_at) from marts.account_health_history order by account_id, score_date"
)
CONTRIBUTIONS = "select * exclude (scored_at) from marts.fct_health_score_contributions order by account_day_measure_id"


def build(project: Path, warehouse: Path, **dbt_vars) -> None:
    args = ["build", "--exclude", "test_type:unit"]
    if dbt_vars:
        args += ["--vars", str(dbt_vars)]
    result = dbt(args, project, warehouse)
    assert result.returncode == 0, result.stdout[-3000:]


def fetch(warehouse: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(query).fetchall()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


@pytest.fixture
def warehouse(refreshed, tmp_path: Path) -> Path:
    copy = tmp_path / "copy.duckdb"
    shutil.copy(refreshed.warehouse, copy)
    return copy


def test_incremental_refreshes_equal_a_full_rebuild_and_past_days_never_change(project, warehouse, tmp_path):
    start = END_DATE - dt.timedelta(days=20)
    stepwise = warehouse
    build(project, stepwise, score_as_of_date=str(start), rebuild_history=True)
    first_day_rows = fetch(
        stepwise,
        f"select * exclude (config_version, change_7d, change_30d, trend, scored_at) "
        f"from marts.account_health_history where score_date = '{start}' order by 1",
    )
    for step in (7, 20):
        build(project, stepwise, score_as_of_date=str(start + dt.timedelta(days=step)))

    full = tmp_path / "full.duckdb"
    shutil.copy(warehouse, full)
    build(project, full, score_as_of_date=str(END_DATE), rebuild_history=True)

    assert fetch(stepwise, HISTORY) == fetch(full, HISTORY)
    assert fetch(stepwise, CONTRIBUTIONS) == fetch(full, CONTRIBUTIONS)
    # Scored again with 20 more days of data known, the first day comes out exactly as it did back then.
    assert (
        fetch(
            full,
            f"select * exclude (config_version, change_7d, change_30d, trend, scored_at) "
            f"from marts.account_health_history where score_date = '{start}' order by 1",
        )
        == first_day_rows
    )
    assert len(first_day_rows) > 20


def test_a_component_weighted_1_makes_the_score_that_component(project, warehouse):
    before_versions = fetch(warehouse, "select distinct config_version from marts.account_health_history")
    for scorecard in ("smb", "mid_market", "enterprise", "onboarding"):
        for component in ("usage", "support", "payment", "feedback", "milestones"):
            weight = "1" if component == "usage" else "0"
            edit_seed(
                project.parent / "seeds",
                "scorecard_components",
                {"scorecard": scorecard, "component": component},
                {"weight": weight},
            )
    build(project, warehouse)

    # Current accounts: their latest day is rescored; churned accounts keep the score of their last day.
    rows = fetch(
        warehouse,
        "select account_id, health_score, usage_score from marts.account_health_scores "
        "where capped_by is null and health_score is not null and not is_churned",
    )
    assert len(rows) > 20
    for account_id, health, usage in rows:
        assert health == pytest.approx(usage, abs=1e-6), account_id

    # The change is audited: new days carry a new version, older days keep the one they were built with.
    versions = fetch(
        warehouse,
        "select config_version, min(score_date), max(score_date) "
        "from marts.account_health_history group by 1 order by 2",
    )
    assert len(versions) == 2 and versions[0][0] == before_versions[0][0]
    assert fetch(warehouse, "select count(distinct config_version) from marts.scorecard_config_versions") == [(2,)]


def test_missing_data_is_reweighted_and_no_data_gives_no_score(warehouse, project):
    partial = fetch(
        warehouse,
        "select count(*) from marts.account_health_history "
        "where feedback_score is null and health_score is not null and coverage < 1",
    )
    assert partial[0][0] > 0

    with duckdb.connect(str(warehouse)) as con:
        make_raw_editable(con, "accounts")
        con.execute(
            "insert into raw.accounts (account_id, account_name, segment, arr, currency, seats, contract_start_date, "
            "_source_file, _source_row) values ('ACC-NEW', 'Neukunde GmbH', 'SMB', 1200, 'EUR', 3, ?, 'test', 1)",
            [END_DATE - dt.timedelta(days=10)],
        )
    build(project, warehouse)
    row = fetch(
        warehouse,
        "select health_score, score_status, status_reason, coverage "
        "from marts.account_health_scores where account_id = 'ACC-NEW'",
    )
    assert row[0][0] is None and row[0][1] == "insufficient_data"
    assert row[0][2].startswith("insufficient data: ") and row[0][3] < 0.4


def test_account_changes_count_from_the_day_they_were_seen(project, warehouse):
    """An upsell or a segment move in a later CRM export changes the scores from the day it was seen on, never
    before, not even when the whole history is rescored."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop table intermediate.int_account_versions_recorded")  # start the record afresh
    first_seen, seen_on = END_DATE - dt.timedelta(days=20), END_DATE
    build(project, warehouse, score_as_of_date=str(first_seen), rebuild_history=True)
    build(project, warehouse, score_as_of_date=str(seen_on))
    upsold, moved = (
        row[0]
        for row in fetch(
            warehouse,
            f"select account_id from marts.account_health_history where score_date = '{seen_on}' "
            "and segment = 'SMB' and lifecycle_stage = 'adopted' and health_score is not null "
            "order by account_id limit 2",
        )
    )
    past = "select * exclude (config_version, scored_at) from marts.account_health_history "
    past += f"where score_date < '{seen_on}' "
    past += f"and account_id in ('{upsold}', '{moved}') order by account_id, score_date"
    events_per_seat = (
        "select measure_value from marts.fct_health_score_contributions "
        f"where account_id = '{upsold}' and measure = 'events_per_seat' and score_date = '{seen_on}'"
    )
    history_before, (per_seat_before,) = fetch(warehouse, past), fetch(warehouse, events_per_seat)
    with duckdb.connect(str(warehouse)) as con:
        make_raw_editable(con, "accounts")
        con.execute(f"update raw.accounts set seats = seats * 4 where account_id = '{upsold}'")
        con.execute(f"update raw.accounts set segment = 'Enterprise' where account_id = '{moved}'")

    build(project, warehouse, score_as_of_date=str(seen_on))
    versions = fetch(
        warehouse,
        "select account_id, version_number, valid_from_date, valid_to_date, is_current "
        f"from marts.dim_account_versions where account_id in ('{upsold}', '{moved}') order by 1, 2",
    )
    assert versions == [
        (account, number, day, until, number == 2)
        for account in sorted((upsold, moved))
        for number, day, until in ((1, first_seen, seen_on - dt.timedelta(days=1)), (2, seen_on, None))
    ]
    assert fetch(warehouse, past) == history_before
    # Four times the seats, the same events: a quarter of the events per seat, from the day it was seen.
    assert fetch(warehouse, events_per_seat)[0][0] == pytest.approx(per_seat_before[0] / 4)
    assert fetch(
        warehouse,
        f"select segment, scorecard from marts.account_health_history where account_id = '{moved}' "
        f"and score_date = '{seen_on}'",
    ) == [("Enterprise", "enterprise")]

    build(project, warehouse, score_as_of_date=str(seen_on), rebuild_history=True)
    assert fetch(warehouse, past) == history_before
