"""The published score marts: the only thing BI tools read. Published only when every blocking check of
this run passed."""

import dagster as dg

from orchestration.defs.resources import ServingResource, WarehouseResource
from orchestration.defs.serving.publish import PUBLISHED_TABLES, publish

MART_KEYS = [dg.AssetKey(["marts", table]) for table in PUBLISHED_TABLES]


def failed_blocking_checks(context: dg.AssetExecutionContext) -> list[str]:
    """Checks of this run that failed with severity ERROR, dbt tests included. dagster-dbt does not stop
    downstream assets when a dbt test fails, so publishing asks the event log itself."""
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=100_000
    ).records
    failed = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            # With what the check found (its first line), so that the refusal says what is wrong.
            found = (evaluation.description or "").splitlines()[:1]
            failed.append(": ".join([evaluation.asset_key.to_user_string(), evaluation.check_name, *found]))
    return failed


def marts_not_rebuilt(context: dg.AssetExecutionContext) -> list[str]:
    """Public marts this run did not materialize, from this run's own event log: the latest materialization of a
    mart can come from a run on another warehouse that shares the Dagster home."""
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=100_000
    ).records
    rebuilt = {record.event_log_entry.dagster_event.asset_key for record in records}
    return [key.to_user_string() for key in MART_KEYS if key not in rebuilt]


@dg.asset(
    key=["serving", "health_score_marts"],
    deps=MART_KEYS,
    group_name="serving",
    kinds={"duckdb"},
    description="Copies the score marts into the read-only serving file BI tools use, replacing it atomically.",
)
def published_health_score_marts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, serving: ServingResource
) -> dg.MaterializeResult:
    failed = failed_blocking_checks(context)
    if failed:
        raise dg.Failure(
            description=f"Not published: {len(failed)} blocking check(s) failed; "
            f"the serving file keeps its previous version.\n" + "\n".join(failed),
            metadata={"failed_checks": dg.MetadataValue.json(failed)},
        )
    stale = marts_not_rebuilt(context)
    if stale:
        raise dg.Failure(description=f"Not published: not rebuilt in this run: {', '.join(stale)}")
    rows = publish(warehouse.file, serving.file, context.run.run_id, warehouse.memory_limit, warehouse.spill_path)
    return dg.MaterializeResult(
        metadata={
            "serving_file": str(serving.file),
            **{f"rows_{table}": count for table, count in rows.items()},
            "dagster/row_count": rows["account_health_scores"],
        }
    )
