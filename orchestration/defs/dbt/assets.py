"""The dbt project as Dagster assets: `dbt build` runs models, seeds and tests; tests become asset checks."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration.defs.dbt.project import dbt_project


class DbtBuildConfig(dg.Config):
    """Run options of a refresh."""

    score_as_of_date: str = ""
    """Day to score (ISO date); empty means the latest day with usage data."""


def dbt_build_args(config: DbtBuildConfig) -> list[str]:
    """The dbt command line for a refresh."""
    args = ["build"]
    if config.score_as_of_date:
        args += ["--vars", f"{{score_as_of_date: '{config.score_as_of_date}'}}"]
    return args


class LayerTranslator(DagsterDbtTranslator):
    """Groups dbt assets by layer (staging, intermediate, marts) and seeds as scorecard configuration."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "seed":
            return spec.replace_attributes(group_name="scorecard_config")
        if props["resource_type"] == "model":
            return spec.replace_attributes(group_name=props["fqn"][1])
        return spec


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=LayerTranslator(),
    pool="duckdb_warehouse",
)
def healthscore_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
    yield from dbt.cli(dbt_build_args(config), context=context).stream()
