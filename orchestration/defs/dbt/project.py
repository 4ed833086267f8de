"""The dbt project handle; importing it does not need a manifest (the assets module does)."""

from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def prepare_manifest() -> Path:
    """Parses the dbt project so that the manifest describes the current models; the dbt assets load from it."""
    dbt_project.preparer.prepare(dbt_project)
    return dbt_project.manifest_path
