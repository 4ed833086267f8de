"""The CRM export: the first export holds every account, an unchanged rerun writes nothing, a changed account
appears alone, a stopped export is repeated, the mapping names every column, and the CSV is safe in Excel."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration.defs.exports import crm
from orchestration.defs.exports.crm import STATE_TABLE, csv_safe, export_crm_properties
from orchestration.settings import REPO_ROOT

MAPPING = REPO_ROOT / "seeds" / "crm_property_mapping.csv"
MODEL_YAML = REPO_ROOT / "dbt_project" / "models" / "marts" / "exports" / "_exports__models.yml"
FIRST = dt.datetime(2026, 11, 1, 6, 0, tzinfo=dt.UTC)


def model_columns() -> list[str]:
    [model] = yaml.safe_load(MODEL_YAML.read_text())["models"]
    return [column["name"] for column in model["columns"]]


def mapping_rows() -> list[dict[str, str]]:
    with MAPPING.open(newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture
def warehouse(tmp_path) -> duckdb.DuckDBPyConnection:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("create schema scorecard")
        con.execute(
            "create table scorecard.crm_property_mapping as select * from read_csv(?, header = true, "
            "types = {'decimal_places': 'integer', 'is_change_tracked': 'boolean'})",
            [str(MAPPING)],
        )
        con.execute("create schema marts")
        con.execute(
            """
            create table marts.crm_account_properties (
                account_id varchar, health_band varchar, trend varchar, top_driver varchar,
                top_driver_reason varchar, next_action varchar, health_score decimal(9, 6),
                change_30d decimal(9, 6), churn_probability double, next_action_due_date date, score_date date
            )
            """
        )
        con.execute(
            """
            insert into marts.crm_account_properties values
                ('ACC-1', 'red', 'declining', 'active_users_trend', 'active users down 38%', 'Call the sponsor',
                 31.24, -12.5, 0.41234, date '2026-11-03', date '2026-10-31'),
                ('ACC-2', 'green', 'stable', null, null, null, 88.0, 0.2, null, null, date '2026-10-31'),
                ('ACC-3', 'yellow', 'improving', 'nps', '=HYPERLINK("http://evil","x")', '+1 call', 55.0, -3.0,
                 0.2, date '2026-11-05', date '2026-10-31')
            """
        )
        yield con


@pytest.fixture
def out(tmp_path) -> Path:
    """The export directory, apart from the warehouse file."""
    return tmp_path / "crm"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_the_mapping_names_every_column_of_the_model_once():
    rows = mapping_rows()
    assert [row["column_name"] for row in rows] == model_columns()
    for row in rows:
        assert row["hubspot_property"] == row["hubspot_property"].lower() and " " not in row["hubspot_property"]
        assert row["salesforce_field"].endswith("__c") and len(row["salesforce_field"]) <= 40


def test_an_unmapped_column_stops_the_export_and_is_named(warehouse, out):
    warehouse.execute("alter table marts.crm_account_properties add column arr_amount decimal(18, 2)")
    with pytest.raises(ValueError, match="crm_property_mapping.csv has no row for arr_amount"):
        export_crm_properties(warehouse, out / "exports", FIRST)
    assert not (out / "exports").exists()


def test_first_export_has_every_account_under_each_crms_names(warehouse, out):
    report = export_crm_properties(warehouse, out, FIRST)

    assert (report.accounts, report.exported) == (3, 3)
    assert sorted(path.relative_to(out).as_posix() for path in report.files) == [
        "hubspot/hubspot_account_properties_20261101T060000000000Z.csv",
        "hubspot/hubspot_account_properties_20261101T060000000000Z.jsonl",
        "salesforce/salesforce_account_properties_20261101T060000000000Z.csv",
        "salesforce/salesforce_account_properties_20261101T060000000000Z.jsonl",
    ]
    hubspot = read_csv(out / "hubspot" / "hubspot_account_properties_20261101T060000000000Z.csv")
    assert list(hubspot[0]) == [row["hubspot_property"] for row in mapping_rows()]
    first = hubspot[0]
    # Rounded to the mapping's decimal places; negative numbers stay numbers.
    assert (first["healthscore_score"], first["healthscore_change_30d"]) == ("31.2", "-12.5")
    assert (
        first["healthscore_churn_probability"] == "0.4123" and first["healthscore_next_action_due_date"] == "2026-11-03"
    )
    assert hubspot[1]["healthscore_churn_probability"] == ""  # no model fitted: empty, not 0
    lines = (out / "salesforce" / "salesforce_account_properties_20261101T060000000000Z.jsonl").read_text()
    records = [json.loads(line) for line in lines.splitlines()]
    assert list(records[0]) == [row["salesforce_field"] for row in mapping_rows()]
    assert records[0]["Health_Score__c"] == 31.2 and records[1]["Health_Churn_Probability__c"] is None
    assert not list(out.rglob("*.partial"))


def test_text_starting_like_a_formula_is_quoted_in_the_csv_only(warehouse, out):
    export_crm_properties(warehouse, out, FIRST)

    row = read_csv(next((out / "salesforce").glob("*.csv")))[2]
    assert row["Health_Top_Driver_Reason__c"] == '\'=HYPERLINK("http://evil","x")'
    assert row["Health_Next_Action__c"] == "'+1 call"
    record = json.loads(next((out / "salesforce").glob("*.jsonl")).read_text().splitlines()[2])
    assert record["Health_Top_Driver_Reason__c"].startswith("=HYPERLINK")  # JSON is data, never a formula
    assert [csv_safe(v) for v in ("=1+1", "-2", "@SUM(A1)", "+x", "\tx", "plain")] == [
        "'=1+1",
        "'-2",
        "'@SUM(A1)",
        "'+x",
        "'\tx",
        "plain",
    ]


def test_an_unchanged_rerun_writes_no_file_and_a_changed_account_appears_alone(warehouse, out):
    export_crm_properties(warehouse, out, FIRST)
    # A new day alone (score_date is not change-tracked) and noise below the exported precision are no change.
    warehouse.execute(
        "update marts.crm_account_properties set score_date = date '2026-11-01', health_score = health_score + 0.001"
    )

    unchanged = export_crm_properties(warehouse, out, FIRST + dt.timedelta(days=1))

    assert (unchanged.exported, unchanged.files) == (0, [])
    assert len(list(out.rglob("*.csv"))) == 2

    warehouse.execute("update marts.crm_account_properties set health_band = 'red' where account_id = 'ACC-2'")
    changed = export_crm_properties(warehouse, out, FIRST + dt.timedelta(days=2))

    assert changed.exported == 1
    for path in changed.files:
        if path.suffix == ".csv":
            [row] = read_csv(path)
            assert next(iter(row.values())) == "ACC-2"
        else:
            [line] = path.read_text().splitlines()
            assert "ACC-2" in line


def test_a_new_account_and_a_value_turning_null_are_changes(warehouse, out):
    export_crm_properties(warehouse, out, FIRST)
    warehouse.execute("update marts.crm_account_properties set next_action = null where account_id = 'ACC-1'")
    warehouse.execute(
        "insert into marts.crm_account_properties select 'ACC-4', * exclude (account_id) "
        "from marts.crm_account_properties where account_id = 'ACC-2'"
    )

    report = export_crm_properties(warehouse, out, FIRST + dt.timedelta(days=1))

    rows = read_csv(next(path for path in report.files if path.name.startswith("hubspot") and path.suffix == ".csv"))
    assert [row["healthscore_account_id"] for row in rows] == ["ACC-1", "ACC-4"]


def test_a_stopped_export_leaves_no_partial_file_and_is_repeated(warehouse, out, monkeypatch):
    def stop(*args):
        raise KeyboardInterrupt  # killed while writing the JSON-lines file, after the CSV

    monkeypatch.setattr(crm, "_write_jsonl", stop)
    with pytest.raises(KeyboardInterrupt):
        export_crm_properties(warehouse, out, FIRST)

    assert not [path for path in out.rglob("*") if path.is_file()]
    assert warehouse.execute(f"select count(*) from {STATE_TABLE}").fetchone()[0] == 0
    monkeypatch.undo()
    assert export_crm_properties(warehouse, out, FIRST).exported == 3


def test_the_state_advances_only_after_the_files_are_in_place(warehouse, out, monkeypatch):
    renamed: list[str] = []

    def replace_then_stop(source, destination):
        os.rename(source, destination)
        renamed.append(str(destination))
        if len(renamed) == 4:
            raise KeyboardInterrupt  # stopped after the last rename, before the state was written

    monkeypatch.setattr(crm.os, "replace", replace_then_stop)
    with pytest.raises(KeyboardInterrupt):
        export_crm_properties(warehouse, out, FIRST)
    monkeypatch.undo()

    assert warehouse.execute(f"select count(*) from {STATE_TABLE}").fetchone()[0] == 0
    # Exported again: the CRM import is an upsert on the account id, a repeated row changes nothing.
    assert export_crm_properties(warehouse, out, FIRST + dt.timedelta(hours=1)).exported == 3


def test_the_sample_refresh_exports_every_account_with_its_primary_action(sample_run, out):
    """The sample refresh ran the export into its default directory beside the warehouse."""
    assert sample_run.run.returncode == 0, sample_run.run.stderr
    exports = sample_run.warehouse.parent / "exports" / "crm"
    [hubspot_csv] = (exports / "hubspot").glob("*.csv")
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        accounts = con.execute("select count(*) from marts.account_health_scores").fetchone()[0]
        primary = con.execute("select count(*) from marts.account_actions where is_primary").fetchone()[0]
    rows = read_csv(hubspot_csv)
    assert len(rows) == accounts == len({row["healthscore_account_id"] for row in rows})
    assert sum(1 for row in rows if row["healthscore_next_action"]) == primary
    # The sample fits a churn model: every scored account has a probability, churned ones that of their last day.
    assert all(row["healthscore_churn_probability"] for row in rows if row["healthscore_score"])
