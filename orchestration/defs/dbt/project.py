"""The dbt project handle; importing it does not need a manifest (the assets module does)."""

import json
from pathlib import Path

from dagster_dbt import DagsterDbtProjectPreparer, DbtProject

from orchestration.settings import DBT_PROJECT_DIR, REPO_ROOT, dbt_target

DBT_TARGET = dbt_target()
# Each engine parses into a target directory of its own: its manifest differs (incremental strategies and
# partitions are chosen per adapter), so switching engines neither re-parses nor reads the other's manifest.
dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target=DBT_TARGET,
    target_path=Path("target" if DBT_TARGET == "duckdb" else f"target-{DBT_TARGET}"),
)

# What the manifest is parsed from: a change to any of these makes it stale.
PARSED_FILES = ("dbt_project/**/*.sql", "dbt_project/**/*.yml", "dbt_project/**/*.md", "seeds/*.csv", "seeds/*.yml")


def manifest_is_current() -> bool:
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    return all(
        path.stat().st_mtime <= built
        for pattern in PARSED_FILES
        for path in REPO_ROOT.glob(pattern)
        if not any(part.startswith("target") for part in path.relative_to(REPO_ROOT).parts)
    )


def prepare_manifest() -> Path:
    """Parses the dbt project so that the manifest describes the current models; the dbt assets load from it.
    Skipped when no project file changed since the last parse (a parse starts dbt, seconds per refresh)."""
    if not manifest_is_current():
        PARSER.prepare(dbt_project)
    return dbt_project.manifest_path


# Parsing renders the profile, which needs a warehouse path, but never opens the file: any path will do, and
# naming one here keeps the parse independent of the environment.
PARSE_ONLY_VARS = {
    "warehouse_path": str(dbt_project.target_path / "parse-only.duckdb"),
    "spill_dir": str(dbt_project.target_path / "parse-only.spill"),
    "spark_dir": str(dbt_project.target_path / "parse-only.spark"),
}
# Parsed from scratch: dbt's partial parsing drops the YAML properties of a singular test (description, the
# meta.dagster.ref that makes it a Dagster check) once the test's SQL file changes. Parsing runs only after a
# project file changed (manifest_is_current), so the full parse costs seconds rarely.
PARSER = DagsterDbtProjectPreparer(["parse", "--quiet", "--no-partial-parse", "--vars", json.dumps(PARSE_ONLY_VARS)])


# User configuration: the scorecard seeds at the repository root (the weight proposal is written in their shape).
SEEDS_DIR = REPO_ROOT / "seeds"
