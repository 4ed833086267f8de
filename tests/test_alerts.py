"""Alerts and account actions on the sample: each alert is backed by the history and the staged exports it
was read from, an episode raises one alert, ids survive a rerun, and the dbt tests that guard the alert
configuration and the actions fail on data that breaks them."""

import shutil

import duckdb
import pytest

from tests.conftest import copy_project, dbt, run_cli
from tests.test_dbt_checks import edit_seed, failing_tests

ALERT_MODELS = "int_alert_conditions_met+"
# The alert seeds and the scoring seeds their tests read; their tests run with them (indirect selection cautious).
ALERT_SEEDS = ["alert_rules", "alert_settings", "alert_severities", "playbooks", "measures", "health_bands"]


@pytest.fixture(scope="module")
def sample(sample_run):
    assert sample_run.run.returncode == 0, sample_run.run.stdout[-3000:] + sample_run.run.stderr[-3000:]
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        yield con


def rows(con: duckdb.DuckDBPyConnection, query: str) -> list[tuple]:
    return con.execute(query).fetchall()


def test_the_sample_raises_every_rule_and_some_alerts_are_open(sample):
    counts = dict(rows(sample, "select rule, count(*) from marts.health_alerts group by rule"))
    enabled = {rule for (rule,) in rows(sample, "select rule from scorecard.alert_rules where is_enabled")}
    assert set(counts) == enabled, counts
    assert rows(sample, "select count(*) from marts.health_alerts where is_open")[0][0] > 0


def test_one_alert_per_episode_and_episodes_never_overlap(sample):
    total, ids, episodes = rows(
        sample,
        "select count(*), count(distinct alert_id), count(distinct rule || account_id || cast(raised_on as varchar)) "
        "from marts.health_alerts",
    )[0]
    assert total == ids == episodes
    overlapping = rows(
        sample,
        """
        select earlier.alert_id
        from marts.health_alerts as earlier
        inner join marts.health_alerts as later
            on earlier.rule = later.rule and earlier.account_id = later.account_id
            and later.raised_on > earlier.raised_on
        where earlier.cleared_on is null or later.raised_on < earlier.cleared_on
        """,
    )
    assert not overlapping


def test_every_current_red_account_has_one_open_entered_red_alert(sample):
    """Independent of the alert models: the current state says which accounts are red today."""
    missing = rows(
        sample,
        """
        select scores.account_id
        from marts.account_health_scores as scores
        where not scores.is_churned and scores.health_band = 'red'
          and (select count(*) from marts.health_alerts as alerts
               where alerts.account_id = scores.account_id and alerts.rule = 'entered_red' and alerts.is_open) <> 1
        """,
    )
    assert not missing
    raised_when_not_red = rows(
        sample,
        """
        select alerts.alert_id
        from marts.health_alerts as alerts
        inner join marts.account_health_history as history
            on alerts.account_id = history.account_id and alerts.raised_on = history.score_date
        where alerts.rule = 'entered_red' and history.health_band is distinct from 'red'
        """,
    )
    assert not raised_when_not_red


def test_entered_red_messages_state_the_scores_of_that_day_and_a_week_before_cut_to_one_decimal(sample):
    """The figures in a message are the history's, cut off to one decimal as every score the project shows."""
    import re
    from decimal import Decimal

    from orchestration.score_display import cut_to_one_decimal

    alerts = rows(
        sample,
        "select alerts.message, history.health_score, history.health_score - history.change_7d "
        "from marts.health_alerts as alerts inner join marts.account_health_history as history "
        "on alerts.account_id = history.account_id and alerts.raised_on = history.score_date "
        "where alerts.rule = 'entered_red' and history.change_7d is not null",
    )
    assert len(alerts) > 50
    for message, score, week_before in alerts:
        stated = re.search(r"health (\d+\.\d) \((\d+\.\d) seven days before\)", message)
        assert stated, message
        assert (Decimal(stated[1]), Decimal(stated[2])) == (cut_to_one_decimal(score), cut_to_one_decimal(week_before))


