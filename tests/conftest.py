"""Shared fixtures: a small simulated landing directory, and one refresh of it through Dagster."""

import datetime as dt
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.sample_data import simulate, write_landing
from orchestration.settings import REPO_ROOT

SMALL_ACCOUNTS = 40
SMALL_DAYS = 270
END_DATE = dt.date(2026, 10, 31)


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    landing = tmp_path_factory.mktemp("landing")
    write_landing(simulate(SMALL_ACCOUNTS, SMALL_DAYS, seed=7, end_date=END_DATE), landing)
    return landing


def cli_environment(dagster_home: Path, warehouse: Path, landing: Path, serving: Path) -> dict[str, str]:
    """The environment for `python -m orchestration.cli` in a subprocess: this Python's tools first, a Dagster
    home of its own (created here) and the given files. The pseudonymisation key of the session is kept;
    paths derived from another warehouse and the wait setting are not."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "orchestration" / "dagster.yaml", dagster_home / "dagster.yaml")
    derived = (
        "HEALTHSCORE_RAW_DIR",
        "HEALTHSCORE_SPILL_DIR",
        "HEALTHSCORE_WAREHOUSE_WAIT_SECONDS",
        "HEALTHSCORE_CRM_EXPORT_DIR",
    )
    env = {k: v for k, v in os.environ.items() if k not in derived}
    env.update(
        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
        DAGSTER_HOME=str(dagster_home),
        HEALTHSCORE_WAREHOUSE=str(warehouse),
        HEALTHSCORE_LANDING_DIR=str(landing),
        HEALTHSCORE_SERVING=str(serving),
    )
    return env


@dataclass(frozen=True)
class CliRun:
    warehouse: Path
    serving: Path
    dagster_home: Path
    run: subprocess.CompletedProcess


def run_cli(root: Path, landing: Path, *args: str) -> CliRun:
    """`python -m orchestration.cli run` as `make run` starts it, on `landing`, with everything under `root`."""
    warehouse, serving = (
        root / "warehouse" / "healthscore.duckdb",
        root / "warehouse" / "serving" / "healthscore.duckdb",
    )
    env = cli_environment(root / "dagster", warehouse, landing, serving)
    run = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    return CliRun(warehouse, serving, root / "dagster", run)


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    """One `make run` of the committed sample, shared by the tests that read its output or its warehouse."""
    from orchestration.settings import SAMPLE_LANDING_DIR

    return run_cli(tmp_path_factory.mktemp("sample_run"), SAMPLE_LANDING_DIR)


@pytest.fixture
def con(tmp_path):
    """A warehouse file of its own, in UTC as the loader's connections are."""
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        connection.execute("set TimeZone = 'UTC'")
        yield connection


@dataclass(frozen=True)
class Refresh:
    warehouse: Path
    landing: Path
    result: dg.ExecuteInProcessResult


def run_refresh(
    warehouse: Path, landing: Path, score_as_of_date: str = "", instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    """Runs the refresh_all job in process against the given warehouse and landing directory (in `instance`, for
    a test that reads the run's event log, else in a throwaway one)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HEALTHSCORE_WAREHOUSE", str(warehouse))
        env.setenv("HEALTHSCORE_LANDING_DIR", str(landing))
        env.setenv("HEALTHSCORE_SERVING", str(warehouse.parent / "serving" / "healthscore.duckdb"))
        from orchestration.definitions import build_definitions
        from orchestration.settings import load_settings

        defs = build_definitions(load_settings())
        job = defs.resolve_job_def("refresh_all")
        run_config = {"ops": {"healthscore_dbt_assets": {"config": {"score_as_of_date": score_as_of_date}}}}
        return job.execute_in_process(
            instance=instance or dg.DagsterInstance.ephemeral(), run_config=run_config, raise_on_error=False
        )


def pytest_configure(config: pytest.Config) -> None:
    """The dbt assets are built from the manifest when their module is imported, so a fresh clone must parse the
    dbt project before any test module is collected."""
    from orchestration.defs.dbt.project import prepare_manifest

    # dagster-dbt looks for the dbt executable on PATH: the one next to this interpreter, however pytest started.
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
    # One pseudonymisation key for every warehouse of the session, from the environment as in production, so
    # that tests may copy a warehouse file without its key file. A test-only value, never a default.
    os.environ.setdefault("HEALTHSCORE_PSEUDONYMISATION_KEY", "test-only pseudonymisation key, not a secret")
    prepare_manifest()


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    from orchestration.defs.dbt.project import dbt_project

    return dbt_project.manifest_path


@pytest.fixture(scope="session")
def refreshed(dbt_manifest: Path, small_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Refresh:
    warehouse = tmp_path_factory.mktemp("warehouse") / "healthscore.duckdb"
    result = run_refresh(warehouse, small_landing)
    return Refresh(warehouse=warehouse, landing=small_landing, result=result)


def dbt(args: list[str], project_dir: Path, warehouse: Path) -> subprocess.CompletedProcess:
    """Runs the dbt CLI of this environment on a project directory and warehouse file."""
    env = {**os.environ, "HEALTHSCORE_WAREHOUSE": str(warehouse)}
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "--no-use-colors",
            *args,
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def copy_project(destination: Path) -> Path:
    """A copy of dbt_project/ and the scorecard seeds with the repository layout; returns the dbt dir."""
    shutil.copytree(
        REPO_ROOT / "dbt_project",
        destination / "dbt_project",
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    shutil.copytree(REPO_ROOT / "seeds", destination / "seeds", ignore=shutil.ignore_patterns("landing"))
    return destination / "dbt_project"


def make_raw_editable(con, source: str) -> None:
    """Turns the view raw.<source> into a table with the same rows, so that a test can edit landed rows
    directly (the loader's Parquet files stay as they are)."""
    con.execute(f"create table raw.{source}__edited as select * from raw.{source}")
    con.execute(f"drop view raw.{source}")
    con.execute(f"alter table raw.{source}__edited rename to {source}")
