"""Why a score changed: the drivers of every 7- and 30-day change add up exactly to the change, agree with a
hand computation from the stored contributions, and show a configuration change as a driver of its own."""

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import copy_project, dbt
from tests.test_dbt_checks import edit_seed, failing_tests

SUM_TEST = "score_changes_add_up_to_the_change"
MICRO = Decimal("0.000001")

# Every account-day-window of the history whose drivers do not add up to its change, or that has drivers
# or an explanation without a change: must be empty.
MISMATCHES = """
with windows as (select 7 as window_days union all select 30),
changes as (
    select h.account_id, h.score_date, w.window_days,
        case w.window_days when 7 then h.change_7d else h.change_30d end as score_change
    from marts.account_health_history as h cross join windows as w
    where h.score_date >= ?
),
sums as (
    select account_id, score_date, window_days, sum(change_points) as driver_sum
    from marts.score_change_drivers group by all
),
explained as (select account_id, score_date, window_days, score_change from marts.account_score_changes)
select changes.*, sums.driver_sum, explained.score_change as explained_change
from changes
left join sums using (account_id, score_date, window_days)
left join explained using (account_id, score_date, window_days)
where (changes.score_change is null and (sums.driver_sum is not null or explained.score_change is not null))
   or (changes.score_change is not null and (changes.score_change <> coalesce(sums.driver_sum, 0)
        or explained.score_change is distinct from changes.score_change))
"""