def test_score_drops_are_raised_on_a_day_the_score_fell_by_the_threshold(sample):
    wrong = rows(
        sample,
        """
        select alerts.alert_id, history.change_7d
        from marts.health_alerts as alerts
        inner join marts.account_health_history as history
            on alerts.account_id = history.account_id and alerts.raised_on = history.score_date
        where alerts.rule = 'score_drop'
          and not history.change_7d <= -(select threshold from scorecard.alert_rules where rule = 'score_drop')
        """,
    )
    assert not wrong


def test_overdue_invoice_alerts_start_the_day_an_unpaid_invoice_passes_the_threshold(sample):
    """Read from the staged invoices, not the measures: an episode starts the day after an unpaid invoice
    has been overdue `threshold` days, unless it was already overdue on the account's first scored day."""
    unexplained = rows(
        sample,
        """
        with rule as (
            select cast(threshold as integer) as days from scorecard.alert_rules where rule = 'invoice_overdue'
        ),
        first_days as (
            select account_id, min(score_date) as first_day from marts.account_health_history group by account_id
        )
        select alerts.alert_id
        from marts.health_alerts as alerts
        cross join rule
        inner join first_days on alerts.account_id = first_days.account_id
        where alerts.rule = 'invoice_overdue'
          and alerts.raised_on <> first_days.first_day
          and not exists (
            select 1 from staging.stg_billing__invoices as invoices
            where invoices.account_id = alerts.account_id
              and not invoices.is_void
              and invoices.due_date + rule.days + 1 = alerts.raised_on
              and (invoices.paid_date is null or invoices.paid_date > alerts.raised_on)
          )
        """,
    )
    assert not unexplained
    assert rows(sample, "select count(*) from marts.health_alerts where rule = 'invoice_overdue'")[0][0] > 0


def test_detractor_alerts_start_on_a_detractor_answer(sample):
    unexplained = rows(
        sample,
        """
        with first_days as (
            select account_id, min(score_date) as first_day from marts.account_health_history group by account_id
        )
        select alerts.alert_id
        from marts.health_alerts as alerts
        inner join first_days on alerts.account_id = first_days.account_id
        where alerts.rule = 'detractor_nps'
          and alerts.raised_on <> first_days.first_day
          and not exists (
            select 1 from staging.stg_surveys__survey_responses as answers
            where answers.account_id = alerts.account_id and answers.survey_type = 'nps'
              and answers.responded_date = alerts.raised_on and answers.response_score <= 6
          )
        """,
    )
    assert not unexplained


def test_renewal_alerts_name_a_renewal_within_the_threshold_while_not_green(sample):
    wrong = rows(
        sample,
        """
        select alert_id, message
        from marts.health_alerts
        where rule = 'renewal_at_risk'
          and (health_band not in ('yellow', 'red')
               or observed_value > (select threshold from scorecard.alert_rules where rule = 'renewal_at_risk')
               or message not like '% renews on % while ' || health_band || ': health %')
        """,
    )
    assert not wrong


def test_every_yellow_or_red_account_has_exactly_one_primary_action(sample):
    per_account = dict(
        rows(
            sample,
            """
            select scores.account_id, count(actions.account_action_id)
            from marts.account_health_scores as scores
            left join marts.account_actions as actions
                on scores.account_id = actions.account_id and actions.is_primary
            where not scores.is_churned and scores.health_band in ('yellow', 'red')
            group by scores.account_id
            """,
        )
    )
    assert per_account and set(per_account.values()) == {1}
    actioned = {a for (a,) in rows(sample, "select distinct account_id from marts.account_actions")}
    assert actioned == set(per_account)


