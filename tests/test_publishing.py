"""Publishing: BI reads a separate serving file that only checked scores reach, replaced atomically."""

import csv
import datetime as dt
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.cli import planned_checks
from orchestration.defs.serving.publish import PUBLISHED_TABLES
from orchestration.settings import REPO_ROOT
from orchestration.summary import render_checks, render_publication
from tests.conftest import END_DATE, cli_environment, run_refresh


def serving_file(warehouse: Path) -> Path:
    return warehouse.parent / "serving" / "healthscore.duckdb"


def published_run(serving: Path) -> str:
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute("select run_id from marts.publication").fetchone()[0]


@pytest.fixture
def published_copy(refreshed, tmp_path: Path) -> Path:
    """A copy of the refreshed warehouse and its serving file; returns the warehouse path."""
    warehouse = tmp_path / "healthscore.duckdb"
    shutil.copy(refreshed.warehouse, warehouse)
    shutil.copytree(serving_file(refreshed.warehouse).parent, serving_file(warehouse).parent)
    return warehouse


def landing_copy(source: Path, destination: Path) -> Path:
    shutil.copytree(source, destination)
    return destination


def test_refresh_publishes_every_public_mart(refreshed):
    serving = serving_file(refreshed.warehouse)
    assert published_run(serving) == refreshed.result.run_id
    with (
        duckdb.connect(str(refreshed.warehouse), read_only=True) as working,
        duckdb.connect(str(serving), read_only=True) as published,
    ):
        for table in PUBLISHED_TABLES:
            query = f"select count(*) from marts.{table}"
            assert published.execute(query).fetchone() == working.execute(query).fetchone(), table


def _assert_not_published(result: dg.ExecuteInProcessResult, serving: Path, before: bytes, run_before: str):
    """The run fails, the publishing step never writes, and the serving file is byte for byte the old one."""
    assert not result.success
    assert not result.asset_materializations_for_node("serving__health_score_marts")
    assert serving.read_bytes() == before and published_run(serving) == run_before


def test_a_model_dbt_cannot_build_fails_the_run_and_keeps_the_published_marts(published_copy, refreshed):
    """Scoring up to a day before the stored history is refused by the first scoring model; the run must fail
    with that reason rather than skip publishing quietly."""
    serving = serving_file(published_copy)
    before, run_before = serving.read_bytes(), published_run(serving)

    result = run_refresh(published_copy, refreshed.landing, score_as_of_date=str(END_DATE - dt.timedelta(days=5)))
    failures = [e.step_failure_data.user_failure_data for e in result.all_events if e.is_step_failure]
    assert [f.description.splitlines()[0] for f in failures] == [
        "dbt could not build 1 node(s); nothing was published."
    ]
    assert f"is before {END_DATE}, the last day already in" in failures[0].description
    assert "REBUILD_HISTORY=1" in failures[0].description
    _assert_not_published(result, serving, before, run_before)