def fetch(warehouse: Path, query: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def warehouse_copy(sample_run, tmp_path: Path) -> Path:
    copy = tmp_path / "copy.duckdb"
    shutil.copy(sample_run.warehouse, copy)
    return copy


def test_drivers_add_up_to_every_change_of_the_sample(sample_run):
    assert fetch(sample_run.warehouse, MISMATCHES, [dt.date(1900, 1, 1)]) == []
    changes, drivers = fetch(
        sample_run.warehouse,
        "select (select count(*) from marts.account_score_changes), (select count(*) from marts.score_change_drivers)",
    )[0]
    # The whole sample history, not a handful of rows (nor an empty warehouse that the checks above pass on).
    assert changes > 100_000 and drivers > changes, sample_run.run.stdout[-3000:]


def hand_decomposition(contributions: dict, cap_before: Decimal, cap_after: Decimal) -> dict[str, Decimal]:
    """The drivers of one change with the same scorecard and configuration on both days, computed from
    fct_health_score_contributions as docs/how_scores_are_computed.md describes it. `contributions` maps each
    measure to (points, weight, contribution) before and after; points are None without data."""
    weight_with_data_after = sum(w for (_, _, _), (p, w, _) in contributions.values() if p is not None)
    both = {m for m, ((pb, _, _), (pa, _, _)) in contributions.items() if pb is not None and pa is not None}
    changed = sorted(
        m for m, ((pb, _, _), (pa, w, _)) in contributions.items() if w > 0 and (pb is None) != (pa is None)
    )
    drivers = {m: ca - cb for m, ((_, _, cb), (_, _, ca)) in contributions.items()}
    if changed:
        own = {}
        for m in both:
            (pb, _, _), (pa, w, _) = contributions[m]
            own[m] = (Decimal(float((pa - pb) * w) / float(weight_with_data_after))).quantize(MICRO)
        dilution = sum(drivers[m] - own[m] for m in both)
        added = {m: (1 if contributions[m][0][0] is None else -1) * contributions[m][1][1] for m in changed}
        shares = {
            m: (Decimal(float(dilution * added[m]) / float(sum(added.values())))).quantize(MICRO)
            if sum(added.values()) and m != changed[0]
            else Decimal(0)
            for m in changed
        }
        shares[changed[0]] = dilution - sum(shares.values())
        drivers = {m: own[m] if m in both else drivers[m] + shares.get(m, Decimal(0)) for m in drivers}
    drivers["cap"] = cap_after - cap_before
    return {m: points for m, points in drivers.items() if points != 0}


def test_largest_7_day_drop_is_explained_as_computed_by_hand(sample_run):
    warehouse = sample_run.warehouse
    account, day, change, explanation = fetch(
        warehouse,
        "select account_id, score_date, score_change, explanation from marts.account_score_changes "
        "where window_days = 7 and not is_config_changed and not is_scorecard_changed "
        "order by score_change, account_id, score_date limit 1",
    )[0]
    earlier = day - dt.timedelta(days=7)
    rows = fetch(
        warehouse,
        "select measure, score_date, measure_points, scorecard_weight, contribution "
        "from marts.fct_health_score_contributions where account_id = ? and score_date in (?, ?)",
        [account, earlier, day],
    )
    contributions: dict = {}
    for measure, score_date, points, weight, contribution in rows:
        slot = 0 if score_date == earlier else 1
        contributions.setdefault(measure, [None, None])[slot] = (points, weight, contribution)
    # Every scorecard weighs every measure (a tested rule), so each measure has a row on both days.
    assert all(None not in pair for pair in contributions.values())
    caps = dict(
        fetch(
            warehouse,
            "select score_date, cap_adjustment from marts.account_health_history "
            "where account_id = ? and score_date in (?, ?)",
            [account, earlier, day],
        )
    )
    expected = hand_decomposition(contributions, caps[earlier], caps[day])
    stored = dict(
        fetch(
            warehouse,
            "select driver, change_points from marts.score_change_drivers "
            "where account_id = ? and score_date = ? and window_days = 7",
            [account, day],
        )
    )
    assert stored == expected
    assert sum(stored.values()) == change < -20
    # The sentence leads with the change and the component that moved it most, largest first.
    by_component: dict[str, Decimal] = {}
    components = dict(fetch(warehouse, "select measure, component from scorecard.measures"))
    for driver, points in stored.items():
        group = components.get(driver, driver)
        by_component[group] = by_component.get(group, Decimal(0)) + points
    largest = max(by_component, key=lambda group: abs(by_component[group]))
    assert explanation.startswith(f"down {abs(change):.1f} points: {largest} -{abs(by_component[largest]):.1f} (")


@pytest.mark.parametrize(
    ("tampering", "problem"),
    [
        (
            "update intermediate.int_score_changes_decomposed set change_points = change_points + 0.000001 "
            "where (account_id, score_date, window_days, driver) = (select (account_id, score_date, window_days, "
            "driver) from intermediate.int_score_changes_decomposed order by all limit 1)",
            "drivers do not add up to the change",
        ),
        (
            "delete from marts.account_score_changes where account_score_change_id = "
            "(select min(account_score_change_id) from marts.account_score_changes)",
            "no row in account_score_changes",
        ),
    ],
)
def test_a_tampered_row_fails_the_sum_test_and_is_named(sample_run, tmp_path, tampering, problem):
    warehouse = warehouse_copy(sample_run, tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(tampering)
    project = copy_project(tmp_path)
    result = dbt(["test", "--select", SUM_TEST, "--store-failures"], project, warehouse)
    assert result.returncode != 0
    assert failing_tests(result) == [SUM_TEST]
    # --store-failures keeps the failing rows in a table named after the test (schema: generate_schema_name).
    (schema,) = fetch(warehouse, "select schema_name from duckdb_tables() where table_name = ?", [SUM_TEST])[0]
    failures = fetch(warehouse, f"select problem, count(*) from {schema}.{SUM_TEST} group by all")
    assert failures == [(problem, 1)]


def test_a_weight_change_shows_as_the_configuration_driver(sample_run, tmp_path):
    """Scoring the last day again reads the earlier days from the stored history: with the same configuration it
    reproduces the full build exactly; with SMB's usage weight moved to support, the SMB accounts' changes get a
    'configuration' driver, the others none, and every change still adds up."""
    warehouse = warehouse_copy(sample_run, tmp_path)
    project = copy_project(tmp_path)
    last_day = fetch(warehouse, "select max(score_date) from marts.account_health_history")[0][0]
    drivers_of_last_day = (
        "select * exclude (scored_at) from intermediate.int_score_changes_decomposed "
        f"where score_date = '{last_day}' order by all"
    )
    full_build = fetch(warehouse, drivers_of_last_day)
    build = ["build", "--exclude", "test_type:unit", "tag:churn_risk", "--vars", f"{{score_as_of_date: {last_day}}}"]

    same = dbt(build, project, warehouse)
    assert same.returncode == 0, same.stdout[-3000:]
    assert fetch(warehouse, drivers_of_last_day) == full_build

    seeds = project.parent / "seeds"
    edit_seed(seeds, "scorecard_components", {"scorecard": "smb", "component": "usage"}, {"weight": "0.35"})
    edit_seed(seeds, "scorecard_components", {"scorecard": "smb", "component": "support"}, {"weight": "0.3"})
    changed = dbt(build, project, warehouse)
    assert changed.returncode == 0, changed.stdout[-3000:]
    assert f"PASS {SUM_TEST}" in changed.stdout

    rescored_from = fetch(
        warehouse, "select min(score_date) from intermediate.int_account_days_assigned where is_history_day"
    )[0][0]
    assert rescored_from < last_day
    assert fetch(warehouse, MISMATCHES, [rescored_from]) == []
    configuration = fetch(
        warehouse,
        "select changes.scorecard_before, changes.scorecard_after, changes.is_config_changed, count(*) "
        "from marts.score_change_drivers as drivers inner join marts.account_score_changes as changes "
        "using (account_id, score_date, window_days) "
        "where drivers.driver = 'configuration' and drivers.score_date >= ? group by all",
        [rescored_from],
    )
    assert configuration, "no configuration driver after a weight change"
    for before, after, is_config_changed, _ in configuration:
        # Only SMB's weights moved: other accounts get a configuration driver only where the scorecard changed.
        assert is_config_changed and (before == after == "smb" or before != after), (before, after)
    assert ("smb", "smb") in {(before, after) for before, after, _, _ in configuration}
    explained = fetch(
        warehouse,
        "select explanation from marts.account_score_changes where score_date >= ? and explanation like "
        "'%configuration %(scoring configuration changed)%'",
        [rescored_from],
    )
    assert explained
