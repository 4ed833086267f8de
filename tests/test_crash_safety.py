"""A crashed run never blocks the next: the warehouse lock, dead runs, half-built serving files, signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

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
                "import sys, time, duckdb\n"
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

        assert marts_not_rebuilt(SimpleNamespace(instance=instance, run_id=this_run.run_id)) == []
        assert marts_not_rebuilt(SimpleNamespace(instance=instance, run_id=without_marts.run_id)) == [
            key.to_user_string() for key in MART_KEYS
        ]


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