def test_failing_dbt_test_keeps_the_published_marts(published_copy, refreshed):
    """The load report disagrees with the rows set aside (a manifest that lost track of a file): the dbt test
    tying the two together fails, and publishing refuses. The check result, the run's failure and the CLI's
    summary say which file and which counts; the summary counts and names the checks the run never got to and
    says which publication BI still sees."""
    with duckdb.connect(str(published_copy)) as con:
        landed_file, rows_rejected = con.execute(
            "update raw.landed_files set rows_rejected = rows_rejected + 1 where source = 'usage_events' "
            "and landed_file = (select min(landed_file) from raw.landed_files where source = 'usage_events') "
            "returning landed_file, rows_rejected"
        ).fetchone()
    serving = serving_file(published_copy)
    before, run_before = serving.read_bytes(), published_run(serving)

    with dg.DagsterInstance.ephemeral() as instance:
        result = run_refresh(published_copy, refreshed.landing, instance=instance)
        planned = planned_checks(instance, result.run_id)
    evaluations = result.get_asset_check_evaluations()
    # The file's loaded rows, read less set aside, no longer match its rows in the raw view either.
    failed, view_differs = sorted(
        (e for e in evaluations if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR),
        key=lambda e: e.check_name,
        reverse=True,
    )
    assert failed.check_name.startswith("rejected_rows_are_listed_landed_file_loads")
    assert view_differs.check_name == "loaded_rows_are_in_the_raw_views"
    assert f"landed_file {landed_file}" in view_differs.description, view_differs.description
    finding = (
        f"marts.landed_file_loads: file {landed_file} of usage_events: rows_rejected says {rows_rejected}, "
        f"but marts.rejected_rows lists {rows_rejected - 1}"
    )
    assert failed.description.startswith(finding), failed.description
    assert failed.metadata["problem"].value == failed.description
    [step_failure] = [e.step_failure_data for e in result.all_events if e.is_step_failure]
    assert f"{failed.check_name}: {finding}" in step_failure.user_failure_data.description
    _assert_not_published(result, serving, before, run_before)

    checks = render_checks(evaluations, planned)
    # dbt skipped the models below the failed test, so the Python checks on them were never evaluated.
    skipped = len(planned) - len(evaluations)
    assert skipped > 0 and not [e for e in evaluations if e.asset_key == dg.AssetKey(["serving", "health_score_marts"])]
    assert f"{len(evaluations)} run, 2 failed, " in checks and f", {skipped} skipped (" in checks, checks
    assert f"FAILED {failed.check_name} (marts/landed_file_loads, 1 failing row):\n  {finding}" in checks, checks
    assert "  marts/score_backtest: red_band_churns_more_than_green, score_predicts_churn" in checks, checks
    with duckdb.connect(str(serving), read_only=True) as con:
        published_at, score_date = con.execute("select published_at, last_score_date from marts.publication").fetchone()
    assert render_publication(serving, result.run_id) == (
        f"BI tools still see the scores published at {published_at:%Y-%m-%d %H:%M:%S} "
        f"(scores as of {score_date}, run {run_before}) in {serving}."
    )


def test_an_implausible_overnight_move_keeps_the_published_marts(published_copy, refreshed, tmp_path):
    """A helpdesk re-export that stamps 30 urgent tickets per account on the last day looks like a mass
    crisis overnight: the dbt test on the portfolio's daily move fails and blocks publishing."""
    landing = landing_copy(refreshed.landing, tmp_path / "landing")
    with (landing / "support_tickets.csv").open("a", newline="") as f:
        writer = csv.writer(f)
        accounts = [
            r["account_id"]
            for r in csv.DictReader((landing / "accounts.csv").open(encoding="utf-8-sig"), delimiter=";")
        ]
        for account in accounts:
            for n in range(30):
                writer.writerow(
                    [f"FLOOD-{account}-{n}", account, f"{END_DATE}T09:00:00Z", "", "", "urgent", "bug", "open", ""]
                )
    serving = serving_file(published_copy)
    before, run_before = serving.read_bytes(), published_run(serving)

    result = run_refresh(published_copy, landing)
    failed = {e.check_name for e in result.get_asset_check_evaluations() if not e.passed}
    assert "portfolio_moves_plausibly" in failed, failed
    _assert_not_published(result, serving, before, run_before)


def test_readers_query_the_published_marts_while_a_refresh_runs(published_copy, refreshed, tmp_path):
    serving = serving_file(published_copy)
    run_before = published_run(serving)
    env = cli_environment(tmp_path / "dagster_home", published_copy, refreshed.landing, serving)
    refresh = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "run"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    reads_during_refresh = 0
    while refresh.poll() is None:
        with duckdb.connect(str(serving), read_only=True) as con:
            accounts = con.execute("select count(*) from marts.account_health_scores").fetchone()[0]
        assert accounts > 0
        reads_during_refresh += 1
        time.sleep(0.2)
    output = refresh.stdout.read()
    assert refresh.returncode == 0, output
    assert reads_during_refresh >= 10
    assert published_run(serving) != run_before


def test_publishing_alone_refuses_marts_not_rebuilt_in_the_same_run(published_copy, refreshed):
    """Publishing asks the event log itself: marts from an earlier run are not published again unchecked."""
    serving = serving_file(published_copy)
    before, run_before = serving.read_bytes(), published_run(serving)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HEALTHSCORE_WAREHOUSE", str(published_copy))
        env.setenv("HEALTHSCORE_LANDING_DIR", str(refreshed.landing))
        env.setenv("HEALTHSCORE_SERVING", str(serving))
        from orchestration.definitions import build_definitions
        from orchestration.settings import load_settings

        defs = build_definitions(load_settings())
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            asset_selection=[dg.AssetKey(["serving", "health_score_marts"])],
            raise_on_error=False,
        )
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert "Not published: not rebuilt in this run" in failure.step_failure_data.user_failure_data.description
    _assert_not_published(result, serving, before, run_before)
