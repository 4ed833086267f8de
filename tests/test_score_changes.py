"""Why a score changed: the drivers of every 7- and 30-day change add up exactly to the change, agree with a
hand computation from the stored contributions, and show a configuration change as a driver of its own."""

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.summary import render_configuration_change, render_summary
from tests.conftest import copy_project, dbt
from tests.test_dbt_checks import edit_seed, failing_tests

SUM_TEST = "score_changes_add_up_to_the_change"
MICRO = Decimal("0.000001")

# Every account-day-window of the history whose drivers do not add up to the difference of its two scores
# (its change, also where the history leaves that empty across configuration versions), or that has drivers
# or an explanation without one: must be empty.
MISMATCHES = """
with windows as (select 7 as window_days union all select 30),
changes as (
    select h.account_id, h.score_date, w.window_days, h.health_score - e.health_score as score_change
    from marts.account_health_history as h cross join windows as w
    left join marts.account_health_history as e
        on e.account_id = h.account_id and e.score_date = h.score_date - w.window_days
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


# Per account-day and window whose earlier score was computed with another configuration version: the
# history's change, trend and flag, and whether a score-drop alert's condition was met on the day.
CROSSINGS = """
with windows as (select 7 as window_days union all select 30)
select h.account_id, h.score_date, w.window_days,
    case w.window_days when 7 then h.change_7d else h.change_30d end as score_change,
    case w.window_days when 30 then h.trend end as trend,
    case w.window_days when 7 then h.is_config_changed_7d else h.is_config_changed_30d end as is_config_changed,
    w.window_days = 7 and exists (
        select 1 from intermediate.int_alert_conditions_met as a
        where a.rule = 'score_drop' and a.account_id = h.account_id and a.score_date = h.score_date
    ) as is_score_drop
from marts.account_health_history as h cross join windows as w
inner join marts.account_health_history as e
    on e.account_id = h.account_id and e.score_date = h.score_date - w.window_days
where e.config_version <> h.config_version and e.health_score is not null
order by all
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
    'configuration' driver, the others none, and every change still adds up. The history leaves changes and
    trends across the two versions empty, no score-drop alert fires on them, the run summary says so and how to
    rebuild, and after the rebuild nothing crosses versions."""
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

    # The days scored again compare with stored days of the earlier configuration: none of those differences
    # is a change or a trend of the account, and no score-drop alert fires on one, although some fall below
    # the rule's threshold.
    crossings = fetch(warehouse, CROSSINGS)
    assert {(window, is_changed) for _, _, window, _, _, is_changed, _ in crossings} == {(7, True), (30, True)}
    assert [row for row in crossings if row[3] is not None or row[4] is not None or row[6]] == []
    (threshold,) = fetch(warehouse, "select threshold from scorecard.alert_rules where rule = 'score_drop'")[0]
    drops = fetch(
        warehouse,
        "select count(*) from marts.account_score_changes "
        "where is_config_changed and window_days = 7 and score_change <= -1 * ?",
        [threshold],
    )[0][0]
    assert drops > 0, "the weight change makes no 7-day difference that a score-drop alert could fire on"
    # The summary says which version scores since when, how many accounts it leaves without a change, and
    # how to rescore the history.
    new_version, since = fetch(
        warehouse,
        "select config_version, min(score_date) from marts.account_health_history "
        "where config_version = (select config_version from marts.account_health_history "
        "order by score_date desc limit 1) group by 1",
    )[0]
    accounts = fetch(
        warehouse,
        "select count(*) from marts.account_health_scores where not is_churned and is_config_changed_30d",
    )[0][0]
    summary = render_summary(warehouse)
    assert f"scores from {since} on use version {new_version}" in summary
    assert f"The 30-day changes of {accounts} current accounts" in summary and accounts > 0
    assert "make run REBUILD_HISTORY=1" in summary

    # A rebuild scores every day with the current configuration: nothing crosses versions any more (`run`: the
    # data tests were run on these models above, and the history is the longest build of the suite).
    rebuild = ["run", *build[1:-1], f"{{score_as_of_date: {last_day}, rebuild_history: true}}"]
    rebuilt = dbt(rebuild, project, warehouse)
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    assert fetch(warehouse, "select count(distinct config_version) from marts.account_health_history") == [(1,)]
    assert fetch(warehouse, CROSSINGS) == []
    flagged = "select count(*) from marts.account_health_history where is_config_changed_7d or is_config_changed_30d"
    assert fetch(warehouse, flagged) == [(0,)]
    assert "configuration changed" not in render_summary(warehouse)


def _published_versions(path: Path, history: list[tuple[str, str, str]], flags: list[tuple[bool, bool]]) -> Path:
    """A file with the three marts the summary's configuration lines read: history rows (account, day, version)
    and the current accounts' is_config_changed_7d / _30d."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.account_health_history (account_id varchar, score_date date, config_version varchar)"
        )
        con.executemany("insert into marts.account_health_history values (?, ?, ?)", history)
        con.execute(
            "create table marts.account_health_scores (is_churned boolean, is_config_changed_7d boolean, "
            "is_config_changed_30d boolean)"
        )
        con.executemany("insert into marts.account_health_scores values (false, ?, ?)", flags)
        con.execute("create table marts.scorecard_config_versions (config_version varchar, first_as_of_date date)")
        con.execute("insert into marts.scorecard_config_versions values ('v1', '2026-01-31'), ('v2', '2026-03-02')")
    return path


def test_the_summary_names_a_configuration_change_until_the_history_is_rebuilt(tmp_path):
    days = [f"2026-03-0{n}" for n in range(1, 4)]
    changed = [("A", days[0], "v1"), ("A", days[1], "v2"), ("A", days[2], "v2"), ("B", days[0], "v1")]
    lines = render_configuration_change(
        _published_versions(tmp_path / "a.duckdb", changed, [(True, True), (False, True)])
    )
    assert lines[1] == (
        "The scoring configuration changed: scores from 2026-03-02 on use version v2 (first used for the scores as "
        "of 2026-03-02), earlier days v1."
    )
    assert lines[2].startswith("The 30-day changes of 2 current accounts and the 7-day changes of 1 reach back")
    assert lines[3] == "To rescore the whole history with the current configuration: make run REBUILD_HISTORY=1."
    # A month on, no current change reaches back across it, but the history still holds the earlier version.
    later = render_configuration_change(_published_versions(tmp_path / "b.duckdb", changed, [(False, False)]))
    assert later[2].startswith("No current 7- or 30-day change reaches back across it any more")
    # One version throughout (never changed, or rebuilt): nothing to say.
    rebuilt = [(account, day, "v2") for account, day, _ in changed]
    assert render_configuration_change(_published_versions(tmp_path / "c.duckdb", rebuilt, [(False, False)])) == []
