"""One writer per warehouse file, across processes: an OS file lock that a run holds from its start to its end.

DuckDB lets one process write a database file. Every run that writes the warehouse (`make run`, a run started
in the Dagster UI, the daily schedule) first takes an exclusive `flock` on `<warehouse>.lock`, next to the
warehouse file, and keeps it until the run is over. The kernel releases such a lock when its process ends,
however it ends (kill -9, the out-of-memory killer), so a crashed run can never keep the next one waiting.

The holder writes its run id, pid and start time into the lock file, so that a run which has to wait can say
for whom, and gives up after a time limit instead of waiting forever. Having the lock, a run also waits until
no other process has the DuckDB file itself open: a dbt process left over from a killed run, or someone who
opened the working warehouse instead of the serving file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from orchestration.defs.runs.processes import parent_pid, process_started_at

POLL_SECONDS = 0.5
REMIND_EVERY_SECONDS = 60
# dbt needs a moment to cancel its query and roll back after a Ctrl-C.
STOP_LEFTOVER_SECONDS = 30
WAIT_SETTING = "HEALTHSCORE_WAREHOUSE_WAIT_SECONDS"

# Lock files this process holds (lock file -> its descriptor). flock locks belong to an open file, not to a
# process, so taking the same lock twice in one process would wait for itself: the CLI takes the lock before
# the run starts, and the run's warehouse resource then finds it already held.
_held_by_this_process: dict[Path, int] = {}


def describe_time(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


@dataclass(frozen=True)
class LockHolder:
    """The run holding a warehouse, as written into its lock file."""

    run_id: str
    pid: int
    host: str
    started_at: float

    def describe(self) -> str:
        host = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"run {self.run_id} (pid {self.pid}{host}), started at {describe_time(self.started_at)}"


class WarehouseBusyError(Exception):
    """The warehouse stayed in use by another run or process for longer than this run was willing to wait."""


def lock_file(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def held_by_this_process(warehouse: Path) -> bool:
    return lock_file(warehouse) in _held_by_this_process


def read_holder(warehouse: Path) -> LockHolder | None:
    """The run named in the lock file; None when the file is empty, missing or being rewritten."""
    try:
        return LockHolder(**json.loads(lock_file(warehouse).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _try_lock(descriptor: int) -> bool:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _process_with_file_open(warehouse: Path) -> int | None:
    """The pid of another process that has the DuckDB file open, as DuckDB reports it (0 where it names none);
    None when this process could open the file to write."""
    if not warehouse.exists():
        return None
    try:
        duckdb.connect(str(warehouse)).close()
    except duckdb.Error as error:
        if not isinstance(error, duckdb.IOException) or "lock" not in str(error).lower():
            return None  # not a matter of waiting: the run's first step reports it
        pid = re.search(r"PID (\d+)", str(error))
        return int(pid.group(1)) if pid else 0
    return None


def _describe_process_with_file_open(warehouse: Path) -> str | None:
    pid = _process_with_file_open(warehouse)
    return None if pid is None else f"process {pid or '(unknown)'}, which still has the DuckDB file open"


def _started_by_this_run(pid: int, holder: LockHolder) -> bool:
    started_at = process_started_at(pid)
    return parent_pid(pid) == os.getpid() and started_at is not None and started_at >= holder.started_at - 1


def _stop_processes_of_this_run_with_file_open(
    warehouse: Path, holder: LockHolder, notify: Callable[[str], None]
) -> None:
    """Before the warehouse is released: a child process started during the run that still has the DuckDB file
    open would go on writing after the run. That is a dbt which missed the interrupt of its run: Dagster raises
    an interrupt wherever the run happens to be, and dagster-dbt passes it on to dbt only while it waits for
    dbt's output. It gets the Ctrl-C a terminal would have sent it, then, if it does not end, SIGKILL (DuckDB
    rolls back what it was writing)."""
    deadline = time.monotonic() + STOP_LEFTOVER_SECONDS
    interrupted: set[int] = set()
    while (pid := _process_with_file_open(warehouse)) and _started_by_this_run(pid, holder):
        with contextlib.suppress(ProcessLookupError):  # it may end on its own any moment
            if pid not in interrupted:
                notify(f"Stopping process {pid}, started by this run, which still has the warehouse open.")
                os.kill(pid, signal.SIGINT)
                interrupted.add(pid)
            elif time.monotonic() >= deadline:
                os.kill(pid, signal.SIGKILL)
        time.sleep(POLL_SECONDS)


def _wait_until_free(
    blocker: Callable[[], str | None],
    warehouse: Path,
    deadline: float,
    wait_seconds: float,
    notify: Callable[[str], None],
) -> None:
    """Polls `blocker` (who is in the way, or None) until it returns None; says who is waited for when the wait
    begins, when the blocker changes and every minute, and gives up at `deadline` (time.monotonic())."""
    started = time.monotonic()
    announced, announced_at = None, 0.0
    while (blocking := blocker()) is not None:
        waited = time.monotonic() - started
        if time.monotonic() >= deadline:
            raise WarehouseBusyError(
                f"Gave up after {wait_seconds:g} s: {blocking} still holds the warehouse {warehouse}. "
                f"Wait for it to finish or stop it, then run again ({WAIT_SETTING} sets how long to wait)."
            )
        if blocking != announced:
            notify(
                f"Waiting for {blocking}: it holds the warehouse {warehouse}. "
                f"Giving up after {wait_seconds:g} s ({WAIT_SETTING}); Ctrl-C stops waiting."
            )
            announced, announced_at = blocking, time.monotonic()
        elif time.monotonic() - announced_at >= REMIND_EVERY_SECONDS:
            notify(f"Still waiting for {blocking} ({waited:.0f} s so far).")
            announced_at = time.monotonic()
        time.sleep(POLL_SECONDS)


@contextmanager
def warehouse_lock(
    warehouse: Path, run_id: str, wait_seconds: float, notify: Callable[[str], None]
) -> Iterator[LockHolder]:
    """Holds the warehouse for run `run_id`: waits (saying for whom) until no other run or process uses it,
    raises WarehouseBusyError after `wait_seconds`, and releases it on leaving, however that happens."""
    path = lock_file(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    running: LockHolder | None = None  # set once the run may start
    try:

        def holder_if_locked() -> str | None:
            if _try_lock(descriptor):
                return None
            holder = read_holder(warehouse)
            return holder.describe() if holder else "another run"

        _wait_until_free(holder_if_locked, warehouse, deadline, wait_seconds, notify)
        holder = LockHolder(run_id=run_id, pid=os.getpid(), host=socket.gethostname(), started_at=time.time())
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(asdict(holder)).encode(), 0)
        _held_by_this_process[path] = descriptor
        _wait_until_free(lambda: _describe_process_with_file_open(warehouse), warehouse, deadline, wait_seconds, notify)
        running = holder
        yield holder
    finally:
        try:
            if _held_by_this_process.pop(path, None) is not None:
                if running is not None:
                    _stop_processes_of_this_run_with_file_open(warehouse, running, notify)
                os.ftruncate(descriptor, 0)
        finally:
            # Closing the descriptor releases the lock (the kernel does the same when the process dies).
            os.close(descriptor)
