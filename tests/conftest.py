"""Shared fixtures: a small simulated landing directory, and one refresh of it through Dagster.

Which fixture a new test should use (every refresh costs about 45 s; `make test` must stay under 5 minutes):
- reads the output of `make run` on the committed sample (CLI summary, warehouse, serving file): `sample_run`;
- reads a refreshed warehouse and its Dagster events: `refreshed` (40 accounts x 270 days, in process);
- changes a warehouse (edits rows, runs dbt or another refresh on it): copy `refreshed.warehouse` (and its
  serving file) into `tmp_path` and change the copy, as test_publishing.py and test_dbt_checks.py do;
- only when the data itself must differ (hostile files, overlapping exports) a refresh of its own, in a module
  fixture that the file's tests share.
Never write into the files of `sample_run` or `refreshed`: the tests of both xdist workers read them at once.
`make test` runs the tests in two xdist workers; `shared_once` builds each session fixture once for both.
"""

import datetime as dt
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import dagster as dg
import duckdb
import pytest
from filelock import FileLock

from orchestration.sample_data import simulate, write_landing
from orchestration.settings import REPO_ROOT

# tests/spark/ builds the sample on a local Spark (minutes, and the spark extra with Java): `make test-spark`
# runs it (HEALTHSCORE_TEST_SPARK=1), `make test` leaves it out. Said here, as a second conftest.py would
# shadow this one's module name for the tests that import from it.
collect_ignore_glob = [] if os.environ.get("HEALTHSCORE_TEST_SPARK") == "1" else ["spark/*"]

SMALL_ACCOUNTS = 40
SMALL_DAYS = 270
END_DATE = dt.date(2026, 10, 31)


T = TypeVar("T")


def shared_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], T]) -> T:
    """`build(directory)` once per test session, however many xdist workers run it: the first worker builds
    under a file lock in the directory the workers share and leaves the (pickled) value there; the others wait
    for the lock and read it (the pattern of pytest-xdist's documentation). Without xdist it simply builds."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return build(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent
    value_file = shared / f"{name}.pickle"
    with FileLock(str(shared / f"{name}.lock")):
        if value_file.exists():
            return pickle.loads(value_file.read_bytes())
        directory = shared / name
        shutil.rmtree(directory, ignore_errors=True)  # left by a worker whose build raised
        directory.mkdir()
        value = build(directory)
        value_file.write_bytes(pickle.dumps(value))
        return value


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    def write(landing: Path) -> Path:
        write_landing(simulate(SMALL_ACCOUNTS, SMALL_DAYS, seed=7, end_date=END_DATE), landing)
        return landing

    return shared_once(tmp_path_factory, "landing", write)


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
        "HEALTHSCORE_SPARK_DIR",
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

    return shared_once(tmp_path_factory, "sample_run", lambda root: run_cli(root, SAMPLE_LANDING_DIR))


@pytest.fixture
def con(tmp_path):
    """A warehouse file of its own, in UTC as the loader's connections are."""
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        connection.execute("set TimeZone = 'UTC'")
        yield connection


@dataclass(frozen=True)
class RefreshResult:
    """What tests read of a refresh's run, in the words of dg.ExecuteInProcessResult, but picklable so that the
    xdist workers share one refresh (its events in Dagster's own serialisation)."""

    run_id: str
    success: bool
    serialized_events: str

    @classmethod
    def of(cls, result: dg.ExecuteInProcessResult) -> "RefreshResult":
        return cls(result.run_id, result.success, dg.serialize_value(list(result.all_events)))

    @property
    def all_events(self) -> list[dg.DagsterEvent]:
        return dg.deserialize_value(self.serialized_events, list)

    def asset_materializations_for_node(self, node_name: str) -> list[dg.AssetMaterialization]:
        return [
            event.step_materialization_data.materialization
            for event in self.all_events
            if event.is_step_materialization and event.node_handle and str(event.node_handle) == node_name
        ]

    def get_asset_check_evaluations(self) -> list[dg.AssetCheckEvaluation]:
        return [
            event.event_specific_data
            for event in self.all_events
            if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ]