def test_an_episode_that_clears_and_reopens_raises_two_alerts_and_a_short_lapse_none(sample_run, tmp_path):
    """A made-up red spell on an account that was never red: red three days, seven days not red (the default
    `alert_clear_after_days`: it clears), red again for two days, two days not red (a lapse), red once more."""
    warehouse = tmp_path / "episodes.duckdb"
    shutil.copy(sample_run.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        account, first_day = con.execute(
            """
            select account_id, min(score_date) + 30
            from marts.account_health_history
            group by account_id
            having count(*) filter (where health_band = 'red') = 0 and count(*) > 120
            order by account_id
            limit 1
            """
        ).fetchone()
        red_offsets = [0, 1, 2, 10, 11, 14]
        con.execute(
            "update marts.account_health_history set health_band = 'red' "
            "where account_id = ? and score_date in (select ?::date + d from unnest(?) as t(d))",
            [account, first_day, red_offsets],
        )
    project = copy_project(tmp_path)
    result = dbt(["build", "--select", ALERT_MODELS], project, warehouse)
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        alerts = con.execute(
            "select raised_on - ?::date, last_met_on - ?::date, cleared_on - ?::date, days_met, is_open "
            "from marts.health_alerts where rule = 'entered_red' and account_id = ? order by raised_on",
            [first_day, first_day, first_day, account],
        ).fetchall()
    assert alerts == [(0, 2, 3, 3, False), (10, 14, 15, 3, False)]


def test_alert_ids_are_stable_across_a_rerun_of_the_same_day(sample_run, tmp_path):
    root = tmp_path / "rerun"
    shutil.copytree(sample_run.warehouse.parent, root / "warehouse")
    query = "select * from marts.health_alerts order by alert_id"
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        before = con.execute(query).fetchall()
    from orchestration.settings import SAMPLE_LANDING_DIR

    rerun = run_cli(root, SAMPLE_LANDING_DIR)
    assert rerun.run.returncode == 0, rerun.run.stdout[-3000:] + rerun.run.stderr[-3000:]
    with duckdb.connect(str(rerun.warehouse), read_only=True) as con:
        after = con.execute(query).fetchall()
    assert after == before


@pytest.mark.parametrize(
    ("seed", "match", "changes", "expected_failure"),
    [
        # A component without a playbook row leaves its measures without one (nps has no row of its own).
        ("playbooks", {"trigger_type": "component", "trigger": "feedback"}, None, "every_driver_has_a_playbook"),
        ("playbooks", {"trigger_type": "alert_rule", "trigger": "usage_drop"}, None, "every_driver_has_a_playbook"),
        ("alert_rules", {"rule": "score_drop"}, {"threshold": ""}, "expression_is_true_alert_rules_"),
        ("alert_settings", {"setting": "alert_delivery_lookback_days"}, {"value": "0"}, "alert_settings_are_valid"),
        ("alert_settings", {"setting": "healthy_band"}, {"value": "blue"}, "alert_settings_are_valid"),
    ],
)
def test_broken_alert_configuration_fails_the_right_test(tmp_path, seed, match, changes, expected_failure):
    project = copy_project(tmp_path)
    edit_seed(project.parent / "seeds", seed, match, changes)
    result = dbt(
        ["build", "--select", *ALERT_SEEDS, "--indirect-selection", "cautious"], project, tmp_path / "w.duckdb"
    )
    assert result.returncode != 0
    assert any(name.startswith(expected_failure) for name in failing_tests(result)), result.stdout[-3000:]


def test_alert_models_are_documented(sample_run):
    """Every column the alert marts hold is described in their YAML (the contract the delivery reads)."""
    import yaml

    from orchestration.settings import REPO_ROOT

    documented = {
        model["name"]: [column["name"] for column in model["columns"]]
        for model in yaml.safe_load(
            (REPO_ROOT / "dbt_project" / "models" / "marts" / "actions" / "_actions__models.yml").read_text()
        )["models"]
    }
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        for table, columns in documented.items():
            held = [name for (name,) in con.execute(f"select column_name from (describe marts.{table})").fetchall()]
            assert held == columns, table


def test_seed_rows_that_break_the_generic_tests_fail_them(tmp_path):
    """One copy of the seeds with one broken row per generic test; each names its own failure, nothing else fails."""
    project = copy_project(tmp_path)
    seeds = project.parent / "seeds"
    edit_seed(seeds, "alert_rules", {"rule": "usage_drop"}, {"severity": "urgent"})
    edit_seed(seeds, "alert_rules", {"rule": "invoice_overdue"}, {"threshold": "-5"})
    edit_seed(seeds, "playbooks", {"trigger_type": "component", "trigger": "feedback"}, {"owner_role": "intern"})
    edit_seed(seeds, "playbooks", {"trigger_type": "component", "trigger": "support"}, {"due_days": "-1"})
    edit_seed(seeds, "playbooks", {"trigger_type": "measure", "trigger": "feature_breadth"}, {"trigger": "features"})
    edit_seed(seeds, "alert_severities", {"severity": "warning"}, {"priority_rank": "1"})
    edit_seed(seeds, "alert_settings", {"setting": "healthy_band"}, {"setting": "healthy_bands"})
    selection = ["build", "--select", *ALERT_SEEDS, "--indirect-selection", "cautious"]
    result = dbt(selection, project, tmp_path / "w.duckdb")
    assert sorted(failing_tests(result)) == [
        "accepted_range_alert_rules_threshold__0",
        "accepted_range_playbooks_due_days__0",
        "accepted_values_alert_settings_setting__alert_delivery_lookback_days__alert_clear_after_days__healthy_band",
        "accepted_values_playbooks_owner_role__csm__account_executive__support_lead__finance",
        # The renamed setting leaves the healthy band unset.
        "alert_settings_are_valid",
        "relationships_alert_rules_severity__severity__ref_alert_severities_",
        "relationships_playbooks_trigger__measure__ref_measures_",
        "unique_alert_severities_priority_rank",
    ], result.stdout[-3000:]


def test_alert_tables_that_break_their_tests_fail_them(sample_run, tmp_path):
    """Corrupted copies of the alert tables fail the tests next to them, each for its own reason."""
    warehouse = tmp_path / "corrupt.duckdb"
    shutil.copy(sample_run.warehouse, warehouse)
    project = copy_project(tmp_path)
    selection = ["test", "--select", ALERT_MODELS, "--exclude", "test_type:unit"]
    shipped = dbt(selection, project, warehouse)
    assert shipped.returncode == 0, shipped.stdout[-3000:]
    with duckdb.connect(str(warehouse)) as con:
        for statement in (
            # The same condition day twice.
            "insert into intermediate.int_alert_conditions_met "
            "select * from intermediate.int_alert_conditions_met order by account_id, rule, score_date limit 1",
            # A closing nobody knows, and an open episode with a clearing day.
            "update intermediate.int_alert_episodes_grouped set closed_by = 'expired' where (account_id, rule, "
            "raised_on) = (select (account_id, rule, raised_on) from intermediate.int_alert_episodes_grouped "
            "where is_closed order by all limit 1)",
            "update intermediate.int_alert_episodes_grouped set cleared_on = last_met_on + 1 where (account_id, "
            "rule, raised_on) = (select (account_id, rule, raised_on) from intermediate.int_alert_episodes_grouped "
            "where not is_closed order by all limit 1)",
            # An alert twice, a closed alert marked for delivery, an open one with a clearing day.
            "insert into marts.health_alerts select * from marts.health_alerts order by alert_id limit 1",
            "update marts.health_alerts set is_deliverable = true "
            "where alert_id = (select min(alert_id) from marts.health_alerts where not is_open)",
            "update marts.health_alerts set cleared_on = raised_on "
            "where alert_id = (select max(alert_id) from marts.health_alerts where is_open)",
            # An unknown trigger type, and two actions sharing a priority.
            "update marts.account_actions set trigger_type = 'hunch' "
            "where account_action_id = (select min(account_action_id) from marts.account_actions)",
            "update marts.account_actions set priority = 1 where account_action_id = "
            "(select min(account_action_id) from marts.account_actions where priority = 2)",
            # A second primary action for another account.
            "update marts.account_actions set is_primary = true where account_action_id = "
            "(select max(account_action_id) from marts.account_actions where not is_primary)",
        ):
            con.execute(statement)
    result = dbt(selection, project, warehouse)
    failed = failing_tests(result)
    for expected in (
        "unique_combination_int_alert_conditions_met_",
        "accepted_values_int_alert_episodes_grouped_closed_by",
        "expression_is_true_int_alert_episodes_grouped_",
        "unique_health_alerts_alert_id",
        "unique_combination_health_alerts_",
        "expression_is_true_health_alerts_is_open_or_not_is_deliverable",
        "expression_is_true_health_alerts__cleared_on_is_null_is_open",
        "accepted_values_account_actions_trigger_type",
        "unique_combination_account_actions_",
        "unhealthy_accounts_have_one_primary_action",
    ):
        assert any(name.startswith(expected) for name in failed), (expected, failed)
