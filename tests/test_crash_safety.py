"""A crashed run never blocks the next: the warehouse lock, dead runs, half-built serving files, signals.

The refreshes here run `python -m orchestration.cli run` as a process group of their own, as `make run` does,
against a copy of the warehouse and serving file of the session's first refresh, with a Dagster home of their own.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import dagster as dg
import duckdb
import pytest
from dagster._core.events import DagsterEvent, EngineEventData

from orchestration.defs.runs.dead_runs import RUN_HOST_TAG, RUN_PID_TAG, mark_dead_runs_failed
from orchestration.defs.runs.processes import process_is_running
from orchestration.defs.runs.warehouse_lock import WarehouseBusyError, lock_file, warehouse_lock
from orchestration.defs.serving.assets import MART_KEYS, marts_not_rebuilt
from orchestration.defs.serving.publish import partial_file, remove_stale_partial_files
from orchestration.settings import REPO_ROOT, warehouse_wait_seconds
from tests.conftest import cli_environment

PUBLISH_STEP = "serving__health_score_marts"
DBT_STEP = "healthscore_dbt_assets"
# Generous: a refresh of the small landing takes 20-40 s on two cores.
REFRESH_TIMEOUT = 600


def ignore(_message: str) -> None:
    pass


def reaped_pid() -> int:
    """The pid of a process that has ended and been reaped."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# --- the lock and the processes ------------------------------------------------------------------------------------


def test_the_lock_names_its_holder_and_is_freed_when_the_holder_is_killed(tmp_path):
    warehouse = tmp_path / "healthscore.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from orchestration.defs.runs.warehouse_lock import warehouse_lock\n"
            "with warehouse_lock(Path(sys.argv[1]), 'run-of-the-holder', 0, print):\n"
            "    print('holding', flush=True)\n"
            "    time.sleep(600)\n",
            str(warehouse),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        said: list[str] = []
        with pytest.raises(WarehouseBusyError) as busy, warehouse_lock(warehouse, "waiting-run", 1, said.append):
            pass
        assert f"run run-of-the-holder (pid {holder.pid}), started at " in said[0]
        assert said[0].startswith("Waiting for run run-of-the-holder")
        assert "Gave up after 1 s: run run-of-the-holder" in str(busy.value)
    finally:
        holder.kill()
        holder.wait()
    # kill -9 gives the holder no chance to clean up: the kernel releases its lock.
    with warehouse_lock(warehouse, "next-run", 0, ignore) as holding:
        assert holding.run_id == "next-run"
        assert '"run_id": "next-run"' in lock_file(warehouse).read_text()
    assert lock_file(warehouse).read_text() == ""


