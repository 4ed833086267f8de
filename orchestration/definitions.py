"""The single Dagster entry point: ingestion, dbt models and checks, the refresh job and its schedule."""

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.dbt.assets import healthscore_dbt_assets
from orchestration.defs.dbt.project import dbt_project
from orchestration.defs.ingestion.assets import ingestion_assets
from orchestration.defs.ingestion.checks import freshness_checks, landing_directory_check
from orchestration.defs.jobs import daily_refresh_schedule, refresh_all_job
from orchestration.defs.resources import LandingResource, ServingResource, WarehouseResource
from orchestration.defs.scores.checks import score_checks_defs
from orchestration.defs.serving.assets import published_health_score_marts
from orchestration.settings import Settings, load_settings


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[*ingestion_assets, healthscore_dbt_assets, published_health_score_marts],
        asset_checks=[*freshness_checks, landing_directory_check, *score_checks_defs],
        jobs=[refresh_all_job],
        schedules=[daily_refresh_schedule],
        resources={
            "warehouse": WarehouseResource(
                path=str(settings.warehouse_path),
                raw_dir=str(settings.raw_dir),
                memory_limit=settings.memory_limit,
                spill_dir=str(settings.spill_dir),
            ),
            "landing": LandingResource(directory=str(settings.landing_dir)),
            "serving": ServingResource(path=str(settings.serving_path)),
            "dbt": DbtCliResource(project_dir=dbt_project, profiles_dir=str(dbt_project.profiles_dir)),
        },
    )


settings = load_settings()
defs = build_definitions(settings)
