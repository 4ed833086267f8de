"""Runs whose process is gone: found, marked failed with the reason, and their concurrency slots freed.

A run killed with kill -9 or by the out-of-memory killer cannot report its end, so Dagster keeps showing it as
started for ever, and the run queue (one run at a time, see orchestration/dagster.yaml) waits behind it. A run
is dead when the process that executes it no longer exists. That process is known exactly: `make run` tags its
runs with pid and host, and Dagster records the pid of every run worker in an engine event ("Executing steps
in process (pid: ...)", "Started process for run (pid: ...)").
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import dagster as dg

from orchestration.defs.runs.processes import process_is_running
from orchestration.defs.runs.warehouse_lock import describe_time

RUN_PID_TAG = "healthscore/pid"
RUN_HOST_TAG = "healthscore/host"
UNFINISHED_STATUSES = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def run_process_tags() -> dict[str, str]:
    """Tags naming the process that executes a run, for runs this process starts itself."""
    return {RUN_PID_TAG: str(os.getpid()), RUN_HOST_TAG: socket.gethostname()}


@dataclass(frozen=True)
class DeadRun:
    run_id: str
    pid: int
    started_at: float
    status: dg.DagsterRunStatus

    def describe(self) -> str:
        return f"run {self.run_id} (pid {self.pid}, started at {describe_time(self.started_at)})"


def _run_process(instance: dg.DagsterInstance, record: dg.RunRecord) -> tuple[int, float] | None:
    """The pid of the process executing a run, and a moment at which that process already existed (so that a
    newer process given the same pid is not mistaken for it); None while no process is recorded."""
    run = record.dagster_run
    if RUN_PID_TAG in run.tags:
        # The tag is written by the process that creates the run, so that process existed at its creation.
        return int(run.tags[RUN_PID_TAG]), record.create_timestamp.timestamp()
    engine_events = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, ascending=False
    ).records
    for event in engine_events:
        entry = event.event_log_entry
        metadata = entry.dagster_event.engine_event_data.metadata if entry.dagster_event else {}
        if entry.step_key is None and "pid" in metadata:
            return int(metadata["pid"].value), entry.timestamp
    return None


def find_dead_runs(instance: dg.DagsterInstance) -> list[DeadRun]:
    """Unfinished runs of this machine whose process no longer exists. Runs without a recorded process (a launch
    still under way) are left alone, and so are runs tagged with another host, which this machine cannot see."""
    dead = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=UNFINISHED_STATUSES)):
        run = record.dagster_run
        if run.tags.get(RUN_HOST_TAG, socket.gethostname()) != socket.gethostname():
            continue
        process = _run_process(instance, record)
        if process is None:
            continue
        pid, existed_at = process
        if not process_is_running(pid, started_by=existed_at):
            started_at = record.start_time or record.create_timestamp.timestamp()
            dead.append(DeadRun(run.run_id, pid, started_at, run.status))
    return dead


def mark_dead_runs_failed(instance: dg.DagsterInstance, noticed_by: str) -> list[DeadRun]:
    """Marks every dead run failed (canceled if it was being canceled) with the reason, and frees any
    concurrency slots it held; returns them."""
    dead = find_dead_runs(instance)
    for run in dead:
        dagster_run = instance.get_run_by_id(run.run_id)
        if dagster_run is None or dagster_run.is_finished:
            continue  # it ended, or another process marked it, meanwhile
        reason = (
            f"The process of this run (pid {run.pid}) is gone: it was killed (kill -9, the out-of-memory killer, "
            f"a shutdown) or crashed before it could report its end. Noticed by {noticed_by}."
        )
        if run.status == dg.DagsterRunStatus.CANCELING:
            instance.report_run_canceled(dagster_run, message=reason)
        else:
            instance.report_run_failed(dagster_run, message=reason)
        # Slots of a concurrency pool taken by a dead run would otherwise stay taken for good.
        if instance.event_log_storage.supports_global_concurrency_limits:
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    return dead