@dataclass(frozen=True)
class Refresh:
    warehouse: Path
    landing: Path
    result: RefreshResult


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


# The modules that take longest (each builds or refreshes warehouses of its own), started first so that the two
# xdist workers end together (loadfile hands out one module at a time, in this order, then the rest as
# collected); the first two need no session fixture, so neither worker waits for the other's build at the start.
SLOW_MODULES_FIRST = (
    "test_bench.py",
    "test_crash_safety.py",
    "test_erasure.py",
    "test_scoring_engine.py",
    "test_hostile_landing.py",
    "test_publishing.py",
    "test_bench_floor.py",
    "test_dbt_checks.py",
    "test_backtest.py",
    "test_alerts.py",
    "test_score_changes.py",
    "test_end_to_end.py",
    "test_comment_sentiment.py",
    "test_dashboard.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return SLOW_MODULES_FIRST.index(name) if name in SLOW_MODULES_FIRST else len(SLOW_MODULES_FIRST)

    items.sort(key=rank)  # stable: the rest keep their order


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    from orchestration.defs.dbt.project import dbt_project

    return dbt_project.manifest_path


@pytest.fixture(scope="session")
def refreshed(dbt_manifest: Path, small_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Refresh:
    def refresh(directory: Path) -> Refresh:
        warehouse = directory / "healthscore.duckdb"
        result = RefreshResult.of(run_refresh(warehouse, small_landing))
        return Refresh(warehouse=warehouse, landing=small_landing, result=result)

    return shared_once(tmp_path_factory, "refreshed", refresh)


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
    """A copy of dbt_project/ and the scorecard seeds with the repository layout; returns the dbt dir. Copied
    again into the same destination, everything is replaced but dbt's target/, whose partial parse lets dbt
    re-read only the files changed since (see the project_copy fixture)."""
    project, seeds = destination / "dbt_project", destination / "seeds"
    target, kept_target = project / "target", destination / "kept_target"
    if target.exists():
        target.rename(kept_target)
    shutil.rmtree(project, ignore_errors=True)
    shutil.rmtree(seeds, ignore_errors=True)
    shutil.copytree(REPO_ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    shutil.copytree(REPO_ROOT / "seeds", seeds, ignore=shutil.ignore_patterns("landing"))
    if kept_target.exists():
        kept_target.rename(target)
    return project


@pytest.fixture(scope="module")
def project_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("project")


@pytest.fixture
def project_copy(project_home: Path) -> Path:
    """A fresh copy of dbt_project/ and the seeds for a test to change, at the same path for every test of its
    module: dbt's parse of the previous test (target/partial_parse.msgpack) stays, so that dbt re-reads only the
    files this test changed (about 3 s instead of 6 s per dbt command; dbt parses in full when the vars differ).
    The copy is restored before each test; loadfile keeps a module's tests in one xdist worker."""
    return copy_project(project_home)


@pytest.fixture
def scratch_warehouse(project_home: Path) -> Path:
    """A warehouse path for dbt commands on `project_copy`, empty at the start of each test and the same for every
    test of the module: dbt's profile, which names the file, is part of what a partial parse must match."""
    warehouse = project_home / "warehouse.duckdb"
    for leftover in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(warehouse.with_name(warehouse.name + ".tmp"), ignore_errors=True)
    return warehouse


def make_raw_editable(con, source: str) -> None:
    """Turns the view raw.<source> into a table with the same rows, so that a test can edit landed rows
    directly (the loader's Parquet files stay as they are)."""
    con.execute(f"create table raw.{source}__edited as select * from raw.{source}")
    con.execute(f"drop view raw.{source}")
    con.execute(f"alter table raw.{source}__edited rename to {source}")