def test_a_run_waits_for_a_process_that_has_the_duckdb_file_open(tmp_path):
    """A dbt left over from a killed run, or someone who opened the working warehouse, holds DuckDB's own lock."""
    warehouse = tmp_path / "healthscore.duckdb"
    duckdb.connect(str(warehouse)).close()
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, duckdb\n"
            "con = duckdb.connect(sys.argv[1], read_only=True)\n"
            "print('open', flush=True)\n"
            "time.sleep(600)\n",
            str(warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "open"
        said: list[str] = []
        with pytest.raises(WarehouseBusyError), warehouse_lock(warehouse, "waiting-run", 1, said.append):
            pass
        assert said == [
            f"Waiting for process {reader.pid}, which still has the DuckDB file open: it holds the warehouse "
            f"{warehouse}. Giving up after 1 s (HEALTHSCORE_WAREHOUSE_WAIT_SECONDS); Ctrl-C stops waiting."
        ]
    finally:
        reader.kill()
        reader.wait()
    with warehouse_lock(warehouse, "next-run", 5, ignore):
        pass


def test_the_lock_is_released_only_after_a_child_that_still_writes_the_warehouse_is_stopped(tmp_path):
    """A dbt that missed its run's interrupt would go on writing after the run; the run stops it on its way out."""
    warehouse = tmp_path / "healthscore.duckdb"
    duckdb.connect(str(warehouse)).close()
    said: list[str] = []
    with warehouse_lock(warehouse, "run-with-a-leftover", 0, said.append):
        leftover = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import signal, sys, time, duckdb\n"
                # Like a dbt started from a terminal, Ctrl-C ends it: set explicitly, since a shell without job
                # control starts background jobs with SIGINT ignored and every child would inherit that.
                "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
                "con = duckdb.connect(sys.argv[1])\n"
                "print('writing', flush=True)\n"
                "time.sleep(600)\n",
                str(warehouse),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert leftover.stdout.readline().strip() == "writing"
    try:
        assert leftover.wait(timeout=60) == -signal.SIGINT
    finally:
        leftover.kill()
        leftover.wait()
    assert said == [f"Stopping process {leftover.pid}, started by this run, which still has the warehouse open."]
    with warehouse_lock(warehouse, "next-run", 0, ignore):
        pass


def test_wait_setting_is_a_number_of_seconds(monkeypatch):
    monkeypatch.delenv("HEALTHSCORE_WAREHOUSE_WAIT_SECONDS", raising=False)
    assert warehouse_wait_seconds() == 3600
    monkeypatch.setenv("HEALTHSCORE_WAREHOUSE_WAIT_SECONDS", "2.5")
    assert warehouse_wait_seconds() == 2.5
    for wrong in ("-1", "ten", "nan"):
        monkeypatch.setenv("HEALTHSCORE_WAREHOUSE_WAIT_SECONDS", wrong)
        with pytest.raises(ValueError, match="must be a number of seconds"):
            warehouse_wait_seconds()


def test_a_zombie_or_a_newer_process_under_the_same_pid_is_not_the_run_process():
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while Path(f"/proc/{zombie.pid}/stat").read_text().split(") ")[1][0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not process_is_running(zombie.pid)
    zombie.wait()
    assert process_is_running(os.getpid())
    assert not process_is_running(os.getpid(), started_by=time.time() - 24 * 3600)
    assert not process_is_running(reaped_pid())


# --- runs whose process is gone ------------------------------------------------------------------------------------


def _started_run(instance: dg.DagsterInstance, tags: dict[str, str] | None = None) -> dg.DagsterRun:
    return instance.add_run(dg.DagsterRun(job_name="refresh_all", status=dg.DagsterRunStatus.STARTED, tags=tags or {}))


def _record_worker_pid(instance: dg.DagsterInstance, run: dg.DagsterRun, pid: int, at: float | None = None) -> None:
    """What Dagster writes when a run worker starts executing: "Executing steps in process (pid: ...)"."""
    event = DagsterEvent(
        event_type_value=dg.DagsterEventType.ENGINE_EVENT.value,
        job_name=run.job_name,
        message=f"Executing steps in process (pid: {pid})",
        event_specific_data=EngineEventData.in_process(pid),
    )
    instance.report_dagster_event(event, run_id=run.run_id, timestamp=at)


def test_runs_whose_process_is_gone_are_marked_failed_with_the_reason_and_free_their_slots():
    gone, alive = reaped_pid(), os.getpid()
    with dg.instance_for_test() as instance:
        killed_cli_run = _started_run(instance, {RUN_PID_TAG: str(gone), RUN_HOST_TAG: socket.gethostname()})
        killed_worker = _started_run(instance)
        _record_worker_pid(instance, killed_worker, gone)
        # The pid of a worker that died long ago, since given to a newer process (here: this one).
        reused_pid = _started_run(instance)
        _record_worker_pid(instance, reused_pid, alive, at=time.time() - 24 * 3600)
        running = _started_run(instance, {RUN_PID_TAG: str(alive)})
        launching = _started_run(instance)  # no process recorded yet
        elsewhere = _started_run(instance, {RUN_PID_TAG: str(gone), RUN_HOST_TAG: "another-machine"})
        instance.event_log_storage.set_concurrency_slots("duckdb_warehouse", 1)
        instance.event_log_storage.claim_concurrency_slot("duckdb_warehouse", killed_cli_run.run_id, DBT_STEP)

        dead = mark_dead_runs_failed(instance, noticed_by="the test")

        assert {run.run_id for run in dead} == {killed_cli_run.run_id, killed_worker.run_id, reused_pid.run_id}
        for run in (killed_cli_run, killed_worker, reused_pid):
            assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
            failure = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
            message = failure[0].event_log_entry.dagster_event.message
            assert "is gone: it was killed (kill -9, the out-of-memory killer" in message
            assert "Noticed by the test." in message
        for run in (running, launching, elsewhere):
            assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
        assert instance.event_log_storage.get_concurrency_info("duckdb_warehouse").active_slot_count == 0
        assert mark_dead_runs_failed(instance, noticed_by="the test") == []


def test_the_cli_and_its_run_share_one_lock_without_waiting_for_themselves(tmp_path):
    from orchestration.defs.runs.guard import hold_warehouse_for_run

    warehouse = tmp_path / "healthscore.duckdb"
    with dg.instance_for_test() as instance, warehouse_lock(warehouse, "cli-run", 0, ignore):
        with hold_warehouse_for_run(warehouse, "cli-run", instance, ignore):
            pass
        assert '"run_id": "cli-run"' in lock_file(warehouse).read_text()


# --- publishing and the definitions --------------------------------------------------------------------------------


def test_publishing_asks_whether_this_run_rebuilt_the_marts_not_who_rebuilt_them_last():
    """A run on another warehouse sharing the Dagster home can materialize the marts after this run did; the
    latest materialization then is not this run's, although this run rebuilt them."""

    @dg.multi_asset(specs=[dg.AssetSpec(key) for key in MART_KEYS])
    def marts():
        for key in MART_KEYS:
            yield dg.MaterializeResult(asset_key=key)

    @dg.asset
    def something_else() -> None:
        pass

    with dg.instance_for_test() as instance:
        this_run = dg.materialize([marts], instance=instance)
        other_run = dg.materialize([marts], instance=instance)
        without_marts = dg.materialize([something_else], instance=instance)
        assert instance.get_latest_materialization_event(MART_KEYS[0]).run_id == other_run.run_id

        def context_of(run: dg.ExecuteInProcessResult) -> SimpleNamespace:
            return SimpleNamespace(instance=instance, run=run.dagster_run)

        assert marts_not_rebuilt(context_of(this_run)) == []
        assert marts_not_rebuilt(context_of(without_marts)) == [key.to_user_string() for key in MART_KEYS]


def test_no_step_uses_a_concurrency_pool_and_ui_runs_execute_in_one_process(dbt_manifest):
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    pools = {node.key: node.pools for node in graph.asset_nodes if node.pools}
    assert pools == {}
    assert defs.resolve_implicit_global_asset_job_def().executor_def is dg.in_process_executor
    sensor = defs.resolve_sensor_def("dead_runs_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    dagster_yaml = (REPO_ROOT / "orchestration" / "dagster.yaml").read_text()
    assert "pools" not in dagster_yaml and "max_concurrent_runs: 1" in dagster_yaml


def test_half_built_serving_files_of_dead_processes_are_removed(tmp_path):
    serving = tmp_path / "serving" / "healthscore.duckdb"
    serving.parent.mkdir()
    serving.write_bytes(b"the published version")
    left_by_killed_run = partial_file(serving, reaped_pid())
    being_built = partial_file(serving, os.getpid())
    other_file = serving.with_name(".other.duckdb.1.partial")
    for path in (left_by_killed_run, being_built, other_file):
        path.write_bytes(b"half")

    assert remove_stale_partial_files(serving) == [left_by_killed_run]
    assert sorted(path.name for path in serving.parent.iterdir()) == sorted(
        [serving.name, being_built.name, other_file.name]
    )
    assert remove_stale_partial_files(tmp_path / "nowhere" / "healthscore.duckdb") == []


# --- refreshes killed, stopped and waiting -------------------------------------------------------------------------


@dataclass
class Workspace:
    warehouse: Path
    serving: Path
    dagster_home: Path
    env: dict[str, str]
    previous_run: str
    refreshes: list[Refresh] = field(default_factory=list)

    @functools.cached_property
    def instance(self) -> dg.DagsterInstance:
        """The refreshes' run storage, read from this process (opened once: opening it costs a lot of CPU)."""
        # The instance's dagster.yaml places the run history under DAGSTER_HOME, as for `make run`.
        with mock.patch.dict(os.environ, {"DAGSTER_HOME": str(self.dagster_home)}):
            return dg.DagsterInstance.from_config(str(self.dagster_home))

    def published_run(self) -> str | None:
        if not self.serving.exists():
            return None
        with duckdb.connect(str(self.serving), read_only=True) as con:
            return con.execute("select run_id from marts.publication").fetchone()[0]

    def partial_files(self) -> list[str]:
        return sorted(path.name for path in self.serving.parent.glob("*.partial"))


@pytest.fixture
def workspace(refreshed, tmp_path: Path) -> Iterator[Workspace]:
    """A copy of the session's refreshed warehouse and its serving file, and a Dagster home of its own."""
    assert refreshed.result.success
    warehouse = tmp_path / "warehouse" / "healthscore.duckdb"
    serving = tmp_path / "warehouse" / "serving" / "healthscore.duckdb"
    serving.parent.mkdir(parents=True)
    shutil.copy(refreshed.warehouse, warehouse)
    shutil.copy(refreshed.warehouse.parent / "serving" / "healthscore.duckdb", serving)
    dagster_home = tmp_path / "dagster_home"
    env = cli_environment(dagster_home, warehouse, refreshed.landing, serving)
    workspace = Workspace(warehouse, serving, dagster_home, env, previous_run=refreshed.result.run_id)
    # Sets up the run storage now, not while a refresh is setting it up too.
    with workspace.instance:
        yield workspace
    for refresh in workspace.refreshes:  # a failed test leaves no refresh behind
        if not refresh.group_is_gone():
            refresh.signal_group(signal.SIGKILL)
        refresh.process.wait()


class Refresh:
    """`make run` in a process group of its own (dbt runs as its child), its output in a file."""

    def __init__(self, workspace: Workspace, output: Path, **env: str):
        self.output_path = output
        workspace.refreshes.append(self)
        with output.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "orchestration.cli", "run"],
                cwd=REPO_ROOT,
                env={**workspace.env, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.output_path.read_text()

    def signal_group(self, signum: int) -> None:
        os.killpg(self.process.pid, signum)

    def wait(self) -> int:
        return self.process.wait(timeout=REFRESH_TIMEOUT)

    def group_is_gone(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return True
        return False


def wait_until(condition: Callable[[], object], refresh: Refresh, what: str, poll_seconds: float = 0.1) -> object:
    deadline = time.monotonic() + REFRESH_TIMEOUT
    while not (found := condition()):
        assert refresh.process.poll() is None, f"the refresh ended before {what}:\n{refresh.output()}"
        assert time.monotonic() < deadline, f"no {what} after {REFRESH_TIMEOUT} s"
        time.sleep(poll_seconds)
    return found


def only_run(workspace: Workspace) -> dg.DagsterRun | None:
    records = workspace.instance.get_run_records(limit=2)
    assert len(records) <= 1
    return records[0].dagster_run if records else None


def step_events(workspace: Workspace, run_id: str, event_type: dg.DagsterEventType) -> list:
    return [r.event_log_entry for r in workspace.instance.get_records_for_run(run_id, of_type=event_type).records]


def started_steps(workspace: Workspace, run_id: str) -> set[str]:
    return {entry.step_key for entry in step_events(workspace, run_id, dg.DagsterEventType.STEP_START)}


def reached_ingestion(workspace: Workspace) -> bool:
    run = only_run(workspace)
    return bool(run) and any(step.startswith("raw__") for step in started_steps(workspace, run.run_id))


def reached_dbt_writing(workspace: Workspace) -> bool:
    """dbt has built at least one model of this run."""
    run = only_run(workspace)
    if run is None or DBT_STEP not in started_steps(workspace, run.run_id):
        return False
    materialized = step_events(workspace, run.run_id, dg.DagsterEventType.ASSET_MATERIALIZATION)
    return any(entry.dagster_event.asset_key.path[0] == "staging" for entry in materialized)


class ServingReader(threading.Thread):
    """A BI user who queries the serving file over and over while refreshes come and go."""

    def __init__(self, workspace: Workspace):
        super().__init__(daemon=True)
        self.workspace = workspace
        self.seen: set[str | None] = set()
        self.errors: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.seen.add(self.workspace.published_run())
            except duckdb.Error as error:
                self.errors.append(str(error))
            time.sleep(0.25)

    def stop(self) -> None:
        self.stopping.set()
        self.join()


def run_refresh_to_the_end(workspace: Workspace, output: Path, **env: str) -> tuple[int, str]:
    refresh = Refresh(workspace, output, **env)
    return refresh.wait(), refresh.output()


def succeeded_run(output: str) -> str:
    line = next(line for line in output.splitlines() if line.startswith("Run ") and " succeeded;" in line)
    return line.split()[1]


def assert_marked_dead(workspace: Workspace, run_id: str, output: str) -> None:
    assert f"Marked run {run_id} (pid " in output and "failed: its process is gone (killed or crashed)." in output
    assert workspace.instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
    failure = step_events(workspace, run_id, dg.DagsterEventType.RUN_FAILURE)[0]
    assert "is gone: it was killed (kill -9, the out-of-memory killer" in failure.dagster_event.message


def reached_publishing(workspace: Workspace) -> bool:
    """The half-built serving file exists. Publishing takes well under a second on this data, so the directory
    is looked at often, once dbt is done and only the Python checks and publishing remain."""
    run = only_run(workspace)
    if run is None:
        return False
    succeeded = step_events(workspace, run.run_id, dg.DagsterEventType.STEP_SUCCESS)
    if DBT_STEP not in {entry.step_key for entry in succeeded}:
        return False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if workspace.partial_files():
            return True
        time.sleep(0.005)
    return False


KILL_POINTS = {"ingestion": reached_ingestion, "dbt": reached_dbt_writing, "publishing": reached_publishing}


@pytest.mark.parametrize("kill_point", ["ingestion", "dbt", "publishing"])
def test_a_refresh_killed_at_any_step_is_followed_by_one_that_succeeds(workspace, tmp_path, kill_point):
    """kill -9 of the whole refresh (dbt included) while it loads, while dbt builds, while it publishes; the next
    refresh needs no manual cleanup, and a reader of the serving file never sees anything but a whole version."""
    reader = ServingReader(workspace)
    reader.start()
    killed = Refresh(workspace, tmp_path / "killed.txt")
    wait_until(lambda: KILL_POINTS[kill_point](workspace), killed, kill_point)
    killed.signal_group(signal.SIGKILL)
    assert killed.wait() == -signal.SIGKILL
    dead_run = only_run(workspace)
    steps = started_steps(workspace, dead_run.run_id)
    assert dead_run.status == dg.DagsterRunStatus.STARTED, "Dagster cannot know the run was killed"
    assert (DBT_STEP in steps) == (kill_point != "ingestion")
    assert (PUBLISH_STEP in steps) == (kill_point == "publishing")
    assert workspace.published_run() == workspace.previous_run
    assert bool(workspace.partial_files()) == (kill_point == "publishing")

    code, output = run_refresh_to_the_end(workspace, tmp_path / "next.txt")
    reader.stop()

    assert code == 0, output
    assert_marked_dead(workspace, dead_run.run_id, output)
    assert workspace.published_run() == succeeded_run(output)
    assert workspace.partial_files() == []
    if kill_point == "publishing":
        assert "a half-built serving file left by a refresh killed while publishing" in output
    assert reader.errors == []
    assert reader.seen <= {workspace.previous_run, succeeded_run(output)}


def test_ctrl_c_stops_a_refresh_cleanly(workspace, tmp_path):
    """Ctrl-C in a terminal sends SIGINT to the whole foreground process group: the CLI and its dbt."""
    refresh = Refresh(workspace, tmp_path / "interrupted.txt")
    wait_until(lambda: reached_dbt_writing(workspace), refresh, "dbt")
    refresh.signal_group(signal.SIGINT)
    assert refresh.wait() == 128 + signal.SIGINT
    run = only_run(workspace)
    # Dagster's helper processes in the group print their own KeyboardInterrupt; the CLI says in one line what happened.
    assert (
        f"Stopped by SIGINT: run {run.run_id} was marked failed and the warehouse released; nothing was published."
        in refresh.output().splitlines()
    )
    assert run.status == dg.DagsterRunStatus.FAILURE
    reasons = [
        entry.dagster_event.message for entry in step_events(workspace, run.run_id, dg.DagsterEventType.ENGINE_EVENT)
    ]
    assert "Stopped by SIGINT: the refresh was asked to stop (Ctrl-C, kill or a shutdown)." in reasons
    deadline = time.monotonic() + 60
    while not refresh.group_is_gone():  # dbt ends on its own SIGINT
        assert time.monotonic() < deadline
        time.sleep(0.1)
    with warehouse_lock(workspace.warehouse, "next-run", 0, ignore):
        duckdb.connect(str(workspace.warehouse)).close()
    assert workspace.published_run() == workspace.previous_run
    assert workspace.partial_files() == []


def test_a_second_refresh_waits_visibly_and_takes_over_when_sigterm_stops_the_first(workspace, tmp_path):
    """Two refreshes at once: the second says which run holds the warehouse and waits (before the lock, the two
    took turns step by step and one failed with "Not published: not rebuilt in this run"). SIGTERM to the first
    CLI alone (as `kill PID` or a service manager sends it) stops it: dagster-dbt stops dbt, the run is marked
    failed, the lock is released, and the waiting refresh runs and publishes."""
    first = Refresh(workspace, tmp_path / "first.txt")
    wait_until(lambda: reached_dbt_writing(workspace), first, "dbt")
    first_run = only_run(workspace).run_id
    waiting = Refresh(workspace, tmp_path / "waiting.txt")
    wait_until(
        lambda: f"Waiting for run {first_run} (pid {first.process.pid}), started at " in waiting.output(),
        waiting,
        "the waiting message",
    )

    first.process.send_signal(signal.SIGTERM)
    assert first.wait() == 128 + signal.SIGTERM
    # dbt, its child, ended with it: the waiting refresh took over a warehouse nobody else had open.
    deadline = time.monotonic() + 30
    while not first.group_is_gone():
        assert time.monotonic() < deadline, "a process of the stopped refresh lives on"
        time.sleep(0.1)
    assert (
        f"Stopped by SIGTERM: run {first_run} was marked failed and the warehouse released; nothing was published."
        in first.output().splitlines()
    )
    assert waiting.wait() == 0, waiting.output()

    assert workspace.instance.get_run_by_id(first_run).status == dg.DagsterRunStatus.FAILURE
    assert workspace.published_run() == succeeded_run(waiting.output())
    assert "Not published" not in waiting.output()
    assert "which still has the DuckDB file open" not in waiting.output()


def test_a_waiting_refresh_gives_up_after_the_timeout(workspace, tmp_path):
    with warehouse_lock(workspace.warehouse, "the-run-holding-it", 0, ignore):
        code, output = run_refresh_to_the_end(
            workspace, tmp_path / "gave_up.txt", HEALTHSCORE_WAREHOUSE_WAIT_SECONDS="2"
        )
    holder = f"run the-run-holding-it (pid {os.getpid()}), started at "
    assert code == 1
    assert output.startswith(f"Waiting for {holder}")
    assert f"Gave up after 2 s: {holder}" in output
    assert "Refreshing" not in output
    assert only_run(workspace) is None
