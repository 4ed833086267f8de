"""The single Dagster entry point: ingestion, dbt models and checks, the refresh job and its schedule, alert
delivery and its retries, the CRM export, erasure."""

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.alerts.assets import webhook_deliveries
from orchestration.defs.alerts.sensors import retry_alert_deliveries_job, retry_failed_deliveries_sensor
from orchestration.defs.backtest.assets import backtest_assets
from orchestration.defs.checks.benchmarks import benchmark_checks
from orchestration.defs.dbt.assets import churn_risk_dbt_assets, healthscore_dbt_assets
from orchestration.defs.dbt.project import dbt_project
from orchestration.defs.exports.assets import crm_account_properties_export
from orchestration.defs.exports.resources import CrmExportResource
from orchestration.defs.ingestion.assets import ingestion_assets, landing_file_spec
from orchestration.defs.ingestion.checks import freshness_checks, landing_directory_check
from orchestration.defs.ingestion.contract import load_contracts
from orchestration.defs.jobs import daily_refresh_schedule, refresh_all_job
from orchestration.defs.privacy.jobs import erase_personal_data_job
from orchestration.defs.resources import LandingResource, ServingResource, WarehouseResource
from orchestration.defs.runs.sensors import dead_runs_sensor
from orchestration.defs.serving.assets import published_health_score_marts
from orchestration.settings import Settings, load_settings


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[
            *(landing_file_spec(contract, settings.landing_dir) for contract in load_contracts().values()),
            *ingestion_assets,
            healthscore_dbt_assets,
            *backtest_assets,
            churn_risk_dbt_assets,
            published_health_score_marts,
            webhook_deliveries,
            crm_account_properties_export,
        ],
        asset_checks=[*freshness_checks, landing_directory_check, benchmark_checks],
        jobs=[refresh_all_job, erase_personal_data_job, retry_alert_deliveries_job],
        schedules=[daily_refresh_schedule],
        sensors=[dead_runs_sensor, retry_failed_deliveries_sensor],
        resources={
            "warehouse": WarehouseResource(
                path=str(settings.warehouse_path),
                raw_dir=str(settings.raw_dir),
                memory_limit=settings.memory_limit,
                spill_dir=str(settings.spill_dir),
                dbt_target=settings.dbt_target,
                spark_dir=str(settings.spark_dir),
            ),
            "landing": LandingResource(directory=str(settings.landing_dir)),
            "serving": ServingResource(path=str(settings.serving_path)),
            "crm_export": CrmExportResource(directory=str(settings.crm_export_dir)),
            "dbt": DbtCliResource(
                project_dir=dbt_project, profiles_dir=str(dbt_project.profiles_dir), target=settings.dbt_target
            ),
        },
        # Runs started from the UI execute their steps one after another in one process too: one DuckDB writer.
        executor=dg.in_process_executor,
    )


settings = load_settings()
defs = build_definitions(settings)
