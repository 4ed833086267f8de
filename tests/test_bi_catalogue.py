"""What a BI tool or an analyst sees of the marts: typed contracts, descriptions carried into the serving file as
comments, and the account's attributes on every day of the history."""

import json

import duckdb
import pytest

from orchestration.defs.serving.publish import PUBLISHED_TABLES

# The marts BI tools open first: the score and its band belong among their first columns.
SCORE_MARTS = ("account_health_scores", "account_health_history")
# Account attributes the history carries as valid on each score day (dim_account_versions).
HISTORY_ATTRIBUTES = (
    "account_name",
    "segment",
    "plan_name",
    "country_code",
    "currency_code",
    "csm_owner",
    "parent_account_id",
    "arr_amount",
    "licensed_seats",
    "contract_start_date",
    "renewal_date",
)


@pytest.fixture(scope="module")
def marts(dbt_manifest) -> dict[str, dict]:
    """The manifest's mart models by name."""
    nodes = json.loads(dbt_manifest.read_text())["nodes"].values()
    return {node["name"]: node for node in nodes if node["resource_type"] == "model" and node["schema"] == "marts"}


@pytest.fixture(scope="module")
def serving(sample_run):
    assert sample_run.run.returncode == 0, sample_run.run.stderr
    # As a BI tool opens it: a new process-level connection, read-only.
    with duckdb.connect(str(sample_run.serving), read_only=True) as con:
        yield con


def test_every_mart_is_an_enforced_contract_with_typed_described_columns(marts):
    assert set(PUBLISHED_TABLES) - set(marts) == {
        # Written by the backtest assets with scikit-learn, not by dbt (docs/predictive_validity.md).
        "score_backtest",
        "score_backtest_calibration",
        "weight_proposal",
        "weight_proposal_backtest",
    }
    for name, node in marts.items():
        assert node["contract"]["enforced"], name
        assert node["config"]["persist_docs"] == {"relation": True, "columns": True}, name
        assert node["description"].strip(), name
        untyped = [column for column, spec in node["columns"].items() if not spec.get("data_type")]
        undescribed = [column for column, spec in node["columns"].items() if not spec.get("description", "").strip()]
        assert not untyped and not undescribed, (name, untyped, undescribed)


@pytest.mark.parametrize("mart", SCORE_MARTS)
def test_the_score_and_its_band_come_right_after_the_account(marts, mart):
    columns = list(marts[mart]["columns"])
    assert columns.index("health_score") <= 3 and columns.index("health_band") <= 4, columns[:6]


def test_the_serving_file_carries_the_descriptions_as_comments(serving, marts):
    for table, column in [
        ("account_health_scores", "health_score"),
        ("account_health_scores", "health_band"),
        ("account_health_history", "csm_owner"),
        ("account_actions", "customer_step_de"),
        # A view in the warehouse, a table in the serving file.
        ("fct_health_score_contributions", "contribution"),
    ]:
        comment = serving.execute(
            "select comment from duckdb_columns() where schema_name = 'marts' and table_name = ? and column_name = ?",
            [table, column],
        ).fetchone()[0]
        assert comment == marts[table]["columns"][column]["description"], (table, column)
    for table in ("account_health_scores", "account_health_history", "health_alerts"):
        comment = serving.execute(
            "select comment from duckdb_tables() where schema_name = 'marts' and table_name = ?", [table]
        ).fetchone()[0]
        assert comment == marts[table]["description"], table


def test_the_serving_file_keeps_the_contract_column_order(serving, marts):
    for table in SCORE_MARTS:
        columns = [
            row[0]
            for row in serving.execute(
                "select column_name from duckdb_columns() where schema_name = 'marts' and table_name = ? "
                "order by column_index",
                [table],
            ).fetchall()
        ]
        assert columns == list(marts[table]["columns"]), table


def test_each_history_day_carries_the_account_version_valid_on_it(serving):
    differing = " or ".join(f"history.{column} is distinct from versions.{column}" for column in HISTORY_ATTRIBUTES)
    rows, wrong, unnamed = serving.execute(
        f"""
        select
            count(*),
            count(*) filter (where {differing}),
            count(*) filter (where history.account_name is null)
        from marts.account_health_history as history
        left join marts.dim_account_versions as versions
            on history.account_id = versions.account_id
            and (versions.version_number = 1 or history.score_date >= versions.valid_from_date)
            and (versions.valid_to_date is null or history.score_date <= versions.valid_to_date)
        """
    ).fetchone()
    assert rows > 0 and wrong == 0 and unnamed == 0, (rows, wrong, unnamed)
