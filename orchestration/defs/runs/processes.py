"""Is the process that ran something still there? Used to tell a run that is working from one that was killed.

A pid alone is not proof: a killed process stays a zombie until its parent reaps it, and the kernel hands its
pid to a new process sooner or later. On Linux both are told apart through /proc; elsewhere the pid is all
there is.
"""

from __future__ import annotations

import os
from pathlib import Path

# Process start times from /proc are in clock ticks and rounded; a process counts as older than a moment when it
# started no later than this after it.
START_TIME_TOLERANCE_SECONDS = 2.0


def _linux_process_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat from the third on (state, parent pid, ...), or None where /proc cannot tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name in brackets may contain spaces and brackets itself: the fields start after its last ')'.
    return stat[stat.rindex(")") + 2 :].split()


def _linux_process_state(pid: int) -> tuple[str, float] | None:
    """(state letter, start time as a Unix timestamp) of a process, or None where /proc cannot tell."""
    fields = _linux_process_stat(pid)
    if fields is None:
        return None
    try:
        boot_time = next(
            float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError):
        return None
    # state is field 3 of proc(5), starttime field 22, in clock ticks after boot.
    return fields[0], boot_time + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def process_started_at(pid: int) -> float | None:
    """When process `pid` started (a Unix timestamp), where /proc tells it."""
    state = _linux_process_state(pid)
    return state[1] if state else None


def parent_pid(pid: int) -> int | None:
    """The parent of process `pid`, where /proc tells it."""
    fields = _linux_process_stat(pid)
    return int(fields[1]) if fields else None


def process_is_running(pid: int, started_by: float | None = None) -> bool:
    """True while process `pid` exists and is not a zombie, and, when `started_by` (a Unix timestamp) is given,
    it is the same process: one that had started by then, not a newer one that was given the same pid."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    state = _linux_process_state(pid)
    if state is None:
        return True
    letter, started_at = state
    if letter in ("Z", "X"):
        return False
    return started_by is None or started_at <= started_by + START_TIME_TOLERANCE_SECONDS
