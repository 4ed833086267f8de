"""Holding the warehouse for one run: its lock first, then the runs whose process is gone marked failed.

`make run` does this before it starts its run (orchestration/cli.py); the warehouse resource does it at the start
of every other run (the Dagster UI, the schedule), and finds the lock already held in a run `make run` started.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from orchestration.defs.runs.dead_runs import mark_dead_runs_failed
from orchestration.defs.runs.warehouse_lock import held_by_this_process, warehouse_lock
from orchestration.settings import warehouse_wait_seconds


def fail_dead_runs(instance: dg.DagsterInstance, run_id: str, notify: Callable[[str], None]) -> None:
    for dead in mark_dead_runs_failed(instance, noticed_by=f"run {run_id} at its start"):
        notify(f"Marked {dead.describe()} failed: its process is gone (killed or crashed).")


@contextmanager
def hold_warehouse_for_run(
    warehouse: Path, run_id: str, instance: dg.DagsterInstance, notify: Callable[[str], None]
) -> Iterator[None]:
    if held_by_this_process(warehouse):
        yield
        return
    with warehouse_lock(warehouse, run_id, warehouse_wait_seconds(), notify):
        fail_dead_runs(instance, run_id, notify)
        yield
