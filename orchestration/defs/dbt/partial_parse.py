"""dbt's partial parsing kept across the dbt steps of a run and across runs of one warehouse.

dagster-dbt gives every dbt invocation a target directory of its own, and dbt only reuses an earlier parse
(target/partial_parse.msgpack) found in the target directory it writes to: without help every step parses
the whole project again (about 6 s of every refresh's two dbt steps, 3 s with the earlier parse). The parse
a step leaves behind is kept under target/partial_parse/, keyed by the step's command line (dbt reparses
anyway when its vars differ, and the warehouse path is one of them), and put into the next step's target
directory. dbt itself decides whether the kept parse still fits: it compares the vars, the profile, the
project's environment variables, its version and every project file's checksum, and parses in full if any
changed, so a kept parse can cost time but never change a result.
"""

import hashlib
import os
import shutil
import uuid
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtProject

PARSE_FILE_NAME = "partial_parse.msgpack"
# A parse is about 3 MB; a few command lines (a daily refresh has one or two) are worth keeping.
KEEP_PARSES = 4


def target_dir(project: DbtProject) -> Path:
    """dbt's target directory (the project's target_path is relative to the project directory)."""
    return project.project_dir / project.target_path


def parse_cache_dir(project: DbtProject) -> Path:
    return target_dir(project) / "partial_parse"


def kept_parse(project: DbtProject, args: list[str]) -> Path:
    """Where the parse of a dbt command line is kept (its selection does not change the parse)."""
    key = hashlib.sha256("\x00".join(args).encode()).hexdigest()[:16]
    return parse_cache_dir(project) / f"{key}.msgpack"


def new_target_path(project: DbtProject, context: dg.AssetExecutionContext) -> Path:
    """A target directory of its own for one dbt invocation, named as dagster-dbt names them."""
    step = context.op_execution_context.op.name
    return target_dir(project) / f"{step}-{context.run.run_id[:7]}-{str(uuid.uuid4())[:7]}"


def restore_parse(project: DbtProject, args: list[str], target_path: Path) -> bool:
    """Puts the kept parse of this command line where dbt looks for it; False when there is none."""
    kept = kept_parse(project, args)
    if not kept.exists():
        return False
    target_path.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(kept, target_path / PARSE_FILE_NAME)
    except FileNotFoundError:  # pruned by a concurrent refresh of another warehouse in the meantime
        return False
    return True


def keep_parse(project: DbtProject, args: list[str], target_path: Path) -> None:
    """Keeps the parse a dbt invocation wrote, replacing the earlier one of its command line in one step so
    that a concurrent invocation never reads half a file, and drops all but the newest few."""
    written = target_path / PARSE_FILE_NAME
    if not written.exists():
        return
    kept = kept_parse(project, args)
    kept.parent.mkdir(parents=True, exist_ok=True)
    partial = kept.with_suffix(f".{os.getpid()}.tmp")
    shutil.copyfile(written, partial)
    os.replace(partial, kept)
    by_age = sorted(kept.parent.glob("*.msgpack"), key=modified_at, reverse=True)
    for path in by_age[KEEP_PARSES:]:
        path.unlink(missing_ok=True)


def modified_at(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # removed by a concurrent invocation: oldest of all
        return 0.0
